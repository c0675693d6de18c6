/**
 * Where the soft prompt meets a frozen model, for every architecture and every caller (the
 * training losses, rank scoring, decoding's prefill): the batches the model takes, their checks
 * and the prompt's, the embedding of the ids, their combination with the prompt (see
 * `combine.ts`), and the forward passes that follow.
 *
 * - Encoder-decoder (T5): the encoder reads `[prompt ; embedded inputs]` (placed by the combine)
 *   with a mask that shows the prompt; the decoder sees no prompt.
 * - Decoder-only (GPT-2, LLaMA family): the model reads the combined sequence; positions count
 *   real tokens (`cumsum(mask) - 1`), so left and right padding both work.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { embeddingTable, type FrozenModel } from "./frozen.ts";
import { t5Decode, t5Encode } from "./t5/mod.ts";
import { shiftRight } from "./t5/apply.ts";
import { gpt2Forward, gpt2Head, gpt2Hidden } from "./gpt2/forward.ts";
import { llamaForward, llamaHead, llamaHidden } from "./llama/forward.ts";
import type { DecoderHidden, DecoderOptions, DecoderOutput } from "./_decoder.ts";
import type { Recompute } from "./kernels/recompute.ts";
import type { Combine, PromptInput } from "./combine.ts";

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Token ids and their padding mask: what every batch has, and all that decoding reads. The
 * caller keeps owning them.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { InputBatch } from "./prompted.ts";
 * import assert from "node:assert/strict";
 * const batch: InputBatch = {
 *   inputIds: tf.tensor2d([[5, 6, 1], [7, 1, 0]], [2, 3], "int32"),
 *   inputMask: tf.tensor2d([[1, 1, 1], [1, 1, 0]], [2, 3], "int32"),
 * };
 * assert.equal(batch.inputIds.shape[0], 2);
 * tf.dispose([batch.inputIds, batch.inputMask]);
 * ```
 */
export interface InputBatch {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, T]` int32 input ids (left or right padded). */
  readonly inputIds: tf.Tensor;
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, T]` padding mask, non-zero at real tokens. */
  readonly inputMask: tf.Tensor;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * An encoder-decoder batch. Targets are right-padded; positions where `targetMask` is 0 are not
 * targets (and are fed to the decoder as padding).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { Seq2SeqBatch } from "./prompted.ts";
 * import assert from "node:assert/strict";
 * const batch: Seq2SeqBatch = {
 *   inputIds: tf.tensor2d([[5, 6, 1], [7, 1, 0]], [2, 3], "int32"),
 *   inputMask: tf.tensor2d([[1, 1, 1], [1, 1, 0]], [2, 3], "int32"),
 *   targetIds: tf.tensor2d([[8, 1], [1, 0]], [2, 2], "int32"),
 *   targetMask: tf.tensor2d([[1, 1], [1, 0]], [2, 2], "int32"),
 * };
 * assert.equal(batch.targetIds.shape[1], 2);
 * tf.dispose(Object.values(batch));
 * ```
 */
export interface Seq2SeqBatch extends InputBatch {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, S]` int32 target ids. */
  readonly targetIds: tf.Tensor;
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, S]` target padding mask, 1 at real targets. */
  readonly targetMask: tf.Tensor;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * A decoder-only batch: inputs and targets in one sequence.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { CausalBatch } from "./prompted.ts";
 * import assert from "node:assert/strict";
 * // BOS 5 6 EOS, predicting 6 and EOS.
 * const batch: CausalBatch = {
 *   inputIds: tf.tensor2d([[1, 5, 6, 2]], [1, 4], "int32"),
 *   inputMask: tf.ones([1, 4], "int32"),
 *   labels: tf.tensor2d([[-100, -100, 6, 2]], [1, 4], "int32"),
 * };
 * assert.equal(batch.labels?.shape[1], 4);
 * tf.dispose([batch.inputIds, batch.inputMask, batch.labels!]);
 * ```
 */
export interface CausalBatch extends InputBatch {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /**
   * `[B, T]` int32: the token to predict at each position (usually `inputIds` itself), -100 (or
   * the loss options' `ignoreIndex`) where nothing is predicted. Not needed for logits.
   */
  readonly labels?: tf.Tensor;
}

