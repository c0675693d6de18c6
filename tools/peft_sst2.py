"""PEFT prompt tuning of SmolLM2-135M-Instruct on SST-2 on PyTorch CPU, for comparison with ours.

Loads the model from its GGUF file with transformers' GGUF loader (dequantized to float32), frozen,
and measures two things on GLUE's SST-2 (tests/data/glue/SST-2: train.tsv, dev.tsv):

* the frozen model without a prompt: rank-classification accuracy on the validation split;
* for each seed: PEFT prompt tuning (PromptTuningConfig, CAUSAL_LM, 20 virtual tokens, TEXT init
  from " negative positive") for --steps steps of batch 8 with transformers' Adafactor (lr --lr, 0.03
  by default, constant, scaled by the parameter's RMS: bench/sst2/smollm2.json's settings, its
  multiply_by_parameter_scale, no relative step, clip 1.0, decay -0.8, weight decay 1e-5, no
  first moment), then the same accuracy with the tuned prompt.

The encoding is the TypeScript side's: input text "Review: " + sentence + "\\nSentiment:" (the
sentence exactly as the TSV holds it, its trailing space included), input ids its tokens without
special tokens cut to 64; target ids the label word's tokens (" negative" for 0, " positive" for
1) then EOS (<|im_end|>, id 2). A training example is input + target; the loss is the causal-LM
token cross-entropy on the target tokens only (mean over the batch's target tokens), right padded.
Batches follow training/batches.ts's scheme: epoch e visits the rows in the order of the e-th
numpy default_rng(seed).permutation and cuts it into consecutive batches of 8, never straddling
two epochs, the last n mod 8 rows of an epoch skipped. Rank classification scores each label by
the summed log-probability of its target tokens (teacher forced, after the prompt and the input)
and predicts the higher.

Prints torch's build configuration and the versions first, then one JSON object per line: the
frozen model's accuracy, one object per seed (every step's seconds, forward + backward +
optimizer step, and loss summaries), and a summary. --out also writes all of it as one JSON
object (atomically).

    .venv/bin/python tools/peft_sst2.py --seeds 0,1,2 --steps 60
    .venv/bin/python tools/peft_sst2.py --seeds 0 --steps 3 --eval-examples 16   # a quick check
    .venv/bin/python tools/peft_sst2.py --no-prompt-only
    .venv/bin/python tools/peft_sst2.py --skip-no-prompt --seeds 1 --out seed1.json  # in parts

Dev-time only: the product never needs Python. Needs torch 2.13.0, transformers 5.23.0, peft
0.21.2 and gguf (tools/requirements-hf.txt) and the model fetched into .cache/models.
"""

import argparse
import copy
import importlib.metadata
import csv
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT / "tests" / "data" / "glue" / "SST-2"
DEFAULT_MODEL = ROOT / ".cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"

BATCH = 8
EVAL_BATCH = 16  # examples per forward pass when scoring (each with both labels: 32 rows)
MAX_INPUT = 64
PROMPT = 20
INIT_TEXT = " negative positive"
LABEL_WORDS = (" negative", " positive")
EOS = 2
WARMUP = 2  # steps left out of the median step time
MIN_STEPS_FOR_MEDIAN = 8


def read_split(path: Path) -> list[tuple[str, int]]:
    """The rows of a GLUE SST-2 TSV (header `sentence`, `label`; no quoting) as (sentence, label)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    header, body = rows[0], rows[1:]
    si, li = header.index("sentence"), header.index("label")
    out = []
    for i, r in enumerate(body):
        if len(r) != len(header):
            raise ValueError(f"{path}:{i + 2}: {len(r)} fields, expected {len(header)}")
        label = int(r[li])
        if label not in (0, 1):
            raise ValueError(f"{path}:{i + 2}: label {r[li]!r}")
        out.append((r[si], label))
    return out


def encode_input(tok, sentence: str) -> list[int]:
    return tok.encode("Review: " + sentence + "\nSentiment:", add_special_tokens=False)[:MAX_INPUT]


def check_tokenizer(tok) -> list[list[int]]:
    """Asserts the encoding the TypeScript side uses; returns the two labels' target ids."""
    ids = tok.encode("Review: a fine film\nSentiment:", add_special_tokens=False)
    assert ids == [21465, 42, 253, 4979, 4771, 198, 35658, 2572, 42], ids
    words = [tok.encode(w, add_special_tokens=False) for w in LABEL_WORDS]
    assert words == [[3524], [2731]], words
    assert tok.eos_token_id == EOS, tok.eos_token_id
    return [w + [EOS] for w in words]


