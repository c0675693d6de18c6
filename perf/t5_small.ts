/**
 * A T5 1.1 of t5-small's size (d_model 512, 8 + 8 layers, d_ff 1024 gated-GELU, 6 heads × 64,
 * vocabulary 32128, untied head; 77M parameters) with deterministic pseudo-random weights, built
 * in memory in well under a second, for benchmarks and profiles.
 *
 * The weights come from a counter-based hash (no sequential state), so that a Python script can
 * rebuild exactly the same checkpoint with numpy (`tools/peft_bench.py` does): leaf `i` (in
 * `t5ParamShapes` order) element `j` is `bound · (2u − 1)` with `u = hash(j, seed + i) / 2³²`,
 * `bound = 1` for embeddings, `√(3 / fan-in)` for kernels (unit-variance outputs); scales are 1.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { FrozenModel } from "../model/load.ts";
import { makeT5Params, parseT5Config, type T5Config } from "../model/t5/mod.ts";
import { orThrow } from "../problem.ts";

/**
 * The Hugging Face configuration of the t5-small-shaped model.
 *
 * @example
 * ```ts
 * import { T5_SMALL_CONFIG } from "./t5_small.ts";
 * import assert from "node:assert/strict";
 * assert(T5_SMALL_CONFIG.d_model === 512);
 * ```
 */
export const T5_SMALL_CONFIG: Readonly<Record<string, unknown>> = {
  vocab_size: 32128,
  d_model: 512,
  d_kv: 64,
  d_ff: 1024,
  num_layers: 8,
  num_decoder_layers: 8,
  num_heads: 6,
  feed_forward_proj: "gated-gelu",
  tie_word_embeddings: false,
  decoder_start_token_id: 0,
  pad_token_id: 0,
  eos_token_id: 1,
};

/**
 * Fills `n` uniform numbers in `[-bound, bound)` from a 32-bit integer hash of `(j, stream)`
 * (the murmur3 finalizer of `j · 0x9E3779B1 + stream · 0x85EBCA77`).
 *
 * @param n how many
 * @param stream which stream (a leaf index plus a seed)
 * @param bound the half-width
 * @returns the numbers
 * @example
 * ```ts
 * import { hashUniform } from "./t5_small.ts";
 * import assert from "node:assert/strict";
 * const a = hashUniform(4, 7, 1);
 * assert(a.every((x) => x >= -1 && x < 1) && hashUniform(4, 7, 1).join() === a.join());
 * ```
 */
export function hashUniform(n: number, stream: number, bound: number): Float32Array {
  const out = new Float32Array(n);
  const s = Math.imul(stream, 0x85ebca77) >>> 0;
  const scale = (2 * bound) / 4294967296;
  for (let j = 0; j < n; j++) {
    let h = (Math.imul(j, 0x9e3779b1) + s) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    out[j] = (h >>> 0) * scale - bound;
  }
  return out;
}

/**
 * Builds the t5-small-shaped model with hashed weights (see the module doc).
 *
 * @param seed added to each leaf's stream number
 * @returns the model; the caller disposes its params
 * @example
 * ```ts
 * import { randomT5Small } from "./t5_small.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import assert from "node:assert/strict";
 * const m = randomT5Small();
 * assert(m.architecture === "t5");
 * disposeTree(m.params);
 * ```
 */
export function randomT5Small(seed = 2021): FrozenModel {
  const config: T5Config = orThrow(parseT5Config({ ...T5_SMALL_CONFIG }, "t5-small-random"));
  let i = 0;
  const params = makeT5Params(config, (path, shape) => {
    const stream = seed + i++;
    if (path.endsWith("/scale")) return tf.ones(shape);
    const bound = path.endsWith("embedding") ? 1 : Math.sqrt(3 / shape[0]);
    const n = shape.reduce((a, b) => a * b, 1);
    return tf.tensor(hashUniform(n, stream, bound), shape, "float32");
  });
  return { architecture: "t5", config, params, format: "huggingface" };
}