/**
 * A batch of a prompt objective (`promptLoss`, `promptLogits`): its kind must fit the model's.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { PromptBatch } from "./prompted.ts";
 * import assert from "node:assert/strict";
 * const ids = tf.tensor2d([[1, 5]], [1, 2], "int32");
 * const mask = tf.ones([1, 2], "int32");
 * const batch: PromptBatch = { inputIds: ids, inputMask: mask };
 * assert(!("targetIds" in batch));
 * tf.dispose([ids, mask]);
 * ```
 */
export type PromptBatch = Seq2SeqBatch | CausalBatch;

/** A model that is encoder-decoder. */
type T5Model = Extract<FrozenModel, { architecture: "t5" }>;

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * A tensor's shape as error messages write it.
 *
 * @param t any tensor
 * @returns `[d0, d1, …]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { shapeText } from "./prompted.ts";
 * import assert from "node:assert/strict";
 * const t = tf.zeros([2, 3]);
 * assert.equal(shapeText(t), "[2, 3]");
 * t.dispose();
 * ```
 */
export const shapeText = (t: tf.Tensor): string => `[${t.shape.join(", ")}]`;

/**
 * Who checks a batch, which decides how its errors read: the prompt objectives ("Batch inputIds
 * is …") or decoding ("Decoding: inputIds is …", and a batch needs a row).
 *
 * @example
 * ```ts
 * import type { CheckedBy } from "./prompted.ts";
 * import assert from "node:assert/strict";
 * const by: CheckedBy = "decoding";
 * assert.equal(by, "decoding");
 * ```
 */
export type CheckedBy = "objective" | "decoding";

function checkIds(t: tf.Tensor, name: string, by: CheckedBy): void {
  if (t.dtype !== "int32" || t.rank !== 2) {
    const lead = by === "decoding" ? "Decoding:" : "Batch";
    throw new TypeError(`${lead} ${name} is ${t.dtype} ${shapeText(t)}; expected int32 [B, T]`);
  }
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Checks that two batch tensors have the same shape.
 *
 * @param a the tensor checked
 * @param b the tensor whose shape it must have
 * @param nameA `a`'s name in the message
 * @param nameB `b`'s name in the message
 * @throws {RangeError} when the shapes differ
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { checkSame } from "./prompted.ts";
 * import assert from "node:assert/strict";
 * const a = tf.zeros([2, 3]), b = tf.zeros([2, 4]);
 * assert.throws(() => checkSame(a, b, "inputMask", "inputIds"), /expected inputIds's \[2, 4\]/);
 * tf.dispose([a, b]);
 * ```
 */
export function checkSame(
  a: tf.Tensor,
  b: tf.Tensor,
  nameA: string,
  nameB: string,
  by: CheckedBy = "objective",
): void {
  if (a.shape.join() !== b.shape.join()) {
    throw new RangeError(
      by === "decoding"
        ? `Decoding: ${nameA} has shape ${shapeText(a)}; expected ${nameB}' ${shapeText(b)}`
        : `Batch ${nameA} has shape ${shapeText(a)}; expected ${nameB}'s ${shapeText(b)}`,
    );
  }
}

/**
 * Checks a batch's input ids and mask: int32 `[B, T]` ids and a mask of their shape; for
 * decoding, at least one row.
 *
 * @param batch the batch
 * @param by who checks (how the errors read)
 * @throws {TypeError} or {RangeError} naming what is wrong
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { checkInputs } from "./prompted.ts";
 * import assert from "node:assert/strict";
 * const batch = { inputIds: tf.zeros([1, 2]), inputMask: tf.ones([1, 2]) };
 * assert.throws(() => checkInputs(batch, "decoding"), /^TypeError: Decoding: inputIds is float32/);
 * tf.dispose(Object.values(batch));
 * ```
 */
export function checkInputs(batch: InputBatch, by: CheckedBy = "objective"): void {
  checkIds(batch.inputIds, "inputIds", by);
  checkSame(batch.inputMask, batch.inputIds, "inputMask", "inputIds", by);
  if (by === "decoding" && batch.inputIds.shape[0] === 0) {
    throw new RangeError("Decoding: the batch has no rows; expected at least one");
  }
}

function isSeq2Seq(batch: PromptBatch): batch is Seq2SeqBatch {
  return "targetIds" in batch && batch.targetIds !== undefined;
}

