#!/usr/bin/env python3
"""Writes transformers' outputs for the two embedded checkpoints into tests/fixtures/embedded/.

Dev-time only: tests/embedded_test.ts loads the committed files; Python is never needed by the
library or its tests.

    /opt/hfvenv/bin/python tools/make_embedded_refs.py

For each of assets/embedded/{span_corruption,lm_adapted}/ the checkpoint is loaded unchanged with
`T5ForConditionalGeneration.from_pretrained(dir, dtype=torch.float32)` (float16 on disk,
upcast) and its tokenizer with `AutoTokenizer.from_pretrained(dir)` (tokenizers' fast T5
tokenizer, from tokenizer.json), and `refs_<name>.safetensors` gets:

  enc_ids        int32 [B, T]     the padded batch of BATCH_TEXTS (EOS appended, right-padded)
  enc_mask       int32 [B, T]     its attention mask
  enc_states     f32   [B, T, H]  encoder output
  labels         int32 [B, S]     BATCH_TARGETS tokenized (EOS appended), -100 where padded
  dec_ids        int32 [B, S]     `_shift_right(labels)`
  dec_mask       int32 [B, S]     1 where labels are not -100
  logits         f32   [B, S, V]  the whole model with the encoder mask, teacher-forced on dec_ids
                                  (no decoder mask: with right padding and causal attention it
                                  changes nothing at the positions that count; tests/t5_test.ts
                                  covers decoder masks)
  lm_head_differs int32 []        1 if lm_head.weight differs from shared.weight (the head is untied)

`tokenizer_ids.json` (one file: both checkpoints ship the same tokenizer, checked here) gets each of
TEXTS with its ids with and without special tokens, and the ids of the spam task's label words.
Versions are pinned in tools/requirements-hf.txt.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import AutoTokenizer, T5ForConditionalGeneration

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets" / "embedded"
OUT = ROOT / "tests" / "fixtures" / "embedded"
NAMES = ("span_corruption", "lm_adapted")

EMAIL = (
    "subject: Re: [ILUG] cheap laptops? body: Hi Fergal, the 3.5GHz one was EUR 1,299.99 at "
    "http://www.example.ie -- see below! Cheers, Niall"
)
TEXTS = [
    "Call me Ishmael.",
    "Fellow-Citizens of the Senate and of the House of Representatives:",
    EMAIL,
    "subject: WIN $$$ NOW!!! body: Click HERE to claim your FREE prize <b>today</b> 100% guaranteed",
    "  Leading and trailing  spaces,\ttabs\nand newlines  ",
    "Café, naïve résumé — “quotes” and ‘apostrophes’ … ½ ﬁ ＡＢＣ",
    "The sentinel <extra_id_0> and <extra_id_99> stay whole.",
    "",
]
LABEL_WORDS = ["ordinary", "commercial"]
BATCH_TEXTS = [EMAIL, "Call me Ishmael."]
BATCH_TARGETS = ["commercial", "ordinary and more words"]


def refs(name: str) -> dict[str, torch.Tensor]:
    d = ASSETS / name
    model = T5ForConditionalGeneration.from_pretrained(d, dtype=torch.float32).eval()
    assert next(model.parameters()).dtype == torch.float32
    tok = AutoTokenizer.from_pretrained(d)
    enc = tok(BATCH_TEXTS, padding=True, return_tensors="pt")
    lab = tok(BATCH_TARGETS, padding=True, return_tensors="pt")
    labels = lab.input_ids.masked_fill(lab.attention_mask == 0, -100)
    dec_ids = model._shift_right(labels)
    with torch.no_grad():
        states = model.encoder(input_ids=enc.input_ids, attention_mask=enc.attention_mask).last_hidden_state
        logits = model(input_ids=enc.input_ids, attention_mask=enc.attention_mask,
                       decoder_input_ids=dec_ids).logits
    differs = not torch.equal(model.lm_head.weight, model.shared.weight)
    print(f"{name}: T={enc.input_ids.shape[1]} S={labels.shape[1]} |logits| max "
          f"{logits.abs().max():.2f}, lm_head differs from shared: {differs}")
    i32 = lambda t: t.to(torch.int32).contiguous()  # noqa: E731
    return {
        "enc_ids": i32(enc.input_ids), "enc_mask": i32(enc.attention_mask),
        "enc_states": states.contiguous(), "labels": i32(labels), "dec_ids": i32(dec_ids),
        "dec_mask": i32(lab.attention_mask), "logits": logits.contiguous(),
        "lm_head_differs": torch.tensor(int(differs), dtype=torch.int32),
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    tok_hashes = {hashlib.sha256((ASSETS / n / "tokenizer.json").read_bytes()).hexdigest() for n in NAMES}
    assert len(tok_hashes) == 1, "the two checkpoints ship different tokenizers"
    tok = AutoTokenizer.from_pretrained(ASSETS / NAMES[0])
    ids = {
        "tokenizer_sha256": tok_hashes.pop(),
        "texts": [
            {"text": t, "ids": tok(t, add_special_tokens=False).input_ids,
             "ids_with_special": tok(t).input_ids}
            for t in TEXTS
        ],
        "label_words": {w: tok(w, add_special_tokens=False).input_ids for w in LABEL_WORDS},
    }
    # One text per line, so that a diff shows which text's ids changed.
    lines = ",\n  ".join(json.dumps(t, ensure_ascii=False) for t in ids["texts"])
    (OUT / "tokenizer_ids.json").write_text(
        f'{{"tokenizer_sha256": "{ids["tokenizer_sha256"]}",\n "texts": [\n  {lines}\n ],\n'
        f' "label_words": {json.dumps(ids["label_words"])}}}\n')
    for name in NAMES:
        save_file(refs(name), str(OUT / f"refs_{name}.safetensors"))
    for p in sorted(OUT.iterdir()):
        print(f"{p.relative_to(ROOT)}: {p.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
