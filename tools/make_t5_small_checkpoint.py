"""A t5-small-sized T5 1.1 checkpoint with random weights, for bench/load_memory.ts (dev-time).

Usage: python tools/make_t5_small_checkpoint.py OUT_DIR   (with tools/requirements-hf.txt)
"""
import sys

import torch
from transformers import T5Config, T5ForConditionalGeneration

torch.manual_seed(0)
config = T5Config(vocab_size=32128, d_model=512, d_kv=64, d_ff=1024, num_layers=8,
                  num_decoder_layers=8, num_heads=6, feed_forward_proj="gated-gelu",
                  tie_word_embeddings=False)
model = T5ForConditionalGeneration(config)
model.save_pretrained(sys.argv[1])
print(f"{sum(p.numel() for p in model.parameters()):,} parameters in {sys.argv[1]}")
