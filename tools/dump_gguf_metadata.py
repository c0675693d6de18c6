#!/usr/bin/env python3
"""Dumps the tokenizer metadata of a GGUF file to JSON, as the Python `gguf` package reads it.

A development aid for tokenizer/gguf.ts: the dump is a `{key: value}` object of every
`tokenizer.*` key (and `general.architecture`), which a Deno script can turn into the
`ReadonlyMap<string, GgufValue>` that `tokenizerFromGguf` takes. It is never committed for a real
model (the vocabulary alone is megabytes) and the library never needs it.

    /work/main/.venv/bin/python tools/dump_gguf_metadata.py MODEL.gguf [--out meta.json]
        [--prefix tokenizer.] [--types]

`--types` writes `{key: {"type": "UINT32", "value": ...}}` instead, the GGUF value type of each key
(an array's element type after a slash: "ARRAY/STRING").

Versions are pinned in tools/requirements-hf.txt (gguf==0.19.0).
"""

from __future__ import annotations

import argparse
import json
import sys

import gguf


def field_type(field: gguf.ReaderField) -> str:
    """The GGUF type of a field: "UINT32", or "ARRAY/INT32" for an array."""
    names = [gguf.GGUFValueType(t).name for t in field.types]
    return "/".join(names)


def dump(path: str, prefixes: list[str], with_types: bool) -> dict:
    reader = gguf.GGUFReader(path)
    out: dict = {}
    for key, field in reader.fields.items():
        if key != "general.architecture" and not any(key.startswith(p) for p in prefixes):
            continue
        value = field.contents()
        out[key] = {"type": field_type(field), "value": value} if with_types else value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("gguf_file")
    parser.add_argument("--out", help="the JSON file to write (default: standard output)")
    parser.add_argument(
        "--prefix", action="append", help="key prefixes to dump (default: tokenizer.)"
    )
    parser.add_argument("--types", action="store_true", help="write each key's GGUF type too")
    args = parser.parse_args()
    data = dump(args.gguf_file, args.prefix or ["tokenizer."], args.types)
    text = json.dumps(data, ensure_ascii=False)
    if args.out is None:
        sys.stdout.write(text + "\n")
    else:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
