/**
 * The loss of a soft prompt on a batch, for any loaded model: a function `(prompt) => Scalar`
 * that closes over the frozen parameter tree (see `valueAndGradOfPrompt` for its gradient).
 *
 * - Encoder-decoder (T5): the prompt goes into the encoder input (by the combine, in front by
 *   default), the encoder mask gets `P` visible positions, the decoder sees no prompt. Decoder
 *   inputs are the targets shifted right after the config's start token, as `transformers`'
 *   `_shift_right`.
 * - Decoder-only (GPT-2, LLaMA family): the prompt goes into the input (in front by default,
 *   after any left padding), labels at the prompt's positions are ignored, and logits at
 *   `[:, :-1]` predict labels at `[:, 1:]`.
 *
 * The loss is the mean token cross-entropy over target tokens of the whole batch, as
 * `transformers` computes it for `labels=` (so runs compare with PEFT's).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { FrozenModel } from "../model/frozen.ts";
import type { Recompute } from "../model/kernels/recompute.ts";
import { crossEntropy, type CrossEntropyOptions } from "../model/loss.ts";
import { type Combine, dropPrompt, prefix, type PromptInput } from "../model/combine.ts";
import {
  type CausalBatch,
  causalTargets,
  checkBatch,
  checkPrompt,
  type PromptBatch,
  promptForward,
} from "../model/prompted.ts";

/**
 * Options of {@link promptLoss} and {@link promptLogits}.
 *
 * @example
 * ```ts
 * import type { ObjectiveOptions } from "./objective.ts";
 * import { prefixAfterBos } from "../model/combine.ts";
 * import assert from "node:assert/strict";
 * const options: ObjectiveOptions = { combine: prefixAfterBos, lossOptions: { zLoss: 1e-4 } };
 * assert(options.lossOptions?.zLoss === 1e-4);
 * ```
 */
