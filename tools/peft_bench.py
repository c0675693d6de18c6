"""PEFT prompt tuning on PyTorch CPU: the same step bench/step.ts measures, for comparison.

A T5 1.1 of t5-small's size (d_model 512, 8 + 8 layers, d_ff 1024 gated-GELU, 6 heads x 64,
vocabulary 32128, untied head) with the same init scheme as perf/t5_small.ts (uniform in
+-sqrt(3 / fan-in) for kernels, +-1 for embeddings, norm scales 1, drawn from the same counter hash;
the streams follow PyTorch's parameter order, so the numbers differ but not their scale), no
dropout; PromptTuningConfig with 20 random virtual tokens; batch 8 of 128 input tokens and 4 target
tokens (the same ids as bench/step.ts); transformers' Adafactor (lr 0.3, no relative step), as
ours. Prints one JSON object: seconds per step (median after warm-up), tokens/s (prompt + input
+ target positions times the batch, as ours), peak RSS, threads.

    /opt/hfvenv/bin/python tools/peft_bench.py [--steps 3] [--warmup 1] [--threads 2]

Needs torch 2.13.0, transformers 5.23.0 and peft 0.21.2 (tools/requirements-hf.txt).
"""

import argparse
import json
import platform
import resource
import statistics
import time

import numpy as np
import torch

BATCH, INPUT, PROMPT, TARGET = 8, 128, 20, 4
VOCAB = 32128


def hash_uniform(n: int, stream: int, bound: float) -> np.ndarray:
    """perf/t5_small.ts hashUniform: murmur3's finalizer of j * 0x9E3779B1 + stream * 0x85EBCA77."""
    j = np.arange(n, dtype=np.uint64)
    s = (stream * 0x85EBCA77) & 0xFFFFFFFF
    h = (j * 0x9E3779B1 + s) & 0xFFFFFFFF
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    h ^= h >> 16
    scale = np.float32(2 * bound / 4294967296)
    return (h.astype(np.float32) * scale - np.float32(bound)).astype(np.float32)


def build(seed: int = 2021):
    from transformers import T5Config, T5ForConditionalGeneration

    config = T5Config(
        vocab_size=VOCAB, d_model=512, d_kv=64, d_ff=1024, num_layers=8, num_decoder_layers=8,
        num_heads=6, feed_forward_proj="gated-gelu", tie_word_embeddings=False, dropout_rate=0.0,
        decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
    )
    model = T5ForConditionalGeneration(config)
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            if name.endswith("layer_norm.weight") or name.endswith("final_layer_norm.weight"):
                p.fill_(1.0)
                continue
            # Linear weights are [out, in]; embeddings [V, H] (bound 1), as ours.
            bound = 1.0 if ("shared" in name or "embed" in name) else (3 / p.shape[1]) ** 0.5
            p.copy_(torch.from_numpy(hash_uniform(p.numel(), seed + i, bound).reshape(p.shape)))
    return model


def batch():
    e = np.arange(BATCH)[:, None]
    j = np.arange(INPUT)[None, :]
    ids = 2 + ((e * 7919 + j * 104729) % (VOCAB - 2))
    t = np.arange(TARGET)[None, :]
    labels = 2 + ((e * 31 + t * 17) % (VOCAB - 2))
    return torch.tensor(ids, dtype=torch.long), torch.tensor(labels, dtype=torch.long)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    import peft
    from peft import PromptTuningConfig, PromptTuningInit, TaskType, get_peft_model
    from transformers.optimization import Adafactor

    t0 = time.perf_counter()
    model = build()
    build_sec = time.perf_counter() - t0
    cfg = PromptTuningConfig(
        task_type=TaskType.SEQ_2_SEQ_LM, num_virtual_tokens=PROMPT,
        prompt_tuning_init=PromptTuningInit.RANDOM,
    )
    model = get_peft_model(model, cfg)
    model.train()
    opt = Adafactor(
        [p for p in model.parameters() if p.requires_grad], lr=0.3, scale_parameter=False,
        relative_step=False, warmup_init=False,
    )
    input_ids, labels = batch()
    mask = torch.ones_like(input_ids)
    times, losses = [], []
    for _ in range(args.warmup + args.steps):
        t = time.perf_counter()
        out = model(input_ids=input_ids, attention_mask=mask, labels=labels)
        out.loss.backward()
        opt.step()
        opt.zero_grad()
        times.append(time.perf_counter() - t)
        losses.append(float(out.loss))
    sec = statistics.median(times[args.warmup:])
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({
        "name": "PEFT prompt tuning, t5-small-shaped",
        "torch": torch.__version__, "peft": peft.__version__, "threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "steps": args.steps, "warmupSteps": args.warmup,
        "secPerStep": round(sec, 4), "tokensPerSec": round(BATCH * (PROMPT + INPUT + TARGET) / sec, 1),
        "peakRssMB": round(rss_mb), "buildSec": round(build_sec, 2),
        "losses": [round(x, 4) for x in losses],
    }, indent=2))


if __name__ == "__main__":
    main()
