"""Dev-time: structure-aware mutations of a tokenizer.json, as edits (tests/_tokenizer_edits.ts).

Each mutation is a list of one or two edits: values of the wrong type (integers written as `2.0`,
`-0`, `1e2`, out of range; strings for numbers; null), keys dropped, written twice or added
(`__proto__`, unknown keys), bad ids (unk_id, added token ids, vocabulary ids), bad merges (three
parts, one part, tokens not in the vocabulary, the two forms mixed, a `#version` line), the wrong
variant `type` for a normalizer, pre-tokenizer, post-processor or decoder, and entries deleted,
duplicated or swapped in the vocabulary.

    python tools/mutate_tokenizer_json.py tests/fixtures/tokenizers/t5/tokenizer.json 5 --seed 1
"""

import argparse
import json
import random

TYPES = [
    # normalizers
    "BertNormalizer", "Strip", "StripAccents", "NFC", "NFD", "NFKC", "NFKD", "Lowercase", "Sequence",
    "Precompiled", "Replace", "Prepend", "Nmt", "ByteLevel",
    # pre-tokenizers
    "BertPreTokenizer", "Metaspace", "Whitespace", "WhitespaceSplit", "Split", "Punctuation", "Digits",
    "FixedLength", "UnicodeScripts", "CharDelimiterSplit",
    # post-processors
    "TemplateProcessing", "BertProcessing", "RobertaProcessing",
    # decoders
    "BPEDecoder", "WordPiece", "CTC", "Fuse", "ByteFallback",
    # models and nonsense
    "BPE", "Unigram", "WordLevel", "Foo", "metaspace", "",
]

ANY = [
    "null", "true", "false", "0", "1", "-1", "2.0", "0.5", "-8.19", "1e2", "-0", "4294967296",
    "18446744073709551616", '""', '"x"', '"1"', "[]", "{}", "[1, 2]", '{"type": "Foo"}', '"\\ud800"',
    "1e400", '"\\u2581"', '"ab"', "[[\"a\", 1]]",
]


def _paths(node, prefix, out, rng, big=40):
    """Paths worth mutating: every container and leaf, sampling long arrays and large objects."""
    out.append(prefix)
    if isinstance(node, list):
        idx = range(len(node)) if len(node) <= big else sorted(rng.sample(range(len(node)), big))
        for i in idx:
            _paths(node[i], prefix + [i], out, rng, big)
    elif isinstance(node, dict):
        keys = list(node.keys())
        if len(keys) > big:
            keys = rng.sample(keys, big)
        for k in keys:
            _paths(node[k], prefix + [k], out, rng, big)


def _get(doc, path):
    for k in path:
        doc = doc[k]
    return doc


def _raw(v):
    return json.dumps(v)


def _wrong_value(v, rng):
    """A raw JSON value near `v` in kind but wrong, or of another kind."""
    if isinstance(v, bool):
        return rng.choice(["0", "1", '"true"', "null", '"false"'] + ANY[:6])
    if isinstance(v, int):
        return rng.choice([f"{v}.0", str(v + 1), str(v - 1), "-1", f"{v}e0", "4294967296",
                           str(v + 100000), "-0", f"{v + 0.5}", '"%d"' % v, "null", "true"])
    if isinstance(v, float):
        return rng.choice(['"%s"' % v, "null", "1e400", "-1e400", "true", "[]", str(int(v)), "0"])
    if isinstance(v, str):
        if v in TYPES:
            return _raw(rng.choice(TYPES))
        return rng.choice(['""', _raw(v + v), _raw(v[:1]), "1", "null", "true", "[]", '"\\ud800"',
                           _raw(v.upper()), _raw(" " + v)])
    return rng.choice(ANY)


