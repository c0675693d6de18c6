#!/usr/bin/env python3
"""Writes the GGUF reference fixtures into tests/fixtures/gguf/.

Every GGUF file here is written by gguf-py's `GGUFWriter`, every expected value computed by
`gguf.quants.dequantize` or by transformers' GGUF loader, never by our own code.

    /work/main/.venv/bin/python tools/make_gguf_fixtures.py

Outputs (about 150 KB in all):
  types.gguf                  one tensor of each supported type (F32, F16, BF16, Q8_0, Q4_0,
                              Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K), 1 to 4 dimensions,
                              an I32 tensor (not supported), and metadata of every value type
                              (64-bit integers beyond 2^53, nested arrays)
  types_expected.safetensors  what gguf.quants.dequantize gives for each, row-major
  aligned64.gguf              general.alignment 64 (the data offsets follow it)
  llama.gguf, qwen2.gguf, gpt2.gguf
                              tiny random models written as llama.cpp's convert_hf_to_gguf.py
                              does (q/k rows permuted for llama, Conv1D weights transposed for
                              gpt2), F32
  llama_hf/, qwen2_hf/, gpt2_hf/
                              the same models as transformers loads them from the GGUF
                              (`from_pretrained(dir, gguf_file=...)`), saved as Hugging Face
                              checkpoints: what our GGUF loader must give

Versions: gguf==0.19.0, numpy, torch and transformers as in tools/requirements-hf.txt.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q
from safetensors.numpy import save_file
from safetensors.torch import save_file as save_torch

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "gguf"
RNG = np.random.default_rng(20240612)

# Where each K type keeps its float16 scales, (byte offsets of d, dmin) in a block.
K_SCALES = {Q.Q2_K: (80, 82), Q.Q3_K: (108,), Q.Q4_K: (0, 2), Q.Q5_K: (0, 2), Q.Q6_K: (208,)}


def k_blocks(qtype: Q, rows: int) -> np.ndarray:
    """Random bytes for `rows` rows of 256 values, with small finite float16 scales."""
    _, type_size = gguf.GGML_QUANT_SIZES[qtype]
    raw = RNG.integers(0, 256, size=(rows, type_size), dtype=np.uint8)
    for at in K_SCALES[qtype]:
        scale = RNG.uniform(-0.1, 0.1, size=rows).astype(np.float16)
        raw[:, at : at + 2] = scale.view(np.uint8).reshape(rows, 2)
    return raw


def write_types(path: Path, expected: Path) -> None:
    w = gguf.GGUFWriter(str(path), arch="fixture")
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_float32("test.f32", 0.1)
    w.add_bool("test.bool", True)
    w.add_string("test.string", "héllo ✓")
    w.add_uint64("test.u64", 2**53 - 1)
    w.add_uint64("test.u64_big", 2**64 - 1)
    w.add_int64("test.i64", -(2**53) + 1)
    w.add_int64("test.i64_big", -(2**63))
    w.add_float64("test.f64", 1 / 3)
    w.add_array("test.strings", ["a", "", "ü"])
    w.add_array("test.ints", [1, -2, 3])
    w.add_array("test.floats", [0.5, -1.25])
    w.add_array("test.bools", [True, False])
    w.add_array("test.nested", [[1, 2], [3]])
    w.add_array("test.deep", [[["x"]], [["y", "z"]]])
    w.add_key_value("test.u8s", [1, 2, 255], gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.UINT8)

    out: dict[str, np.ndarray] = {}

    def put(name: str, data: np.ndarray, raw_dtype: Q | None, shape: tuple[int, ...]) -> None:
        w.add_tensor(name, data, raw_dtype=raw_dtype)
        got = gguf.quants.dequantize(data, raw_dtype) if raw_dtype is not None else data
        got = np.asarray(got, dtype=np.float32).reshape(shape)
        out[name] = np.ascontiguousarray(got)

    x = RNG.standard_normal((2, 3, 4, 8)).astype(np.float32)
    put("f32", x, None, x.shape)
    y = RNG.standard_normal((3, 5)).astype(np.float16)
    put("f16", y, None, y.shape)
    z = RNG.standard_normal((4, 6)).astype(np.float32)
    put("bf16", gguf.quants.quantize(z, Q.BF16), Q.BF16, z.shape)
    for qtype in (Q.Q8_0, Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1):
        v = (RNG.standard_normal((3, 64)) * RNG.uniform(0.01, 2, size=(3, 1))).astype(np.float32)
        put(qtype.name.lower(), gguf.quants.quantize(v, qtype), qtype, v.shape)
    for qtype in K_SCALES:
        put(qtype.name.lower(), k_blocks(qtype, 2), qtype, (2, 256))
    w.add_tensor("i32", np.arange(6, dtype=np.int32).reshape(2, 3))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    save_file(out, str(expected))


def write_aligned(path: Path) -> None:
    w = gguf.GGUFWriter(str(path), arch="fixture")
    w.data_alignment = 64
    w.add_custom_alignment(64)
    w.add_tensor("a", np.arange(3, dtype=np.float32))
    w.add_tensor("b", np.arange(5, dtype=np.float32).reshape(5, 1))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


VOCAB = 32


def tokens(w: gguf.GGUFWriter) -> None:
    w.add_tokenizer_model("gpt2")
    w.add_token_list([f"t{i}" for i in range(VOCAB)])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)


def llama_permute(x: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's convert_hf_to_gguf.py permutation of q/k rows (rotary halves interleaved)."""
    return x.reshape(n_head, 2, x.shape[0] // n_head // 2, *x.shape[1:]).swapaxes(1, 2).reshape(x.shape)


def write_llama_like(path: Path, arch: str) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(0 if arch == "llama" else 1)
    h, heads, kv, ff, layers = 16, 4, 2, 24, 2
    cfg = AutoConfig.for_model(
        arch, vocab_size=VOCAB, hidden_size=h, intermediate_size=ff, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=kv, rms_norm_eps=1e-5,
        tie_word_embeddings=arch == "qwen2", rope_theta=10000.0 if arch == "llama" else 1e6,
    )
    sd = {k: v.detach().numpy() for k, v in AutoModelForCausalLM.from_config(cfg).state_dict().items()}
    w = gguf.GGUFWriter(str(path), arch=arch)
    w.add_block_count(layers)
    w.add_context_length(64)
    w.add_embedding_length(h)
    w.add_feed_forward_length(ff)
    w.add_head_count(heads)
    w.add_head_count_kv(kv)
    w.add_rope_freq_base(cfg.rope_parameters["rope_theta"])
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(h // heads)
    tokens(w)
    names = {
        "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
        "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
        "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm",
        "post_attention_layernorm": "ffn_norm",
    }
    w.add_tensor("token_embd.weight", sd["model.embed_tokens.weight"])
    for i in range(layers):
        for hf, gg in names.items():
            for leaf in ("weight", "bias"):
                key = f"model.layers.{i}.{hf}.{leaf}"
                if key not in sd:
                    continue
                x = sd[key]
                if arch == "llama" and gg in ("attn_q", "attn_k"):
                    x = llama_permute(x, heads if gg == "attn_q" else kv)
                w.add_tensor(f"blk.{i}.{gg}.{leaf}", x)
    w.add_tensor("output_norm.weight", sd["model.norm.weight"])
    if not cfg.tie_word_embeddings:
        w.add_tensor("output.weight", sd["lm_head.weight"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_gpt2(path: Path) -> None:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(2)
    h, heads, layers, positions = 8, 2, 2, 24
    cfg = GPT2Config(vocab_size=VOCAB, n_embd=h, n_layer=layers, n_head=heads, n_positions=positions)
    sd = {k: v.detach().numpy() for k, v in GPT2LMHeadModel(cfg).state_dict().items()}
    w = gguf.GGUFWriter(str(path), arch="gpt2")
    w.add_block_count(layers)
    w.add_context_length(positions)
    w.add_embedding_length(h)
    w.add_feed_forward_length(4 * h)
    w.add_head_count(heads)
    w.add_layer_norm_eps(1e-5)
    tokens(w)
    w.add_tensor("token_embd.weight", sd["transformer.wte.weight"])
    w.add_tensor("position_embd.weight", sd["transformer.wpe.weight"])
    names = {
        "ln_1": "attn_norm", "attn.c_attn": "attn_qkv", "attn.c_proj": "attn_output",
        "ln_2": "ffn_norm", "mlp.c_fc": "ffn_up", "mlp.c_proj": "ffn_down",
    }
    for i in range(layers):
        for hf, gg in names.items():
            for leaf in ("weight", "bias"):
                x = sd[f"transformer.h.{i}.{hf}.{leaf}"]
                # Conv1D keeps [in, out]; llama.cpp stores Linear-style [out, in].
                w.add_tensor(f"blk.{i}.{gg}.{leaf}", x.T.copy() if leaf == "weight" and gg not in ("attn_norm", "ffn_norm") else x)
    w.add_tensor("output_norm.weight", sd["transformer.ln_f.weight"])
    w.add_tensor("output_norm.bias", sd["transformer.ln_f.bias"])
    w.add_tensor("output.weight", sd["lm_head.weight"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def save_as_transformers_loads(gguf_path: Path, out_dir: Path, **overrides: int) -> None:
    """The model as transformers' GGUF loader reads it, saved as a Hugging Face checkpoint."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(
        str(gguf_path.parent), gguf_file=gguf_path.name, **overrides
    )
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    # A GGUF-loaded model refuses save_pretrained: write its config and weights directly.
    config = model.config.to_dict()
    config.pop("quantization_config", None)
    config.pop("_name_or_path", None)
    tensors = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    if config["model_type"] == "gpt2":
        # output.weight makes transformers untie the head; ours is tied, and the same tensor.
        assert (tensors["lm_head.weight"] == tensors["transformer.wte.weight"]).all()
        config["tie_word_embeddings"] = True
    if config.get("tie_word_embeddings"):
        tensors.pop("lm_head.weight", None)
    (out_dir / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    save_torch(tensors, str(out_dir / "model.safetensors"))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    write_types(OUT / "types.gguf", OUT / "types_expected.safetensors")
    write_aligned(OUT / "aligned64.gguf")
    write_llama_like(OUT / "llama.gguf", "llama")
    write_llama_like(OUT / "qwen2.gguf", "qwen2")
    write_gpt2(OUT / "gpt2.gguf")
    save_as_transformers_loads(OUT / "llama.gguf", OUT / "llama_hf")
    save_as_transformers_loads(OUT / "qwen2.gguf", OUT / "qwen2_hf")
    # transformers maps gpt2.context_length to n_ctx, not n_positions (the table's length).
    save_as_transformers_loads(OUT / "gpt2.gguf", OUT / "gpt2_hf", n_positions=24)
    for p in sorted(OUT.rglob("*")):
        if p.is_file():
            print(f"{p.relative_to(OUT)}  {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
