"""PEFT prompt tuning on PyTorch CPU: the same step bench/compare_step.ts measures, for comparison.

--model t5-small: a T5 1.1 of t5-small's size (d_model 512, 8 + 8 layers, d_ff 1024 gated-GELU, 6 heads x 64,
vocabulary 32128, untied head) with the same init scheme as perf/t5_small.ts (uniform in
+-sqrt(3 / fan-in) for kernels, +-1 for embeddings, norm scales 1, drawn from the same counter hash;
the streams follow PyTorch's parameter order, so the numbers differ but not their scale), no
dropout; PromptTuningConfig with 20 random virtual tokens; batch 8 of 128 input tokens and 4 target
tokens (the same ids as bench/step.ts).

--model gpt2: transformers' GPT2LMHeadModel of GPT-2 small's config (124M), random init (only
time is measured); --model smollm2: the SmolLM2-135M-Instruct Q4_1 GGUF through
AutoModelForCausalLM.from_pretrained(dir, gguf_file=name) in float32. Both: batch 8 of 64 input
tokens and 1 target, 20 virtual tokens (PEFT CAUSAL_LM).

--objective token: the model's own loss for labels= (-100 but at the target); --objective rank
(decoder-only): the logits of the two label tokens (ids 1000, 2000) at the last input position,
cross-entropy over the two, label e mod 2. The ids are bench/compare_step.ts's; steps take the 32
examples in order, 8 at a time. transformers' Adafactor (lr 0.3, no relative step), as ours.

Prints one JSON object: every step's seconds (warm-up marked), the median of the timed ones,
tokens/s (prompt + input + target positions times the batch, as ours), examples/s, peak RSS
(ru_maxrss, loading included), and the environment (torch with its BLAS and CPU capability lines
and the whole torch.__config__.show(), threads, transformers, peft).

    .venv/bin/python tools/peft_bench.py [--model t5-small|gpt2|smollm2] [--objective token|rank]
        [--steps 6] [--warmup 2] [--threads 2] [--gguf .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf]

Needs torch 2.13.0, transformers 5.23.0 and peft 0.21.2 (tools/requirements-hf.txt).
"""

import argparse
import os
import json
import platform
import re
import resource
import statistics
import sys
import time

import numpy as np
import torch

BATCH, PROMPT, EXAMPLES = 8, 20, 32
SHAPES = {"t5-small": (128, 4), "gpt2": (64, 1), "smollm2": (64, 1)}  # input, target tokens
LABELS = (1000, 2000)
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
    # transformers 5.23's T5Config keeps tie_word_embeddings True whatever its argument says;
    # set afterwards it holds, so the head is untied as in t5 1.1 and perf/t5_small.ts.
    config.tie_word_embeddings = False
    model = T5ForConditionalGeneration(config)
    model.set_input_embeddings(model.shared)  # untying also split encoder/decoder embed_tokens
    assert model.lm_head.weight is not model.shared.weight, "the T5 head should be untied"
    assert model.encoder.embed_tokens.weight is model.shared.weight, "one input embedding"
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            if name.endswith("layer_norm.weight") or name.endswith("final_layer_norm.weight"):
                p.fill_(1.0)
                continue
            # Linear weights are [out, in]; embeddings [V, H] (bound 1), as ours.
            bound = 1.0 if ("shared" in name or "embed" in name) else (3 / p.shape[1]) ** 0.5
            p.copy_(torch.from_numpy(hash_uniform(p.numel(), seed + i, bound).reshape(p.shape)))
    return model


def build_gpt2():
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(
        vocab_size=50257, n_embd=768, n_layer=12, n_head=12, n_positions=1024,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
    )
    return GPT2LMHeadModel(config)


def build_smollm2(path: str):
    from transformers import AutoModelForCausalLM

    d, name = os.path.split(os.path.abspath(path))
    return AutoModelForCausalLM.from_pretrained(d, gguf_file=name, dtype=torch.float32)


def examples(model: str, vocab: int, at: int, objective: str):
    """Examples at .. at + BATCH of bench/compare_step.ts: (input ids [B, T], targets)."""
    n_in, n_tgt = SHAPES[model]
    e = np.arange(at, at + BATCH)[:, None]
    j = np.arange(n_in)[None, :]
    ids = 2 + ((e * 7919 + j * 104729) % (vocab - 2))
    if objective == "rank":
        return torch.tensor(ids, dtype=torch.long), torch.tensor(e[:, 0] % 2, dtype=torch.long)
    t = np.arange(n_tgt)[None, :]
    target = 2 + ((e * 31 + t * 17) % (vocab - 2))
    return torch.tensor(ids, dtype=torch.long), torch.tensor(target, dtype=torch.long)


