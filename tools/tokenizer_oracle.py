"""Dev-time oracle: the Rust `tokenizers` library's verdict on a tokenizer.json.

`verdict(text, texts)` loads the JSON text with `tokenizers.Tokenizer.from_str` (truncation and
padding switched off, as our library does its own), encodes each sample text without and with
special tokens and decodes the plain ids. Any failure, a Rust panic included, is a refusal.
`apply_edits` / `write_json` apply the edits of tests/_tokenizer_edits.ts the same way.

    .venv/bin/python tools/tokenizer_oracle.py path/to/tokenizer.json "some text" ...
"""

import json
import sys

import tokenizers


class Raw:
    """A JSON value kept as written."""

    def __init__(self, text):
        self.text = text


class Obj(dict):
    """A JSON object that may write some keys twice (`dups`: extra (key, Raw) pairs, written first)."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.dups = []


class Arr(list):
    """A JSON array copied by apply_edits (write_json hands everything else to json.dumps whole)."""


def _copy(node):
    if isinstance(node, list):
        return Arr(node)
    if isinstance(node, dict):
        out = Obj(node)
        out.dups = list(getattr(node, "dups", []))
        return out
    return node


def apply_edits(base, edits):
    """The document `base` with `edits` applied (containers on each path copied, base unchanged)."""
    root = Obj({"": base})
    for e in edits:
        path = [""] + list(e["path"])
        holder = root
        ok = True
        for k in path[:-1]:
            try:
                nxt = holder[k]
            except (KeyError, IndexError, TypeError):
                ok = False
                break
            if not isinstance(nxt, (list, dict)):
                ok = False
                break
            c = _copy(nxt)
            holder[k] = c
            holder = c
        if not ok:
            continue
        last = path[-1]
        op = e["op"]
        if isinstance(holder, list):
            if not isinstance(last, int):
                continue
            if op == "insert":
                holder.insert(last, Raw(e["raw"]))
            elif last < 0 or last >= len(holder):
                continue
            elif op == "set":
                holder[last] = Raw(e["raw"])
            elif op == "delete":
                del holder[last]
        elif isinstance(holder, dict):
            k = str(last)
            if op in ("set", "insert"):
                holder[k] = Raw(e["raw"])
            elif op == "delete":
                holder.pop(k, None)
            elif op == "dup":
                holder.dups.append((k, Raw(e["raw"])))
    return root[""]


def write_json(doc):
    """JSON text of a document from apply_edits."""
    parts = []

    def walk(n):
        if isinstance(n, Raw):
            parts.append(n.text)
        elif not isinstance(n, (Arr, Obj)):
            parts.append(json.dumps(n))
        elif isinstance(n, list):
            parts.append("[")
            for i, x in enumerate(n):
                if i:
                    parts.append(",")
                walk(x)
            parts.append("]")
        elif isinstance(n, dict):
            parts.append("{")
            first = True
            for k, v in list(getattr(n, "dups", [])) + list(n.items()):
                if not first:
                    parts.append(",")
                first = False
                parts.append(json.dumps(k))
                parts.append(":")
                walk(v)
            parts.append("}")
        else:
            parts.append(json.dumps(n))

    walk(doc)
    return "".join(parts)


def verdict(text, texts):
    """The Rust library's verdict: {"accept", "ids", "special", "decoded"} or {"accept": False, "error"}."""
    try:
        tok = tokenizers.Tokenizer.from_str(text)
        tok.no_truncation()
        tok.no_padding()
        ids = [tok.encode(t, add_special_tokens=False).ids for t in texts]
        special = [tok.encode(t, add_special_tokens=True).ids for t in texts]
        decoded = [tok.decode(x, skip_special_tokens=False) for x in ids]
        return {"accept": True, "ids": ids, "special": special, "decoded": decoded}
    except BaseException as e:  # a Rust panic is a BaseException (pyo3 PanicException)
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        return {"accept": False, "error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"}


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        print(json.dumps(verdict(f.read(), sys.argv[2:] or ["Hello world"]), ensure_ascii=False))