export interface ObjectiveOptions {
  /** Where the prompt goes in the (encoder) input; default {@link prefix}. */
  readonly combine?: Combine;
  /** Label smoothing, z-loss and the ignored label of the cross-entropy (the mask is the batch's). */
  readonly lossOptions?: Omit<CrossEntropyOptions, "mask">;
  /**
   * What the backward pass keeps of T5's encoder or of a decoder-only model's layers (T5's
   * decoder keeps everything): `"none"` (default) keeps each layer's activations (the lean set:
   * projections, not scores or norms); `"layer"` keeps only each layer's input and recomputes
   * the layer (t5-small, batch 8 × 148 tokens: 1.2 instead of 1.8 GB peak, a third more time).
   */
  readonly recompute?: Recompute;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * A function of the prompt: what {@link promptLoss} and {@link promptLogits} return. It closes
 * over the model and the batch (the caller keeps owning both) and returns a new tensor.
 *
 * @param prompt `[P, H]` float32, or one per row (`MixedPrompts`)
 * @returns the value for this prompt
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { OfPrompt } from "./objective.ts";
 * import assert from "node:assert/strict";
 * const size: OfPrompt<tf.Scalar> = (prompt) =>
 *   tf.scalar(prompt instanceof tf.Tensor ? prompt.size : prompt.prompts.length);
 * const p = tf.zeros([2, 3]);
 * const s = size(p);
 * assert(s.dataSync()[0] === 6);
 * tf.dispose([p, s]);
 * ```
 */
export type OfPrompt<T extends tf.Tensor> = (prompt: PromptInput) => T;

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * The loss of a prompt on one batch, as a function of the prompt. The model's parameters are
 * closed over, not arguments: differentiating the result (see `valueAndGradOfPrompt`) gives the
 * prompt's gradient only. The batch is checked now; each call embeds the ids (a gather, not on
 * the gradient's path), combines, runs the model and averages the cross-entropy over target
 * tokens.
 *
 * Encoder-decoder: `labels = targetIds` where `targetMask` is 1, else ignored; decoder inputs
 * `shiftRight(labels, decoderStartTokenId, padTokenId)`. Decoder-only: labels moved with the
 * inputs (ignored at the prompt), then `logits[:, :-1]` against `labels[:, 1:]`.
 *
 * @param model a loaded frozen model (its tree is not copied or modified)
 * @param batch an encoder-decoder batch for T5, a decoder-only batch with labels otherwise
 * @param options the combine (default {@link prefix}) and cross-entropy options
 * @returns `(prompt [P, H]) => loss`, a new scalar each call
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "../model/load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { promptLoss } from "./objective.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/gpt2_tiny"));
 * const inputIds = tf.tensor2d([[1, 5, 6, 2]], [1, 4], "int32");
 * const inputMask = tf.ones([1, 4], "int32");
 * const labels = tf.tensor2d([[-100, -100, 6, 2]], [1, 4], "int32");
 * const loss = promptLoss(model, { inputIds, inputMask, labels });
 * const prompt = tf.zeros([3, 24]);
 * const value = loss(prompt);
 * assert(value.rank === 0 && value.dataSync()[0] > 0);
 * tf.dispose([inputIds, inputMask, labels, prompt, value]);
 * disposeTree(model.params);
 * ```
 */
export function promptLoss(
  model: FrozenModel,
  batch: PromptBatch,
  options: ObjectiveOptions = {},
): OfPrompt<tf.Scalar> {
  checkBatch(model, batch, true);
  const combine = options.combine ?? prefix;
  const lossOptions = options.lossOptions ?? {};
  const ignore = lossOptions.ignoreIndex ?? -100;
  const recompute = options.recompute ?? "none";
  return (prompt) => {
    checkPrompt(model, prompt);
    return tf.tidy(() => {
      const forward = { combine, ignore, recompute };
      if (model.architecture === "t5") {
        const out = promptForward(model, batch, prompt, forward);
        return crossEntropy(out.logits, out.labels!, lossOptions).loss; // [B, S, V] vs [B, S]
      }
      const causal = batch as CausalBatch;
      const { logits, next } = causalTargets(model, causal, prompt, forward); // [B, K, V], [B, K]
      return crossEntropy(logits, next, lossOptions).loss;
    });
  };
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * The logits of a model with the prompt, for evaluation, combined as {@link promptLoss} does.
 * Encoder-decoder: the decoder's logits with teacher forcing, `[B, S, V]` (position `s` predicts
 * `targetIds[:, s]`). Decoder-only: the logits at the input's own positions, `[B, T, V]` (the
 * prompt's positions dropped; position `t` predicts token `t + 1`, and with {@link prefix} the
 * first token's prediction sits at the prompt's last position, which is dropped too).
 *
 * @param model a loaded frozen model
 * @param batch an encoder-decoder batch for T5 (targets for teacher forcing), else inputs (labels
 *   are not read)
 * @param options the combine (default {@link prefix}); loss options are not used
 * @returns `(prompt [P, H]) => logits`, a new tensor each call
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "../model/load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { promptLogits } from "./objective.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/gpt2_tiny"));
 * const inputIds = tf.tensor2d([[1, 5, 6]], [1, 3], "int32");
 * const inputMask = tf.ones([1, 3], "int32");
 * const prompt = tf.zeros([2, 24]);
 * const logits = promptLogits(model, { inputIds, inputMask })(prompt);
 * assert(logits.shape.join() === "1,3,96");
 * tf.dispose([inputIds, inputMask, prompt, logits]);
 * disposeTree(model.params);
 * ```
 */
export function promptLogits(
  model: FrozenModel,
  batch: PromptBatch,
  options: ObjectiveOptions = {},
): OfPrompt<tf.Tensor> {
  checkBatch(model, batch, false);
  const combine = options.combine ?? prefix;
  const ignore = options.lossOptions?.ignoreIndex ?? -100;
  const recompute = options.recompute ?? "none"; // no backward pass: nothing to recompute
  return (prompt) => {
    checkPrompt(model, prompt);
    return tf.tidy(() => {
      const out = promptForward(model, batch, prompt, { combine, ignore, recompute });
      return out.placed === undefined ? out.logits : dropPrompt(out.logits, out.placed);
    });
  };
}
