"""Shared by the spam experiments: the splits, the embedded model, batches (dev-time only).

The splits are the default task's, as the library cleans and splits them; write them once with

    npx -y deno@2.9.6 eval 'import { writeSpamAssassinSplits } from "./data/spam.ts";
      console.log(await writeSpamAssassinSplits(".scratch/spam"))'

from the repository root (`.scratch/` is ignored by git).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from transformers import PreTrainedTokenizerFast, T5ForConditionalGeneration

ROOT = Path(__file__).resolve().parents[2]
SPLITS = ROOT / ".scratch" / "spam"
torch.set_num_threads(2)


def load(split: str) -> tuple[list[str], np.ndarray]:
    """The split's inputs as the task's template writes them, and labels (1 = spam)."""
    rows = [json.loads(line) for line in open(SPLITS / f"{split}.jsonl")]
    texts = [f"subject: {r['subject']} body: {r['body']}" for r in rows]
    return texts, np.array([1 if r["label"] == "spam" else 0 for r in rows])


def model(name: str = "lm_adapted"):
    """An embedded checkpoint (or a directory), frozen, float32, and its tokenizer."""
    d = Path(name) if "/" in name else ROOT / "assets" / "embedded" / name
    m = T5ForConditionalGeneration.from_pretrained(d, dtype=torch.float32).eval()
    tok = PreTrainedTokenizerFast(tokenizer_file=str(d / "tokenizer.json"))
    for p in m.parameters():
        p.requires_grad_(False)
    return m, tok


def encode(tok, texts: list[str], length: int = 64):
    """Ids cut to `length` with </s> (1) last, right-padded with 0, and the mask."""
    ids = [tok.encode(t, add_special_tokens=False)[: length - 1] + [1] for t in texts]
    n = max(len(i) for i in ids)
    x = torch.zeros(len(ids), n, dtype=torch.long)
    a = torch.zeros(len(ids), n, dtype=torch.long)
    for k, i in enumerate(ids):
        x[k, : len(i)] = torch.tensor(i)
        a[k, : len(i)] = 1
    return x, a
