#!/usr/bin/env python3
"""Pretrains the embedded T5 1.1-architecture model in the paper's two stages (dev-time).

    python tools/pretrain/pretrain.py --out OUT [--span-steps N] [--lm-steps N] [--batch-size B]
                                      [--time-budget-s S]

Reads what tools/pretrain/prepare.py wrote to .pretrain/ (corpus_ids.npy, heldout_ids.npy,
tokenizer/, manifest.json) and writes, into OUT (at most 8 files, each under 16 MiB, so that the
GPU machine can hand them back):

  span_corruption.tar  span_corruption/{config.json, model.safetensors, generation_config.json,
                       tokenizer.json, tokenizer_config.json, special_tokens_map.json}
                       — the checkpoint after stage 1, weights in float16
  lm_adapted.tar       lm_adapted/{the same files} — after stage 2
  log.jsonl            one JSON object per line: train loss every --log-every steps, held-out loss
                       of both objectives every --eval-every steps
  summary.json         steps planned and run, losses, wall times, device, versions, sizes, hashes;
                       rewritten after each stage, so a run cut short still reports what it did

Stage 1, span corruption (T5's objective): windows of 284 corpus tokens; 15% of them, in spans of
mean length 3 (43 tokens in 14 spans), are noise; the encoder reads the window with each noise
span replaced by one sentinel (<extra_id_0> = 8099, <extra_id_1> = 8098, ...) and </s>: 256
tokens; the decoder writes each sentinel followed by the span it stands for, and </s>: 58 tokens.
The masks are drawn with numpy's PCG64 from a fixed seed, exactly as T5's
`random_spans_noise_mask` draws them (a random partition of the noise and of the non-noise tokens
into 14 spans each, interleaved, non-noise first).

Stage 2, LM adaptation (prefix LM): windows of 320 tokens split at a uniformly drawn point; the
encoder reads the prefix (its last 255 tokens) and </s>, the decoder writes the continuation (its
first 63 tokens) and </s>. It continues from stage 1's float32 weights with a fresh optimizer.

Optimizer: AdamW (torch.optim; betas 0.9/0.98, weight decay 0.01 on matrices), linear warmup then
cosine decay to a tenth, gradient norm clipped at 1. Chosen over Adafactor because it is in every
PyTorch and a small model reaches a good loss with it in a few thousand steps; the paper's
Adafactor schedule was made for 2^19+ steps. bf16 autocast on CUDA (float32 weights and optimizer
state), float32 on CPU. Seeds are fixed (model init, data, evaluation batches); CUDA kernels may
still add float nondeterminism.

Time guard: --time-budget-s counts from the start of the script. Stage 1 gets the share
span_steps / (span_steps + lm_steps) of what is left when it starts, stage 2 the rest. After
--fit-after steps each stage measures its pace and, if its planned steps would not fit, lowers them
(the learning-rate schedule then still ends properly); a stage that still reaches its deadline
stops there. summary.json records steps planned, fitted and run. SIGTERM (from `timeout`) also
stops the current stage, and the checkpoints are still written.

Checkpoints are stored in float16 (see MODEL_CARD.md): their weights lie far inside float16's
range, float16 keeps 3 more mantissa bits than bfloat16, and both transformers and our loader
upcast to float32. The config is written as transformers 4.x wrote T5 1.1 configs
(`tie_word_embeddings: false`), which 4.x and 5.x both read as an untied head without rescaling.

Versions: tools/pretrain/requirements.txt (also runs with torch 2.11 / transformers 5.17).
"""

from __future__ import annotations

import time

T0 = time.monotonic()

import argparse  # noqa: E402
import copy  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import tempfile  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import transformers  # noqa: E402
from transformers import T5Config, T5ForConditionalGeneration  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PAD, EOS = 0, 1
IGNORE = -100
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
STOP = {"signal": None}


# ----------------------------------------------------------------------------- objectives


