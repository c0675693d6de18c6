#!/usr/bin/env python3
"""Checks the pretraining objectives in pretrain.py against what they must do (dev-time).

    /opt/hfvenv/bin/python tools/pretrain/check_objectives.py

- span_lengths() gives T5's lengths (inputs 512 -> 568 raw tokens, 114 targets, as T5's
  `compute_input_and_target_lengths`; inputs 256 -> 284 raw, 58 targets);
- random_segmentation() gives positive parts that sum up, every composition reachable;
- span corruption: inputs and targets have the fixed lengths, sentinels count down from
  <extra_id_0> in order, and filling each input sentinel with the target's span gives back the
  window exactly; 15% noise, 14 spans; the same seed gives the same batch;
- prefix LM: prefix + continuation is a contiguous window of the corpus, padding ignored.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pretrain import (  # noqa: E402
    EOS, IGNORE, PAD, noise_mask, prefix_lm_batch, random_segmentation, span_corruption_batch,
    span_lengths,
)

S0 = 8099  # <extra_id_0>
V = 8000  # ordinary ids are below this


def check_lengths() -> None:
    n = span_lengths(512, 0.15, 3.0)
    assert (n.raw, n.noise, n.spans, n.inputs, n.targets) == (568, 85, 28, 512, 114), n
    n = span_lengths(256, 0.15, 3.0)
    assert (n.raw, n.noise, n.spans, n.inputs, n.targets) == (284, 43, 14, 256, 58), n


def check_segmentation() -> None:
    rng = np.random.default_rng(0)
    seg = random_segmentation(rng, 20000, 5, 3)
    assert (seg > 0).all() and (seg.sum(1) == 5).all()
    assert len({tuple(r) for r in seg}) == 6  # all C(4, 2) compositions of 5 into 3 parts
    n = span_lengths(256, 0.15, 3.0)
    m = noise_mask(rng, 64, n)
    assert m.shape == (64, n.raw) and (m.sum(1) == n.noise).all()
    starts = m & ~np.concatenate([np.zeros((64, 1), bool), m[:, :-1]], axis=1)
    assert (starts.sum(1) == n.spans).all() and not m[:, 0].any()  # non-noise first


def fill(inputs: np.ndarray, targets: np.ndarray) -> list[int]:
    """Puts each target span back in place of its sentinel in the inputs."""
    spans, cur = {}, None
    for t in targets:
        if t == EOS:
            break
        if t >= V:
            cur = spans.setdefault(int(t), [])
        else:
            cur.append(int(t))
    out = []
    for t in inputs:
        if t == EOS:
            break
        out.extend(spans[int(t)] if t >= V else [int(t)])
    return out


def check_span_corruption() -> None:
    ids = (np.arange(100_000) % 7919 + 3).astype(np.uint16)  # no EOS, no sentinel inside
    n = span_lengths(256, 0.15, 3.0)
    rng = np.random.default_rng([0, 1])
    b = span_corruption_batch(rng, ids, 32, n, S0)
    x, y = b["input_ids"], b["labels"]
    assert x.shape == (32, 256) and y.shape == (32, 58) and (x[:, -1] == EOS).all()
    for row_x, row_y in zip(x, y):
        sx, sy = row_x[row_x >= V], row_y[row_y >= V]
        assert list(sx) == list(range(S0, S0 - n.spans, -1)) == list(sy)
        window = fill(row_x, row_y)
        assert len(window) == n.raw and _contiguous(window)  # the corpus window, restored
    again = span_corruption_batch(np.random.default_rng([0, 1]), ids, 32, n, S0)
    assert all((again[k] == b[k]).all() for k in b)


def _contiguous(window: list[int]) -> bool:
    return all((b - a) % 7919 == 1 for a, b in zip(window, window[1:]))


def check_prefix_lm() -> None:
    ids = (np.arange(100_000) % 7919 + 3).astype(np.uint16)
    rng = np.random.default_rng([0, 2])
    b = prefix_lm_batch(rng, ids, 256, 256, 64)
    x, m, y = b["input_ids"], b["attention_mask"], b["labels"]
    assert x.shape == (256, 256) and y.shape == (256, 64)
    lengths = []
    for row_x, row_m, row_y in zip(x, m, y):
        k = int(row_m.sum())
        assert row_x[k - 1] == EOS and (row_x[k:] == PAD).all() and (row_m[:k] == 1).all()
        t = int((row_y != IGNORE).sum())
        assert row_y[t - 1] == EOS and (row_y[t:] == IGNORE).all()
        assert _contiguous(list(row_x[: k - 1]) + list(row_y[: t - 1]))
        lengths.append((k - 1, t - 1))
    prefix, target = np.array(lengths).T
    assert prefix.min() >= 1 and prefix.max() <= 255 and target.min() >= 1 and target.max() <= 63
    assert 100 < prefix.mean() < 220, prefix.mean()  # the split point is spread out


def check_on_corpus() -> None:
    """On the real corpus, when prepare.py has run: no sentinel in any window, EOS only as a
    document separator."""
    root = Path(__file__).resolve().parents[2] / ".pretrain"
    if not (root / "corpus_ids.npy").exists():
        print("  (no .pretrain/corpus_ids.npy: skipped the corpus check)")
        return
    ids = np.load(root / "corpus_ids.npy")
    assert ids.dtype == np.uint16 and ids.max() < V
    b = span_corruption_batch(np.random.default_rng(0), ids, 64, span_lengths(256, 0.15, 3.0), S0)
    assert ((b["input_ids"] >= V).sum(1) == 14).all()


if __name__ == "__main__":
    for check in (check_lengths, check_segmentation, check_span_corruption, check_prefix_lm,
                  check_on_corpus):
        check()
        print(f"ok  {check.__name__}")
