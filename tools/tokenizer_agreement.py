"""Dev-time: how often our tokenizer.json reader agrees with the Rust `tokenizers` library.

Mutates the tokenizer fixtures (tests/fixtures/tokenizers/{t5,llama}) with
tools/mutate_tokenizer_json.py, asks the Rust library (tools/tokenizer_oracle.py, in process) and
ours (tools/tokenizer_verdicts.ts, one Deno process fed a line per mutation) for a verdict, and
counts: both accept with the same ids / both accept with different ids / Rust refuses, we accept /
we refuse, Rust accepts / both refuse. Writes the counts and the disagreements to --out, and a
sample of mutations with Rust's verdicts to --fixture (tests/fixtures/tokenizers/mutations.json).

    .venv/bin/python tools/tokenizer_agreement.py --n 2000 --seed 1 --out .scratch/agreement.json \
        --fixture tests/fixtures/tokenizers/mutations.json
"""

import argparse
import collections
import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from mutate_tokenizer_json import mutate  # noqa: E402
from tokenizer_oracle import apply_edits, verdict, write_json  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASES = ["t5", "llama"]
TEXTS = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "naïve café, 123 résumé",
    "  two  spaces\tand a tab",
    "</s> <s> <unk> <extra_id_0> tokens",
    "日本語 ☃ 😀",
    "a\u2581b",
]


def category(rust, ours):
    if rust["accept"] and ours["accept"]:
        same = rust["ids"] == ours["ids"] and rust["special"] == ours["special"]
        return "both_accept_same_ids" if same else "both_accept_different_ids"
    if ours["accept"]:
        return "rust_refuses_we_accept"
    if rust["accept"]:
        return "we_refuse_rust_accepts"
    return "both_refuse"


def report(args, cases, counts, decode_diff, threw, start, final):
    """Writes the counts, the disagreements and the fixture sample (so far, unless final)."""
    summary = {
        "n": len(cases), "planned": args.n, "seed": args.seed, "bases": BASES, "texts": TEXTS, "counts": dict(counts),
        "same_ids_different_decode": decode_diff, "ours_threw_after_loading": threw,
        "seconds": round(time.time() - start),
    }
    disagreements = [c for c in cases if c["category"] in ("both_accept_different_ids", "rust_refuses_we_accept")]
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"summary": summary, "disagreements": disagreements,
                   "we_refuse_rust_accepts": [c for c in cases if c["category"] == "we_refuse_rust_accepts"]},
                  f, ensure_ascii=False, indent=1)
    if final:
        print(json.dumps(summary, indent=1))

    if args.fixture:
        # A sample over every category (all of the rare ones), with Rust's verdict and ids.
        by_cat = collections.defaultdict(list)
        for c in cases:
            if len(json.dumps(c["edits"])) <= 4000:  # keeps the fixture small (no whole merge lists)
                by_cat[c["category"]].append(c)
        pick = random.Random(args.seed + 1)
        chosen = []
        per = max(1, args.fixture_size // max(1, len(by_cat)))
        for cat, cs in sorted(by_cat.items()):
            chosen.extend(cs if len(cs) <= per else pick.sample(cs, per))
        chosen.sort(key=lambda c: int(c["id"].rsplit("-", 1)[1]))
        out = {
            "about": "Mutations of tests/fixtures/tokenizers/{t5,llama}/tokenizer.json (edits as in "
                     "tests/_tokenizer_edits.ts) with the Rust tokenizers library's verdict and ids; "
                     "written by tools/tokenizer_agreement.py",
            "tokenizers_version": __import__("tokenizers").__version__,
            "texts": TEXTS,
            "cases": [{"id": c["id"], "base": c["base"], "edits": c["edits"], "category": c["category"],
                       "rust_accepts": c["rust"]["accept"],
                       **({"ids": c["rust"]["ids"], "special": c["rust"]["special"]} if c["rust"]["accept"] else
                          {"rust_error": c["rust"]["error"][:200]})} for c in chosen],
        }
        tmp = args.fixture + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, args.fixture)




def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=".scratch/agreement.json")
    ap.add_argument("--fixture", default=None)
    ap.add_argument("--fixture-size", type=int, default=150)
    args = ap.parse_args()

    bases = {}
    for b in BASES:
        with open(os.path.join(ROOT, "tests/fixtures/tokenizers", b, "tokenizer.json"), encoding="utf-8") as f:
            bases[b] = json.load(f)
    deno = subprocess.Popen(
        ["npx", "-y", "deno@2.9.6", "run", "-A", "tools/tokenizer_verdicts.ts"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        encoding="utf-8",
    )
    rng = random.Random(args.seed)
    counts = collections.Counter()
    decode_diff = 0
    threw = 0
    cases = []
    start = time.time()
    for i in range(args.n):
        base = BASES[i % len(BASES)]
        edits = mutate(bases[base], rng)
        case_id = f"{base}-{args.seed}-{i}"
        rust = verdict(write_json(apply_edits(bases[base], edits)), TEXTS)
        deno.stdin.write(json.dumps({"id": case_id, "base": base, "edits": edits, "texts": TEXTS}) + "\n")
        deno.stdin.flush()
        line = deno.stdout.readline()
        if not line:
            raise SystemExit(f"the Deno worker died at case {case_id}")
        ours = json.loads(line)
        cat = category(rust, ours)
        counts[cat] += 1
        threw += bool(ours.get("threw"))
        if cat == "both_accept_same_ids" and rust["decoded"] != ours["decoded"]:
            decode_diff += 1
        if cat in ("both_accept_different_ids", "rust_refuses_we_accept"):
            print(f"DISAGREE {cat} {case_id} {json.dumps(edits)[:300]}", file=sys.stderr, flush=True)
        cases.append({"id": case_id, "base": base, "edits": edits, "category": cat, "rust": rust,
                      "ours": {k: v for k, v in ours.items() if k != "id"}})
        if (i + 1) % 100 == 0:
            report(args, cases, counts, decode_diff, threw, start, final=False)
            print(f"{i + 1}/{args.n} {dict(counts)} ({time.time() - start:.0f} s)", file=sys.stderr, flush=True)
    deno.stdin.close()
    deno.wait()
    report(args, cases, counts, decode_diff, threw, start, final=True)


if __name__ == "__main__":
    main()
