#!/usr/bin/env python3
"""Linear probe (dev-time only): logistic regression on the frozen embedded model's mean-pooled
encoder states and input embeddings, 64 input tokens, train split → test split accuracy.

    /opt/hfvenv/bin/python tools/spam_experiments/probe.py    (sklearn besides requirements-hf)
"""

import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).parent))
from common import encode, load, model  # noqa: E402

for name in ["lm_adapted", "span_corruption"]:
    m, tok = model(name)
    feats = {}
    for split in ["train", "test"]:
        texts, y = load(split)
        out = []
        with torch.no_grad():
            for i in range(0, len(texts), 128):
                x, a = encode(tok, texts[i: i + 128], 64)
                h = m.encoder(input_ids=x, attention_mask=a).last_hidden_state
                e = m.shared(x)
                w = a[..., None]
                out.append(torch.cat([(h * w).sum(1) / w.sum(1), (e * w).sum(1) / w.sum(1)], 1))
        feats[split] = (torch.cat(out).numpy(), y)
    d = m.config.d_model
    for what, cols in [("encoder states", slice(0, d)), ("input embeddings", slice(d, 2 * d))]:
        clf = LogisticRegression(max_iter=3000).fit(feats["train"][0][:, cols], feats["train"][1])
        print(f"{name} {what}: test accuracy {clf.score(feats['test'][0][:, cols], feats['test'][1]):.4f}")
