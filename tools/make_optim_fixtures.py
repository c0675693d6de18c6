#!/usr/bin/env python3
"""Dev-time only: reference values for tests/optim_test.ts and tests/loss_test.ts.

Writes tests/fixtures/optim/*.json. The library and its tests never need Python.

The script has two halves that need different virtual environments (see
tools/requirements-optim.txt):

  * the JAX half (optax.adafactor, T5X's unfactored prompt setting), run by
        /opt/ptvenv/bin/python tools/make_optim_fixtures.py
  * the torch half (transformers' Adafactor, torch.optim.Adam/AdamW, transformers'
    schedules, torch.nn.functional.cross_entropy), which the first half starts by
    calling this same file with `--part torch` under --torch-python
    (default /opt/hfvenv/bin/python).

Every float32 value is stored as the JSON number of its exact double value, so JSON -> double ->
Math.fround gives back the same bits. Inputs (parameters, gradients, logits) are stored too, so the
tests replay exactly what the references saw.
"""

import argparse
import json
import math
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "optim")

# Gradient scales per step: mixes steps where Adafactor's RMS clipping binds with steps where it
# does not, tiny gradients (epsilon1 matters), and one step with exact zeros.
SCALES = [1.0, 0.01, 3.0, 1e-3, 1.0, 10.0, 0.5, 1.0, 2.0, 0.1]


def f32(a):
    """A float32 array as a nested list of exact doubles."""
    return np.asarray(a, dtype=np.float32).astype(np.float64).tolist()


def grads_for(rng, shape, steps=len(SCALES)):
    out = []
    for i in range(steps):
        g = (rng.standard_normal(shape) * SCALES[i % len(SCALES)]).astype(np.float32)
        if i == 3:
            g.reshape(-1)[::3] = 0.0  # exact zeros: the update must be exactly 0 there
        out.append(g)
    return out


def write(name, obj):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)")


# --------------------------------------------------------------------------------------------
# JAX half
# --------------------------------------------------------------------------------------------


def part_jax():
    import jax
    import jax.numpy as jnp
    import optax

    cases = []

    def run(name, config, tx, shape, seed):
        rng = np.random.default_rng(seed)
        p0 = (rng.standard_normal(shape) * 0.5).astype(np.float32)
        grads = grads_for(rng, shape)
        params = jnp.asarray(p0)
        state = tx.init(params)
        steps = []
        for g in grads:
            updates, state = tx.update(jnp.asarray(g), state, params)
            params = optax.apply_updates(params, updates)
            v = state[0].v  # FactoredState of scale_by_factored_rms: the unfactored second moment
            steps.append({"grad": f32(g), "updates": f32(updates), "params": f32(params), "v": f32(v)})
        cases.append({"name": name, "config": config, "params": f32(p0), "steps": steps})

    # The prompt-tuning setting (Lester et al. 2021 via T5X): constant LR 0.3, decay rate 0.8,
    # no parameter scaling, RMS update clipping at 1.0, weight decay 1e-5, epsilon1 1e-30.
    prompt = dict(
        learning_rate=0.3,
        decay_rate=0.8,
        multiply_by_parameter_scale=False,
        clipping_threshold=1.0,
        weight_decay_rate=1e-5,
        eps=1e-30,
        factored=False,
    )
    run("prompt", prompt, optax.adafactor(**prompt), [5, 8], 1)

    # Every other option on: parameter scale, momentum, a larger weight decay, a schedule.
    scaled = dict(
        learning_rate={"linear": [0.1, 0.01, 10]},
        decay_rate=0.8,
        multiply_by_parameter_scale=True,
        clipping_threshold=1.0,
        momentum=0.9,
        weight_decay_rate=1e-2,
        eps=1e-30,
        factored=False,
    )
    tx = optax.adafactor(**{**scaled, "learning_rate": optax.linear_schedule(0.1, 0.01, 10)})
    run("scaled_momentum_schedule", scaled, tx, [5, 8], 2)

    write(
        "adafactor_optax.json",
        {
            "source": f"optax {optax.__version__} adafactor, jax {jax.__version__}, float32",
            "cases": cases,
        },
    )


# --------------------------------------------------------------------------------------------
# torch half
# --------------------------------------------------------------------------------------------


