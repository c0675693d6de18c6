#!/usr/bin/env python3
"""Fills tools/pretrain/MODEL_CARD.md from a pretraining run (dev-time).

    python tools/pretrain/fill_card.py OUT/summary.json [--data .pretrain] > MODEL_CARD.md

Reads summary.json and the two tars beside it (for the largest weight and the hashes) and
prepare.py's manifest.json; prints the card. Lists any placeholder it could not fill on stderr.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tarfile
from pathlib import Path
from string import Template

import numpy as np

HERE = Path(__file__).resolve().parent


def max_abs_weight(tar_path: Path) -> float:
    from safetensors.numpy import load

    with tarfile.open(tar_path) as tar:
        member = next(m for m in tar if m.name.endswith("/model.safetensors"))
        tensors = load(tar.extractfile(member).read())
    return max(float(np.abs(v.astype(np.float32)).max()) for v in tensors.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("summary", type=Path)
    ap.add_argument("--data", type=Path, default=HERE.parents[1] / ".pretrain")
    args = ap.parse_args()
    s = json.loads(args.summary.read_text())
    m = json.loads((args.data / "manifest.json").read_text())
    a, cfg = s["args"], s["model"]["config"]
    st, ck = s["stages"], s["checkpoints"]
    sc, la = st.get("span_corruption", {}), st.get("lm_adapted", {})
    obj = s["objectives"]
    B = a["batch_size"]

    def loss(d: dict, k: str) -> str:
        return f"{d[k]:.4f}" if d and k in d else "—"

    init = {}
    log = args.summary.parent / "log.jsonl"
    if log.exists():
        for line in log.read_text().splitlines():
            r = json.loads(line)
            if r.get("stage") == "span_corruption" and r.get("step") == 0 and "heldout" in r:
                init = r["heldout"]
                break
    drawn = (sc.get("steps_run", 0) * B * obj["span_corruption"]["raw"]
             + la.get("steps_run", 0) * B * obj["prefix_lm"]["window"])
    f16 = {k: v.get("heldout_loss_stored_float16", {}) for k, v in ck.items()}
    gap = max([abs(f16[k][o] - st[k]["heldout_loss_selected"][o])
               for k in f16 for o in f16[k]] or [float("nan")])
    tars = {k: args.summary.parent / v["tar"] for k, v in ck.items()}
    sizes = {k: v["safetensors_bytes"] for k, v in ck.items()}
    tok = m["tokenizer"]
    values = {
        "parameters": f"{s['model']['parameters']:,}",
        "tokens_seen_total": f"{sc.get('tokens_seen', 0) + la.get('tokens_seen', 0):,}",
        "corpus_tokens": f"{s['corpus']['train_tokens']:,}",
        "corpus_tokens_total": f"{m['tokens']['total']:,}",
        "d_model": cfg["d_model"], "heads": cfg["num_heads"], "d_kv": cfg["d_kv"],
        "d_ff": cfg["d_ff"], "layers": cfg["num_layers"],
        "decoder_layers": cfg["num_decoder_layers"], "vocab_size": cfg["vocab_size"],
        "tokenizer_size": s["model"]["tokenizer_size"], "dropout": cfg["dropout_rate"],
        "safetensors_bytes": f"{max(sizes.values()):,}" if sizes else "—",
        "safetensors_bytes_both": f"{sum(sizes.values()):,}",
        "max_abs_weight": (f"{max(max_abs_weight(t) for t in tars.values() if t.exists()):.3g}"
                           if any(t.exists() for t in tars.values()) else "—"),
        "fp16_loss_gap": f"{gap:.1e}",
        "spm_pieces": tok["spm_pieces"], "extra_id_0": tok["extra_id_0"],
        "extra_id_99": tok["extra_id_99"], "unk_in_corpus": m["tokens"]["unk"],
        "spm_paragraphs": tok["check_against_spm"]["paragraphs"],
        "spm_differ": tok["check_against_spm"]["segmented_differently"],
        "spm_gap": tok["check_against_spm"]["largest_score_gain_of_tokenizer_json"],
        "characters_per_token": m["tokens"]["characters_per_token"],
        "tarball_sha256": m["source"]["sha256"],
        "sotu_documents": m["cleaning"]["sotu_documents"],
        "moby_documents": m["cleaning"]["moby_dick_documents"],
        "stage_directions": m["cleaning"]["stage_directions"],
        "gutenberg_lines": m["cleaning"]["gutenberg_lines"],
        "characters": f"{m['cleaning']['characters']:,}",
        "heldout_tokens": f"{m['tokens']['heldout']:,}",
        "span_raw": obj["span_corruption"]["raw"], "span_noise": obj["span_corruption"]["noise"],
        "span_spans": obj["span_corruption"]["spans"],
        "span_inputs": obj["span_corruption"]["inputs"],
        "span_targets": obj["span_corruption"]["targets"], "lm_window": obj["prefix_lm"]["window"],
        "batch_size": B, "seed": a["seed"], "eval_every": a["eval_every"],
        "log_every": a["log_every"], "time_budget_s": f"{a['time_budget_s']:g}",
        "epochs": f"{drawn / s['corpus']['train_tokens']:.3g}",
        "device": s["device"], "wall_s": s.get("wall_s", s.get("wall_s_so_far")),
        **{k: s["versions"][k] for k in ("torch", "cuda", "transformers", "python")},
        "init_span": loss(init, "span"), "init_lm": loss(init, "lm"),
    }
    for key, stage, d in (("span", "span_corruption", sc), ("lm", "lm_adapted", la)):
        values |= {
            f"{key}_planned": d.get("steps_planned", "—"),
            f"{key}_fitted": d.get("steps_fitted", "—"),
            f"{key}_run": d.get("steps_run", "—"),
            f"{key}_stopped": d.get("stopped_early") or "no",
            f"{key}_selected": d.get("selected_step", "—"),
            f"{key}_tokens": f"{d.get('tokens_seen', 0):,}", f"{key}_lr": d.get("peak_lr", "—"),
            f"{key}_warmup": d.get("warmup", "—"), f"{key}_wall": d.get("wall_s", "—"),
            f"{key}_step_ms": f"{1000 * d['s_per_step']:.1f}" if "s_per_step" in d else "—",
        }
    for short, stage in (("sc", "span_corruption"), ("la", "lm_adapted")):
        sel = st.get(stage, {}).get("heldout_loss_selected", {})
        values |= {f"{short}_span": loss(sel, "span"), f"{short}_lm": loss(sel, "lm"),
                   f"{short}_span_f16": loss(f16.get(stage), "span"),
                   f"{short}_lm_f16": loss(f16.get(stage), "lm"),
                   f"{short}_bytes": f"{ck.get(stage, {}).get('safetensors_bytes', 0):,}",
                   f"{short}_sha": ck.get(stage, {}).get("safetensors_sha256", "—")}
    files = m["files"]
    values |= {"tokjson_bytes": f"{files['tokenizer/tokenizer.json']['bytes']:,}",
               "tokjson_sha": files["tokenizer/tokenizer.json"]["sha256"],
               "corpus_bytes": f"{files['corpus_ids.npy']['bytes']:,}",
               "corpus_sha": files["corpus_ids.npy"]["sha256"]}

    card = (HERE / "MODEL_CARD.md").read_text()
    card = re.sub(r"<!-- Template\..*?-->\n\n", "", card, flags=re.S)
    out = Template(card).safe_substitute({k: str(v) for k, v in values.items()})
    left = sorted(set(re.findall(r"\$\{(\w+)\}", out)))
    if left:
        print(f"unfilled: {', '.join(left)}", file=sys.stderr)
    sys.stdout.write(out)


if __name__ == "__main__":
    main()