def _vocab_edits(doc, rng):
    model = doc["model"]
    vocab = model.get("vocab")
    edits = []
    if isinstance(vocab, list) and vocab:
        i = rng.randrange(len(vocab))
        piece, score = vocab[i]
        choice = rng.randrange(8)
        if choice == 0:
            edits.append({"op": "set", "path": ["model", "vocab", i, 1], "raw": rng.choice(
                ['"%s"' % score, "null", "1e400", "true", "[]", "0", "-1e308", "-1e309"])})
        elif choice == 1:
            edits.append({"op": "set", "path": ["model", "vocab", i], "raw": rng.choice(
                [_raw([piece]), _raw([piece, score, 0]), _raw({"piece": piece, "score": score}), _raw(piece),
                 _raw([score, piece]), _raw([1, score])])})
        elif choice == 2:
            edits.append({"op": "delete", "path": ["model", "vocab", i]})
        elif choice == 3:
            edits.append({"op": "insert", "path": ["model", "vocab", rng.randrange(len(vocab))],
                          "raw": _raw([piece, score])})
        elif choice == 4:
            j = rng.randrange(len(vocab))
            edits.append({"op": "set", "path": ["model", "vocab", i], "raw": _raw(vocab[j])})
            edits.append({"op": "set", "path": ["model", "vocab", j], "raw": _raw(vocab[i])})
        elif choice == 5:
            edits.append({"op": "set", "path": ["model", "unk_id"], "raw": rng.choice(
                ["-8.199501037597656", "2.0", "-1", str(len(vocab)), str(len(vocab) - 1), "null", "0",
                 '"2"', "1e0", "-0", "3"])})
        elif choice == 6:
            edits.append({"op": "delete", "path": ["model", "unk_id"]})
        else:
            edits.append({"op": "set", "path": ["model", "vocab"], "raw": rng.choice(["[]", "{}", "null"])})
    elif isinstance(vocab, dict) and vocab:
        keys = list(vocab.keys())
        k = rng.choice(keys)
        choice = rng.randrange(7)
        if choice == 0:
            edits.append({"op": "set", "path": ["model", "vocab", k], "raw": _wrong_value(vocab[k], rng)})
        elif choice == 1:
            edits.append({"op": "set", "path": ["model", "vocab", k], "raw": str(vocab[rng.choice(keys)])})
        elif choice == 2:
            edits.append({"op": "delete", "path": ["model", "vocab", k]})
        elif choice == 3:
            edits.append({"op": "dup", "path": ["model", "vocab", k], "raw": str(rng.randrange(len(keys) + 5))})
        elif choice == 4:
            edits.append({"op": "insert", "path": ["model", "vocab", "__proto__"], "raw": str(len(keys))})
        elif choice == 5:
            edits.append({"op": "insert", "path": ["model", "vocab", k + "x"], "raw": str(len(keys))})
        else:
            edits.append({"op": "set", "path": ["model", "unk_token"], "raw": rng.choice(
                ['"<nope>"', "null", "0", '""', '"<unk>"'])})
    return edits


def _merge_edits(doc, rng):
    merges = doc["model"].get("merges")
    if not isinstance(merges, list) or not merges:
        return []
    i = rng.randrange(len(merges))
    m = merges[i]
    a, b = (m.split(" ", 1) + [""])[:2] if isinstance(m, str) else m
    legacy = isinstance(m, str)
    options = [
        _raw(f"{a} {b} c"), _raw(a + b), _raw(f"{a}  {b}"), _raw([a]), _raw([a, b, "c"]), "[1, 2]",
        _raw("zzq qqz"), _raw(["zzq", "qqz"]), _raw([a, b] if legacy else f"{a} {b}"), _raw(f"{b} {a}"),
        _raw(""), "null", _raw(f"{a} {b}"), _raw([a, b]),
    ]
    choice = rng.randrange(5)
    if choice == 0:
        return [{"op": "set", "path": ["model", "merges", i], "raw": rng.choice(options)}]
    if choice == 1:
        return [{"op": "insert", "path": ["model", "merges", 0], "raw": rng.choice(
            ['"#version: 0.2"', _raw(["#version:", "0.2"]), '"#version 0.2"'])}]
    if choice == 2:
        return [{"op": "delete", "path": ["model", "merges", i]}]
    if choice == 3:
        j = rng.randrange(len(merges))
        return [{"op": "set", "path": ["model", "merges", i], "raw": _raw(merges[j])},
                {"op": "set", "path": ["model", "merges", j], "raw": _raw(merges[i])}]
    # every merge in the other form
    other = [f"{x[0]} {x[1]}" if isinstance(x, list) else x.split(" ", 1) for x in merges]
    return [{"op": "set", "path": ["model", "merges"], "raw": _raw(other)}]