/**
 * Checks that a batch fits the model: T5 needs targets of as many rows as the inputs,
 * decoder-only models take none (and, for a loss, labels of the inputs' shape).
 *
 * @param model the model
 * @param batch the batch
 * @param needLabels whether a decoder-only batch must have labels
 * @throws {TypeError} or {RangeError} naming what is wrong
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { checkBatch } from "./prompted.ts";
 * import type { FrozenModel } from "./frozen.ts";
 * import assert from "node:assert/strict";
 * const model = { architecture: "gpt2" } as FrozenModel; // only the architecture is read
 * const batch = { inputIds: tf.ones([1, 2], "int32"), inputMask: tf.ones([1, 2], "int32") };
 * assert.throws(() => checkBatch(model, batch, true), /no labels; a decoder-only loss needs/);
 * checkBatch(model, batch, false); // logits need no labels
 * tf.dispose(Object.values(batch));
 * ```
 */
export function checkBatch(model: FrozenModel, batch: PromptBatch, needLabels: boolean): void {
  checkInputs(batch);
  if (model.architecture === "t5") {
    if (!isSeq2Seq(batch)) {
      throw new TypeError(
        "Batch has no targetIds; an encoder-decoder (t5) model needs inputIds, inputMask, targetIds, targetMask",
      );
    }
    checkIds(batch.targetIds, "targetIds", "objective");
    checkSame(batch.targetMask, batch.targetIds, "targetMask", "targetIds");
    if (batch.targetIds.shape[0] !== batch.inputIds.shape[0]) {
      throw new RangeError(
        `Batch targetIds has ${batch.targetIds.shape[0]} rows; expected ${
          batch.inputIds.shape[0]
        } as inputIds`,
      );
    }
    return;
  }
  if (isSeq2Seq(batch)) {
    throw new TypeError(
      `Batch has targetIds; a decoder-only (${model.architecture}) model takes inputIds, inputMask and labels`,
    );
  }
  if (needLabels) {
    if (batch.labels === undefined) {
      throw new TypeError("Batch has no labels; a decoder-only loss needs labels [B, T]");
    }
    checkIds(batch.labels, "labels", "objective");
    checkSame(batch.labels, batch.inputIds, "labels", "inputIds");
  }
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Checks that a prompt (or each of a `MixedPrompts`') is float32 `[P, H]` with the model's
 * width `H`.
 *
 * @param model the model
 * @param prompt the prompt, or the prompts of each row
 * @param by who checks (how the error reads)
 * @throws {RangeError} naming the prompt's and the expected shape
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { checkPrompt } from "./prompted.ts";
 * import type { FrozenModel } from "./frozen.ts";
 * import assert from "node:assert/strict";
 * const embedding = tf.zeros([5, 4]); // [V, H = 4]
 * const model = { architecture: "gpt2", params: { token_embedder: { embedding } } } as FrozenModel;
 * const wide = tf.zeros([2, 3]);
 * assert.throws(() => checkPrompt(model, wide), /^RangeError: The prompt is float32 \[2, 3\]; expected float32 \[P, 4\]/);
 * tf.dispose([embedding, wide]);
 * ```
 */
export function checkPrompt(
  model: FrozenModel,
  prompt: PromptInput,
  by: CheckedBy = "objective",
): void {
  const width = embeddingTable(model).shape[1];
  const prompts = prompt instanceof tf.Tensor ? [prompt] : prompt.prompts;
  prompts.forEach((p, k) => {
    if (p.rank !== 2 || p.dtype !== "float32" || p.shape[1] !== width) {
      const which = prompt instanceof tf.Tensor ? "the prompt" : `prompt ${k}`;
      const lead = by === "decoding"
        ? `Decoding: ${which}`
        : which[0].toUpperCase() + which.slice(1);
      throw new RangeError(
        `${lead} is ${p.dtype} ${shapeText(p)}; expected float32 [P, ${width}] (the model's width)`,
      );
    }
  });
}
// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Embeds ids with the model's input embedding table.
 *
 * @param model the model
 * @param ids `[B, T]` int32
 * @returns `[B, T, H]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { embed } from "./prompted.ts";
 * import type { FrozenModel } from "./frozen.ts";
 * import assert from "node:assert/strict";
 * const embedding = tf.tensor2d([[0, 0], [1, 1], [2, 2]]); // row i filled with i
 * const model = { architecture: "llama", params: { token_embedder: { embedding } } } as FrozenModel;
 * const ids = tf.tensor2d([[2, 0]], [1, 2], "int32");
 * const e = embed(model, ids);
 * assert.deepEqual(e.arraySync(), [[[2, 2], [0, 0]]]);
 * tf.dispose([embedding, ids, e]);
 * ```
 */
