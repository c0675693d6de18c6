/**
 * Sampling: top-k and nucleus (top-p) with temperature, driven by an explicit PRNG key.
 *
 * Step `i` uses the key `foldIn(key, i)` to draw `jax.random.uniform` values `u` of shape
 * `[B, V]` in `[tiny, 1)` (the draw of `jax.random.gumbel`), and each row takes
 * `argmax(shaped_logits + (-log(-log(u))))`: the Gumbel-max trick of `jax.random.categorical`.
 * The same key, inputs and options give the same tokens on every backend (the draws are made in
 * JavaScript; the shaping and the argmax too, in float64).
 *
 * @module
 */
import type { FrozenModel } from "../model/frozen.ts";
import { foldIn, type Key, uniform } from "../random/mod.ts";
import { tokenLoop } from "./_common.ts";
import { checkFilterOptions, filterLogits, type FilterOptions } from "./filter.ts";
import type { DecodeResult, DecodingOptions } from "./options.ts";
import type { InputBatch } from "../model/prompted.ts";
import type { PromptInput } from "../model/combine.ts";

/** The smallest normal float32, `jnp.finfo(jnp.float32).tiny`: the lower bound of the draw. */
const FLOAT32_TINY = 2 ** -126;

/**
 * Options of {@link sample}.
 *
 * @example
 * ```ts
 * import { key } from "../random/mod.ts";
 * import type { SamplingOptions } from "./sample.ts";
 * import assert from "node:assert/strict";
 * const options: SamplingOptions = { maxNewTokens: 8, key: key(1), topP: 0.9, temperature: 0.7 };
 * assert(options.topK === undefined);
 * ```
 */
export interface SamplingOptions extends DecodingOptions, FilterOptions {
  /** The key the whole decoding draws from (step `i` uses `foldIn(key, i)`). */
  readonly key: Key;
}

/**
 * The token of each row, by the Gumbel-max trick on shaped logits, and its log-probability under
 * the model's own distribution.
 *
 * @param logits `[B·V]` raw logits, row-major
 * @param u `[B·V]` uniform draws in (0, 1)
 * @param v the vocabulary size
 * @param options temperature, top-k, top-p
 */
function draw(
  logits: Float32Array,
  u: Float32Array,
  v: number,
  options: FilterOptions,
): { ids: Int32Array; logprobs: Float64Array } {
  const b = logits.length / v;
  const ids = new Int32Array(b);
  const logprobs = new Float64Array(b);
  for (let r = 0; r < b; r++) {
    const row = logits.subarray(r * v, (r + 1) * v);
    const shaped = filterLogits(row, options);
    let best = -1;
    let bestValue = -Infinity;
    for (let i = 0; i < v; i++) {
      if (shaped[i] === -Infinity) continue;
      const value = shaped[i] - Math.log(-Math.log(u[r * v + i]));
      if (best < 0 || value > bestValue) {
        best = i;
        bestValue = value;
      }
    }
    let max = -Infinity;
    for (let i = 0; i < v; i++) max = Math.max(max, row[i]);
    let total = 0;
    for (let i = 0; i < v; i++) total += Math.exp(row[i] - max);
    ids[r] = best;
    logprobs[r] = row[best] - max - Math.log(total);
  }
  return { ids, logprobs };
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Samples continuations, batched, with the soft prompt applied at prefill: temperature, then
 * top-k, then top-p shape each row's logits (as `transformers`' warpers; none of them is applied
 * by default, unlike `generate`'s implicit `top_k=50`), and a Gumbel-max draw picks the token
 * (see the module doc). Rows stop at an EOS id or after `maxNewTokens`; finished rows are fed
 * padding. With `topK: 1` this is greedy decoding.
 *
 * @param model a loaded frozen model
 * @param prompt `[P, H]` soft prompt, one per row (`MixedPrompts`), or undefined for none (the
 *   caller keeps owning it)
 * @param batch input ids and mask `[B, T]`
 * @param options the key, temperature, top-k, top-p, and the common decoding options
 * @returns per row the sampled ids, the sum of their log-probabilities under the model (before
 *   shaping) and whether it finished
 * @throws {RangeError} or {TypeError} for invalid inputs or options
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "../model/load.ts";
 * import { key } from "../random/mod.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { sample } from "./sample.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/llama_gqa"));
 * const inputIds = tf.tensor2d([[1, 5, 6]], [1, 3], "int32");
 * const inputMask = tf.ones([1, 3], "int32");
 * const options = { maxNewTokens: 5, key: key(7), topP: 0.9 };
 * const a = await sample(model, undefined, { inputIds, inputMask }, options);
 * const b = await sample(model, undefined, { inputIds, inputMask }, options);
 * assert(a.tokens[0].join() === b.tokens[0].join()); // the same key, the same tokens
 * tf.dispose([inputIds, inputMask]);
 * disposeTree(model.params);
 * ```
 */
export async function sample(
  model: FrozenModel,
  prompt: PromptInput | undefined,
  batch: InputBatch,
  options: SamplingOptions,
): Promise<DecodeResult> {
  checkFilterOptions(options);
  return await tokenLoop(model, prompt, batch, options, async (logits, i) => {
    const [b, v] = logits.shape as [number, number];
    const noise = uniform(foldIn(options.key, i), [b, v], { minval: FLOAT32_TINY, maxval: 1 });
    try {
      const u = await noise.data() as Float32Array;
      return draw(await logits.data() as Float32Array, u, v, options);
    } finally {
      noise.dispose();
    }
  });
}
