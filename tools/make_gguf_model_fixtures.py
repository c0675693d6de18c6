#!/usr/bin/env python3
"""Writes tests/fixtures/gguf/smollm2_logits.safetensors: what transformers computes with the real
SmolLM2-135M-Instruct GGUF (Q4_1, dequantized by transformers' GGUF loader), for the parity test
tests_real/smollm2_model_test.ts.

    deno run -A tools/fetch_models.ts   # .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf
    /work/main/.venv/bin/python tools/make_gguf_model_fixtures.py

A right-padded batch of three texts' ids, run twice: alone, and after a 5-row prompt given as
`inputs_embeds` ([prompt ; embed(ids)], the prompt's mask all ones). At each row's last real
token, the fixture keeps the 32 largest logits (ids and values) and the logits of 64 fixed
vocabulary ids (every 768th), about 20 KB instead of the 49,152-wide rows.

  ids [B, T] int32, mask [B, T] int32, prompt [5, H] float32
  top_ids [2, B, 32] int32, top_logits [2, B, 32] float32   (0: ids alone, 1: with the prompt)
  probe_ids [64] int32, probe_logits [2, B, 64] float32

Versions: torch, transformers and gguf as in tools/requirements-hf.txt.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / ".cache" / "models"
NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
OUT = ROOT / "tests" / "fixtures" / "gguf" / "smollm2_logits.safetensors"
TEXTS = [
    "The capital of France is",
    "Soft prompts are tuned while the model itself stays frozen, so",
    "1, 2, 3,",
]
P, K, PROBES = 5, 32, 64


def main() -> None:
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(str(MODELS), gguf_file=NAME, dtype=torch.float32)
    model.eval()
    tok = AutoTokenizer.from_pretrained(str(MODELS), gguf_file=NAME)
    rows = [tok(t, add_special_tokens=False)["input_ids"] for t in TEXTS]
    t = max(len(r) for r in rows)
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    ids = torch.tensor([r + [pad] * (t - len(r)) for r in rows], dtype=torch.long)
    mask = torch.tensor([[1] * len(r) + [0] * (t - len(r)) for r in rows], dtype=torch.long)
    last = mask.sum(1) - 1  # each row's last real token
    table = model.get_input_embeddings().weight.detach()
    # A prompt of the scale of real embeddings: five token rows plus noise.
    prompt = (table[torch.tensor([504, 2113, 314, 6356, 28])] + 0.01 * torch.randn(P, table.shape[1])).float()
    b = ids.shape[0]
    probe_ids = torch.arange(PROBES) * (table.shape[0] // PROBES)
    tops, top_vals, probes = [], [], []
    with torch.no_grad():
        plain = model(input_ids=ids, attention_mask=mask).logits[torch.arange(b), last]
        embeds = torch.cat([prompt.expand(b, P, -1), model.get_input_embeddings()(ids)], 1)
        embeds_mask = torch.cat([torch.ones(b, P, dtype=torch.long), mask], 1)
        prompted = model(inputs_embeds=embeds, attention_mask=embeds_mask).logits[torch.arange(b), P + last]
    for logits in (plain, prompted):
        v, i = logits.topk(K, dim=-1)
        tops.append(i)
        top_vals.append(v)
        probes.append(logits[:, probe_ids])
    save_file(
        {
            "ids": ids.to(torch.int32),
            "mask": mask.to(torch.int32),
            "prompt": prompt.contiguous(),
            "top_ids": torch.stack(tops).to(torch.int32),
            "top_logits": torch.stack(top_vals).contiguous(),
            "probe_ids": probe_ids.to(torch.int32),
            "probe_logits": torch.stack(probes).contiguous(),
        },
        str(OUT),
    )
    print(f"{OUT.relative_to(ROOT)}: {OUT.stat().st_size} bytes; ids {ids.tolist()}")
    print("top-5 of row 0:", tok.convert_ids_to_tokens(tops[0][0, :5].tolist()))


if __name__ == "__main__":
    main()
