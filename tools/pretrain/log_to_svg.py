#!/usr/bin/env python3
"""Plots a pretraining run's log.jsonl as an SVG (dev-time; standard library only).

    python3 tools/pretrain/log_to_svg.py .pretrain/log.jsonl > assets/embedded/pretraining_loss.svg

One chart, steps of both stages on one axis (LM adaptation continues where span corruption
stopped): the training loss of each stage's own objective (mean over each logged interval), and
both held-out losses at every evaluation (span corruption, prefix LM), in nats per target token.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

W, H = 760, 400
LEFT, RIGHT, TOP, BOTTOM = 56, 200, 36, 46
COLORS = {"train": "#555555", "span": "#1f77b4", "lm": "#d62728"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("log", type=Path)
    args = ap.parse_args()
    rows = [json.loads(line) for line in args.log.read_text().splitlines() if line.strip()]
    offset = {"span_corruption": 0}
    last_span = max(r["step"] for r in rows if r.get("stage") == "span_corruption")
    offset["lm_adapted"] = last_span
    train, held = [], {"span": [], "lm": []}
    for r in rows:
        x = offset[r["stage"]] + r["step"]
        if "train_loss" in r:
            train.append((x, r["train_loss"]))
        if "heldout" in r:
            for k in held:
                held[k].append((x, r["heldout"][k]))
    xmax = max(x for x, _ in train + held["span"] + held["lm"])
    ymax = max(y for _, y in train + held["span"] + held["lm"])
    ymax = float(int(ymax) + 1)
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    sx = lambda x: LEFT + pw * x / xmax  # noqa: E731
    sy = lambda y: TOP + ph * (1 - y / ymax)  # noqa: E731

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{LEFT}" y="20" font-size="14">Embedded T5 pretraining: loss (nats per target token)</text>']
    for y in range(0, int(ymax) + 1, 2):
        out.append(f'<line x1="{LEFT}" x2="{LEFT + pw}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" stroke="#eeeeee"/>')
        out.append(f'<text x="{LEFT - 6}" y="{sy(y) + 4:.1f}" text-anchor="end">{y}</text>')
    step = 500
    for x in range(0, xmax + 1, step):
        out.append(f'<text x="{sx(x):.1f}" y="{TOP + ph + 16}" text-anchor="middle">{x}</text>')
    out.append(f'<text x="{LEFT + pw / 2}" y="{H - 8}" text-anchor="middle">step (both stages, batch 128)</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#999999"/>')
    bx = sx(last_span)
    out.append(f'<line x1="{bx:.1f}" x2="{bx:.1f}" y1="{TOP}" y2="{TOP + ph}" stroke="#999999" stroke-dasharray="4 3"/>')
    out.append(f'<text x="{bx - 4:.1f}" y="{TOP + ph - 8}" text-anchor="end" fill="#666666">span corruption</text>')
    out.append(f'<text x="{bx + 4:.1f}" y="{TOP + ph - 8}" fill="#666666">LM adaptation</text>')

    def path(points, color, width, dash=""):
        d = " ".join(f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for i, (x, y) in enumerate(points))
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="{width}"{extra}/>')

    # Train loss: one line per stage (the objective changes at the boundary).
    path([p for p in train if p[0] <= last_span], COLORS["train"], 1.2)
    path([p for p in train if p[0] > last_span], COLORS["train"], 1.2)
    for k in ("span", "lm"):
        path(held[k], COLORS[k], 2)
        for x, y in held[k]:
            out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{COLORS[k]}"/>')
    legend = [("train (the stage's objective)", COLORS["train"]),
              ("held-out, span corruption", COLORS["span"]),
              ("held-out, prefix LM", COLORS["lm"])]
    for i, (label, color) in enumerate(legend):
        y = TOP + 20 + 20 * i
        out.append(f'<line x1="{LEFT + pw + 10}" x2="{LEFT + pw + 30}" y1="{y}" y2="{y}" stroke="{color}" stroke-width="2"/>')
        out.append(f'<text x="{LEFT + pw + 34}" y="{y + 4}" font-size="11">{label}</text>')
    out.append("</svg>")
    print("\n".join(out))


if __name__ == "__main__":
    main()