export function embed(model: FrozenModel, ids: tf.Tensor): tf.Tensor {
  return tf.gather(embeddingTable(model), ids); // [V, H] by [B, T] → [B, T, H]
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * The model's input: the embedded ids with the prompt combined in (or alone, without a prompt).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { PromptedInputs } from "./prompted.ts";
 * import assert from "node:assert/strict";
 * const inputs: PromptedInputs = { embeds: tf.zeros([1, 3, 2]), mask: tf.ones([1, 3], "int32") };
 * assert.equal(inputs.index, undefined); // no prompt: positions are the inputs' own
 * tf.dispose([inputs.embeds, inputs.mask]);
 * ```
 */
export interface PromptedInputs {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, W, H]`, `W = P + T` with a prompt, `T` without. */
  readonly embeds: tf.Tensor;
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, W]` int32, 1 where the model may attend. */
  readonly mask: tf.Tensor;
  /** The combine's output → source map (`Combined.index`), with a prompt. */
  readonly index?: Int32Array;
  /** The combine's input → output map (`Combined.placed`), with a prompt. */
  readonly placed?: Int32Array;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Embeds a batch's ids and combines the prompt in: `combine(prompt, embed(inputIds), inputMask)`.
 * Without a prompt, the embedded ids and their mask as 0/1 int32. Call it inside a `tf.tidy`.
 *
 * @param model the model
 * @param prompt `[P, H]` float32, one per row (`MixedPrompts`), or undefined for none
 * @param batch the ids and mask `[B, T]`
 * @param combine where the prompt goes
 * @returns the embeddings `[B, W, H]`, mask `[B, W]` and, with a prompt, the index maps
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { promptedInputs } from "./prompted.ts";
 * import { prefix } from "./combine.ts";
 * import type { FrozenModel } from "./frozen.ts";
 * import assert from "node:assert/strict";
 * const embedding = tf.tensor2d([[0], [1], [2]]); // [V = 3, H = 1], row i filled with i
 * const model = { architecture: "gpt2", params: { token_embedder: { embedding } } } as FrozenModel;
 * const batch = { inputIds: tf.tensor2d([[0, 2]], [1, 2], "int32"), inputMask: tf.tensor2d([[0, 1]], [1, 2], "int32") };
 * const prompt = tf.tensor2d([[9]]); // [P = 1, H = 1]
 * const [embeds, mask] = tf.tidy(() => {
 *   const x = promptedInputs(model, prompt, batch, prefix);
 *   return [x.embeds, x.mask];
 * });
 * assert.deepEqual(embeds.dataSync(), Float32Array.from([0, 9, 2])); // after the left pad
 * assert.deepEqual(mask.dataSync(), Int32Array.from([0, 1, 1]));
 * tf.dispose([embedding, prompt, embeds, mask, ...Object.values(batch)]);
 * ```
 */