@dataclass(frozen=True)
class SpanLengths:
    """T5's `compute_input_and_target_lengths`: the longest window whose corrupted form fits."""

    raw: int  # tokens taken from the corpus
    noise: int  # of which noise
    spans: int  # noise spans (= non-noise spans)
    inputs: int  # raw - noise + spans + 1 (</s>)
    targets: int  # noise + spans + 1


def span_lengths(inputs_length: int, noise_density: float, mean_span: float) -> SpanLengths:
    def lengths(raw: int) -> SpanLengths:
        noise = int(round(raw * noise_density))
        spans = max(1, int(round(noise / mean_span)))
        return SpanLengths(raw, noise, spans, raw - noise + spans + 1, noise + spans + 1)

    raw = inputs_length
    while lengths(raw + 1).inputs <= inputs_length:
        raw += 1
    return lengths(raw)


def random_segmentation(rng: np.random.Generator, batch: int, items: int,
                        segments: int) -> np.ndarray:
    """[B, segments] positive lengths summing to `items`: a uniformly random composition, as T5's
    `_random_segmentation` (segments - 1 distinct cut points among the items - 1 gaps)."""
    keys = rng.random((batch, items - 1))
    cuts = np.sort(np.argsort(keys, axis=1)[:, : segments - 1] + 1, axis=1)  # [B, k-1]
    bounds = np.concatenate(
        [np.zeros((batch, 1), np.int64), cuts, np.full((batch, 1), items, np.int64)], axis=1
    )  # [B, k+1]
    return np.diff(bounds, axis=1)  # [B, k]


def noise_mask(rng: np.random.Generator, batch: int, n: SpanLengths) -> np.ndarray:
    """[B, raw] bool, True for noise: spans alternate non-noise, noise, ..., non-noise first."""
    noise = random_segmentation(rng, batch, n.noise, n.spans)  # [B, k]
    keep = random_segmentation(rng, batch, n.raw - n.noise, n.spans)  # [B, k]
    lengths = np.stack([keep, noise], axis=2).reshape(batch, 2 * n.spans)  # [B, 2k]
    values = np.tile(np.array([False, True]), (batch, n.spans))  # [B, 2k]
    return np.repeat(values.ravel(), lengths.ravel()).reshape(batch, n.raw)  # [B, raw]


def replace_spans(tokens: np.ndarray, mask: np.ndarray, sentinel0: int) -> np.ndarray:
    """Each run of True in `mask` becomes one sentinel (sentinel0, sentinel0 - 1, ... in order of
    the runs); other tokens are kept. Every row must keep the same number of tokens."""
    batch = tokens.shape[0]
    first = mask & ~np.concatenate([np.zeros((batch, 1), bool), mask[:, :-1]], axis=1)
    sentinels = sentinel0 - (np.cumsum(first, axis=1) - 1)
    out = np.where(first, sentinels, tokens)
    return out[~mask | first].reshape(batch, -1)


def windows(rng: np.random.Generator, ids: np.ndarray, batch: int, length: int) -> np.ndarray:
    """[B, length] int64 windows at uniformly drawn offsets."""
    starts = rng.integers(0, len(ids) - length + 1, size=batch)
    return ids[starts[:, None] + np.arange(length)].astype(np.int64)


def with_eos(x: np.ndarray) -> np.ndarray:
    return np.concatenate([x, np.full((x.shape[0], 1), EOS, np.int64)], axis=1)


def span_corruption_batch(rng, ids, batch: int, n: SpanLengths, sentinel0: int) -> dict:
    raw = windows(rng, ids, batch, n.raw)  # [B, raw]
    mask = noise_mask(rng, batch, n)
    inputs = with_eos(replace_spans(raw, mask, sentinel0))  # [B, n.inputs]
    targets = with_eos(replace_spans(raw, ~mask, sentinel0))  # [B, n.targets]
    assert inputs.shape[1] == n.inputs and targets.shape[1] == n.targets
    return {"input_ids": inputs, "attention_mask": np.ones_like(inputs), "labels": targets}


