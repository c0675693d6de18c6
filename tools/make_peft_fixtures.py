#!/usr/bin/env python3
"""Dev-time only: PEFT prompt-tuning references for tests/peft_test.ts, in tests/fixtures/peft/.

The library and its tests never need Python. Versions are pinned in tools/requirements-hf.txt
(torch 2.13.0 CPU, transformers 5.23.0, peft 0.21.2). Run from anywhere; paths are relative to
the repository, so the committed configs hold no machine paths.

Two steps (the second needs a directory our Deno code writes):

  1. /opt/hfvenv/bin/python tools/make_peft_fixtures.py train
       For tests/fixtures/models/t5_v1_1 (SEQ_2_SEQ_LM) and gpt2_tiny (CAUSAL_LM): a
       PromptTuningConfig with P = 4 virtual tokens, the prompt overwritten with a committed array
       (rows 10, 20, 30, 40 of the model's input embedding, PEFT's own "sample vocab" idea without
       randomness), two fixed batches used alternately, torch.optim.Adam(lr=1e-2, foreach=False:
       the single-tensor path that training/optim/adam.ts follows), 20 steps, model.eval() (GPT-2's
       dropout off; T5's is 0). Writes <model>.safetensors:
         prompt_init [P, H] f32, batch<k>_* (int32 ids and masks, k = 0, 1), losses [20] f64 (the
         loss at step i, before its update), final_prompt [P, H] f32 (PEFT's first P rows; for
         seq2seq PEFT keeps [2P, H] whose second half gets no gradient), eval_* (an evaluation
         batch), eval_logits (PeftModel.from_pretrained(base, peft_<model>) on it).
       and peft_<model>/ (save_pretrained after training; its README.md model card is removed).
  2. npx -y deno@2.9.6 run -A tools/write_peft_adapters.ts
       Writes ours_t5_v1_1_encoder_only/, ours_t5_v1_1_peft/ and ours_gpt2_tiny/ with our
       writePeftAdapter, from each model's final_prompt.
  3. /opt/hfvenv/bin/python tools/make_peft_fixtures.py ours
       Loads each ours_* directory with PeftModel.from_pretrained, checks its logits on the eval
       batch against PEFT's own adapter's (printed), and writes ours_logits.safetensors
       (<dir>_logits).

Logits: T5's are the decoder's with teacher forcing [B, S, V]; GPT-2's are PEFT's output over
[prompt; inputs] [B, P + T, V] (the tests compare the input positions' real tokens only: with right
padding transformers counts pad positions on, where our models put 0, which no real token sees).
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

ROOT = Path(__file__).resolve().parent.parent
OUT = Path("tests/fixtures/peft")
P = 4
STEPS = 20
LR = 1e-2
INIT_ROWS = [10, 20, 30, 40]
PAD = 0

# Token ids (vocab 96). T5: EOS 1, pad 0. GPT-2: BOS 1, EOS 2, pad 0.
T5_BATCHES = [
    {
        "inputs": [[5, 17, 33, 8, 1], [44, 12, 1], [7, 7, 60, 21, 90, 3, 1], [15, 1]],
        "targets": [[9, 4, 1], [30, 31, 32, 1], [1], [70, 71, 1]],
    },
    {
        "inputs": [[25, 26, 27, 1], [81, 2, 64, 13, 1], [50, 1], [11, 22, 33, 44, 55, 1]],
        "targets": [[6, 1], [19, 18, 17, 16, 1], [40, 41, 1], [2, 1]],
    },
]
T5_EVAL = {
    "inputs": [[13, 14, 15, 1], [88, 77, 66, 55, 44, 1], [3, 1]],
    "targets": [[20, 21, 1], [1], [30, 31, 32, 33, 1]],
}
# GPT-2: (source, target) pairs; the sequence is BOS source target EOS, the loss on target EOS.
GPT2_BATCHES = [
    [([5, 17, 33], [8, 9]), ([44, 12], [60, 61, 62]), ([7, 7, 60, 21, 90], [3]), ([15], [70, 71])],
    [([25, 26, 27], [28]), ([81, 3, 64, 13], [14, 15]), ([50], [51, 52, 53, 54]), ([11, 22], [33])],
]
GPT2_EVAL = [([13, 14, 15], [16, 17]), ([88, 77, 66, 55], [44]), ([3], [30, 31, 32])]


def pad_rows(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pads rows with PAD: ids and mask, int64."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), PAD, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids, mask


def t5_batch(spec) -> dict[str, torch.Tensor]:
    input_ids, input_mask = pad_rows(spec["inputs"])
    target_ids, target_mask = pad_rows(spec["targets"])
    return {"input_ids": input_ids, "input_mask": input_mask, "target_ids": target_ids,
            "target_mask": target_mask}


def gpt2_batch(pairs) -> dict[str, torch.Tensor]:
    rows = [[1, *s, *t, 2] for s, t in pairs]
    ids, mask = pad_rows(rows)
    labels = torch.full_like(ids, -100)
    for i, (s, t) in enumerate(pairs):
        start = 1 + len(s)
        labels[i, start : start + len(t) + 1] = ids[i, start : start + len(t) + 1]
    return {"input_ids": ids, "input_mask": mask, "labels": labels}


def peft_call(model, batch):
    """PEFT's forward: the loss (when the batch has targets) and the logits."""
    if "target_ids" in batch:
        labels = batch["target_ids"].masked_fill(batch["target_mask"] == 0, -100)
        return model(input_ids=batch["input_ids"], attention_mask=batch["input_mask"], labels=labels)
    return model(input_ids=batch["input_ids"], attention_mask=batch["input_mask"],
                 labels=batch.get("labels"))