def _added_edits(doc, rng):
    added = doc.get("added_tokens") or []
    if not added:
        return []
    i = rng.randrange(len(added))
    t = added[i]
    n = len(doc["model"]["vocab"]) if isinstance(doc["model"].get("vocab"), (list, dict)) else 0
    choice = rng.randrange(6)
    if choice == 0:
        return [{"op": "set", "path": ["added_tokens", i, "id"], "raw": rng.choice(
            [str(added[rng.randrange(len(added))]["id"]), str(n), str(n + 7), "-1", f"{t['id']}.0",
             str(t["id"] + 1), "4294967296", '"%d"' % t["id"], "5"])}]
    if choice == 1:
        k = rng.choice(["single_word", "lstrip", "rstrip", "normalized", "special", "content", "id"])
        return [{"op": rng.choice(["delete", "set"]), "path": ["added_tokens", i, k],
                 "raw": _wrong_value(t.get(k), rng)}]
    if choice == 2:
        return [{"op": "insert", "path": ["added_tokens", rng.randrange(len(added) + 1)], "raw": _raw(t)}]
    if choice == 3:
        new = dict(t, content=rng.choice(["hello", "<new>", "", "▁the", "a"]), id=rng.choice([n, n + 1, 3, len(added) + n]))
        return [{"op": "insert", "path": ["added_tokens", len(added)], "raw": _raw(new)}]
    if choice == 4:
        return [{"op": "dup", "path": ["added_tokens", i, "id"], "raw": str(t["id"])}]
    return [{"op": "delete", "path": ["added_tokens", i]}]


def _generic_edit(doc, rng):
    paths = []
    _paths(doc, [], paths, rng)
    paths = [p for p in paths if p and p[:2] != ["model", "vocab"] and p[:2] != ["model", "merges"]]
    path = rng.choice(paths)
    v = _get(doc, path)
    choice = rng.randrange(10)
    if choice <= 3:
        return [{"op": "set", "path": path, "raw": _wrong_value(v, rng)}]
    if choice == 4 and not isinstance(path[-1], int):
        return [{"op": "delete", "path": path}]
    if choice == 5 and isinstance(path[-1], str):
        same = rng.random() < 0.5
        return [{"op": "dup", "path": path, "raw": _raw(v) if same else _wrong_value(v, rng)}]
    if choice == 6 and isinstance(v, dict):
        return [{"op": "insert", "path": path + ["__proto__"], "raw": rng.choice(
            ['{"type": "WordLevel"}', '{"polluted": true}', "null", '{"unk_id": 5}', "[]"])}]
    if choice == 7 and isinstance(v, dict):
        return [{"op": "insert", "path": path + [rng.choice(["extra", "Type", "typ", "vocab_size"])],
                 "raw": rng.choice(ANY)}]
    if choice == 8 and isinstance(v, dict) and "type" in v:
        return [{"op": "set", "path": path + ["type"], "raw": _raw(rng.choice(TYPES))}]
    if isinstance(v, list) and v:
        return [{"op": "delete", "path": path + [rng.randrange(len(v))]}]
    if isinstance(v, dict) and "type" in v:
        return [{"op": "set", "path": path + ["type"], "raw": _raw(rng.choice(TYPES))}]
    return [{"op": "set", "path": path, "raw": rng.choice(ANY)}]


def mutate(doc, rng):
    """One mutation of `doc`: a list of one or two edits."""
    edits = []
    for _ in range(1 if rng.random() < 0.75 else 2):
        kind = rng.choices(["generic", "vocab", "merges", "added"], weights=[45, 25, 15, 15])[0]
        e = {"generic": _generic_edit, "vocab": _vocab_edits, "merges": _merge_edits,
             "added": _added_edits}[kind](doc, rng)
        edits.extend(e or _generic_edit(doc, rng))
    return edits


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with open(args.file, encoding="utf-8") as f:
        base = json.load(f)
    rng = random.Random(args.seed)
    for _ in range(args.n):
        print(json.dumps(mutate(base, rng), ensure_ascii=False))