def prefix_lm_batch(rng, ids, batch: int, inputs_length: int, targets_length: int) -> dict:
    """Prefix LM: a window split at a uniform point; the prefix (at most inputs_length - 1 of its
    last tokens) + </s> for the encoder, the continuation (at most targets_length - 1 of its first
    tokens) + </s> for the decoder; right-padded, padding ignored in the loss."""
    width = inputs_length + targets_length  # 320 tokens, so both sides are full on average
    raw = windows(rng, ids, batch, width)
    split = rng.integers(1, width, size=batch)  # prefix length, 1..width-1
    inputs = np.full((batch, inputs_length), PAD, np.int64)
    labels = np.full((batch, targets_length), IGNORE, np.int64)
    mask = np.zeros((batch, inputs_length), np.int64)
    for b, s in enumerate(split):
        prefix = raw[b, max(0, s - (inputs_length - 1)): s]
        target = raw[b, s: s + targets_length - 1]
        inputs[b, : len(prefix)], inputs[b, len(prefix)] = prefix, EOS
        mask[b, : len(prefix) + 1] = 1
        labels[b, : len(target)], labels[b, len(target)] = target, EOS
    return {"input_ids": inputs, "attention_mask": mask, "labels": labels}


# ----------------------------------------------------------------------------- model


def build_model(args, vocab_size: int) -> T5ForConditionalGeneration:
    config = T5Config(
        vocab_size=vocab_size, d_model=args.d_model, d_kv=args.d_kv, d_ff=args.d_ff,
        num_layers=args.layers, num_decoder_layers=args.decoder_layers, num_heads=args.heads,
        relative_attention_num_buckets=32, relative_attention_max_distance=128,
        dropout_rate=args.dropout, layer_norm_epsilon=1e-6, initializer_factor=1.0,
        feed_forward_proj="gated-gelu", tie_word_embeddings=False,
        pad_token_id=PAD, eos_token_id=EOS, decoder_start_token_id=PAD,
    )
    torch.manual_seed(args.seed)
    model = T5ForConditionalGeneration(config)
    # transformers 5 ties lm_head to the embeddings whatever the config says (4.x did not); T5 1.1
    # has its own output matrix, initialised as T5X does: fan-in variance scaling, std d_model^-0.5.
    if model.lm_head.weight is model.shared.weight:
        gen = torch.Generator().manual_seed(args.seed + 1)
        head = torch.randn(model.lm_head.weight.shape, generator=gen) * args.d_model ** -0.5
        model.lm_head.weight = torch.nn.Parameter(head)
    assert model.lm_head.weight is not model.shared.weight
    # No d_model^-0.5 rescale of the decoder output: that belongs to the original, tied T5.
    assert getattr(model.config, "scale_decoder_outputs", model.config.tie_word_embeddings) is False
    return model


def to_device(batch: dict, device: torch.device) -> dict:
    out = {}
    for k, v in batch.items():
        t = torch.from_numpy(v)
        out[k] = (t.pin_memory().to(device, non_blocking=True) if device.type == "cuda"
                  else t)
    return out


def autocast(device: torch.device):
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


@torch.no_grad()
def heldout_loss(model, batches: list[dict], device) -> float:
    """Token-weighted mean cross-entropy (nats) over fixed held-out batches, dropout off."""
    was_training = model.training
    model.eval()
    total = torch.zeros((), dtype=torch.float64, device=device)
    count = 0
    for batch in batches:
        b = to_device(batch, device)
        with autocast(device):
            logits = model(**b).logits
        total += F.cross_entropy(logits.float().flatten(0, 1), b["labels"].flatten(),
                                 ignore_index=IGNORE, reduction="sum").double()
        count += int((batch["labels"] != IGNORE).sum())
    model.train(was_training)
    return float(total) / count


# ----------------------------------------------------------------------------- training


class Log:
    def __init__(self, path: Path):
        self.f = open(path, "a", buffering=1)

    def __call__(self, **record) -> None:
        self.f.write(json.dumps(record) + "\n")