def load_base(name: str):
    from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

    path = f"tests/fixtures/models/{name}"
    cls = AutoModelForSeq2SeqLM if name.startswith("t5") else AutoModelForCausalLM
    model = cls.from_pretrained(path)
    model.eval()
    return model, path


def as_fixture(batch: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {f"{prefix}_{k}": v.to(torch.int32).contiguous() for k, v in batch.items()}


def train(name: str) -> None:
    from peft import PeftModel, PromptTuningConfig, TaskType, get_peft_model

    seq2seq = name.startswith("t5")
    base, path = load_base(name)
    config = PromptTuningConfig(
        task_type=TaskType.SEQ_2_SEQ_LM if seq2seq else TaskType.CAUSAL_LM,
        num_virtual_tokens=P,
        base_model_name_or_path=path,
    )
    model = get_peft_model(base, config)
    model.eval()
    weight = model.prompt_encoder.default.embedding.weight  # [P or 2P, H]
    table = model.word_embeddings.weight.detach()
    init = table[INIT_ROWS].clone().float()  # [P, H]
    with torch.no_grad():
        weight.copy_(init.repeat(weight.shape[0] // P, 1))
    batches = [t5_batch(b) for b in T5_BATCHES] if seq2seq else [gpt2_batch(b) for b in GPT2_BATCHES]
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert len(trainable) == 1 and trainable[0] is weight, "only the prompt must train"
    opt = torch.optim.Adam([weight], lr=LR, foreach=False)
    losses = []
    for step in range(STEPS):
        opt.zero_grad()
        loss = peft_call(model, batches[step % len(batches)]).loss
        loss.backward()
        losses.append(loss.item())
        opt.step()
    final = weight.detach()[:P].clone()
    print(f"{name}: losses {losses[0]:.6f} -> {losses[-1]:.6f}")

    adapter = OUT / f"peft_{name}"
    if adapter.exists():
        shutil.rmtree(adapter)
    model.save_pretrained(adapter)
    (adapter / "README.md").unlink(missing_ok=True)

    evaluation = t5_batch(T5_EVAL) if seq2seq else gpt2_batch(GPT2_EVAL)
    fresh, _ = load_base(name)
    loaded = PeftModel.from_pretrained(fresh, adapter)
    loaded.eval()
    with torch.no_grad():
        eval_logits = peft_call(loaded, evaluation).logits.float()

    tensors = {"prompt_init": init.contiguous(), "losses": torch.tensor(losses, dtype=torch.float64),
               "final_prompt": final.contiguous(), "eval_logits": eval_logits.contiguous()}
    for k, b in enumerate(batches):
        tensors.update(as_fixture(b, f"batch{k}"))
    tensors.update(as_fixture(evaluation, "eval"))
    save_file(tensors, OUT / f"{name}.safetensors", metadata={"format": "pt"})


OURS = {"ours_t5_v1_1_encoder_only": "t5_v1_1", "ours_t5_v1_1_peft": "t5_v1_1",
        "ours_gpt2_tiny": "gpt2_tiny"}


def ours() -> None:
    from peft import PeftModel

    out = {}
    for directory, name in OURS.items():
        seq2seq = name.startswith("t5")
        refs = load_file(OUT / f"{name}.safetensors")
        evaluation = {k[len("eval_"):]: v.long() for k, v in refs.items()
                      if k.startswith("eval_") and k != "eval_logits"}
        base, _ = load_base(name)
        loaded = PeftModel.from_pretrained(base, OUT / directory)
        loaded.eval()
        with torch.no_grad():
            logits = peft_call(loaded, evaluation).logits.float()
        diff = (logits - refs["eval_logits"]).abs().max().item()
        print(f"{directory}: max |logits - PEFT adapter's logits| = {diff:.3g}")
        assert diff <= 1e-5, f"{directory} does not give PEFT's logits"
        assert seq2seq or logits.shape == refs["eval_logits"].shape
        out[f"{directory}_logits"] = logits.contiguous()
    save_file(out, OUT / "ours_logits.safetensors", metadata={"format": "pt"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", choices=["train", "ours"])
    args = parser.parse_args()
    os.chdir(ROOT)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    OUT.mkdir(parents=True, exist_ok=True)
    if args.step == "train":
        for name in ["t5_v1_1", "gpt2_tiny"]:
            train(name)
    else:
        ours()


if __name__ == "__main__":
    main()
