#!/usr/bin/env python3
"""Writes the reference fixtures for the io tests into tests/fixtures/io/.

Every file here is produced by numpy or the Python `safetensors` package, never by our own code,
so the Deno tests compare our readers against the reference implementations.

    /opt/ptvenv/bin/python tools/make_io_fixtures.py [--data ../shared/data]

Outputs (all small; the whole folder stays well under 300 KB):
  real_summaries.json   what numpy reads from the real files in shared/data (shape, dtype, sum,
                        mean, population std, min, max, first/last values, sha256 of the C-order
                        little-endian bytes)
  npy/*.npy             every dtype x byte order x C/Fortran layout, v1/v2/v3 headers, scalar,
                        empty and 1-d arrays, and refused dtypes (object, structured, unicode, u4)
  npy/expected.json     the C-order values each npy fixture holds
  npz/*.npz             np.savez (stored) and np.savez_compressed (deflated)
  st/*.safetensors      every dtype (bf16 included) with metadata, written by `safetensors`
  st/sharded/           a two-shard checkpoint with model.safetensors.index.json
  st/expected.json      the values those hold

Versions are pinned in tools/requirements-io.txt.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import shutil
from pathlib import Path

import ml_dtypes
import numpy as np
import safetensors

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "io"

REAL_FILES = [
    "prompt-tuning/pretrained_prompts/t5_1_1_lm100k_base/sst2.npy",
    "prompt-tuning/pretrained_prompts/t5_1_1_lm100k_base/rte.npy",
    "prompt-tuning/pretrained_prompts/t5_1_1_lm100k_base/mrpc.npy",
    "prompt-tuning/test_data/prompt_5x256.npy",
    "prompt-tuning/test_data/tiny_embeddings_32128x4.npy",
]

SHAPE = (2, 3, 4)  # three axes, so Fortran order is a real permutation
N = 24


def float_json(x: float) -> float | str:
    """JSON has no NaN, infinities or negative zero: those become strings."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0 and math.copysign(1.0, x) < 0:
        return "-0"
    return x


def values_json(a: np.ndarray) -> list:
    """C-order values as JSON: floats exactly (repr of a float64), int64 as strings, bool as 0/1."""
    flat = a.reshape(-1)  # reshape reads in C order whatever the layout
    if a.dtype == np.int64:
        return [str(int(v)) for v in flat]
    if a.dtype == np.bool_:
        return [int(v) for v in flat]
    if a.dtype.kind in "iu":
        return [int(v) for v in flat]
    return [float_json(v) for v in flat.astype(np.float64)]


def sample(dtype: str) -> np.ndarray:
    """A (2, 3, 4) array for each dtype, with the values that tend to break readers."""
    i = np.arange(N)
    if dtype == "float16":
        v = ((i - 12) * 0.375).astype(np.float16)
        v[0], v[1], v[2], v[3] = np.inf, -np.inf, np.nan, -0.0
        v[4] = np.float16(6.0e-8)  # smallest subnormal
        v[5] = np.float16(65504.0)  # largest finite
    elif dtype == "float32":
        v = ((i - 12) * 0.1).astype(np.float32)
        v[0], v[1], v[2], v[3] = np.inf, -np.inf, np.nan, -0.0
        v[4] = np.float32(1e-45)  # subnormal
        v[5] = np.finfo(np.float32).max
    elif dtype == "float64":
        v = (i - 12) * 0.1
        v[0], v[1], v[2], v[3] = np.inf, -np.inf, np.nan, -0.0
        v[4] = 5e-324
        v[5] = np.finfo(np.float64).max
    elif dtype == "int8":
        v = ((i - 12) * 10).astype(np.int8)
        v[0], v[1] = -128, 127
    elif dtype == "int16":
        v = ((i - 12) * 1000).astype(np.int16)
        v[0], v[1] = -32768, 32767
    elif dtype == "int32":
        v = ((i - 12) * 100_000_000).astype(np.int32)
        v[0], v[1] = -(2**31), 2**31 - 1
    elif dtype == "int64":
        v = ((i - 12) * 10**15 + 1).astype(np.int64)
        v[0], v[1] = -(2**63), 2**63 - 1
        v[2] = 2**53 + 1  # not a float64: must come back as a BigInt exactly
    elif dtype == "uint8":
        v = (i * 10).astype(np.uint8)
        v[0], v[1] = 0, 255
    elif dtype == "bool":
        v = i % 3 == 0
    else:
        raise ValueError(dtype)
    return v.reshape(SHAPE)


DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


def save_npy(path: Path, a: np.ndarray, version=None) -> None:
    with open(path, "wb") as f:
        np.lib.format.write_array(f, a, version=version, allow_pickle=False)


def real_summaries(data: Path) -> list:
    out = []
    for rel in REAL_FILES:
        p = data / rel
        if not p.exists():
            raise SystemExit(f"Missing reference file {p}; pass --data pointing at shared/data")
        a = np.load(p, allow_pickle=False)
        le = a.astype(a.dtype.newbyteorder("<"), order="C")
        f64 = a.astype(np.float64).reshape(-1)
        out.append(
            {
                "path": rel,
                "dtype": a.dtype.name,
                "shape": list(a.shape),
                "sum": float(f64.sum(dtype=np.float64)),
                "mean": float(f64.mean()),
                "std": float(f64.std()),
                "min": float(f64.min()),
                "max": float(f64.max()),
                "first": [float_json(x) for x in f64[:8]],
                "last": [float_json(x) for x in f64[-8:]],
                "sha256": hashlib.sha256(le.tobytes()).hexdigest(),
            }
        )
    return out


def make_npy(d: Path) -> dict:
    d.mkdir(parents=True)
    expected: dict = {}
    for dt in DTYPES:
        a = sample(dt)
        expected[dt] = {"dtype": dt, "shape": list(SHAPE), "values": values_json(a)}
        if dt == "float16":
            expected[dt]["bits"] = [int(b) for b in a.reshape(-1).view(np.uint16)]
        orders = ["le", "be"] if a.dtype.itemsize > 1 else ["le"]
        for order in orders:
            typed = a.astype(a.dtype.newbyteorder("<" if order == "le" else ">"))
            save_npy(d / f"{dt}_{order}_c.npy", typed)
            save_npy(d / f"{dt}_{order}_f.npy", np.asfortranarray(typed))
    f32 = sample("float32")
    save_npy(d / "float32_v2.npy", f32, version=(2, 0))
    save_npy(d / "float32_v3.npy", f32, version=(3, 0))
    save_npy(d / "scalar_f8.npy", np.array(2.5))
    save_npy(d / "empty_f4.npy", np.zeros((0, 3), np.float32))
    save_npy(d / "vector_i4.npy", np.arange(5, dtype=np.int32) - 2)
    expected["scalar_f8"] = {"dtype": "float64", "shape": [], "values": [2.5]}
    expected["empty_f4"] = {"dtype": "float32", "shape": [0, 3], "values": []}
    expected["vector_i4"] = {"dtype": "int32", "shape": [5], "values": [-2, -1, 0, 1, 2]}
    # Refused dtypes.
    with open(d / "object.npy", "wb") as f:
        np.lib.format.write_array(f, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    save_npy(d / "structured.npy", np.zeros(3, dtype=[("a", "<f4"), ("b", "<i4")]))
    save_npy(d / "unicode.npy", np.array(["ab", "c"]))
    save_npy(d / "uint32.npy", np.arange(3, dtype="<u4"))
    return expected


def make_npz(d: Path) -> dict:
    d.mkdir(parents=True)
    arrays = {
        "prompt": sample("float32")[0],  # (3, 4)
        "ids": sample("int64").reshape(-1)[:6],
        "mask": sample("bool")[1],
        "half": sample("float16")[1],
    }
    np.savez(d / "stored.npz", **arrays)
    np.savez_compressed(d / "deflated.npz", **arrays)
    np.savez(d / "positional.npz", np.arange(3, dtype=np.int32), np.ones((2, 2), np.float64))
    exp = {}
    for k, v in arrays.items():
        exp[k] = {"dtype": v.dtype.name, "shape": list(v.shape), "values": values_json(v)}
        if v.dtype == np.float16:
            exp[k]["bits"] = [int(b) for b in v.reshape(-1).view(np.uint16)]
    return exp


ST_NAMES = {
    "float32": "F32",
    "float16": "F16",
    "bfloat16": "BF16",
    "float64": "F64",
    "int64": "I64",
    "int32": "I32",
    "int16": "I16",
    "int8": "I8",
    "uint8": "U8",
    "bool": "BOOL",
}


def st_sample(dt: str) -> np.ndarray:
    if dt == "bfloat16":
        v = ((np.arange(N) - 12) * 0.375).astype(np.float32)
        v[0], v[1], v[2], v[3] = np.inf, -np.inf, np.nan, -0.0
        v[4] = 3.0e38  # rounds to the nearest bfloat16
        return v.astype(ml_dtypes.bfloat16).reshape(SHAPE)
    return sample(dt)


def serialize(tensors: dict, metadata: dict | None) -> bytes:
    specs = {}
    keep = []
    for name, a in tensors.items():
        if not a.flags.c_contiguous:  # np.ascontiguousarray would turn a 0-d array into 1-d
            a = np.ascontiguousarray(a)
        keep.append(a)
        dtype = "bfloat16" if a.dtype == ml_dtypes.bfloat16 else a.dtype.name
        specs[name] = safetensors.TensorSpec(
            dtype=dtype, shape=list(a.shape), data_ptr=a.ctypes.data, data_len=a.nbytes
        )
    out = bytes(safetensors.serialize(specs, metadata=metadata))
    del keep
    return out


def st_expected(name: str, a: np.ndarray) -> dict:
    if a.dtype == ml_dtypes.bfloat16:
        e = {"dtype": "bfloat16", "shape": list(a.shape)}
        e["values"] = values_json(a.astype(np.float32))
        e["bits"] = [int(b) for b in a.reshape(-1).view(np.uint16)]
        return e
    e = {"dtype": a.dtype.name, "shape": list(a.shape), "values": values_json(a)}
    if a.dtype == np.float16:
        e["bits"] = [int(b) for b in a.reshape(-1).view(np.uint16)]
    return e


def make_safetensors(d: Path) -> dict:
    d.mkdir(parents=True)
    tensors = {f"t_{dt}": st_sample(dt) for dt in ST_NAMES}
    tensors["scalar"] = np.array(1.5, dtype=np.float32)
    tensors["empty"] = np.zeros((0, 4), dtype=np.float32)
    tensors["nested/name.with.dots"] = np.arange(3, dtype=np.int32)
    metadata = {"format": "np", "note": "written by tools/make_io_fixtures.py"}
    (d / "all_dtypes.safetensors").write_bytes(serialize(tensors, metadata))
    exp = {
        "all_dtypes": {
            "metadata": metadata,
            "tensors": {k: st_expected(k, v) for k, v in tensors.items()},
        }
    }
    (d / "unsupported_u32.safetensors").write_bytes(
        serialize({"u": np.arange(3, dtype=np.uint32)}, None)
    )
    # A sharded checkpoint in the Hugging Face layout.
    sh = d / "sharded"
    sh.mkdir()
    shard1 = {"embed": st_sample("float32")[0], "prompt": st_sample("float16")[1]}
    shard2 = {"layer/w": st_sample("bfloat16")[0], "layer/b": st_sample("int32")[0, 0]}
    names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    (sh / names[0]).write_bytes(serialize(shard1, {"format": "np"}))
    (sh / names[1]).write_bytes(serialize(shard2, {"format": "np"}))
    weight_map = {k: names[0] for k in shard1} | {k: names[1] for k in shard2}
    total = sum(a.nbytes for a in list(shard1.values()) + list(shard2.values()))
    (sh / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2) + "\n"
    )
    exp["sharded"] = {
        "metadata": {"format": "np"},
        "tensors": {k: st_expected(k, v) for k, v in (shard1 | shard2).items()},
    }
    return exp


def dump(p: Path, obj) -> None:
    p.write_text(json.dumps(obj, indent=1) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args()
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    dump(OUT / "real_summaries.json", real_summaries(args.data))
    npy = make_npy(OUT / "npy")
    dump(OUT / "npy" / "expected.json", npy)
    dump(OUT / "npz" / "expected.json", make_npz(OUT / "npz"))
    dump(OUT / "st" / "expected.json", make_safetensors(OUT / "st"))
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"Wrote {sum(1 for p in OUT.rglob('*') if p.is_file())} files, {total} bytes, to {OUT}")
    assert total < 300_000, "fixtures must stay under 300 KB"


if __name__ == "__main__":
    main()
