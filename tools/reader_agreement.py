"""Dev-time: how often our tensor and data readers agree with the reference Python readers.

The inputs are the fuzz harness's own mutations (fuzz/targets/*.ts), made from (format, seed,
index) alone by tools/reader_verdicts.ts, which writes each one's files to a directory and gives
our verdict. This script reads the same files with the reference and counts, per input:
both accept with the same values / both accept with different values / the reference refuses,
we accept / we refuse, the reference accepts / both refuse. Writes the counts, our refusals
grouped by reason, and every disagreement with its input index to --out (JSON). Any input can
be made again with `deno run -A fuzz/reproduce.ts <format> <seed> <index> DIR`.

    .venv/bin/python tools/reader_agreement.py --format npy --n 2000 --seed 1 --out .scratch/agree_npy.json

The references, and what "the same" means:

- npy: `numpy.load(path, allow_pickle=False)`; the values are the array in C order, little-endian,
  hashed (SHA-256) with every NaN made the one quiet NaN of its width, so floats are compared as
  float16/32/64 bit patterns with NaN payloads ignored (a second hash without that is kept, and a
  payload-only difference counted on its own). bool is compared as truth values (we read any
  non-zero byte as 1; numpy keeps the byte). dtype names are ours (float32, int64, bool, …).
- npz: `numpy.load(path, allow_pickle=False)` and then every member read (numpy's NpzFile is
  lazy: a broken member is only found when it is read, so "numpy accepts" means every member read
  without error). A member that does not start with the npy magic comes back from numpy as raw
  bytes, not an array; that counts as numpy accepting it (we refuse non-.npy entries). Keys and
  their order are compared.
- safetensors: `safetensors.deserialize(bytes)` (the Rust reader's header and offset checks, with
  each tensor's raw bytes, for every dtype including BF16 and F8, which `safetensors.numpy.load`
  cannot hold) and `safe_open(path, "numpy").metadata()`. The same hashes over the raw bytes,
  per tensor name (order ignored), and the metadata compared as a dict (a `null` metadata is the
  Rust reader's None, compared as {}).
- parquet: `pyarrow.parquet.read_table(path).to_pylist()`, with the input's options.json `limit`
  applied as a slice (pyarrow still reads the whole file, while we stop after `limit` rows and
  with limit 0 read nothing at all, so a file broken after the first rows can be "refused by the
  reference, accepted by us"; those are counted apart); an input whose options our reader must refuse whatever the file (a negative
  limit) is left out of the counts and counted as `skipped_invalid_options`. The rows are
  compared as JSON-like values of the columns we read (every top-level column): int64 beyond
  2^53 as the decimal string we give, maps as objects, bytes as hex, dates and timestamps as
  milliseconds, numbers compared numerically (NaN equal to NaN).

Semantic differences that are deliberate and show up as "we refuse, the reference accepts"
(grouped by our message in the output, not hidden): dtypes we do not read (object arrays,
which numpy refuses too without allow_pickle; structured, string, unicode, complex, void,
unsigned wider than 8 bits, longdouble, dtype codes without a size such as '<f'; safetensors U16
U32 U64 and F8); numpy ignores bytes after an .npy's data (it reads `count` items) and we refuse
them; numpy takes Python ints including True/False as shape entries (True is 1) and we want plain
integers; numpy's 10,000-byte header cap against our 1 MiB cap; and Parquet codecs or encodings
hyparquet lacks (LZO, Hadoop LZ4), and a column chunk whose `path_in_schema` does not name its
column (pyarrow ignores that field). Parquet files pyarrow refuses and we read are mostly damage
to what only pyarrow reads (its base64 `ARROW:schema` footer key) or checks (checksums, level
histograms); for each one the output says whether our rows are the undamaged seed's
(`our_values_equal_the_seeds`), which tells harmless leniency from wrong values. The reverse ("the reference refuses, we accept") is what to
look at first: we read a file the reference calls broken.
"""

import argparse
import collections
import datetime
import decimal
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import warnings

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = {"uint8": "uint8", "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
        "float16": "float16", "float32": "float32", "float64": "float64", "bool": "bool"}
