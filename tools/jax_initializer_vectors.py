"""Reference prompts drawn the way the original (google-research/prompt-tuning) draws them.

Dev-time only. Writes tests/fixtures/jax_initializers.json: for fixed keys, what
`prompts.from_sample_of_embeddings` and `flax.linen.initializers.uniform` give, and the paper's
symmetric uniform. The embedding table is the "row i filled with i" table of the original's tests,
so a sampled prompt is identified by its row indices.

The original's code needs flax/seqio/t5x; the two lines that draw are reproduced here verbatim in
spirit: `jax.random.choice(rng, population_size, (shape[0],), replace)` and
`jax.random.uniform(key, shape, dtype) * scale`.

Usage: python tools/jax_initializer_vectors.py  (with tools/requirements-jax.txt installed)
"""
import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "jax_initializers.json"


def f32_bits(a):
    return np.asarray(a, dtype=np.float32).view(np.uint32).ravel().tolist()


def main():
    cases = {"jax_version": jax.__version__, "sampled": [], "uniform_flax": [], "uniform_symmetric": []}
    for seed, length, population in [(0, 5, 5000), (1, 20, 5000), (42, 100, 5000), (7, 8, 8), (3, 12, 10)]:
        rng = jax.random.PRNGKey(seed)
        replace = length > population
        index = jax.random.choice(rng, population, (length,), replace)
        cases["sampled"].append(
            {"seed": seed, "length": length, "population": population, "replace": replace,
             "index": np.asarray(index).tolist()})
    for seed, shape, scale in [(0, (4, 6), 0.5), (5, (3, 7), 0.01), (9, (10, 16), 1.0)]:
        key = jax.random.PRNGKey(seed)
        flax_uniform = jax.random.uniform(key, shape, jnp.float32) * jnp.array(scale, jnp.float32)
        symmetric = jax.random.uniform(key, shape, jnp.float32, minval=-scale, maxval=scale)
        cases["uniform_flax"].append({"seed": seed, "shape": list(shape), "scale": scale, "bits": f32_bits(flax_uniform)})
        cases["uniform_symmetric"].append({"seed": seed, "shape": list(shape), "scale": scale, "bits": f32_bits(symmetric)})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(cases, separators=(",", ":")) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
