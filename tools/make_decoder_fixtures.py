#!/usr/bin/env python3
"""Writes tiny decoder-only checkpoints and their reference outputs into tests/fixtures/models/.

Each model is built by `transformers` from a small config under a fixed seed, its weights redrawn
at a scale where the logits spread (the default init of N(0, 0.02) with zero biases and unit norms
would make every logit nearly equal and hide mistakes), and saved with `save_pretrained` (which
writes safetensors in transformers 5: config.json, model.safetensors, generation_config.json).
The reference outputs go to `refs.safetensors` beside them: float32 logits, int32 inputs.

    /opt/hfvenv/bin/python tools/make_decoder_fixtures.py

Models (vocab 96, hidden at most 32; every folder well under 100 KB):
  gpt2_tiny             GPT-2, 2 layers, 3 heads (odd), n_embd 24, gelu_new, tied head
  gpt2_variant          GPT-2, 3 layers, 2 heads, n_embd 16, n_inner 40, exact gelu,
                        scale_attn_by_inverse_layer_idx, layer_norm_epsilon 1e-3
  llama_gqa             LLaMA, 4 query heads over 2 key/value heads, untied head
  llama_tied            LLaMA, tied head, head_dim 12 != 32 / 4, one key/value head (MQA),
                        attention_bias (q/k/v/o biases) and mlp_bias, rope_theta 500
  qwen2_gqa             Qwen2 (q/k/v biases, no o bias), 4 heads over 2, tied, rope_theta 1e6
  llama_mistral_window  Mistral (LLaMA-family with a sliding window of 3 tokens), 3 heads over 1

References in refs.safetensors (B = 2, T = 6, P = 3):
  right_ids, right_mask [B, T]      a right-padded batch (row 1 has 2 pad tokens)
  right_logits [B, T, V]            model(input_ids, attention_mask) (default position ids)
  left_ids, left_mask [B, T]        a left-padded batch (row 1 starts with 2 pad tokens)
  left_positions [B, T]             position ids as `generate` makes them: cumsum(mask) - 1, then
                                    0 where mask == 0 (GenerationMixin._prepare_position_ids_for_generation)
  left_logits [B, T, V]             model(input_ids, attention_mask, position_ids)
  prompt [P, H]                     a fixed soft prompt
  embeds_mask [B, P + T]            ones for the prompt, then right_mask
  embeds_logits [B, P + T, V]       model(inputs_embeds=[prompt ; embed(right_ids)], attention_mask)
  decode_tokens [B, 3]              three greedy tokens after the left-padded batch
  decode_logits [3, B, V]           the logits computed when each token is fed with past_key_values
                                    (checked here against `generate(output_logits=True)`)

Logits at padded positions are written but carry no meaning; the tests compare real tokens only.
Versions are pinned in tools/requirements-hf.txt.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "models"

VOCAB = 96
PAD = 0
B, T, P = 2, 6, 3
STEPS = 3


def gpt2(**kw):
    base = dict(vocab_size=VOCAB, n_positions=32, bos_token_id=1, eos_token_id=2, pad_token_id=PAD)
    return GPT2LMHeadModel, GPT2Config(**{**base, **kw})


def llama(cls_config, cls_model, **kw):
    base = dict(vocab_size=VOCAB, max_position_embeddings=64, bos_token_id=1, eos_token_id=2,
                pad_token_id=PAD)
    return cls_model, cls_config(**{**base, **kw})


MODELS = {
    "gpt2_tiny": gpt2(n_layer=2, n_head=3, n_embd=24),
    "gpt2_variant": gpt2(n_layer=3, n_head=2, n_embd=16, n_inner=40, activation_function="gelu",
                         scale_attn_by_inverse_layer_idx=True, layer_norm_epsilon=1e-3),
    "llama_gqa": llama(LlamaConfig, LlamaForCausalLM, hidden_size=32, intermediate_size=48,
                       num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                       rms_norm_eps=1e-6, tie_word_embeddings=False),
    "llama_tied": llama(LlamaConfig, LlamaForCausalLM, hidden_size=32, intermediate_size=40,
                        num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1,
                        head_dim=12, attention_bias=True, mlp_bias=True, rms_norm_eps=1e-5,
                        tie_word_embeddings=True,
                        rope_parameters={"rope_type": "default", "rope_theta": 500.0}),
    "qwen2_gqa": llama(Qwen2Config, Qwen2ForCausalLM, hidden_size=32, intermediate_size=40,
                       num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                       rms_norm_eps=1e-6, tie_word_embeddings=True,
                       rope_parameters={"rope_type": "default", "rope_theta": 1000000.0}),
    "llama_mistral_window": llama(MistralConfig, MistralForCausalLM, hidden_size=24,
                                  intermediate_size=32, num_hidden_layers=2, num_attention_heads=3,
                                  num_key_value_heads=1, sliding_window=3, rms_norm_eps=1e-6,
                                  tie_word_embeddings=False),
}


def redraw(model: torch.nn.Module, seed: int) -> None:
    """Weights N(0, 0.25), biases N(0, 0.1), norm scales 1 + N(0, 0.1): logits that spread."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g)
            is_norm = any(k in name for k in ("ln_", "norm", "ln_f"))
            if is_norm and name.endswith("weight"):
                p.copy_(1 + 0.1 * noise)
            elif name.endswith("bias"):
                p.copy_(0.1 * noise)
            else:
                p.copy_(0.25 * noise)