ST_DTYPES = {"F16": "float16", "BF16": "bfloat16", "F32": "float32", "F64": "float64", "I8": "int8",
             "I16": "int16", "I32": "int32", "I64": "int64", "U8": "uint8", "BOOL": "bool"}
NAN = {2: (0x7C00, 0x3FF, 0x7E00), 4: (0x7F800000, 0x7FFFFF, 0x7FC00000),
       8: (0x7FF0000000000000, 0xFFFFFFFFFFFFF, 0x7FF8000000000000)}
BF16_NAN = (0x7F80, 0x7F, 0x7FC0)


def canonical(raw: bytes, dtype: str) -> bytes:
    """Little-endian bytes with every NaN made the quiet NaN of its width, and bool as 0/1."""
    if dtype == "bool":
        return (np.frombuffer(raw, np.uint8) != 0).astype(np.uint8).tobytes()
    if dtype in ("float16", "float32", "float64", "bfloat16"):
        width = {"float16": 2, "bfloat16": 2, "float32": 4, "float64": 8}[dtype]
        exp, man, nan = BF16_NAN if dtype == "bfloat16" else NAN[width]
        u = np.frombuffer(raw, np.dtype(f"<u{width}")).copy()
        u[((u & exp) == exp) & ((u & man) != 0)] = nan
        return u.tobytes()
    return raw


def head_of(raw: bytes, dtype: str) -> list:
    if dtype in ("bfloat16",):
        return [str(x) for x in np.frombuffer(raw, "<u2")[:6]]
    a = np.frombuffer(raw, np.dtype(dtype).newbyteorder("<") if dtype != "bool" else np.uint8)[:6]
    return [str(int(x)) if dtype == "bool" else str(x) for x in a]


def summary(raw: bytes, dtype: str, shape) -> dict:
    return {"dtype": dtype, "shape": list(shape), "sha": hashlib.sha256(canonical(raw, dtype)).hexdigest(),
            "raw": hashlib.sha256(raw).hexdigest(), "head": head_of(raw, dtype)}


def array_summary(a) -> dict:
    if not isinstance(a, np.ndarray):
        raise TypeError(f"not an array: {type(a).__name__}")
    name = a.dtype.name if a.dtype.name in OURS and a.dtype.fields is None else a.dtype.str
    if name not in OURS:
        return {"dtype": name, "shape": list(a.shape)}
    le = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<") if a.dtype.itemsize > 1 else a.dtype)
    return summary(le.tobytes(), OURS[name], a.shape)


# ---- the references ---------------------------------------------------------------------------


def ref_npy(d: str, _opts) -> dict:
    return {"value": array_summary(np.load(os.path.join(d, "x.npy"), allow_pickle=False))}


def ref_npz(d: str, _opts) -> dict:
    with np.load(os.path.join(d, "x.npz"), allow_pickle=False) as z:
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise TypeError(f"not an npz archive: numpy read it as {type(z).__name__}")
        out = []
        for k in z.files:
            v = z[k]
            out.append([k, {"bytes": hashlib.sha256(v).hexdigest()} if isinstance(v, bytes) else array_summary(v)])
        return {"value": out}


def ref_safetensors(d: str, _opts) -> dict:
    import safetensors

    path = os.path.join(d, "x.safetensors")
    with open(path, "rb") as f:
        b = f.read()
    tensors = safetensors.deserialize(b)
    with safetensors.safe_open(path, "numpy") as f:
        meta = f.metadata() or {}
    out = []
    for name, t in tensors:
        dt = ST_DTYPES.get(t["dtype"], t["dtype"])
        out.append([name, summary(bytes(t["data"]), dt, t["shape"]) if dt in ST_DTYPES.values()
                    else {"dtype": dt, "shape": list(t["shape"])}])
    return {"value": {"metadata": meta, "tensors": out}}


