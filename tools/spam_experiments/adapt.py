#!/usr/bin/env python3
"""Continued LM adaptation of the embedded model on the training mails (dev-time only): prefix-LM
batches (tools/pretrain/pretrain.py's) half from the train split's mails, half from the
pretraining corpus (.pretrain/corpus_ids.npy, made by tools/pretrain/prepare.py), AdamW 5e-4 after
30 warm-up steps, batch 32, dropout 0.1, for MINUTES minutes on the CPU; saves to OUT.

    /opt/hfvenv/bin/python tools/spam_experiments/adapt.py MINUTES OUT

Then `prompt_tune.py --model OUT` compares what a prompt reaches. Never the validation or test
mails.
"""

import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pretrain"))
import pretrain as P  # noqa: E402
from common import ROOT, load, model  # noqa: E402

minutes, out = float(sys.argv[1]), sys.argv[2]
torch.manual_seed(0)
m, tok = model("lm_adapted")
m.config.dropout_rate = 0.1
for p in m.parameters():
    p.requires_grad_(True)
texts, _ = load("train")
mail = np.fromiter((i for ids in tok(texts, add_special_tokens=False)["input_ids"]
                    for i in (*ids, 1)), dtype=np.int64)
corpus = np.load(ROOT / ".pretrain" / "corpus_ids.npy").astype(np.int64)
print(f"mail tokens {len(mail):,}, corpus tokens {len(corpus):,}", flush=True)
rng = np.random.default_rng(7)
opt = torch.optim.AdamW(m.parameters(), lr=5e-4, betas=(0.9, 0.98), weight_decay=0.01)
m.train()
t0, step, B = time.time(), 0, 32
while time.time() - t0 < minutes * 60:
    a = P.prefix_lm_batch(rng, mail, B // 2, 256, 64)
    b = P.prefix_lm_batch(rng, corpus, B // 2, 256, 64)
    batch = {k: torch.tensor(np.concatenate([a[k], b[k]])) for k in a}
    for g in opt.param_groups:
        g["lr"] = 5e-4 * min(1.0, (step + 1) / 30)
    loss = m(**batch).loss
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
    opt.step()
    step += 1
    if step % 20 == 0:
        print(f"step {step}: loss {loss.item():.3f}, {time.time() - t0:.0f} s", flush=True)
m.eval()
m.save_pretrained(out)
tok.save_pretrained(out)
print(f"saved after {step} steps to {out}")
