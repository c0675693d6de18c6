"""Writes known-answer vectors for random/ from jax.random (Threefry-2x32, partitionable).

Run with the pinned versions in tools/requirements-jax.txt:

    python tools/jax_prng_vectors.py [out.json]

The default output is tests/fixtures/jax_prng.json. Floats are stored as their float32 bit
patterns (uint32), so the comparison in tests/random_test.ts is bit for bit.
"""
import json
import math
import os
import sys

import jax

jax.config.update("jax_enable_x64", False)
jax.config.update("jax_threefry_partitionable", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

SEEDS = [0, 1, 42, 2**31 - 1, -1, -(2**31), 4294967295]


def kd(k):
    return [int(v) for v in np.asarray(jax.random.key_data(k)).reshape(-1)]


def f32_bits(x):
    return [int(v) for v in np.asarray(x, dtype=np.float32).reshape(-1).view(np.uint32)]


def ints(x):
    return [int(v) for v in np.asarray(x).reshape(-1)]


def main(out):
    doc = {
        "generator": "tools/jax_prng_vectors.py",
        "jax": jax.__version__,
        "numpy": np.__version__,
        "threefry_partitionable": bool(jax.config.jax_threefry_partitionable),
        "x64": bool(jax.config.jax_enable_x64),
        "note": "Float values are float32 bit patterns (uint32); shapes are lists",
    }

    doc["key"] = []
    for s in SEEDS:
        a = kd(jax.random.key(s))
        b = [int(v) for v in np.asarray(jax.random.PRNGKey(s))]
        assert a == b, (s, a, b)
        doc["key"].append({"seed": s, "data": a})

    doc["split"] = []
    for s in SEEDS:
        for num in (2, 3, 5):
            keys = jax.random.split(jax.random.key(s), num)
            doc["split"].append({"seed": s, "num": num, "keys": [kd(k) for k in keys]})

    doc["fold_in"] = []
    for s in (0, 42, -1):
        for d in (0, 1, 7, 2**31 - 1, 2**32 - 1):
            doc["fold_in"].append(
                {"seed": s, "data": d, "key": kd(jax.random.fold_in(jax.random.key(s), d))}
            )

    doc["bits"] = []
    for s in (0, 42, 2**31 - 1):
        for shape in ((), (1,), (3,), (2, 5), (7, 3), (0,), (2, 0, 3)):
            v = jax.random.bits(jax.random.key(s), shape, dtype=jnp.uint32)
            doc["bits"].append({"seed": s, "shape": list(shape), "values": ints(v)})

    doc["uniform"] = []
    ranges = ((0.0, 1.0), (-0.5, 0.5), (-3.0, 7.3), (1e-3, 2e-3), (0.1, 0.05), (-1e6, 1e6))
    for s in (0, 7, 42):
        for shape in ((), (5,), (4, 3)):
            for lo, hi in ranges:
                v = jax.random.uniform(jax.random.key(s), shape, jnp.float32, lo, hi)
                doc["uniform"].append(
                    {"seed": s, "shape": list(shape), "minval": lo, "maxval": hi, "bits": f32_bits(v)}
                )
    # One long draw, to meet many mantissas.
    v = jax.random.uniform(jax.random.key(3), (1000,), jnp.float32, -0.5, 0.5)
    doc["uniform"].append(
        {"seed": 3, "shape": [1000], "minval": -0.5, "maxval": 0.5, "bits": f32_bits(v)}
    )

    doc["normal"] = []
    for s, shape, mean, std in (
        (0, (), 0.0, 1.0),
        (1, (5,), 0.0, 1.0),
        (42, (4, 3), 0.0, 1.0),
        (42, (4, 3), 2.5, 0.02),
        (7, (3000,), 0.0, 1.0),
        (8, (2000,), -1.0, 3.0),
    ):
        z = jax.random.normal(jax.random.key(s), shape, jnp.float32)
        v = np.float32(std) * np.asarray(z) + np.float32(mean)
        doc["normal"].append(
            {"seed": s, "shape": list(shape), "mean": mean, "stddev": std, "bits": f32_bits(v)}
        )

    doc["randint"] = []
    int_ranges = (
        (0, 10),
        (-5, 5),
        (-100, -90),
        (3, 3),
        (7, 2),
        (0, 1),
        (0, 2**31 - 1),
        (-(2**31), 2**31 - 1),
        (-(2**31), 0),
        (0, 65536),
        (0, 1000003),
    )
    for s in (0, 42):
        for shape in ((), (6,), (3, 4)):
            for lo, hi in int_ranges:
                v = jax.random.randint(jax.random.key(s), shape, lo, hi)
                assert v.dtype == jnp.int32
                doc["randint"].append(
                    {"seed": s, "shape": list(shape), "minval": lo, "maxval": hi, "values": ints(v)}
                )

    doc["permutation"] = []
    for s, n in ((0, 1), (0, 2), (1, 2), (0, 10), (42, 10), (42, 100), (5, 1625), (5, 1626), (42, 2000)):
        rounds = int(math.ceil(3 * math.log(max(1, n)) / math.log(2**32 - 1)))
        v = jax.random.permutation(jax.random.key(s), n)
        doc["permutation"].append({"seed": s, "n": n, "rounds": rounds, "values": ints(v)})

    # Rows of a matrix whose row i is filled with i: the permuted rows name their source.
    doc["permutation_rows"] = []
    for s, rows, cols in ((3, 6, 4), (9, 50, 2)):
        x = jnp.repeat(jnp.arange(rows, dtype=jnp.float32)[:, None], cols, axis=1)
        v = jax.random.permutation(jax.random.key(s), x)
        doc["permutation_rows"].append(
            {"seed": s, "rows": rows, "cols": cols, "values": [int(r[0]) for r in np.asarray(v)]}
        )

    doc["choice"] = []
    for s, n, shape, replace in (
        (0, 10, (), True),
        (0, 10, (5,), True),
        (42, 10, (2, 3), True),
        (42, 7, (20,), True),
        (0, 10, (5,), False),
        (42, 10, (10,), False),
        (42, 10, (2, 3), False),
        (1, 2000, (4, 5), False),
        (1, 1, (3,), True),
        (2, 5, (0,), False),
    ):
        v = jax.random.choice(jax.random.key(s), n, shape, replace=replace)
        doc["choice"].append(
            {"seed": s, "n": n, "shape": list(shape), "replace": replace, "values": ints(v)}
        )

    # Choice of rows from a matrix whose row i is filled with i.
    doc["choice_rows"] = []
    for s, rows, cols, shape, replace in ((4, 8, 3, (5,), True), (4, 8, 3, (2, 2), False)):
        x = jnp.repeat(jnp.arange(rows, dtype=jnp.float32)[:, None], cols, axis=1)
        v = np.asarray(jax.random.choice(jax.random.key(s), x, shape, replace=replace))
        assert v.shape == (*shape, cols)
        doc["choice_rows"].append(
            {
                "seed": s,
                "rows": rows,
                "cols": cols,
                "shape": list(shape),
                "replace": replace,
                "values": [int(r[0]) for r in v.reshape(-1, cols)],
            }
        )

    text = json.dumps(doc, separators=(",", ":"))
    with open(out, "w") as f:
        f.write(text + "\n")
    print(f"wrote {out} ({len(text)} bytes)")


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.join(here, "..", "tests", "fixtures", "jax_prng.json")
    main(os.path.normpath(sys.argv[1] if len(sys.argv) > 1 else default))
