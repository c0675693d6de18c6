#!/usr/bin/env python3
"""Prompt tuning of the embedded model in PyTorch (dev-time only), to explore recipes faster than
the library runs them: a [P, d_model] prompt before the encoder input, Adafactor (transformers'
implementation, no parameter scaling, clipping 1.0, weight decay 1e-5) or Adam with cosine decay,
batches drawn at random from the train split, test accuracy by rank classification of the first
label token every --eval-every steps.

    /opt/hfvenv/bin/python tools/spam_experiments/prompt_tune.py [--model lm_adapted] [--P 20]
        [--steps 1000] [--bs 8] [--lr 0.3] [--opt adafactor|adam] [--L 64] [--loss rank|token]
        [--seed 0] [--eval-every 250]

--loss token is the cross-entropy over the vocabulary at the label token (no </s>); --loss rank the
cross-entropy over the two label words' logits there (the label words are one token each).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from transformers.optimization import Adafactor

sys.path.insert(0, str(Path(__file__).parent))
from common import encode, load, model  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--model", default="lm_adapted")
ap.add_argument("--P", type=int, default=20)
ap.add_argument("--steps", type=int, default=1000)
ap.add_argument("--bs", type=int, default=8)
ap.add_argument("--lr", type=float, default=0.3)
ap.add_argument("--opt", choices=("adafactor", "adam"), default="adafactor")
ap.add_argument("--L", type=int, default=64)
ap.add_argument("--loss", choices=("rank", "token"), default="rank")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--eval-every", type=int, default=250)
a = ap.parse_args()

torch.manual_seed(a.seed)
rng = np.random.default_rng(a.seed)
m, tok = model(a.model)
words = [tok.encode(w, add_special_tokens=False) for w in ("ordinary", "commercial")]
assert all(len(w) == 1 for w in words), words
label_ids = torch.tensor([w[0] for w in words])
train_x, train_y = load("train")
test_x, test_y = load("test")

emb = m.shared.weight
init = emb[torch.tensor(rng.integers(0, 5000, a.P))].clone()  # sampled vocabulary
init[: len(words)] = emb[label_ids]  # then the class labels, as the library's class_labels
prompt = torch.nn.Parameter(init)
if a.opt == "adafactor":
    opt = Adafactor([prompt], lr=a.lr, scale_parameter=False, relative_step=False,
                    warmup_init=False, decay_rate=-0.8, clip_threshold=1.0, weight_decay=1e-5)
else:
    opt = torch.optim.Adam([prompt], lr=a.lr)


def first_logits(x, mask):
    """Decoder logits at the first position, over the vocabulary: [B, V]."""
    b = x.shape[0]
    inputs = torch.cat([prompt[None].expand(b, -1, -1), m.shared(x)], 1)
    full = torch.cat([torch.ones(b, a.P, dtype=torch.long), mask], 1)
    start = torch.zeros(b, 1, dtype=torch.long)
    return m(inputs_embeds=inputs, attention_mask=full, decoder_input_ids=start).logits[:, 0]


def accuracy() -> float:
    right = 0
    with torch.no_grad():
        for i in range(0, len(test_x), 64):
            x, mask = encode(tok, test_x[i: i + 64], a.L)
            pred = first_logits(x, mask)[:, label_ids].argmax(1).numpy()
            right += int((pred == test_y[i: i + 64]).sum())
    return right / len(test_x)


print(f"step 0: test accuracy {accuracy():.4f}", flush=True)
t0, running = time.time(), None
for step in range(a.steps):
    idx = rng.choice(len(train_x), a.bs, replace=False)
    x, mask = encode(tok, [train_x[i] for i in idx], a.L)
    y = torch.tensor(train_y[idx])
    for g in opt.param_groups:
        g["lr"] = a.lr * 0.5 * (1 + np.cos(np.pi * step / a.steps))
    logits = first_logits(x, mask)
    if a.loss == "rank":
        loss = torch.nn.functional.cross_entropy(logits[:, label_ids], y)
    else:
        loss = torch.nn.functional.cross_entropy(logits, label_ids[y])
    opt.zero_grad()
    loss.backward()
    opt.step()
    running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
    if (step + 1) % a.eval_every == 0:
        print(f"step {step + 1}: loss {running:.3f}, {time.time() - t0:.0f} s, "
              f"test accuracy {accuracy():.4f}", flush=True)