def plain(v):
    """A pyarrow value as our record reader gives it (see the module docstring)."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return v if -(2**53 - 1) <= v <= 2**53 - 1 else str(v)
    if isinstance(v, float):
        return v if math.isfinite(v) else {"$f": {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[str(v)]}
    if isinstance(v, (bytes, bytearray)):
        return {"$bytes": bytes(v).hex()}
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return {"$date": round(v.timestamp() * 1000)}
    if isinstance(v, datetime.date):
        return {"$date": (v - datetime.date(1970, 1, 1)).days * 86400000}
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        if v and all(isinstance(x, tuple) and len(x) == 2 for x in v):  # a map
            return {str(k): plain(x) for k, x in v}
        return [plain(x) for x in v]
    return {"$other": repr(v)}


def ref_parquet(d: str, opts, name="x.parquet") -> dict:
    import pyarrow.parquet as pq

    rows = pq.read_table(os.path.join(d, name)).to_pylist()
    if opts.get("limit") is not None:
        rows = rows[: opts["limit"]]
    return {"value": {"rows": [plain(r) for r in rows]}}


REFS = {"npy": ref_npy, "npz": ref_npz, "safetensors": ref_safetensors, "parquet": ref_parquet}


# ---- comparing --------------------------------------------------------------------------------


def same(a, b) -> bool:
    """Equal as JSON-like values, numbers numerically, NaN equal to NaN."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (isinstance(a, bool) and isinstance(b, bool) and a == b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
    if isinstance(a, str) and isinstance(b, dict) and set(b) == {"$bytes"}:
        # Unmarked binary, which our reader gives as hyparquet's lenient text (U+FFFD for bad bytes).
        return a == bytes.fromhex(b["$bytes"]).decode("utf-8", "replace")
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def strip_raw(v):
    """The value without the raw (NaN-payload) hashes and the first values shown for reading."""
    if isinstance(v, dict):
        return {k: strip_raw(x) for k, x in v.items() if k not in ("raw", "head")}
    if isinstance(v, list):
        return [strip_raw(x) for x in v]
    return v


def strip_head(v):
    """The value without the first values shown for reading (their text differs: JS and numpy)."""
    if isinstance(v, dict):
        v = {k: strip_head(x) for k, x in v.items() if k != "head"}
        return {**v, "tensors": dict(v["tensors"])} if "tensors" in v else v
    if isinstance(v, list):
        return [strip_head(x) for x in v]
    return v


def values_agree(fmt: str, ours, ref) -> bool:
    if fmt == "safetensors":
        return (same(ours["metadata"], ref["metadata"])
                and same(strip_raw(dict(ours["tensors"])), strip_raw(dict(ref["tensors"]))))
    return same(strip_raw(ours), strip_raw(ref))


def category(ref_ok: bool, ours_ok: bool) -> str:
    if ref_ok and ours_ok:
        return "both_accept"
    if ours_ok:
        return "reference_refuses_we_accept"
    if ref_ok:
        return "we_refuse_reference_accepts"
    return "both_refuse"