def lr_at(step: int, total: int, peak: float, warmup: int) -> float:
    """Linear warmup to `peak`, then cosine decay to peak / 10 at `total`."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def make_optimizer(model, lr: float, weight_decay: float, device) -> torch.optim.Optimizer:
    decay = [p for p in model.parameters() if p.ndim >= 2]
    rest = [p for p in model.parameters() if p.ndim < 2]  # layer-norm scales
    groups = [{"params": decay, "weight_decay": weight_decay},
              {"params": rest, "weight_decay": 0.0}]
    extra = {"fused": True} if device.type == "cuda" else {}
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.98), eps=1e-8, **extra)


def train_stage(name: str, model, next_batch, evals: dict, *, objective: str, steps: int,
                lr: float, warmup: int, deadline: float, args, device, log: Log) -> dict:
    """Runs one stage for `steps` steps, or fewer when the deadline or a signal comes first.

    With --select best (the default) the model ends with the weights of the evaluation (every
    --eval-every steps, and the last step) where the held-out loss of this stage's `objective` was
    lowest: early stopping, against overfitting a 2.5 M-token corpus seen for many epochs.
    """
    opt = make_optimizer(model, lr, args.weight_decay, device)
    model.train()
    planned, total = steps, steps
    start = time.monotonic()
    fit_from = None
    loss_sum = torch.zeros((), device=device)
    tokens = 0
    stopped = None
    step = 0
    last_train = float("nan")
    record = {"stage": name}  # what every log line starts with
    timing: dict = {}  # eval_s, pace_s_per_step

    best = {"loss": math.inf, "step": None, "state": None, "heldout": None}

    def evaluate(step: int) -> dict:
        losses = {k: round(heldout_loss(model, v, device), 5) for k, v in evals.items()}
        log(**record, step=step, elapsed_s=round(time.monotonic() - T0, 2),
            heldout=losses)
        if step > 0 and losses[objective] < best["loss"]:
            state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            best.update(loss=losses[objective], step=step, state=state, heldout=losses)
        return losses

    t = time.monotonic()
    losses = evaluate(0)
    timing["eval_s"] = time.monotonic() - t
    if device.type == "cuda":  # the first evaluation paid for CUDA's start-up: time one more
        t = time.monotonic()
        for v in evals.values():
            heldout_loss(model, v, device)
        timing["eval_s"] = time.monotonic() - t
    print(f"[{name}] step 0 held-out {losses}", flush=True)
    since_log = 0
    while step < total:
        now = time.monotonic()
        if now >= deadline:
            stopped = "time budget"
            break
        if STOP["signal"] is not None:
            stopped = f"signal {STOP['signal']}"
            break
        batch = next_batch()
        tokens += int(batch["attention_mask"].sum() + (batch["labels"] != IGNORE).sum())
        b = to_device(batch, device)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, total, lr, warmup)
        with autocast(device):
            loss = model(**b).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss_sum += loss.detach().float()
        step += 1
        since_log += 1

        # Fit the planned steps into the time left, once the pace is known.
        if step == args.fit_warmup:
            if device.type == "cuda":
                torch.cuda.synchronize()
            fit_from = (step, time.monotonic())
        elif fit_from is not None and step == fit_from[0] + args.fit_after:
            if device.type == "cuda":
                torch.cuda.synchronize()
            pace = (time.monotonic() - fit_from[1]) / args.fit_after  # s / step
            evals_left = (total - step) // args.eval_every + 1
            eval_cost = timing.get("eval_s", 0.0)
            room = deadline - time.monotonic() - evals_left * eval_cost
            fits = step + int(room * 0.95 / pace)
            timing["pace_s_per_step"] = round(pace, 5)
            if fits < total:
                total = max(step + 1, fits)
                print(f"[{name}] {pace * 1000:.1f} ms/step: {planned} steps do not fit, "
                      f"running {total}", flush=True)
            log(**record, step=step, fitted_steps=total, pace_s_per_step=round(pace, 5))

        if since_log == args.log_every or step == total:
            last_train = float(loss_sum) / since_log
            loss_sum.zero_()
            since_log = 0
            log(**record, step=step, train_loss=round(last_train, 5),
                lr=lr_at(step - 1, total, lr, warmup), tokens=tokens,
                elapsed_s=round(time.monotonic() - T0, 2))
        if step % args.eval_every == 0 and step < total:
            t = time.monotonic()
            losses = evaluate(step)
            timing["eval_s"] = time.monotonic() - t
            print(f"[{name}] step {step}/{total} train {last_train:.4f} held-out {losses} "
                  f"({time.monotonic() - T0:.0f} s)", flush=True)

    if device.type == "cuda":
        torch.cuda.synchronize()
    wall = time.monotonic() - start
    if since_log:  # stopped early, inside an interval
        last_train = float(loss_sum) / since_log
        log(**record, step=step, train_loss=round(last_train, 5), tokens=tokens,
            elapsed_s=round(time.monotonic() - T0, 2))
    losses = evaluate(step)
    print(f"[{name}] done: {step} steps in {wall:.1f} s, train {last_train:.4f}, held-out {losses}"
          + (f", stopped early ({stopped})" if stopped else ""), flush=True)
    selected, selected_losses = step, losses
    if args.select == "best" and best["step"] not in (None, step):
        model.load_state_dict(best["state"])
        selected, selected_losses = best["step"], best["heldout"]
        print(f"[{name}] keeping step {selected} (held-out {objective} {best['loss']:.4f} < "
              f"{losses[objective]:.4f} at the end)", flush=True)
        log(**record, step=step, selected_step=selected, heldout=selected_losses)
    best["state"] = None
    return {"steps_planned": planned, "steps_fitted": total, "steps_run": step,
            "selected_step": selected, "selection": f"{args.select} held-out {objective} loss",
            "heldout_loss_selected": selected_losses, "heldout_loss_last": losses,
            "stopped_early": stopped, "wall_s": round(wall, 2),
            "s_per_step": round(wall / max(step, 1), 5),
            "pace_s_per_step": timing.get("pace_s_per_step"), "tokens_seen": tokens,
            "peak_lr": lr, "warmup": warmup, "train_loss_last_interval": round(last_train, 5)}


# ----------------------------------------------------------------------------- saving


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_checkpoint(model, name: str, out: Path, tokenizer_dir: Path, evals: dict, device) -> dict:
    """Writes OUT/<name>.tar holding <name>/ in the Hugging Face layout, weights in float16; then
    reloads the files with from_pretrained and measures the held-out loss of what was stored."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / name
        half = copy.deepcopy(model).to("cpu", torch.float16)
        half.save_pretrained(str(d))
        del half
        config = json.loads((d / "config.json").read_text())
        # As transformers 4.x wrote T5 1.1 configs: an untied head, no output rescale, for 4.x and
        # 5.x alike (5.x reads `tie_word_embeddings: false` as scale_decoder_outputs = false).
        config["tie_word_embeddings"] = False
        config.pop("scale_decoder_outputs", None)
        (d / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        for f in TOKENIZER_FILES:
            shutil.copy(tokenizer_dir / f, d / f)
        files = sorted(p.name for p in d.iterdir())
        assert {"config.json", "model.safetensors", "generation_config.json"} <= set(files), files

        reloaded = T5ForConditionalGeneration.from_pretrained(str(d), dtype=torch.float32)
        reloaded = reloaded.to(device)
        assert reloaded.lm_head.weight is not reloaded.shared.weight, "head came back tied"
        stored = {k: round(heldout_loss(reloaded, v, device), 5) for k, v in evals.items()}
        del reloaded

        tar_path = out / f"{name}.tar"
        with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as tar:
            for f in files:
                info = tar.gettarinfo(str(d / f), arcname=f"{name}/{f}")
                info.mtime, info.mode, info.uid, info.gid = 0, 0o644, 0, 0
                info.uname = info.gname = ""
                with open(d / f, "rb") as fh:
                    tar.addfile(info, fh)
        info = {"tar": tar_path.name, "tar_bytes": tar_path.stat().st_size, "files": files,
                "safetensors_bytes": (d / "model.safetensors").stat().st_size,
                "safetensors_sha256": sha256_file(d / "model.safetensors"),
                "stored_dtype": "float16", "heldout_loss_stored_float16": stored}
    if info["tar_bytes"] > 16 * 2**20:
        print(f"WARNING: {tar_path} is {info['tar_bytes']:,} bytes, over the 16 MiB a file may "
              "have to come back from the GPU machine", flush=True)
    return info


# ----------------------------------------------------------------------------- main


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT / ".pretrain", help="prepare.py's output")
    ap.add_argument("--out", type=Path, default=os.environ.get("OUT"), help="default: $OUT")
    ap.add_argument("--span-steps", type=int, default=200)
    ap.add_argument("--lm-steps", type=int, default=100)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--time-budget-s", type=float, default=330.0,
                    help="wall clock from the script's start by which training stops")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto", help="auto (cuda if available), cuda, cpu")
    # objectives
    ap.add_argument("--inputs-length", type=int, default=256)
    ap.add_argument("--noise-density", type=float, default=0.15)
    ap.add_argument("--mean-span", type=float, default=3.0)
    ap.add_argument("--lm-targets-length", type=int, default=64)
    # optimisation
    ap.add_argument("--span-lr", type=float, default=2e-3)
    ap.add_argument("--lm-lr", type=float, default=1e-3)
    ap.add_argument("--span-warmup", type=int, default=500)
    ap.add_argument("--lm-warmup", type=int, default=200)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    # model (defaults: 4.1 M parameters, 8.2 MB per checkpoint in float16)
    ap.add_argument("--d-model", type=int, default=128)
    ap.add_argument("--d-kv", type=int, default=32)
    ap.add_argument("--d-ff", type=int, default=384)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--decoder-layers", type=int, default=4)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--select", choices=("best", "last"), default="best",
                    help="each stage keeps the weights with the lowest held-out loss, or the last")
    # bookkeeping
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--eval-windows", type=int, default=512,
                    help="held-out windows per objective (fixed; batched by --batch-size)")
    ap.add_argument("--fit-warmup", type=int, default=20, help="steps before the pace is timed")
    ap.add_argument("--fit-after", type=int, default=100, help="steps the pace is timed over")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: default)")
    args = ap.parse_args(argv)
    if args.out is None:
        ap.error("Give --out or set OUT")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    # Quiet: no progress bars, and not the 5.x warning that the (deliberately) separate lm_head is
    # not tied; the output that comes back from the GPU machine is its last 12,000 characters.
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda s, _f: STOP.__setitem__("signal", signal.Signals(s).name))
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available()
                          else ("cpu" if args.device == "auto" else args.device))
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("CUDA is not available (pass --device cpu to run on the CPU)")
    out = args.out
    out.mkdir(parents=True, exist_ok=True)

    manifest = json.loads((args.data / "manifest.json").read_text())
    train_ids = np.load(args.data / "corpus_ids.npy")
    held_ids = np.load(args.data / "heldout_ids.npy")
    tok_size = manifest["tokenizer"]["size"]
    sentinel0 = manifest["tokenizer"]["extra_id_0"]
    vocab_size = -(-tok_size // 128) * 128  # rounded up to a multiple of 128, as T5's 32128
    n = span_lengths(args.inputs_length, args.noise_density, args.mean_span)

    model = build_model(args, vocab_size).to(device)
    params = sum(p.numel() for p in model.parameters())
    summary = {
        "status": "running", "device": device_name(device), "versions": versions(),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "model": {"parameters": params, "vocab_size": vocab_size, "tokenizer_size": tok_size,
                  "config": json.loads(model.config.to_json_string())},
        "corpus": {"train_tokens": int(len(train_ids)), "heldout_tokens": int(len(held_ids)),
                   "files": manifest["files"]},
        "objectives": {"span_corruption": vars(n) | {"noise_density": args.noise_density,
                                                     "mean_span": args.mean_span},
                       "prefix_lm": {"window": args.inputs_length + args.lm_targets_length,
                                     "inputs": args.inputs_length,
                                     "targets": args.lm_targets_length}},
        "stages": {}, "checkpoints": {},
    }
    write_summary(out, summary)
    print(f"{summary['device']}; torch {torch.__version__}, transformers "
          f"{transformers.__version__}; {params:,} parameters; corpus {len(train_ids):,} tokens "
          f"(+{len(held_ids):,} held out); span corruption {n.raw} -> {n.inputs} / {n.targets}; "
          f"setup {time.monotonic() - T0:.1f} s", flush=True)

    B = args.batch_size
    eval_rng = np.random.default_rng([args.seed, 1000])
    evals = {
        "span": [span_corruption_batch(eval_rng, held_ids, min(B, args.eval_windows - i), n,
                                       sentinel0) for i in range(0, args.eval_windows, B)],
        "lm": [prefix_lm_batch(eval_rng, held_ids, min(B, args.eval_windows - i),
                               args.inputs_length, args.lm_targets_length)
               for i in range(0, args.eval_windows, B)],
    }
    log = Log(out / "log.jsonl")
    tok_dir = args.data / "tokenizer"

    # Stage 1: span corruption.
    share = args.span_steps / max(1, args.span_steps + args.lm_steps)
    deadline = time.monotonic() + (T0 + args.time_budget_s - time.monotonic()) * share
    rng = np.random.default_rng([args.seed, 1])
    summary["stages"]["span_corruption"] = train_stage(
        "span_corruption", model, lambda: span_corruption_batch(rng, train_ids, B, n, sentinel0),
        evals, objective="span", steps=args.span_steps, lr=args.span_lr, warmup=args.span_warmup,
        deadline=deadline, args=args, device=device, log=log)
    summary["checkpoints"]["span_corruption"] = save_checkpoint(
        model, "span_corruption", out, tok_dir, evals, device)
    write_summary(out, summary)

    # Stage 2: LM adaptation, from stage 1's float32 weights.
    rng = np.random.default_rng([args.seed, 2])
    summary["stages"]["lm_adapted"] = train_stage(
        "lm_adapted", model,
        lambda: prefix_lm_batch(rng, train_ids, B, args.inputs_length, args.lm_targets_length),
        evals, objective="lm", steps=args.lm_steps, lr=args.lm_lr, warmup=args.lm_warmup,
        deadline=T0 + args.time_budget_s, args=args, device=device, log=log)
    summary["checkpoints"]["lm_adapted"] = save_checkpoint(
        model, "lm_adapted", out, tok_dir, evals, device)
    stopped = [f"{k}: {v['stopped_early']}" for k, v in summary["stages"].items()
               if v["stopped_early"]]
    summary["status"] = "complete" + (f" (stopped early: {'; '.join(stopped)})" if stopped else "")
    summary["wall_s"] = round(time.monotonic() - T0, 2)
    if device.type == "cuda":
        summary["max_memory_allocated_bytes"] = torch.cuda.max_memory_allocated()
    write_summary(out, summary)
    sizes = {k: v["safetensors_bytes"] for k, v in summary["checkpoints"].items()}
    print(f"done in {summary['wall_s']:.0f} s; model.safetensors bytes {sizes} "
          f"(together {sum(sizes.values()):,}); files in {out}: "
          f"{sorted(p.name for p in out.iterdir())}", flush=True)


def write_summary(out: Path, summary: dict) -> None:
    summary["wall_s_so_far"] = round(time.monotonic() - T0, 2)
    tmp = out / "summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=1) + "\n")
    tmp.replace(out / "summary.json")


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def versions() -> dict:
    return {"python": sys.version.split()[0], "torch": torch.__version__,
            "cuda": torch.version.cuda, "transformers": transformers.__version__,
            "numpy": np.__version__}


if __name__ == "__main__":
    main()
