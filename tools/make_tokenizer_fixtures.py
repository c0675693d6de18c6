#!/usr/bin/env python3
"""Writes the reference fixtures for the tokenizer tests into tests/fixtures/tokenizers/.

Every id here is produced by the Python `transformers` fast tokenizers (the Rust `tokenizers`
library underneath), never by our own code, so the Deno tests compare our tokenizers against the
reference implementation.

    /opt/hfvenv/bin/python tools/make_tokenizer_fixtures.py [--data ../shared/data]

Outputs:
  t5/      the real T5 SentencePiece model (test_data/t5_spiece.model, the same file as
           t5-small / T5 1.1 `spiece.model`) converted by transformers' T5 converter with
           extra_ids=100 (<extra_id_0> = 32099), saved with `save_pretrained`
  llama/   the LLaMA SentencePiece model (tokenizers/llama/tokenizer.model) converted by
           transformers' LLaMA converter with the legacy settings of the standard LLaMA
           tokenizer.json files (normalizer Prepend("▁") + Replace(" ", "▁"), no pre-tokenizer,
           BOS added, EOS not), saved with `save_pretrained`
  parity.json  a few hundred strings (unicode, whitespace runs, sentinels, numbers, punctuation,
           GLUE dev sentences) with, for T5, GPT-2 (tokenizers/gpt2/tokenizer.json, read in
           place) and LLaMA: ids without and with special tokens, decodes, and batch encodings

tokenizer.json is written compact (`Tokenizer.save(pretty=False)`): the same content as the
pretty-printed file save_pretrained writes, at about half the size. transformers 5 writes no
special_tokens_map.json; the special tokens are in tokenizer_config.json.

Versions are pinned in tools/requirements-hf.txt.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import tempfile
from pathlib import Path

import sentencepiece as spm
import tokenizers
import transformers
from tokenizers import normalizers
from transformers import LlamaTokenizerFast, PreTrainedTokenizerFast, T5TokenizerFast

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "tokenizers"


def handmade_strings() -> list[str]:
    """Strings chosen to exercise normalizers, pre-tokenizers, byte fallback and added tokens."""
    return [
        # empty and whitespace only
        "", " ", "  ", "\t", "\n", " \n ", "\r\n", "\u00a0", "   \t\n  ",
        # plain
        "Hello", "Hello world", "hello world", "HELLO WORLD", "Hello, world!",
        "The quick brown fox jumps over the lazy dog.",
        # leading, trailing, runs of spaces, tabs, newlines
        " leading space", "trailing space ", "  two leading", "two trailing  ",
        "   three   inner   runs   ", "a  b", "a   b", "a    b", "a\tb", "a\t\tb", "a\nb",
        "a\n\nb", "a\r\nb", "line one\nline two\nline three", "tab\tseparated\tvalues",
        "mixed \t \n whitespace", "\n\nstarts with newlines", "ends with newlines\n\n",
        "    indented code", "x = 1\n    y = 2\n", "word" + " " * 16 + "word",
        # accents, composed and decomposed, other scripts
        "naïve café", "nai\u0308ve cafe\u0301", "Ångström", "Straße", "İstanbul", "Æsir Œuvre",
        "Crème brûlée à la française", "¿Dónde está el baño?", "Ελληνικά γράμματα",
        "Привет, мир!", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก",
        "Tiếng Việt có dấu", "ĳ ǆ ﬁ ﬂ ﬀ", "x² + y³ = z⁴", "½ ¼ ¾", "ℌ ℍ ℕ ℙ", "㍿ ㌔ ㎏",
        # CJK
        "日本語のテキスト", "你好，世界！", "中文分词测试：今天天气很好。", "한국어 텍스트입니다",
        "ｶﾀｶﾅ ＡＢＣ １２３", "漢字とひらがなとカタカナ", "東京 2020", "～波ダッシュ～",
        # emoji
        "🤗", "I ❤️ NLP", "👍🏽 thumbs", "👨‍👩‍👧‍👦 family", "🇯🇵🇫🇷", "1️⃣2️⃣", "emoji🎉inside",
        "😀😃😄😁", "🧑‍💻 coding", "☕ and ⚡",
        # unusual code points
        "zero\u200bwidth", "soft\u00adhyphen", "bom\ufeffhere", "replacement \ufffd char",
        "literal ▁ meta", "▁▁▁", "bell\u0007char", "del\u007fchar", "nul\u0000char",
        "combining a\u0301\u0302\u0303", "e\u0301\u0301\u0301\u0301\u0301\u0301",
        "\u2028line sep", "em\u2003space", "ideographic\u3000space",
        # clusters that NFKC and SentencePiece's charsmap treat differently
        "\u1112\u1161\u11ab\u1100\u1173\u11af", "ｶﾞｷﾞｸﾞ ﾊﾟﾋﾟ", "Ⅻ ① ⑴ ㈱", "ﾟﾞ", "Z\u0335\u0321a\u0336l\u0337g\u0338o",
        "Vie\u0302\u0323t", "क्षत्रिय", "مَرْحَبًا", "ก้าว", "å Å Å", "ﬃ ﬄ ﬅ", "ＡＢＣ！？", "…・「」『』",
        # sentinels and special token strings in text
        "<extra_id_0>", "<extra_id_0> is a sentinel", "a<extra_id_1>b",
        "The <extra_id_0> walks in <extra_id_1> park", " <extra_id_99> ", "<extra_id_100>",
        "<extra_id_0><extra_id_1><extra_id_2>", "<extra_id_5>  spaced  <extra_id_6>",
        "</s>", "end</s>", "<s> begin", "<pad> <unk>", "<|endoftext|>",
        "text<|endoftext|>more", "<extra_id_>", "<extra id_0>",
        # numbers
        "0", "42", "3.14159", "1,000,000", "-273.15", "1e-10", "2024-01-01", "12:34:56",
        "$12.50", "€9,99", "100%", "0x1F 0b1010", "+1 (555) 010-9999", "v1.2.3-rc.4",
        "1234567890123456789", "1/2 3/4", "#1 #2 #3",
        # punctuation
        "!!!", "???", "...", "…", "?!?!", "Hello!!! Really???", "a.b.c", "(parentheses)",
        "[brackets] {braces}", "\"double\" 'single'", "“curly” ‘quotes’", "«guillemets»",
        "em—dash en–dash", "don't won't it's we're they've I'd y'all", "rock 'n' roll",
        "@user #hashtag", "email@example.com", "https://example.com/path?q=1&r=2#frag",
        "C:\\Users\\name\\file.txt", "/usr/local/bin", "snake_case camelCase kebab-case",
        "semi;colon:colon", "a+b=c*d/e^f", "~`|\\", "<div class=\"x\">html</div>",
        "```python\nprint('hi')\n```", "def f(x):\n    return x ** 2\n",
        "{\"key\": [1, 2, 3], \"null\": null}", "- item one\n- item two\n* star",
        "# Heading\n\nParagraph text.", "| a | b |\n|---|---|", "____", "----", "====",
        # mixed and long
        "Mixed 日本 and English with émojis 🎉 and numbers 123.",
        "supercalifragilisticexpialidocious", "antidisestablishmentarianism",
        "Pneumonoultramicroscopicsilicovolcanoconiosis", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "the the the the the the the the", "ababababababababab", "A" * 40, "!" * 30,
        "sentiment: positive", "rte sentence1: A man. sentence2: A person.",
        "cola sentence: The book was written by John.", "translate English to German: Hello.",
        "summarize: " + "This is a somewhat longer piece of text. " * 4,
    ]


def glue_strings(data: Path) -> list[str]:
    """About 150 sentences from the SST-2, RTE and CoLA dev files, every k-th row."""
    out: list[str] = []
    with open(data / "glue" / "SST-2" / "dev.tsv", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    out += [r[0] for r in rows[:: len(rows) // 50]][:50]
    with open(data / "glue" / "RTE" / "dev.tsv", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    picked = rows[:: len(rows) // 25][:25]
    out += [r[1] for r in picked] + [r[2] for r in picked]
    with open(data / "glue" / "CoLA" / "dev.tsv", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    out += [r[3] for r in rows[:: len(rows) // 50]][:50]
    return out


def make_t5(data: Path, dest: Path) -> T5TokenizerFast:
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(data / "prompt-tuning" / "test_data" / "t5_spiece.model", Path(tmp) / "spiece.model")
        tok = T5TokenizerFast.from_pretrained(tmp, extra_ids=100)
    assert tok.convert_tokens_to_ids("<extra_id_0>") == 32099, "T5 sentinel 0 must be 32099"
    return save(tok, dest)


def make_llama(data: Path, dest: Path) -> LlamaTokenizerFast:
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(data / "tokenizers" / "llama" / "tokenizer.model", Path(tmp) / "tokenizer.model")
        tok = LlamaTokenizerFast.from_pretrained(
            tmp, legacy=True, add_bos_token=True, add_eos_token=False
        )
    # transformers 5 expresses the legacy prefix space as a Metaspace pre-tokenizer, which does not
    # prepend "▁" to text that already starts with one ("  lead" → ▁▁ le ad, where SentencePiece
    # gives ▁▁ ▁lead). The converter's legacy settings (LlamaConverter.normalizer for legacy=True),
    # which the standard LLaMA tokenizer.json files carry, prepend it always.
    backend = tok.backend_tokenizer
    backend.normalizer = normalizers.Sequence(
        [normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")]
    )
    backend.pre_tokenizer = None
    return save(tok, dest)


def save(tok: PreTrainedTokenizerFast, dest: Path) -> PreTrainedTokenizerFast:
    if dest.exists():
        shutil.rmtree(dest)
    tok.save_pretrained(dest)
    tok.backend_tokenizer.save(str(dest / "tokenizer.json"), pretty=False)
    # Reload: the fixtures below must come from the committed files, not from the object in memory.
    return type(tok).from_pretrained(dest)


def load_gpt2(data: Path) -> PreTrainedTokenizerFast:
    return PreTrainedTokenizerFast(
        tokenizer_file=str(data / "tokenizers" / "gpt2" / "tokenizer.json"),
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<|endoftext|>",
    )


BATCH_CASES = [
    dict(add_special_tokens=True, padding="longest", truncation=False, max_length=None, padding_side="right"),
    dict(add_special_tokens=True, padding="longest", truncation=False, max_length=None, padding_side="left"),
    dict(add_special_tokens=True, padding="max_length", truncation=True, max_length=8, padding_side="right"),
    dict(add_special_tokens=True, padding="max_length", truncation=True, max_length=8, padding_side="left"),
    dict(add_special_tokens=False, padding="longest", truncation=True, max_length=5, padding_side="left"),
    dict(add_special_tokens=True, padding=False, truncation=True, max_length=4, padding_side="right"),
    dict(add_special_tokens=True, padding="max_length", truncation=True, max_length=24, padding_side="right"),
    dict(add_special_tokens=True, padding="max_length", truncation=False, max_length=6, padding_side="right"),
]

BATCH_TEXTS = [
    "Hello world",
    "it 's a charming and often affecting journey .",
    "",
    "The <extra_id_0> walks in <extra_id_1> park",
    "日本語 🤗 naïve",
    "a",
]


def reference(tok: PreTrainedTokenizerFast, file: Path, texts: list[str]) -> dict:
    """Ids, decodes and batches from the Rust `tokenizers` library reading `file` as it stands.

    transformers 5 rebuilds some tokenizers from their class instead of the file (LlamaTokenizer
    swaps the file's legacy normalizer for a Metaspace pre-tokenizer), so the file-level reference
    is the `tokenizers` library itself; `tok` (transformers) only names the special tokens.
    """
    raw = tokenizers.Tokenizer.from_file(str(file))
    cases = []
    for text in texts:
        ids = raw.encode(text, add_special_tokens=False).ids
        ids_special = raw.encode(text, add_special_tokens=True).ids
        cases.append(
            {
                "ids": ids,
                "idsSpecial": ids_special,
                "decoded": raw.decode(ids_special, skip_special_tokens=False),
                "decodedSkip": raw.decode(ids_special, skip_special_tokens=True),
            }
        )
    specials = {name: getattr(tok, f"{name}_token_id") for name in ("pad", "eos", "bos", "unk")}
    pad_id = specials["pad"] if specials["pad"] is not None else specials["eos"]
    batches = []
    for case in BATCH_CASES:
        raw.no_padding()
        raw.no_truncation()
        if case["truncation"]:
            raw.enable_truncation(case["max_length"])
        if case["padding"]:
            raw.enable_padding(
                direction=case["padding_side"],
                pad_id=pad_id,
                pad_token=raw.id_to_token(pad_id),
                length=case["max_length"] if case["padding"] == "max_length" else None,
            )
        encs = raw.encode_batch(BATCH_TEXTS, add_special_tokens=case["add_special_tokens"])
        batches.append(
            {
                "options": case,
                "ids": [e.ids for e in encs],
                "attentionMask": [e.attention_mask for e in encs],
            }
        )
    return {
        "vocabSize": raw.get_vocab_size(with_added_tokens=True),
        "specialIds": specials,
        "padIdUsed": pad_id,
        "cases": cases,
        "batches": batches,
    }


def transformers_agreement(tok: PreTrainedTokenizerFast, texts: list[str], ref: dict) -> tuple[int, int]:
    """How many strings transformers' own tokenizer object encodes like the file-level reference."""
    same = sum(tok.encode(t, add_special_tokens=True) == c["idsSpecial"] for t, c in zip(texts, ref["cases"]))
    return same, len(texts)


def spm_agreement(model: Path, texts: list[str], ref: dict) -> tuple[int, int]:
    """How many plain strings (no special-token text) the reference splits like SentencePiece."""
    sp = spm.SentencePieceProcessor(model_file=str(model))
    pairs = [(t, c) for t, c in zip(texts, ref["cases"]) if "<" not in t]
    return sum(c["ids"] == sp.encode(t) for t, c in pairs), len(pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    data: Path = args.data

    OUT.mkdir(parents=True, exist_ok=True)
    texts = handmade_strings() + glue_strings(data)
    assert len(set(texts)) == len(texts), "parity strings must be distinct"

    toks = {
        "t5": (make_t5(data, OUT / "t5"), OUT / "t5" / "tokenizer.json"),
        "gpt2": (load_gpt2(data), data / "tokenizers" / "gpt2" / "tokenizer.json"),
        "llama": (make_llama(data, OUT / "llama"), OUT / "llama" / "tokenizer.json"),
    }
    refs = {name: reference(tok, file, texts) for name, (tok, file) in toks.items()}
    for name, (tok, _) in toks.items():
        same, total = transformers_agreement(tok, texts, refs[name])
        print(f"{name}: transformers {type(tok).__name__} equals the tokenizer.json reference on {same}/{total}")
    for name, model in (
        ("t5", data / "prompt-tuning" / "test_data" / "t5_spiece.model"),
        ("llama", data / "tokenizers" / "llama" / "tokenizer.model"),
    ):
        same, total = spm_agreement(model, texts, refs[name])
        print(f"{name}: the tokenizer.json reference equals SentencePiece on {same}/{total} plain strings")

    parity = {
        "generator": "tools/make_tokenizer_fixtures.py",
        "versions": {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__},
        "texts": texts,
        "batchTexts": BATCH_TEXTS,
        "tokenizers": refs,
    }
    path = OUT / "parity.json"
    path.write_text(json.dumps(parity, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    for p in sorted(OUT.rglob("*")):
        if p.is_file():
            print(f"{p.relative_to(ROOT)}: {p.stat().st_size:,} bytes")
    print(f"{len(texts)} strings")


if __name__ == "__main__":
    main()
