/**
 * A GPT-2 of GPT-2 small's size (n_embd 768, 12 layers, 12 heads × 64, n_inner 3072, 1024
 * positions, vocabulary 50257, tied head; 124M parameters) with deterministic pseudo-random
 * weights, built in memory, for benchmarks (the GPT-2 twin of `perf/t5_small.ts`).
 *
 * Leaf `i` (in `gpt2ParamShapes` order) is drawn from `hashUniform(n, seed + i, bound)`, with
 * `bound = 1` for the embeddings and `√(3 / fan-in)` for kernels; norm scales are 1 and biases 0.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { FrozenModel } from "../model/load.ts";
import { gpt2ParamShapes, parseGpt2Config } from "../model/gpt2/mod.ts";
import type { Gpt2Params } from "../model/gpt2/forward.ts";
import { orThrow } from "../problem.ts";
import { type FlatEntry, unflatten } from "../tree/tree.ts";
import { hashUniform } from "./t5_small.ts";

/**
 * The Hugging Face configuration of the GPT-2-small-shaped model.
 *
 * @example
 * ```ts
 * import { GPT2_SMALL_CONFIG } from "./gpt2_small.ts";
 * import assert from "node:assert/strict";
 * assert(GPT2_SMALL_CONFIG.n_embd === 768 && GPT2_SMALL_CONFIG.vocab_size === 50257);
 * ```
 */
export const GPT2_SMALL_CONFIG: Readonly<Record<string, unknown>> = {
  model_type: "gpt2",
  vocab_size: 50257,
  n_embd: 768,
  n_layer: 12,
  n_head: 12,
  n_positions: 1024,
  bos_token_id: 50256,
  eos_token_id: 50256,
};

/**
 * Builds the GPT-2-small-shaped model with hashed weights (see the module doc).
 *
 * @param seed added to each leaf's stream number
 * @param overrides config fields to change (a smaller model for tests)
 * @returns the model; the caller disposes its params
 * @example
 * ```ts
 * import { randomGpt2Small } from "./gpt2_small.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import assert from "node:assert/strict";
 * const m = randomGpt2Small(2021, { n_layer: 1, vocab_size: 64, n_positions: 16 });
 * assert(m.architecture === "gpt2" && m.params.layers.length === 1);
 * assert.deepEqual(m.params.layers[0].mlp.fc.kernel.shape, [768, 3072]);
 * disposeTree(m.params);
 * ```
 */
export function randomGpt2Small(
  seed = 2021,
  overrides: Readonly<Record<string, unknown>> = {},
): FrozenModel {
  const config = orThrow(
    parseGpt2Config({ ...GPT2_SMALL_CONFIG, ...overrides }, "gpt2-small-random"),
  );
  const entries: FlatEntry[] = [...gpt2ParamShapes(config)].map(([path, dims], i) => {
    const shape = [...dims];
    const n = shape.reduce((a, b) => a * b, 1);
    if (path.endsWith("/scale")) return [path, tf.ones(shape)];
    if (path.endsWith("/bias")) return [path, tf.zeros(shape)];
    const bound = path.endsWith("embedding") ? 1 : Math.sqrt(3 / shape[0]);
    return [path, tf.tensor(hashUniform(n, seed + i, bound), shape, "float32")];
  });
  const params = unflatten(entries) as unknown as Gpt2Params;
  return { architecture: "gpt2", config, params, format: "huggingface" };
}