export function promptedInputs(
  model: FrozenModel,
  prompt: PromptInput | undefined,
  batch: InputBatch,
  combine: Combine,
): PromptedInputs {
  const embeds = embed(model, batch.inputIds); // [B, T, H]
  if (prompt === undefined) {
    return { embeds, mask: tf.cast(tf.notEqual(batch.inputMask, 0), "int32") }; // [B, T]
  }
  const c = combine(prompt, embeds, batch.inputMask); // [B, P + T, H], [B, P + T]
  return { embeds: c.embeds, mask: c.mask, index: c.index, placed: c.placed };
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * A decoder-only forward pass, whichever the architecture (GPT-2 or the LLaMA family).
 *
 * @param model a decoder-only model
 * @param options ids or embeddings, mask, positions, cache
 * @returns the logits `[B, T, V]` and the new cache
 * @throws {TypeError} for an encoder-decoder model
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "./load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { disposeCache } from "./types.ts";
 * import { causalForward } from "./prompted.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/gpt2_tiny"));
 * const inputIds = tf.tensor2d([[1, 5, 6]], [1, 3], "int32");
 * const out = causalForward(model, { inputIds });
 * assert.equal(out.logits.shape.join(), "1,3,96");
 * tf.dispose([inputIds, out.logits]);
 * disposeCache(out.cache);
 * disposeTree(model.params);
 * ```
 */
export function causalForward(model: FrozenModel, options: DecoderOptions): DecoderOutput {
  if (model.architecture === "gpt2") return gpt2Forward(model.params, model.config, options);
  if (model.architecture === "llama") return llamaForward(model.params, model.config, options);
  throw notDecoderOnly(model);
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * A decoder-only forward pass up to the head, whichever the architecture: the final hidden
 * states, for {@link causalHead} to turn into logits only where they are read.
 *
 * @param model a decoder-only model
 * @param options ids or embeddings, mask, positions, cache, recompute
 * @returns the hidden states `[B, T, H]` and the new cache
 * @throws {TypeError} for an encoder-decoder model
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "./load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { disposeCache } from "./types.ts";
 * import { causalHead, causalHidden } from "./prompted.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/llama_gqa"));
 * const inputIds = tf.tensor2d([[1, 5, 6]], [1, 3], "int32");
 * const out = causalHidden(model, { inputIds });
 * const last = tf.tidy(() => causalHead(model, out.hidden.slice([0, 2, 0], [1, 1, 32])));
 * assert.deepEqual(out.hidden.shape, [1, 3, 32]); // [B, T, H]
 * assert.deepEqual(last.shape, [1, 1, 96]); // the last position's logits only
 * tf.dispose([inputIds, out.hidden, last]);
 * disposeCache(out.cache);
 * disposeTree(model.params);
 * ```
 */
