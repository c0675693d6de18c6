#!/usr/bin/env python3
"""Checks files our TypeScript writers produced, by loading them with numpy and safetensors.

    npx -y deno@2.9.6 run -A tools/write_io_reference.ts /tmp/io-written
    /opt/ptvenv/bin/python tools/check_written_files.py /tmp/io-written [--data ../shared/data]

What it verifies, for every dtype (float16 bfloat16 float32 float64 int8 int16 int32 int64 uint8
bool):
  npy/<dtype>.npy      np.load reads it (allow_pickle=False); dtype, shape and every byte of the
                       values match the formula; the file is byte-identical to np.save of the
                       expected array (same header, padding and version). bfloat16 comes back as
                       float32 holding the same values.
  stored.npz           np.load reads every key; entries are stored (method 0), CRCs pass
  deflated.npz         the same, deflated (method 8)
  all.safetensors      the Python safetensors package deserializes every tensor (bf16 included,
                       viewed through ml_dtypes) with the right dtype, shape and bytes; metadata
                       matches; header length is a multiple of 8; each tensor's offset is aligned
                       to its item size
  sst2_copy.npy        equals numpy's own reading of the released SST-2 prompt
  sst2.safetensors     the same prompt through our safetensors writer

Exits non-zero with a list of failures. Versions are pinned in tools/requirements-io.txt.
"""

from __future__ import annotations

import argparse
import io
import json
import struct
import sys
import zipfile
from pathlib import Path

import ml_dtypes
import numpy as np
import safetensors
from safetensors import safe_open

ROOT = Path(__file__).resolve().parent.parent
SHAPE = (2, 3, 4)
N = 24
DTYPES = ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]
ST = {
    "F16": np.float16,
    "BF16": ml_dtypes.bfloat16,
    "F32": np.float32,
    "F64": np.float64,
    "I8": np.int8,
    "I16": np.int16,
    "I32": np.int32,
    "I64": np.int64,
    "U8": np.uint8,
    "BOOL": np.bool_,
}

failures: list[str] = []


def check(cond: bool, what: str) -> None:
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        failures.append(what)


def sample(dtype: str) -> np.ndarray:
    """The same formulas as `sample` in tools/write_io_reference.ts."""
    i = np.arange(N)
    if dtype in ("float16", "bfloat16", "float32", "float64"):
        f = (i - 12) * 0.375
        f[0], f[1], f[2] = np.nan, -np.inf, -0.0
        dt = ml_dtypes.bfloat16 if dtype == "bfloat16" else np.dtype(dtype)
        return f.astype(dt).reshape(SHAPE)
    if dtype == "int8":
        return ((i - 12) * 10).astype(np.int8).reshape(SHAPE)
    if dtype == "int16":
        return ((i - 12) * 1000).astype(np.int16).reshape(SHAPE)
    if dtype == "int32":
        return ((i - 12) * 100_000_000).astype(np.int32).reshape(SHAPE)
    if dtype == "int64":
        return ((i - 12).astype(np.int64) * 10**15 + 1).reshape(SHAPE)
    if dtype == "uint8":
        return (i * 10).astype(np.uint8).reshape(SHAPE)
    if dtype == "bool":
        return (i % 3 == 0).reshape(SHAPE)
    raise ValueError(dtype)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Same dtype, shape and bytes (so NaN payloads and -0 count)."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def npy_bytes(a: np.ndarray) -> bytes:
    f = io.BytesIO()
    np.save(f, a, allow_pickle=False)
    return f.getvalue()


def check_npy(d: Path) -> None:
    for dt in DTYPES:
        p = d / "npy" / f"{dt}.npy"
        want = sample(dt)
        if dt == "bfloat16":
            want = want.astype(np.float32)  # numpy has no bfloat16: widened exactly
        got = np.load(p, allow_pickle=False)
        check(same(got, want), f"{p.name}: np.load gives dtype {got.dtype}, shape {got.shape}, exact values")
        check(p.read_bytes() == npy_bytes(want), f"{p.name}: byte-identical to np.save")
        with open(p, "rb") as f:
            check(np.lib.format.read_magic(f) == (1, 0), f"{p.name}: format version 1.0")


def check_npz(d: Path) -> None:
    for name, method in [("stored.npz", zipfile.ZIP_STORED), ("deflated.npz", zipfile.ZIP_DEFLATED)]:
        p = d / name
        with zipfile.ZipFile(p) as z:
            check(z.testzip() is None, f"{name}: every CRC-32 passes")
            check(all(i.compress_type == method for i in z.infolist()), f"{name}: compression method {method}")
        with np.load(p, allow_pickle=False) as npz:
            keys = [k for k in DTYPES if k != "bfloat16"]
            check(sorted(npz.files) == sorted(keys), f"{name}: keys {sorted(npz.files)}")
            for k in keys:
                check(same(npz[k], sample(k)), f"{name}#{k}: exact values")


def check_safetensors(d: Path) -> None:
    p = d / "all.safetensors"
    raw = p.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    check(n % 8 == 0, f"{p.name}: header length {n} is a multiple of 8")
    header = json.loads(raw[8 : 8 + n])
    for name, info in header.items():
        if name == "__metadata__":
            continue
        size = np.dtype(ST[info["dtype"]]).itemsize
        check(info["data_offsets"][0] % size == 0, f"{p.name}#{name}: offset aligned to {size}")
    tensors = dict(safetensors.deserialize(raw))
    expected = {dt: sample(dt) for dt in DTYPES}
    expected["scalar"] = np.array(1.5, dtype=np.float32)
    expected["empty"] = np.zeros((0, 4), dtype=np.float32)
    expected["nested/name.with.dots"] = np.arange(3, dtype=np.int32)
    check(sorted(tensors) == sorted(expected), f"{p.name}: names {sorted(tensors)}")
    for name, want in expected.items():
        t = tensors[name]
        got = np.frombuffer(bytes(t["data"]), dtype=ST[t["dtype"]]).reshape(t["shape"])
        check(same(got, want), f"{p.name}#{name}: {t['dtype']} {t['shape']} exact values")
    with safe_open(p, framework="numpy") as f:
        check(
            f.metadata() == {"format": "np", "writer": "soft-prompt io"},
            f"{p.name}: metadata {f.metadata()}",
        )
        check(same(f.get_tensor("int64"), expected["int64"]), f"{p.name}: safe_open reads int64")


def check_real(d: Path, data: Path) -> None:
    original = np.load(data / "prompt-tuning/pretrained_prompts/t5_1_1_lm100k_base/sst2.npy")
    copy = np.load(d / "sst2_copy.npy", allow_pickle=False)
    check(same(copy, original), "sst2_copy.npy: equals numpy's reading of sst2.npy")
    with safe_open(d / "sst2.safetensors", framework="numpy") as f:
        check(same(f.get_tensor("prompt"), original), "sst2.safetensors: prompt equals sst2.npy")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir", type=Path, help="the directory tools/write_io_reference.ts wrote")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = ap.parse_args()
    check_npy(args.dir)
    check_npz(args.dir)
    check_safetensors(args.dir)
    check_real(args.dir, args.data)
    if failures:
        print(f"\n{len(failures)} check(s) failed:", *failures, sep="\n  ")
        sys.exit(1)
    print("\nAll checks passed")


if __name__ == "__main__":
    main()