def inputs(seed: int):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, VOCAB, (B, T), generator=g)
    right_mask = torch.ones(B, T, dtype=torch.long)
    right_mask[1, T - 2:] = 0
    right_ids = ids.masked_fill(right_mask == 0, PAD)
    left_mask = torch.ones(B, T, dtype=torch.long)
    left_mask[1, :2] = 0
    left_ids = torch.randint(3, VOCAB, (B, T), generator=g).masked_fill(left_mask == 0, PAD)
    return right_ids, right_mask, left_ids, left_mask


def generation_positions(mask: torch.Tensor) -> torch.Tensor:
    # As transformers 5 GenerationMixin._prepare_position_ids_for_generation.
    return (mask.long().cumsum(-1) - 1).masked_fill(mask == 0, 0)


@torch.no_grad()
def references(model, hidden: int, seed: int) -> dict[str, torch.Tensor]:
    right_ids, right_mask, left_ids, left_mask = inputs(seed)
    refs: dict[str, torch.Tensor] = {}
    refs["right_ids"], refs["right_mask"] = right_ids, right_mask
    refs["right_logits"] = model(input_ids=right_ids, attention_mask=right_mask).logits

    left_positions = generation_positions(left_mask)
    refs["left_ids"], refs["left_mask"], refs["left_positions"] = left_ids, left_mask, left_positions
    refs["left_logits"] = model(input_ids=left_ids, attention_mask=left_mask,
                                position_ids=left_positions).logits

    g = torch.Generator().manual_seed(seed + 1)
    prompt = torch.randn(P, hidden, generator=g)
    embeds = torch.cat([prompt.expand(B, P, hidden), model.get_input_embeddings()(right_ids)], 1)
    embeds_mask = torch.cat([torch.ones(B, P, dtype=torch.long), right_mask], 1)
    refs["prompt"], refs["embeds_mask"] = prompt, embeds_mask
    refs["embeds_logits"] = model(inputs_embeds=embeds, attention_mask=embeds_mask).logits

    # Greedy decoding with a cache, written out as generate does it.
    out = model(input_ids=left_ids, attention_mask=left_mask, position_ids=left_positions,
                use_cache=True)
    past, mask, pos = out.past_key_values, left_mask, left_positions[:, -1:]
    token = out.logits[:, -1].argmax(-1, keepdim=True)  # [B, 1]
    tokens, logits = [], []
    for _ in range(STEPS):
        tokens.append(token)
        mask = torch.cat([mask, torch.ones(B, 1, dtype=torch.long)], 1)
        pos = pos + 1
        out = model(input_ids=token, attention_mask=mask, position_ids=pos, past_key_values=past,
                    use_cache=True)
        past = out.past_key_values
        logits.append(out.logits[:, -1])
        token = out.logits[:, -1].argmax(-1, keepdim=True)
    refs["decode_tokens"] = torch.cat(tokens, 1)
    refs["decode_logits"] = torch.stack(logits, 0)

    gen = model.generate(input_ids=left_ids, attention_mask=left_mask, max_new_tokens=STEPS + 1,
                         do_sample=False, output_logits=True, return_dict_in_generate=True,
                         eos_token_id=None, pad_token_id=PAD)
    assert torch.equal(gen.sequences[:, T:T + STEPS], refs["decode_tokens"]), "generate disagrees"
    gen_logits = torch.stack(gen.logits[1:STEPS + 1], 0)
    assert torch.allclose(gen_logits, refs["decode_logits"], atol=1e-5), "generate logits disagree"
    return {k: (v.to(torch.int32) if not v.is_floating_point() else v.float()).contiguous()
            for k, v in refs.items()}


def main() -> None:
    torch.set_num_threads(1)
    for i, (name, (cls, config)) in enumerate(MODELS.items()):
        torch.manual_seed(1000 + i)
        model = cls._from_config(config, attn_implementation="eager").float().eval()
        redraw(model, 2000 + i)
        if config.tie_word_embeddings:
            model.tie_weights()
        target = OUT / name
        shutil.rmtree(target, ignore_errors=True)
        model.save_pretrained(target)
        hidden = config.hidden_size
        refs = references(model, hidden, 3000 + i)
        save_file(refs, str(target / "refs.safetensors"))
        size = sum(f.stat().st_size for f in target.iterdir())
        spread = float(refs["right_logits"].std())
        print(f"{name}: {size} bytes, logit std {spread:.3f}, "
              f"files {sorted(f.name for f in target.iterdir())}")
        json.loads((target / "config.json").read_text())  # written and valid


if __name__ == "__main__":
    main()