def pad_batch(seqs: list[list[int]], pad_id: int, labels: list[list[int]] | None = None):
    """Right-padded ids, attention mask and (if given) labels padded with -100."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    lab = torch.full((len(seqs), width), -100, dtype=torch.long) if labels is not None else None
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s, dtype=torch.long)
        mask[i, : len(s)] = 1
        if lab is not None:
            lab[i, : len(s)] = torch.tensor(labels[i], dtype=torch.long)
    return ids, mask, lab


def batch_indices(seed: int, n: int, steps: int) -> list[np.ndarray]:
    """Each step's row indices: epoch by epoch a fresh permutation, cut into batches of BATCH."""
    rng = np.random.default_rng(seed)
    per_epoch = n // BATCH
    if per_epoch == 0:
        raise ValueError(f"{n} training rows cannot make a batch of {BATCH}")
    out, order = [], None
    for step in range(steps):
        k = step % per_epoch
        if k == 0:
            order = rng.permutation(n)
        out.append(order[k * BATCH : (k + 1) * BATCH])
    return out


@torch.no_grad()
def rank_accuracy(model, examples, targets, offset: int, pad_id: int) -> tuple[float, float]:
    """Rank-classification accuracy and seconds. `examples` are (input ids, label); `offset` is
    the number of positions the model puts before the input ids (the virtual tokens)."""
    t0 = time.perf_counter()
    correct = 0
    for start in range(0, len(examples), EVAL_BATCH):
        chunk = examples[start : start + EVAL_BATCH]
        seqs, rows, cols, toks, owner = [], [], [], [], []
        for inp, _ in chunk:
            for tgt in targets:
                r = len(seqs)
                seqs.append(inp + tgt)
                for j, t in enumerate(tgt):
                    rows.append(r)
                    cols.append(offset + len(inp) + j - 1)  # the logits that predict target j
                    toks.append(t)
                    owner.append(r)
        ids, mask, _ = pad_batch(seqs, pad_id)
        logits = model(input_ids=ids, attention_mask=mask, use_cache=False).logits
        assert logits.shape[1] == offset + ids.shape[1], (logits.shape, offset, ids.shape)
        picked = logits[torch.tensor(rows), torch.tensor(cols)].float()
        lp = torch.log_softmax(picked, dim=-1).gather(1, torch.tensor(toks)[:, None])[:, 0]
        scores = torch.zeros(len(seqs), dtype=torch.float64)
        scores.index_add_(0, torch.tensor(owner), lp.double())
        scores = scores.view(len(chunk), len(targets))
        pred = scores.argmax(dim=1)
        gold = torch.tensor([label for _, label in chunk])
        correct += int((pred == gold).sum())
        del logits
    return correct / len(examples), time.perf_counter() - t0


def make_peft_model(base, model_path: Path, tok):
    """Wraps a copy of the frozen base model with a TEXT-initialised prompt. Tries PEFT's own TEXT
    init (the tokenizer loaded from the GGUF through tokenizer_kwargs); if that fails, initialises
    the prompt as PEFT's TEXT init does. Returns the model and which way it went."""
    from peft import PromptTuningConfig, PromptTuningInit, TaskType, get_peft_model

    init_ids = tok(INIT_TEXT)["input_ids"]  # as PEFT's TEXT init tokenizes it
    assert init_ids == [3524, 2731], init_ids
    reps = -(-PROMPT // len(init_ids))
    want_ids = (init_ids * reps)[:PROMPT]
    how = "peft-text"
    try:
        cfg = PromptTuningConfig(
            task_type=TaskType.CAUSAL_LM, num_virtual_tokens=PROMPT,
            prompt_tuning_init=PromptTuningInit.TEXT, prompt_tuning_init_text=INIT_TEXT,
            tokenizer_name_or_path=str(model_path.parent),
            tokenizer_kwargs={"gguf_file": model_path.name},
        )
        model = get_peft_model(copy.deepcopy(base), cfg)
    except Exception as e:  # noqa: BLE001 - any failure of PEFT's own init falls back
        print(f"PEFT's TEXT init failed ({type(e).__name__}: {e}); initialising by hand",
              file=sys.stderr)
        how = "manual"
        cfg = PromptTuningConfig(
            task_type=TaskType.CAUSAL_LM, num_virtual_tokens=PROMPT,
            prompt_tuning_init=PromptTuningInit.RANDOM,
        )
        model = get_peft_model(copy.deepcopy(base), cfg)
        emb = model.get_input_embeddings().weight
        with torch.no_grad():
            model.prompt_encoder["default"].embedding.weight.copy_(
                emb[torch.tensor(want_ids)].float()
            )
    weight = model.prompt_encoder["default"].embedding.weight
    table = model.get_input_embeddings().weight
    assert torch.equal(weight.detach(), table[torch.tensor(want_ids)].detach().float()), how
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert len(trainable) == 1 and trainable[0] is weight, [p.shape for p in trainable]
    return model, how


def run_seed(seed, base, model_path, tok, train, dev, targets, steps, pad_id, lr):
    from transformers.optimization import Adafactor

    torch.manual_seed(seed)
    model, how = make_peft_model(base, model_path, tok)
    model.eval()  # no dropout anywhere; the prompt still gets gradients
    params = [p for p in model.parameters() if p.requires_grad]
    opt = Adafactor(
        params, lr=lr, scale_parameter=True, relative_step=False, warmup_init=False,
        clip_threshold=1.0, decay_rate=-0.8, weight_decay=1e-5, beta1=None,
    )
    times, losses = [], []
    for idx in batch_indices(seed, len(train), steps):
        seqs, labels = [], []
        for i in idx:
            inp, label = train[i]
            tgt = targets[label]
            seqs.append(inp + tgt)
            labels.append([-100] * len(inp) + tgt)
        ids, mask, lab = pad_batch(seqs, pad_id, labels)
        t = time.perf_counter()
        out = model(input_ids=ids, attention_mask=mask, labels=lab, use_cache=False)
        out.loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - t)
        losses.append(float(out.loss.detach()))
    acc, eval_sec = rank_accuracy(model, dev, targets, PROMPT, pad_id)
    after = times[WARMUP:] if steps >= MIN_STEPS_FOR_MEDIAN else []
    result = {
        "seed": seed,
        "steps": steps,
        "step_seconds": [round(x, 4) for x in times],
        "median_step_seconds_after_warmup": round(statistics.median(after), 4) if after else None,
        "first_loss": losses[0] if losses else None,
        "last_loss": float(np.mean(losses[-5:])) if losses else None,
        "accuracy": acc,
        "eval_seconds": round(eval_sec, 2),
    }
    del model, opt
    return result, how, times