def reason(message: str) -> str:
    """Our refusal message with its numbers, quotes and file name taken out, to group by."""
    m = re.sub(r"^(DIR/\d+/)?x\.\w+(#[^:]*)?(:row \d+)?: ", "", message)
    m = re.sub(r"'[^']*'|\"[^\"]*\"", "…", m)
    m = re.sub(r"\([^()]*\)", "(…)", m)
    m = re.sub(r"\d+", "N", m)
    return m[:120]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--format", required=True, choices=sorted(REFS))
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dir", default=None, help="where the inputs are written (default: a folder beside --out)")
    ap.add_argument("--keep", action="store_true", help="keep every input, not only the disagreements")
    args = ap.parse_args()
    warnings.simplefilter("ignore")

    work = args.dir or os.path.splitext(os.path.abspath(args.out))[0] + "_inputs"
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    deno = subprocess.Popen(
        ["npx", "-y", "deno@2.9.6", "run", "-A", "tools/reader_verdicts.ts", args.format, str(args.seed),
         str(args.n), work, str(args.start)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, encoding="utf-8",
    )
    counts = collections.Counter()
    refusals = collections.Counter()
    ref_refusals = collections.Counter()
    cases = []
    payload_only = []
    seed_match = collections.Counter()
    limited = 0
    skipped = 0
    start = time.time()
    seen = 0
    for line in deno.stdout:
        ours = json.loads(line)
        i = ours["i"]
        d = os.path.join(work, str(i))
        opts = {}
        if os.path.exists(os.path.join(d, "options.json")):
            with open(os.path.join(d, "options.json"), encoding="utf-8") as f:
                opts = json.load(f)
        seen += 1
        lim = opts.get("limit")
        if lim is not None and not (isinstance(lim, int) and lim >= 0):
            skipped += 1
            shutil.rmtree(d, ignore_errors=True)
            continue
        try:
            ref = {"accept": True, **REFS[args.format](d, opts)}
        except Exception as e:  # noqa: BLE001 -- any refusal of the reference is a verdict
            ref = {"accept": False, "error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300]}
        cat = category(ref["accept"], ours["accept"])
        if cat == "both_accept":
            if values_agree(args.format, ours["value"], ref["value"]):
                cat = "both_accept_same_values"
                if not same(strip_head(ours["value"]), strip_head(ref["value"])):
                    payload_only.append(i)
            else:
                cat = "both_accept_different_values"
        counts[cat] += 1
        if cat == "we_refuse_reference_accepts":
            refusals[reason(ours["error"].replace(work, "DIR"))] += 1
        if cat == "reference_refuses_we_accept":
            ref_refusals[re.sub(r"\d+", "N", ref["error"].replace(work, "DIR"))[:120]] += 1
            if args.format == "parquet":
                # Did the damage leave what we read alone? Compare with the seed as pyarrow reads it.
                try:
                    seed_rows = ref_parquet(os.path.dirname(os.path.join(ROOT, ours["seed"])), opts,
                                            os.path.basename(ours["seed"]))["value"]
                    match = values_agree(args.format, ours["value"], seed_rows)
                except Exception:  # noqa: BLE001 -- a seed pyarrow cannot read either
                    match = None
                ref["our_values_equal_the_seeds"] = match
                seed_match[match] += 1
                limited += opts.get("limit") is not None
        disagree = cat in ("both_accept_different_values", "reference_refuses_we_accept", "we_refuse_reference_accepts")
        if disagree:
            cases.append({"i": i, "seed_file": ours["seed"], "category": cat, **({"options": opts} if opts else {}),
                          "ours": {k: v for k, v in ours.items() if k not in ("i", "seed", "files")}, "reference": ref})
        if not (disagree and cat != "we_refuse_reference_accepts") and not args.keep:
            shutil.rmtree(d, ignore_errors=True)
        if seen % 250 == 0:
            print(f"{seen}/{args.n} {dict(counts)} ({time.time() - start:.0f} s)", file=sys.stderr, flush=True)
    deno.wait()
    if seen != args.n:
        print(f"warning: the Deno script gave {seen} verdicts of {args.n} (exit {deno.returncode})", file=sys.stderr)
    import pyarrow
    import safetensors

    result = {
        "summary": {
            "format": args.format, "seed": args.seed, "start": args.start, "n": seen, "planned": args.n,
            "compared": sum(counts.values()), "skipped_invalid_options": skipped, "counts": dict(counts),
            "same_values_but_raw_bits_differ": len(payload_only),
            "raw_bits_differ_at": payload_only,
            "we_refuse_reference_accepts_by_reason": dict(refusals.most_common()),
            "reference_refuses_we_accept_by_reason": dict(ref_refusals.most_common()),
            **({"reference_refuses_we_accept_our_values_equal_the_seeds": seed_match[True],
                "reference_refuses_we_accept_our_values_differ_from_the_seeds": seed_match[False],
                "reference_refuses_we_accept_seed_unreadable_by_reference": seed_match[None],
                "reference_refuses_we_accept_with_a_limit": limited}
               if args.format == "parquet" else {}),
            "versions": {"numpy": np.__version__, "safetensors": safetensors.__version__, "pyarrow": pyarrow.__version__},
            "seconds": round(time.time() - start), "inputs_kept_in": work,
        },
        "disagreements": cases,
    }
    tmp = args.out + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=1)
    os.replace(tmp, args.out)
    s = dict(result["summary"])
    print(json.dumps(s, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