def part_torch():
    import torch
    import torch.nn.functional as F
    import transformers
    from transformers.optimization import (
        Adafactor,
        get_cosine_schedule_with_warmup,
        get_linear_schedule_with_warmup,
    )

    torch.set_default_dtype(torch.float32)
    source = f"torch {torch.__version__}, transformers {transformers.__version__}, CPU float32"

    def replay(make_opt, shapes, seed, make_sched=None):
        """Runs an optimizer over fixed gradients; one record per parameter."""
        rng = np.random.default_rng(seed)
        p0 = {k: (rng.standard_normal(s) * 0.5).astype(np.float32) for k, s in shapes.items()}
        grads = {k: grads_for(rng, s) for k, s in shapes.items()}
        params = {k: torch.nn.Parameter(torch.from_numpy(v.copy())) for k, v in p0.items()}
        opt = make_opt(list(params.values()))
        sched = make_sched(opt) if make_sched else None
        steps = {k: [] for k in shapes}
        lrs = []
        for i in range(len(SCALES)):
            lrs.append(opt.param_groups[0]["lr"])
            for k, p in params.items():
                p.grad = torch.from_numpy(grads[k][i].copy())
            opt.step()
            if sched:
                sched.step()
            for k, p in params.items():
                steps[k].append({"grad": f32(grads[k][i]), "params": f32(p.detach().numpy())})
        return {
            "params": {k: {"shape": list(s), "initial": f32(p0[k]), "steps": steps[k]}
                       for k, s in shapes.items()},
            "lr": lrs,
        }

    # transformers' Adafactor with a plain external learning rate: factored second moments for
    # every >= 2-D parameter (over its last two dimensions), a 1-D one unfactored.
    shapes = {"matrix": [5, 8], "tall": [8, 5], "cube": [3, 4, 6], "vector": [7]}
    hf_cases = []
    for name, cfg in [
        ("plain_lr", dict(lr=0.3, clip_threshold=1.0, decay_rate=-0.8, weight_decay=1e-2,
                          scale_parameter=False, relative_step=False, warmup_init=False)),
        ("scaled_momentum", dict(lr=0.3, clip_threshold=1.0, decay_rate=-0.8, weight_decay=1e-5,
                                 beta1=0.9, scale_parameter=True, relative_step=False,
                                 warmup_init=False)),
    ]:
        rec = replay(lambda ps, cfg=cfg: Adafactor(ps, **cfg), shapes, 10 + len(hf_cases))
        hf_cases.append({"name": name, "config": cfg, **rec})
    write("adafactor_hf.json", {"source": f"transformers.optimization.Adafactor; {source}",
                                "cases": hf_cases})

    # torch.optim.Adam / AdamW, single-tensor path (foreach=False), with transformers' schedules.
    adam_cases = []
    specs = [
        ("adam", "Adam", dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0), None),
        ("adam_l2", "Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1), None),
        ("adamw", "AdamW", dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1), None),
        ("adamw_linear_warmup", "AdamW", dict(lr=0.05, weight_decay=0.01),
         {"kind": "linear", "warmup": 3, "total": 10}),
        ("adam_cosine_warmup", "Adam", dict(lr=0.05), {"kind": "cosine", "warmup": 2, "total": 10}),
    ]
    for i, (name, cls, cfg, sched) in enumerate(specs):
        klass = getattr(torch.optim, cls)

        def make_sched(opt, sched=sched):
            if sched is None:
                return None
            f = get_linear_schedule_with_warmup if sched["kind"] == "linear" else \
                get_cosine_schedule_with_warmup
            return f(opt, sched["warmup"], sched["total"])

        rec = replay(lambda ps, klass=klass, cfg=cfg: klass(ps, foreach=False, **cfg),
                     {"matrix": [5, 8]}, 20 + i, make_sched if sched else None)
        adam_cases.append({"name": name, "optimizer": cls,
                           "config": {**cfg, "betas": list(cfg.get("betas", (0.9, 0.999)))},
                           "schedule": sched, **rec})
    write("adam_torch.json", {"source": f"torch.optim (foreach=False); {source}",
                              "cases": adam_cases})

    # Token cross-entropy against F.cross_entropy (mean over non-ignored targets), and z-loss
    # computed by hand in float64.
    rng = np.random.default_rng(30)
    B, T, V = 2, 5, 11
    ce_cases = []

    def ce_case(name, logits, labels, ignore_index=-100, smoothing=0.0, mask=None, z=0.0):
        ref_labels = labels.copy()
        if mask is not None:
            ref_labels[mask == 0] = ignore_index  # torch has no mask: masked targets are ignored
        x = torch.tensor(logits, requires_grad=True)
        y = torch.from_numpy(ref_labels.astype(np.int64))
        loss = F.cross_entropy(x.reshape(-1, V), y.reshape(-1), ignore_index=ignore_index,
                               label_smoothing=smoothing)
        case = {"name": name, "logits": f32(logits), "labels": labels.tolist(),
                "ignoreIndex": ignore_index, "labelSmoothing": smoothing, "zLoss": z}
        if mask is not None:
            case["mask"] = mask.tolist()
        valid = (ref_labels != ignore_index)
        case["tokens"] = int(valid.sum())
        if z == 0.0:
            loss.backward()
            case["loss"] = float(loss.detach().numpy().astype(np.float32))
            case["grad"] = f32(x.grad.numpy())
        else:
            # Hand-computed in float64: per target token
            #   lse = log sum_v exp(x_v);  ce = lse - (1 - eps) x_y - eps mean_v x_v;
            #   z = zcoef * lse^2;  loss = mean over targets of (ce + z).
            xd = logits.astype(np.float64).reshape(-1, V)
            m = xd.max(-1, keepdims=True)
            lse = (m + np.log(np.exp(xd - m).sum(-1, keepdims=True)))[:, 0]
            yy = np.where(valid.reshape(-1), ref_labels.reshape(-1), 0)
            ce = lse - (1 - smoothing) * xd[np.arange(len(yy)), yy] - smoothing * xd.mean(-1)
            w = valid.reshape(-1).astype(np.float64)
            case["loss"] = float(((ce + z * lse**2) * w).sum() / w.sum())
            case["zLossValue"] = float((z * lse**2 * w).sum() / w.sum())
            # and its gradient, by torch autograd in float64
            xt = torch.tensor(xd, requires_grad=True)
            lse_t = torch.logsumexp(xt, -1)
            ce_t = lse_t - (1 - smoothing) * xt[torch.arange(len(yy)), torch.from_numpy(yy)] \
                - smoothing * xt.mean(-1)
            wt = torch.from_numpy(w)
            (((ce_t + z * lse_t**2) * wt).sum() / wt.sum()).backward()
            case["grad"] = f32(xt.grad.numpy().reshape(B, T, V))
        ce_cases.append(case)

    logits = (rng.standard_normal((B, T, V)) * 3).astype(np.float32)
    labels = rng.integers(0, V, (B, T)).astype(np.int32)
    labels[0, 4] = -100
    labels[1, 0] = -100
    labels[1, 3] = -100
    ce_case("ignore_index", logits, labels)
    ce_case("label_smoothing", logits, labels, smoothing=0.1)
    pad = labels.copy()
    pad[pad == -100] = 0
    pad[0, 1] = 0
    ce_case("pad_id_ignored", logits, pad, ignore_index=0, smoothing=0.2)
    mask = np.ones((B, T), np.int32)
    mask[0, 0] = 0
    mask[1, 4] = 0
    ce_case("mask_and_ignore", logits, labels, mask=mask)
    ce_case("large_logits", (logits * 3000).astype(np.float32), labels)
    ce_case("z_loss", logits, labels, z=1e-4)
    ce_case("z_loss_smoothing_mask", logits, labels, smoothing=0.1, mask=mask, z=1e-4)
    write("cross_entropy_torch.json",
          {"source": f"torch.nn.functional.cross_entropy; z-loss by hand (float64); {source}",
           "shape": [B, T, V], "cases": ce_cases})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["all", "jax", "torch"], default="all")
    ap.add_argument("--torch-python", default="/opt/hfvenv/bin/python")
    args = ap.parse_args()
    if args.part in ("all", "jax"):
        part_jax()
    if args.part == "torch":
        part_torch()
    elif args.part == "all":
        subprocess.run([args.torch_python, os.path.abspath(__file__), "--part", "torch"],
                       check=True)


if __name__ == "__main__":
    main()