def write_atomic(path: Path, obj) -> None:
    tmp = path.with_name(f".{path.name}.tmp.{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def emit(obj) -> None:
    print(json.dumps(obj), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated, e.g. 0,1,2")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lr", type=float, default=0.03,
                    help="Adafactor learning rate (bench/sst2/smollm2.json: 0.03)")
    ap.add_argument("--eval-examples", type=int, default=None,
                    help="score only the first N validation rows (default: all)")
    ap.add_argument("--no-prompt-only", action="store_true",
                    help="only evaluate the frozen model without a prompt")
    ap.add_argument("--skip-no-prompt", action="store_true",
                    help="do not evaluate the frozen model without a prompt (its accuracy: null)")
    ap.add_argument("--out", type=Path, default=None, help="also write the results here as JSON")
    args = ap.parse_args()
    seeds = [] if args.no_prompt_only else [int(s) for s in args.seeds.split(",") if s.strip()]
    if args.steps < 1:
        ap.error("--steps must be at least 1")
    torch.set_num_threads(args.threads)

    import peft
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_path = args.model.resolve()
    env = {
        "torch": torch.__version__, "transformers": transformers.__version__,
        "peft": peft.__version__, "gguf": importlib.metadata.version("gguf"),
        "numpy": np.__version__, "python": platform.python_version(),
        "platform": platform.platform(), "cpu": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(), "model": model_path.name, "lr": args.lr,
    }
    print(torch.__config__.show(), flush=True)
    for k, v in env.items():
        print(f"{k}: {v}", flush=True)

    tok = AutoTokenizer.from_pretrained(str(model_path.parent), gguf_file=model_path.name)
    targets = check_tokenizer(tok)
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else EOS
    base = AutoModelForCausalLM.from_pretrained(
        str(model_path.parent), gguf_file=model_path.name, dtype=torch.float32,  # dequantized
    )
    base.eval()
    for p in base.parameters():
        p.requires_grad_(False)

    dev_rows = read_split(args.data_dir / "dev.tsv")
    if args.eval_examples is not None:
        dev_rows = dev_rows[: args.eval_examples]
    dev = [(encode_input(tok, s), y) for s, y in dev_rows]
    train = []
    if seeds:
        train = [(encode_input(tok, s), y) for s, y in read_split(args.data_dir / "train.tsv")]
    env.update({"train_rows": len(train), "eval_rows": len(dev)})

    acc0, sec0 = (None, 0.0) if args.skip_no_prompt else rank_accuracy(
        base, dev, targets, 0, pad_id,
    )
    first = {"no_prompt_accuracy": acc0, "eval_seconds": round(sec0, 2)}
    emit(first)

    per_seed, all_after, inits = [], [], set()
    for seed in seeds:
        result, how, times = run_seed(
            seed, base, model_path, tok, train, dev, targets, args.steps, pad_id, args.lr,
        )
        inits.add(how)
        if args.steps >= MIN_STEPS_FOR_MEDIAN:
            all_after.extend(times[WARMUP:])
        per_seed.append(result)
        emit(result)

    accs = [r["accuracy"] for r in per_seed]
    if inits:
        env["prompt_init"] = ",".join(sorted(inits))
    summary = {
        "no_prompt_accuracy": acc0,
        "accuracy_mean": float(np.mean(accs)) if accs else None,
        "accuracy_std": float(np.std(accs, ddof=1)) if len(accs) > 1 else None,
        # The median over every seed's steps after the warm-up steps, pooled.
        "median_step_seconds": round(statistics.median(all_after), 4) if all_after else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "environment": env,
    }
    emit(summary)
    if args.out is not None:
        write_atomic(args.out, {"no_prompt": first, "seeds": per_seed, "summary": summary})


if __name__ == "__main__":
    main()
