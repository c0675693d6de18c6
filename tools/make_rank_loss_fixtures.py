#!/usr/bin/env python3
"""Dev-time only: references for the rank-classification loss (tests/rank_objective_test.ts).

    /opt/hfvenv/bin/python tools/make_rank_loss_fixtures.py

For tests/fixtures/models/t5_v1_1 and gpt2_tiny (transformers, torch 2.13.0 CPU, float32,
model.eval()): a fixed prompt P = 3 (0.5·sin of its flat index), four examples and three labels
(the ids the test uses). Each label is scored one example at a time, without padding:

  T5      inputs_embeds = [prompt; embed(input)], decoder labels = the label's ids; the score is
          Σ log softmax(logits)[label] over the label's tokens
  GPT-2   inputs_embeds = [prompt; embed(input + label)]; the score is Σ log p(label token | what
          precedes it)

and the loss is mean over examples of logsumexp(scores) − scores[right label], summed or (with
length normalization) per-token-averaged scores. Writes tests/fixtures/rank/rank_loss.json:
{model: {prompt, loss, grad, loss_normalized, scores}} with grad = d loss / d prompt (summed
scores).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, T5ForConditionalGeneration

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests/fixtures/rank/rank_loss.json"
LABELS = [[30, 1], [31, 40, 1], [50, 1]]
INPUTS = [[5, 17, 33, 1], [44, 9, 1], [60, 8, 71, 23, 1], [12, 1]]
CLASSES = [1, 0, 2, 1]
P = 3


def scores(model, kind: str, prompt: torch.Tensor, normalize: bool) -> torch.Tensor:
    emb = model.get_input_embeddings()
    rows = []
    for ids in INPUTS:
        row = []
        for label in LABELS:
            if kind == "t5":
                x = torch.cat([prompt, emb(torch.tensor(ids))])[None]
                out = model(inputs_embeds=x, labels=torch.tensor([label]))
                logp = torch.log_softmax(out.logits[0], -1)
                picked = logp[torch.arange(len(label)), torch.tensor(label)]
            else:
                src = ids[:-1]  # GPT-2 inputs carry no EOS
                full = torch.tensor(src + label)
                x = torch.cat([prompt, emb(full)])[None]
                logp = torch.log_softmax(model(inputs_embeds=x).logits[0], -1)
                at = P + len(src) - 1 + torch.arange(len(label))  # positions predicting the label
                picked = logp[at, torch.tensor(label)]
            s = picked.sum()
            row.append(s / len(label) if normalize else s)
        rows.append(torch.stack(row))
    return torch.stack(rows)  # [B, C]


def main() -> None:
    torch.manual_seed(0)
    out = {}
    for name, kind in (("t5_v1_1", "t5"), ("gpt2_tiny", "gpt2")):
        path = ROOT / "tests/fixtures/models" / name
        cls = T5ForConditionalGeneration if kind == "t5" else AutoModelForCausalLM
        model = cls.from_pretrained(path, dtype=torch.float32).eval()
        width = model.get_input_embeddings().weight.shape[1]
        prompt = (0.5 * torch.sin(torch.arange(P * width, dtype=torch.float32))).reshape(P, width)
        prompt.requires_grad_(True)
        y = torch.tensor(CLASSES)
        s = scores(model, kind, prompt, False)
        loss = torch.nn.functional.cross_entropy(s, y)
        loss.backward()
        with torch.no_grad():
            sn = scores(model, kind, prompt, True)
            loss_n = torch.nn.functional.cross_entropy(sn, y)
        out[name] = {
            "prompt": prompt.detach().tolist(),
            "scores": s.detach().tolist(),
            "loss": loss.item(),
            "loss_normalized": loss_n.item(),
            "grad": prompt.grad.tolist(),
        }
        print(name, "loss", loss.item(), "normalized", loss_n.item(),
              "grad norm", prompt.grad.norm().item())
    out["labels"], out["inputs"], out["classes"] = LABELS, INPUTS, CLASSES
    out["versions"] = {"torch": torch.__version__, "transformers": __import__("transformers").__version__}
    OUT.write_text(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
