#!/usr/bin/env python3
"""Writes tiny random T5 checkpoints and transformers' outputs for them into tests/fixtures/models/.

Dev-time only: the Deno tests (tests/t5_test.ts) load the committed files; Python is never needed
by the library or its tests.

    /opt/hfvenv/bin/python tools/make_t5_fixtures.py

For each config below, `tests/fixtures/models/t5_<name>/` gets what `save_pretrained` writes
(config.json, model.safetensors, generation_config.json) and `refs.safetensors`, the reference
outputs, computed by `T5ForConditionalGeneration.from_pretrained(<that folder>, dtype=float32)`,
so the references are what transformers does with exactly the committed files:

  buckets_bidirectional, buckets_causal  int32 [601]  `_relative_position_bucket` of -300 … 300
  enc_ids, enc_mask        int32 [2, T]   a padded batch (row 1 shorter, right-padded)
  enc_states               f32 [2, T, H]  encoder output
  labels                   int32 [2, S]   targets, -100 where ignored
  dec_ids                  int32 [2, S]   `_shift_right(labels)`
  dec_mask                 int32 [2, S]   decoder padding mask (row 1 right-padded)
  logits                   f32 [2, S, V]  whole model, encoder mask, no decoder mask
  logits_dmask             f32 [2, S, V]  the same with `decoder_attention_mask=dec_mask`
  prompt                   f32 [P, H]     P = 3 fixed rows
  prompt_enc_states        f32 [2, P+T, H] encoder output for inputs_embeds = [prompt; embed(enc_ids)]
  prompt_logits            f32 [2, S, V]  whole model with those inputs_embeds and mask [1…1; enc_mask]
  greedy_tokens            int32 [2, 3]   3 steps of cached greedy decoding from the start token
  greedy_logits            f32 [3, 2, V]  the logits of each step (past_key_values reused)

Configs (all tiny; the whole folder is well under 1.5 MB):
  t5_original  original T5: ReLU, head tied to the embeddings with the d_model^-0.5 rescale,
               stored in float16, with the legacy `encoder.embed_tokens.weight` /
               `decoder.embed_tokens.weight` copies older checkpoints carry
  t5_v1_1      T5 1.1 / Flan-T5: gated-GELU, untied head, config written the way 4.x wrote it
               (`tie_word_embeddings: false`, no `scale_decoder_outputs`)
  t5_odd       3 heads of d_kv 10 with d_model 24, 3 encoder / 2 decoder layers, 10 buckets with
               max_distance 12, gated-SiLU, eps 1e-5, stored in bfloat16, config as transformers 5
               writes it (`tie_word_embeddings: true`, `scale_decoder_outputs: false`) with a
               separate `lm_head.weight` (transformers then does not tie)

Layer-norm weights are randomized (not all ones) so that a norm applied wrongly shows.
Versions are pinned in tools/requirements-hf.txt.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import T5Config, T5ForConditionalGeneration
from transformers.models.t5.modeling_t5 import T5Attention

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "models"

P = 3  # prompt rows


def perturb_norms(model: T5ForConditionalGeneration, gen: torch.Generator) -> None:
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "layer_norm" in name:
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=gen))


def build(name: str, cfg: dict, *, dtype: torch.dtype, untie: bool, legacy: bool, embed_copies: bool) -> None:
    torch.manual_seed(1234)
    gen = torch.Generator().manual_seed(4321)
    config = T5Config(**cfg)
    model = T5ForConditionalGeneration(config).eval()
    perturb_norms(model, gen)
    if untie:
        # transformers 5 ties lm_head to shared whatever the config says; a real T5 1.1 head is
        # its own matrix, so give it one.
        model.lm_head.weight = torch.nn.Parameter(torch.randn(model.lm_head.weight.shape, generator=gen))
    assert (model.lm_head.weight is model.shared.weight) != untie

    out = OUT / f"t5_{name}"
    shutil.rmtree(out, ignore_errors=True)
    model.to(dtype).save_pretrained(out, safe_serialization=True)

    if legacy:
        # The config as transformers 4.x wrote it for T5 1.1 / Flan-T5.
        c = json.loads((out / "config.json").read_text())
        c["tie_word_embeddings"] = False
        c.pop("scale_decoder_outputs", None)
        (out / "config.json").write_text(json.dumps(c, indent=2, sort_keys=True) + "\n")
    if embed_copies:
        sd = load_file(out / "model.safetensors")
        sd["encoder.embed_tokens.weight"] = sd["shared.weight"].clone()
        sd["decoder.embed_tokens.weight"] = sd["shared.weight"].clone()
        save_file(sd, out / "model.safetensors", metadata={"format": "pt"})

    # References: what transformers computes from the committed files, in float32.
    ref = T5ForConditionalGeneration.from_pretrained(out, dtype=torch.float32).eval()
    assert (ref.lm_head.weight is ref.shared.weight) != untie
    refs = references(ref, config)
    save_file({k: v.contiguous() for k, v in refs.items()}, out / "refs.safetensors")
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"{out.relative_to(ROOT)}: {size} bytes; scale={ref.config.scale_decoder_outputs} untied={untie}")


@torch.no_grad()
def references(model: T5ForConditionalGeneration, config: T5Config) -> dict[str, torch.Tensor]:
    V, H = config.vocab_size, config.d_model
    gen = torch.Generator().manual_seed(99)
    r: dict[str, torch.Tensor] = {}

    rp = torch.arange(-300, 301)
    for bi, key in [(True, "buckets_bidirectional"), (False, "buckets_causal")]:
        r[key] = T5Attention._relative_position_bucket(
            rp,
            bidirectional=bi,
            num_buckets=config.relative_attention_num_buckets,
            max_distance=config.relative_attention_max_distance,
        ).to(torch.int32)

    T, S = 7, 5
    enc_ids = torch.randint(2, V, (2, T), generator=gen)
    enc_mask = torch.ones(2, T, dtype=torch.long)
    enc_ids[1, 4:] = config.pad_token_id
    enc_mask[1, 4:] = 0
    labels = torch.randint(2, V, (2, S), generator=gen)
    labels[0, -1] = config.eos_token_id
    labels[1, 3] = config.eos_token_id
    labels[1, 4:] = -100
    dec_ids = model._shift_right(labels)
    dec_mask = torch.ones(2, S, dtype=torch.long)
    dec_mask[1, 4:] = 0

    r["enc_ids"], r["enc_mask"] = enc_ids, enc_mask
    r["labels"], r["dec_ids"], r["dec_mask"] = labels, dec_ids, dec_mask
    r["enc_states"] = model.encoder(input_ids=enc_ids, attention_mask=enc_mask).last_hidden_state
    r["logits"] = model(input_ids=enc_ids, attention_mask=enc_mask, decoder_input_ids=dec_ids).logits
    r["logits_dmask"] = model(
        input_ids=enc_ids,
        attention_mask=enc_mask,
        decoder_input_ids=dec_ids,
        decoder_attention_mask=dec_mask,
    ).logits

    prompt = torch.tensor([[0.5 * math.sin(0.7 * i * H + 0.3 * j) for j in range(H)] for i in range(P)])
    embeds = torch.cat([prompt.expand(2, P, H), model.shared(enc_ids)], dim=1)  # [2, P+T, H]
    pmask = torch.cat([torch.ones(2, P, dtype=torch.long), enc_mask], dim=1)
    r["prompt"] = prompt
    r["prompt_enc_states"] = model.encoder(inputs_embeds=embeds, attention_mask=pmask).last_hidden_state
    r["prompt_logits"] = model(inputs_embeds=embeds, attention_mask=pmask, decoder_input_ids=dec_ids).logits

    enc = model.encoder(input_ids=enc_ids, attention_mask=enc_mask)
    tok = torch.full((2, 1), config.decoder_start_token_id, dtype=torch.long)
    past = None
    steps, toks = [], []
    for _ in range(3):
        out = model(
            encoder_outputs=enc,
            attention_mask=enc_mask,
            decoder_input_ids=tok,
            past_key_values=past,
            use_cache=True,
        )
        past = out.past_key_values
        steps.append(out.logits[:, -1, :])
        tok = out.logits[:, -1, :].argmax(-1, keepdim=True)
        toks.append(tok[:, 0])
    r["greedy_logits"] = torch.stack(steps)  # [3, 2, V]
    r["greedy_tokens"] = torch.stack(toks, dim=1)  # [2, 3]

    for k, v in r.items():
        r[k] = v.to(torch.int32) if not v.is_floating_point() else v.to(torch.float32)
    return r


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    common = dict(decoder_start_token_id=0, pad_token_id=0, eos_token_id=1, dropout_rate=0.0)
    build(
        "original",
        dict(vocab_size=80, d_model=16, d_kv=8, d_ff=32, num_layers=2, num_heads=2, feed_forward_proj="relu", **common),
        dtype=torch.float16,
        untie=False,
        legacy=False,
        embed_copies=True,
    )
    build(
        "v1_1",
        dict(
            vocab_size=96, d_model=32, d_kv=8, d_ff=48, num_layers=2, num_heads=4,
            feed_forward_proj="gated-gelu", tie_word_embeddings=False, **common,
        ),
        dtype=torch.float32,
        untie=True,
        legacy=True,
        embed_copies=False,
    )
    build(
        "odd",
        dict(
            vocab_size=70, d_model=24, d_kv=10, d_ff=40, num_layers=3, num_decoder_layers=2, num_heads=3,
            relative_attention_num_buckets=10, relative_attention_max_distance=12, layer_norm_epsilon=1e-5,
            feed_forward_proj="gated-silu", tie_word_embeddings=False, **common,
        ),
        dtype=torch.bfloat16,
        untie=True,
        legacy=False,
        embed_copies=False,
    )


if __name__ == "__main__":
    main()
