#!/usr/bin/env python3
"""Writes the reference fixtures for the GGUF tokenizer tests into tests/fixtures/gguf/.

Every id here is produced by transformers' GGUF tokenizer loader
(`AutoTokenizer.from_pretrained(dir, gguf_file=name)`, the Rust `tokenizers` library underneath),
never by our own code, so the Deno tests compare tokenizer/gguf.ts against the reference.

    /work/main/.venv/bin/python tools/make_gguf_tokenizer_fixtures.py \
        [--model .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf]

Outputs:
  tiny_tokenizers.json  a few synthetic tokenizers, small enough to commit whole: each one's GGUF
           metadata (the `tokenizer.*` keys, as the `gguf` package reads them back from a file
           written with `gguf.GGUFWriter`) and transformers' ids and decodes of a few dozen strings.
           They cover both `tokenizer.ggml.model`s: `llama` (SentencePiece-style BPE with byte
           fallback; merges derived from the scores, or given), `gpt2` (byte-level BPE; a
           pre-tokenizer regex named by `tokenizer.ggml.pre`, or GPT-2's default), control and
           user-defined tokens, and the add_bos / add_eos flags. The default test suite reads it.
  smollm2_tokenizer.json  for the real SmolLM2-135M-Instruct GGUF file (`--model`): the strings
           of tests/fixtures/tokenizers/parity.json plus chat-template text, code, emoji, CJK,
           whitespace runs and numbers, with their ids (without and with special tokens) and
           decodes (keeping and skipping special tokens). A field equal to the one before it is
           left out (`idsSpecial` to `ids`, `decodedSkip` to `decoded`). tests_real/ reads it
           together with the model file.

Versions are pinned in tools/requirements-hf.txt (gguf==0.19.0).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from pathlib import Path

import gguf
import tokenizers
import transformers
from transformers import AutoTokenizer
from transformers.convert_slow_tokenizer import bytes_to_unicode

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "gguf"
PARITY = ROOT / "tests" / "fixtures" / "tokenizers" / "parity.json"
DEFAULT_MODEL = ROOT / ".cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"

NORMAL, UNKNOWN, CONTROL, USER_DEFINED, BYTE = 1, 2, 3, 4, 6


def tiny_llama(merges: bool, add_bos: bool | None, add_eos: bool | None) -> dict:
    """A SentencePiece-style vocabulary: <unk> <s> </s>, the 256 byte tokens, a few pieces."""
    pieces = [
        "▁", "h", "e", "l", "o", "w", "r", "d", "▁h", "ll", "he", "llo", "▁he", "▁hello",
        "▁w", "or", "▁wor", "ld", "▁world", "▁▁", "▁▁▁", "1", "2", "12", "日", "本",
    ]
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + pieces
    tokens += ["<think>", "</think>", "<|im_start|>", "<|im_end|>"]
    types = [UNKNOWN, CONTROL, CONTROL] + [BYTE] * 256 + [NORMAL] * len(pieces)
    types += [USER_DEFINED, USER_DEFINED, CONTROL, CONTROL]
    # Longer pieces score higher, so the derived merges build them; ties keep file order.
    scores = [0.0] * 259 + [-20.0 + len(p) - i / 100 for i, p in enumerate(pieces)] + [0.0] * 4
    meta: dict = {
        "tokenizer.ggml.model": "llama",
        "tokenizer.ggml.tokens": tokens,
        "tokenizer.ggml.scores": scores,
        "tokenizer.ggml.token_type": types,
        "tokenizer.ggml.bos_token_id": 1,
        "tokenizer.ggml.eos_token_id": 2,
        "tokenizer.ggml.unknown_token_id": 0,
    }
    if merges:
        meta["tokenizer.ggml.merges"] = [
            "▁ h", "l l", "h e", "ll o", "▁h e", "▁he llo", "▁ w", "o r", "▁w or", "l d",
            "▁wor ld", "▁ ▁", "▁▁ ▁", "1 2",
        ]
        meta["tokenizer.ggml.padding_token_id"] = 2
    if add_bos is not None:
        meta["tokenizer.ggml.add_bos_token"] = add_bos
    if add_eos is not None:
        meta["tokenizer.ggml.add_eos_token"] = add_eos
    return meta


def tiny_gpt2(pre: str | None, add_bos: bool | None) -> dict:
    """A byte-level vocabulary: specials, the 256 byte characters, a few merges."""
    alphabet = list(bytes_to_unicode().values())
    merges = [
        "Ġ h", "h e", "l l", "Ġh e", "ll o", "Ġhe llo", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld",
        "1 2", "12 3", "Ġ Ġ", "ĠĠ Ġ", "' s", "Ċ Ċ", "H e", "He llo", "æ Ĺ", "æĹ ¥",
    ]
    merged = [m.replace(" ", "") for m in merges]
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    # "<think>" is user-defined; "<a b>" is marked control but has a character outside the byte
    # alphabet (a space), which transformers keeps in the vocabulary (respelled) but does not add;
    # "本" is a normal token outside the alphabet, respelled to its bytes' characters.
    extra = ["<think>", "<a b>", "本"]
    tokens = specials + alphabet + merged + extra
    types = [CONTROL] * 3 + [NORMAL] * (len(alphabet) + len(merged)) + [USER_DEFINED, CONTROL, NORMAL]
    meta: dict = {
        "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.tokens": tokens,
        "tokenizer.ggml.token_type": types,
        "tokenizer.ggml.merges": merges,
        "tokenizer.ggml.bos_token_id": 1,
        "tokenizer.ggml.eos_token_id": 2,
        "tokenizer.ggml.unknown_token_id": 0,
        "tokenizer.ggml.padding_token_id": 0,
    }
    if pre is not None:
        meta["tokenizer.ggml.pre"] = pre
    if add_bos is not None:
        meta["tokenizer.ggml.add_bos_token"] = add_bos
    return meta


TINY = {
    "llama": tiny_llama(merges=False, add_bos=None, add_eos=None),
    "llama_merges": tiny_llama(merges=True, add_bos=False, add_eos=True),
    "gpt2_llama3": tiny_gpt2(pre="llama-bpe", add_bos=True),
    "gpt2_default": tiny_gpt2(pre="smollm", add_bos=None),
    "gpt2_qwen2": tiny_gpt2(pre="qwen2", add_bos=False),
    "gpt2_qwen35": tiny_gpt2(pre="qwen35", add_bos=None),
    "gpt2_tekken": tiny_gpt2(pre="tekken", add_bos=None),
    "gpt2_gpt4o": tiny_gpt2(pre="gpt-4o", add_bos=None),
}

TINY_TEXTS = [
    "", " ", "  ", "hello", "hello world", " hello", "  hello  world ", "Hello", "HELLO",
    "héllo wörld", "日本", "日本語", "本", "a\n\nb", "\n\n\n", "line\r\nnext", "tab\there",
    "123", "123456", "1234567", "12 123", "x1y22z333", "don't", "IT'S", "it's",
    "<think>hi</think>", "x<|im_start|>hello<|im_end|>", "<|im_start|>user\nhello<|im_end|>\n",
    "<s>hi</s>", "<unk>", "<|endoftext|>", "<a b>", "<think >", "emoji 🤗!", "  ", "   x",
    "a   b", "hello   ", "?!... ok", "\u00a0hello", "▁hello", "Ġhello", "HelloWorld",
    "camelCaseWord", "ÀÉÎ àéî", "x/y\n/z", "He's HERE'S", "a\u0301b", "नमस्ते", "1/2\r\n\r\n",
]


def smollm2_texts() -> list[str]:
    """The tokenizer parity strings plus what a chat model meets."""
    texts = list(json.loads(PARITY.read_text(encoding="utf-8"))["texts"])
    extra = [
        # chat-template tokens and text around them
        "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|im_start|>system\nYou are helpful.<|im_end|>\n",
        "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
        "<|im_start|>assistant\n4<|im_end|>", "text<|im_end|>more", "<|im_start|><|im_end|>",
        " <|im_start|> spaced <|im_end|> ", "<|im_start |>", "<|IM_START|>", "<repo_name>x<file_sep>y",
        "<filename>a.py\n<gh_stars>10", "<jupyter_start><jupyter_code>print(1)<jupyter_output>1",
        # code
        "def add(a, b):\n    return a + b\n", "for (let i = 0; i < n; i++) {\n\tsum += a[i];\n}",
        "#include <stdio.h>\nint main(void) { return 0; }", "SELECT * FROM t WHERE id = 42;",
        "const x = { 'key': \"value\" };", "if x == y:\n        pass\n    else:\n        raise", "a->b && c || !d",
        "fn main() -> Result<(), Box<dyn Error>> {}", "<div class=\"x\">&amp;</div>", "$ ls -la | grep '.ts'",
        # emoji, CJK
        "🤗🤗🤗", "🚀 launch", "I'm 😊 today", "🏳️‍🌈", "日本語と English の mix", "中文，标点。", "한글 ㅋㅋㅋ",
        "漢字漢字漢字漢字", "さようなら", "カタカナ", "繁體中文測試",
        # whitespace runs
        " " * 2, " " * 3, " " * 7, " " * 33, "\t" * 4, "\n" * 5, " \n" * 4, "a" + " " * 25 + "b",
        "x\n\n\n\ny", "  \t  \n  ", "end   ", "\r\n\r\n",
        # numbers
        "1", "12", "123", "1234", "12345", "123456789", "3.141592653589793", "1,234,567.89", "-0.001",
        "2^64 = 18446744073709551616", "007", "1st 2nd 3rd 4th", "10:30pm", "+49 30 1234567",
        "a1b2c3", "0.5x", "99 bottles", "1e6 1E-6", "٣٤٥", "१२३", "１２３",
        # contractions and case
        "I'M", "DON'T", "they'll", "we've", "she'd", "you're", "It's", "o'clock",
    ]
    seen: set[str] = set()
    out = []
    for t in texts + extra:
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


def write_gguf(path: Path, meta: dict) -> None:
    """A GGUF file of `meta` and the few llama.* keys transformers needs to read the file."""
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_uint32("llama.context_length", 64)
    w.add_uint32("llama.embedding_length", 8)
    w.add_uint32("llama.block_count", 1)
    w.add_uint32("llama.feed_forward_length", 16)
    w.add_uint32("llama.attention.head_count", 2)
    w.add_uint32("llama.attention.head_count_kv", 1)
    w.add_float32("llama.attention.layer_norm_rms_epsilon", 1e-5)
    w.add_uint32("llama.rope.dimension_count", 4)
    for key, value in meta.items():
        name = key.removeprefix("tokenizer.ggml.")
        if name == "model" or name == "pre":
            w.add_string(key, value)
        elif name in ("tokens", "merges"):
            w.add_array(key, value)
        elif name == "scores":
            w.add_token_scores(value)
        elif name == "token_type":
            w.add_token_types(value)
        elif name.endswith("_id"):
            w.add_uint32(key, value)
        elif name.startswith("add_"):
            w.add_bool(key, value)
        else:
            raise ValueError(key)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def read_back(path: Path) -> dict:
    """The tokenizer keys of a GGUF file, as the `gguf` package reads them."""
    reader = gguf.GGUFReader(str(path))
    return {k: f.contents() for k, f in reader.fields.items() if k.startswith("tokenizer.")}


def load(path: Path):
    return AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)


def special_ids(tok) -> dict:
    return {
        "bos": tok.bos_token_id,
        "eos": tok.eos_token_id,
        "unk": tok.unk_token_id,
        "pad": tok.pad_token_id,
    }


def case(tok, text: str, compact: bool) -> dict:
    ids = tok(text, add_special_tokens=False)["input_ids"]
    ids_special = tok(text, add_special_tokens=True)["input_ids"]
    decoded = tok.decode(ids_special)
    decoded_skip = tok.decode(ids_special, skip_special_tokens=True)
    out: dict = {"ids": ids}
    if not compact or ids_special != ids:
        out["idsSpecial"] = ids_special
    out["decoded"] = decoded
    if not compact or decoded_skip != decoded:
        out["decodedSkip"] = decoded_skip
    return out


def versions() -> dict:
    return {
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
    }


def make_tiny() -> dict:
    models = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, meta in TINY.items():
            path = Path(tmp) / f"{name}.gguf"
            write_gguf(path, meta)
            tok = load(path)
            models[name] = {
                "metadata": read_back(path),
                "vocabSize": len(tok),
                "specialIds": special_ids(tok),
                "cases": [{"text": t, **case(tok, t, compact=False)} for t in TINY_TEXTS],
            }
    return {
        "generator": "tools/make_gguf_tokenizer_fixtures.py",
        "versions": versions(),
        "models": models,
    }


def make_smollm2(model: Path) -> dict:
    tok = load(model)
    texts = smollm2_texts()
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    return {
        "generator": "tools/make_gguf_tokenizer_fixtures.py",
        "versions": versions(),
        "model": {"file": model.name, "bytes": model.stat().st_size, "sha256": digest},
        "vocabSize": len(tok),
        "specialIds": special_ids(tok),
        "texts": texts,
        "cases": [case(tok, t, compact=True) for t in texts],
    }


def write(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    write(OUT / "tiny_tokenizers.json", make_tiny())
    write(OUT / "smollm2_tokenizer.json", make_smollm2(args.model.resolve()))


if __name__ == "__main__":
    main()