export function causalHidden(model: FrozenModel, options: DecoderOptions): DecoderHidden {
  if (model.architecture === "gpt2") return gpt2Hidden(model.params, model.config, options);
  if (model.architecture === "llama") return llamaHidden(model.params, model.config, options);
  throw notDecoderOnly(model);
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * A decoder-only model's head (tied or not) at any rows of final hidden states.
 *
 * @param model a decoder-only model
 * @param hidden `[..., H]` rows of {@link causalHidden}'s states
 * @returns `[..., V]` logits, a new tensor
 * @throws {TypeError} for an encoder-decoder model
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { causalHead } from "./prompted.ts";
 * import type { FrozenModel } from "./frozen.ts";
 * import assert from "node:assert/strict";
 * const embedding = tf.tensor2d([[1, 0], [0, 1], [1, 1]]); // [V = 3, H = 2], a tied head
 * const model = { architecture: "gpt2", params: { token_embedder: { embedding } } } as FrozenModel;
 * const logits = causalHead(model, tf.tensor2d([[2, 3]]));
 * assert.deepEqual(logits.arraySync(), [[2, 3, 5]]);
 * ```
 */
export function causalHead(model: FrozenModel, hidden: tf.Tensor): tf.Tensor {
  if (model.architecture === "gpt2") return gpt2Head(model.params, hidden);
  if (model.architecture === "llama") return llamaHead(model.params, hidden);
  throw notDecoderOnly(model);
}

function notDecoderOnly(model: FrozenModel): TypeError {
  return new TypeError(`Decoding: ${model.architecture} is not a decoder-only model`);
}

/** Labels with `ignore` wherever the mask is 0: `[B, S]` int32. */
function maskedLabels(ids: tf.Tensor, mask: tf.Tensor, ignore: number): tf.Tensor {
  return tf.where(tf.notEqual(mask, 0), ids, tf.fill(ids.shape, ignore, "int32"));
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * T5's decoder over targets with teacher forcing: `labels = targetIds` where `targetMask` is 1,
 * else `ignore`; decoder inputs `shiftRight(labels)`, as `transformers`' `_shift_right`.
 *
 * @param model a T5 model
 * @param encoderStates `[B, T', H]` the encoder's output
 * @param encoderMask `[B, T']` the mask it was computed with
 * @param targets `targetIds` and `targetMask` `[B, S]`
 * @param ignore the label of a position that is not a target
 * @returns the logits `[B, S, V]` and the labels `[B, S]` (call it inside a `tf.tidy`)
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "./load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { t5DecodeTargets, t5EncodeWithPrompt } from "./prompted.ts";
 * import { prefix } from "./combine.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/t5_v1_1"));
 * if (model.architecture !== "t5") throw new Error("a T5 fixture");
 * const batch = { inputIds: tf.tensor2d([[5, 1]], [1, 2], "int32"), inputMask: tf.ones([1, 2], "int32") };
 * const targets = { targetIds: tf.tensor2d([[7, 1]], [1, 2], "int32"), targetMask: tf.tensor2d([[1, 0]], [1, 2], "int32") };
 * const out = tf.tidy(() => {
 *   const enc = t5EncodeWithPrompt(model, batch, undefined, prefix, "none");
 *   return t5DecodeTargets(model, enc.states, enc.mask, targets, -100);
 * });
 * assert.equal(out.logits.shape.join(), "1,2,96");
 * assert.deepEqual(out.labels.dataSync(), Int32Array.from([7, -100]));
 * tf.dispose([out.logits, out.labels, ...Object.values(batch), ...Object.values(targets)]);
 * disposeTree(model.params);
 * ```
 */
export function t5DecodeTargets(
  model: T5Model,
  encoderStates: tf.Tensor,
  encoderMask: tf.Tensor,
  targets: Pick<Seq2SeqBatch, "targetIds" | "targetMask">,
  ignore: number,
): { logits: tf.Tensor; labels: tf.Tensor } {
  const labels = maskedLabels(targets.targetIds, targets.targetMask, ignore); // [B, S]
  const decoderInputIds = shiftRight(
    labels,
    model.config.decoderStartTokenId,
    model.config.padTokenId,
  );
  const { logits } = t5Decode(model.params, model.config, {
    decoderInputIds,
    encoderStates,
    encoderMask,
    returnCache: false,
  }); // [B, S, V]
  return { logits, labels };
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * T5's encoder over `[prompt ; embedded inputs]` (placed by the combine; the inputs alone without
 * a prompt): the states and the mask the decoder attends with. Call it inside a `tf.tidy`.
 *
 * @param model a T5 model
 * @param batch the input ids and mask `[B, T]`
 * @param prompt `[P, H]` float32, one per row (`MixedPrompts`), or undefined for none
 * @param combine where the prompt goes
 * @param recompute what the backward pass keeps of the encoder
 * @returns the states `[B, P + T, H]`, the mask `[B, P + T]` and the combine's index maps
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "./load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { t5EncodeWithPrompt } from "./prompted.ts";
 * import { prefix } from "./combine.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/t5_v1_1"));
 * if (model.architecture !== "t5") throw new Error("a T5 fixture");
 * const batch = { inputIds: tf.tensor2d([[5, 6, 1]], [1, 3], "int32"), inputMask: tf.ones([1, 3], "int32") };
 * const prompt = tf.zeros([2, 32]);
 * const [states, mask] = tf.tidy(() => {
 *   const enc = t5EncodeWithPrompt(model, batch, prompt, prefix, "none");
 *   return [enc.states, enc.mask];
 * });
 * assert.equal(states.shape.join(), "1,5,32");
 * assert.deepEqual(mask.dataSync(), Int32Array.from([1, 1, 1, 1, 1]));
 * tf.dispose([states, mask, prompt, ...Object.values(batch)]);
 * disposeTree(model.params);
 * ```
 */
export function t5EncodeWithPrompt(
  model: T5Model,
  batch: InputBatch,
  prompt: PromptInput | undefined,
  combine: Combine,
  recompute: Recompute,
): { states: tf.Tensor; mask: tf.Tensor; index?: Int32Array } {
  const inputs = promptedInputs(model, prompt, batch, combine); // [B, P + T, H]
  const states = t5Encode(model.params, model.config, {
    inputsEmbeds: inputs.embeds,
    attentionMask: inputs.mask,
    recompute,
  }); // [B, P + T, H]
  return { states, mask: inputs.mask, index: inputs.index };
}

/**
 * How {@link promptForward} and {@link causalTargets} run: where the prompt goes, the label of
 * positions that are not targets, and what the backward pass keeps of each layer.
 *
 * @example
 * ```ts
 * import type { ForwardOptions } from "./prompted.ts";
 * import { suffix } from "./combine.ts";
 * import assert from "node:assert/strict";
 * const options: ForwardOptions = { combine: suffix, ignore: -100, recompute: "layer" };
 * assert.equal(options.recompute, "layer");
 * ```
 */