def environment():
    import peft
    import transformers

    show = torch.__config__.show()
    lines = [l.strip().lstrip("- ") for l in show.splitlines()]
    blas = [l for l in lines if "Math Kernel Library" in l or "OpenBLAS" in l or "BLIS" in l]
    blas_info = re.findall(r"BLAS_INFO=[^,\s]*", show)
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "blas": "; ".join(blas_info + blas),
        "cpuCapability": next((l for l in lines if l.startswith("CPU capability usage")), ""),
        "threads": torch.get_num_threads(),
        "interopThreads": torch.get_num_interop_threads(),
        "transformers": transformers.__version__,
        "peft": peft.__version__,
        "configShow": show,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=sorted(SHAPES), default="t5-small")
    ap.add_argument("--objective", choices=["token", "rank"], default="token")
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--gguf", default=".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    args = ap.parse_args()
    if args.objective == "rank" and args.model == "t5-small":
        raise SystemExit("--objective rank is for decoder-only models; t5-small takes token")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    from peft import PromptTuningConfig, PromptTuningInit, TaskType, get_peft_model
    from transformers.optimization import Adafactor

    t0 = time.perf_counter()
    if args.model == "t5-small":
        model = build()
    elif args.model == "gpt2":
        model = build_gpt2()
    else:
        model = build_smollm2(args.gguf)
    build_sec = time.perf_counter() - t0
    seq2seq = args.model == "t5-small"
    vocab = model.get_input_embeddings().weight.shape[0]
    params = sum(p.numel() for p in model.parameters())
    cfg = PromptTuningConfig(
        task_type=TaskType.SEQ_2_SEQ_LM if seq2seq else TaskType.CAUSAL_LM,
        num_virtual_tokens=PROMPT, prompt_tuning_init=PromptTuningInit.RANDOM,
    )
    model = get_peft_model(model, cfg)
    model.train()
    opt = Adafactor(
        [p for p in model.parameters() if p.requires_grad], lr=0.3, scale_parameter=False,
        relative_step=False, warmup_init=False,
    )
    records = []
    for step in range(1, args.warmup + args.steps + 1):
        t = time.perf_counter()
        ids, target = examples(args.model, vocab, ((step - 1) * BATCH) % EXAMPLES, args.objective)
        if seq2seq:
            loss = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=target).loss
        elif args.objective == "token":
            full = torch.cat([ids, target], dim=1)  # [B, T + S]
            labels = torch.cat([torch.full_like(ids, -100), target], dim=1)
            loss = model(input_ids=full, attention_mask=torch.ones_like(full), labels=labels).loss
        else:
            logits = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits  # [B, T, V]
            scores = logits[:, -1, list(LABELS)]  # [B, 2]
            loss = torch.nn.functional.cross_entropy(scores, target)
        loss.backward()
        opt.step()
        opt.zero_grad()
        sec = time.perf_counter() - t
        records.append({"step": step, "sec": round(sec, 4), "warmup": step <= args.warmup,
                        "loss": round(loss.item(), 4)})
        print(f"PEFT {args.model} {args.objective}: step {step}"
              f"{' (warm-up)' if step <= args.warmup else ''} {sec:.2f} s", file=sys.stderr)
    sec = statistics.median(r["sec"] for r in records if not r["warmup"])
    n_in, n_tgt = SHAPES[args.model]
    positions = PROMPT + n_in + n_tgt
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({
        "side": "peft", "model": args.model, "objective": args.objective,
        "batch": BATCH, "promptTokens": PROMPT, "inputTokens": n_in, "targetTokens": n_tgt,
        "positions": positions, "params": params, "recompute": "none", "buildSec": round(build_sec, 3),
        "warmupSteps": args.warmup, "steps": records,
        "secPerStep": round(sec, 4), "tokensPerSec": round(BATCH * positions / sec, 2),
        "examplesPerSec": round(BATCH / sec, 4), "peakRssMB": round(rss_mb),
        "env": {**environment(), "cpu": platform.processor() or platform.machine(),
                "cores": os.cpu_count()},
    }, indent=2))


if __name__ == "__main__":
    main()
