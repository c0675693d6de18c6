/**
 * Greedy decoding: at every step, each row takes its most likely next token.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { FrozenModel } from "../model/frozen.ts";
import { tokenLoop } from "./_common.ts";
import type { DecodeResult, DecodingOptions } from "./options.ts";
import type { InputBatch } from "../model/prompted.ts";
import type { PromptInput } from "../model/combine.ts";

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Greedy decoding, batched, with the soft prompt applied at prefill: each row takes the argmax
 * of its logits (the first one on ties) until it emits an EOS id or `maxNewTokens` ids; finished
 * rows are fed padding while the others go on. Same tokens as `transformers`' `generate` with
 * `do_sample=False, num_beams=1`.
 *
 * @param model a loaded frozen model
 * @param prompt `[P, H]` soft prompt, one per row (`MixedPrompts`), or undefined for none (the
 *   caller keeps owning it)
 * @param batch input ids and mask `[B, T]`
 * @param options the maximum length, special ids, combine and cache
 * @returns per row the generated ids, the sum of their log-probabilities and whether it finished
 * @throws {RangeError} or {TypeError} for invalid inputs or options
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "../model/load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { greedy } from "./greedy.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/gpt2_tiny"));
 * const inputIds = tf.tensor2d([[1, 5, 6]], [1, 3], "int32");
 * const inputMask = tf.ones([1, 3], "int32");
 * const out = await greedy(model, undefined, { inputIds, inputMask }, { maxNewTokens: 4 });
 * assert(out.tokens[0].length <= 4 && out.scores[0] <= 0);
 * tf.dispose([inputIds, inputMask]);
 * disposeTree(model.params);
 * ```
 */
export function greedy(
  model: FrozenModel,
  prompt: PromptInput | undefined,
  batch: InputBatch,
  options: DecodingOptions,
): Promise<DecodeResult> {
  return tokenLoop(model, prompt, batch, options, async (logits) => {
    const [ids, best] = tf.tidy(() => {
      const logprobs = tf.logSoftmax(logits); // [B, V]
      return [tf.argMax(logprobs, 1), tf.max(logprobs, 1)]; // [B] each
    });
    try {
      return { ids: await ids.data(), logprobs: await best.data() };
    } finally {
      tf.dispose([ids, best]);
    }
  });
}