export interface ForwardOptions {
  /** Where the prompt goes in the (encoder) input. */
  readonly combine: Combine;
  /** The label of a position that is not a target. */
  readonly ignore: number;
  /** What the backward pass keeps of T5's encoder, or of each decoder-only layer. */
  readonly recompute: Recompute;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * The forward pass with the prompt: T5's decoder logits `[B, S, V]` with the labels, or a
 * decoder-only model's logits over the combined sequence `[B, P + T, V]` with the maps that undo
 * the combine. Call it inside a `tf.tidy`.
 *
 * @param model the model
 * @param batch a batch that fits the model (see {@link checkBatch})
 * @param prompt `[P, H]` float32, one per row (`MixedPrompts`), or undefined for none
 * @param options the combine, the ignored label, what the encoder's backward pass keeps
 * @returns the logits, and the labels (T5) or the index maps (decoder-only)
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "./load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { promptForward } from "./prompted.ts";
 * import { prefix } from "./combine.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/gpt2_tiny"));
 * const batch = { inputIds: tf.tensor2d([[1, 5, 6]], [1, 3], "int32"), inputMask: tf.ones([1, 3], "int32") };
 * const prompt = tf.zeros([2, 24]);
 * const logits = tf.tidy(() => promptForward(model, batch, prompt, { combine: prefix, ignore: -100, recompute: "none" }).logits);
 * assert.equal(logits.shape.join(), "1,5,96"); // [B, P + T, V]
 * tf.dispose([logits, prompt, ...Object.values(batch)]);
 * disposeTree(model.params);
 * ```
 */
export function promptForward(
  model: FrozenModel,
  batch: PromptBatch,
  prompt: PromptInput | undefined,
  options: ForwardOptions,
): { logits: tf.Tensor; labels?: tf.Tensor; placed?: Int32Array; index?: Int32Array } {
  const { combine, ignore, recompute } = options;
  if (model.architecture === "t5") {
    const encoded = t5EncodeWithPrompt(model, batch, prompt, combine, recompute);
    return t5DecodeTargets(model, encoded.states, encoded.mask, batch as Seq2SeqBatch, ignore);
  }
  const inputs = promptedInputs(model, prompt, batch, combine); // [B, P + T, H]
  const { logits } = causalForward(model, {
    inputsEmbeds: inputs.embeds,
    attentionMask: inputs.mask,
  }); // [B, P + T, V]
  return { logits, placed: inputs.placed, index: inputs.index };
}

/**
 * The next-token targets of a decoder-only batch, on the host: for each row, the positions `j`
 * of the combined sequence whose next label (moved with the inputs, ignored at the prompt) is a
 * target, as flat rows `i·W + j` of `[B·W]`, padded to `K` per row (the most any row has, at
 * least 1) with the row `B·W` (a zero row) and the label `ignore`.
 */
function targetRows(
  labels: ArrayLike<number>,
  b: number,
  t: number,
  width: number,
  index: Int32Array | undefined,
  ignore: number,
): { rows: Int32Array; next: Int32Array; k: number } {
  const label = (i: number, c: number) => {
    if (index === undefined) return labels[i * t + c];
    const src = index[i * width + c];
    return src < b * t ? labels[src] : ignore; // the prompt's positions have no label
  };
  const perRow: number[][] = [];
  for (let i = 0; i < b; i++) {
    const found: number[] = [];
    for (let j = 0; j + 1 < width; j++) if (label(i, j + 1) !== ignore) found.push(j);
    perRow.push(found);
  }
  const k = Math.max(1, ...perRow.map((r) => r.length));
  const rows = new Int32Array(b * k).fill(b * width);
  const next = new Int32Array(b * k).fill(ignore);
  perRow.forEach((found, i) =>
    found.forEach((j, slot) => {
      rows[i * k + slot] = i * width + j;
      next[i * k + slot] = label(i, j + 1);
    })
  );
  return { rows, next, k };
}

/**
 * Rows of `[M, H]` by host indices in `[0, M]` (`M` picks a zero row), each row of `x` picked at
 * most once; the gradient is a gather too (tfjs's own gradient of `gather` needs
 * `UnsortedSegmentSum`, which the WASM backend lacks).
 */
// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Rows of a matrix by index, each row picked at most once, with a gradient that is a gather
 * too (tfjs's own is a slow segment sum); an index past the end gives a zero row.
 *
 * @param x `[M, H]`
 * @param rows `[N]` distinct indices in `[0, M]`
 * @returns `[N, H]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { pickRows } from "./prompted.ts";
 * import assert from "node:assert/strict";
 * const x = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
 * const g = tf.grad((a: tf.Tensor) => tf.sum(pickRows(a, Int32Array.from([2, 0]))))(x);
 * assert.deepEqual(Array.from(g.dataSync()), [1, 1, 0, 0, 1, 1]);
 * tf.dispose([x, g]);
 * ```
 */
export function pickRows(x: tf.Tensor, rows: Int32Array): tf.Tensor {
  const [m, h] = x.shape as number[];
  const inverse = new Int32Array(m).fill(rows.length); // a row not picked gets the zero gradient
  rows.forEach((r, n) => {
    if (r < m) inverse[r] = n;
  });
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xs = args[0] as tf.Tensor;
    const value = tf.gather(tf.concat([xs, tf.zeros([1, h])]), tf.tensor1d(rows, "int32")); // [N, H]
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) =>
        tf.gather(tf.concat([dy as tf.Tensor, tf.zeros([1, h])]), tf.tensor1d(inverse, "int32")), // [M, H]
    };
  }) as (x: tf.Tensor) => tf.Tensor;
  return f(x);
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * A decoder-only forward pass lined up for a next-token loss, with the head applied only where
 * the loss reads it: the hidden states at each row's target positions (those whose next label,
 * moved with the inputs and ignored at the prompt, is not `ignore`), then the head there. Each
 * row has `K` slots, the most targets any row has (at least 1); a row with fewer has slots
 * labelled `ignore`. What `logits[:, :-1]` against the labels at `[:, 1:]` computes, without the
 * `[B, P + T, V]` logits. Call it inside a `tf.tidy`.
 *
 * @param model a decoder-only model
 * @param batch a batch with labels `[B, T]`
 * @param prompt `[P, H]` float32, one per row (`MixedPrompts`), or undefined for none
 * @param options the combine, the ignored label, what the backward pass keeps
 * @returns the logits `[B, K, V]` and the next tokens `[B, K]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "./load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { causalTargets } from "./prompted.ts";
 * import { prefix } from "./combine.ts";
 * import assert from "node:assert/strict";
 * const llama = orThrow(await loadModel("tests/fixtures/models/llama_gqa"));
 * const ids = tf.tensor2d([[1, 5, 6]], [1, 3], "int32");
 * const labels = tf.tensor2d([[-100, 5, 6]], [1, 3], "int32");
 * const [logits, next] = tf.tidy(() => {
 *   const batch = { inputIds: ids, inputMask: tf.onesLike(ids), labels };
 *   const out = causalTargets(llama, batch, tf.zeros([1, 32]), { combine: prefix, ignore: -100, recompute: "none" });
 *   return [out.logits, out.next];
 * });
 * // [prompt, 1, 5, 6]: labels [-100, -100, 5, 6]; positions 1 and 2 predict 5 and 6.
 * assert.deepEqual(next.dataSync(), Int32Array.from([5, 6]));
 * assert.deepEqual(logits.shape, [1, 2, 96]); // [B, K, V]
 * tf.dispose([logits, next, ids, labels]);
 * disposeTree(llama.params);
 * ```
 */
export function causalTargets(
  model: FrozenModel,
  batch: CausalBatch,
  prompt: PromptInput | undefined,
  options: ForwardOptions,
): { logits: tf.Tensor; next: tf.Tensor } {
  const inputs = promptedInputs(model, prompt, batch, options.combine); // [B, W, H]
  const { hidden } = causalHidden(model, {
    inputsEmbeds: inputs.embeds,
    attentionMask: inputs.mask,
    recompute: options.recompute,
  }); // [B, W, H]
  const [b, width, h] = hidden.shape as number[];
  const t = batch.inputIds.shape[1] as number;
  const index = prompt === undefined ? undefined : inputs.index;
  const { rows, next, k } = targetRows(
    batch.labels!.dataSync(),
    b,
    t,
    width,
    index,
    options.ignore,
  );
  const picked = pickRows(tf.reshape(hidden, [b * width, h]), rows); // [B·K, H]
  const logits = causalHead(model, tf.reshape(picked, [b, k, h])); // [B, K, V]
  return { logits, next: tf.tensor2d(next, [b, k], "int32") };
}
