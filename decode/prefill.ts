/**
 * The model-agnostic decoding steps: {@link prefill} reads the input (with the soft prompt put in
 * by a combine function) and gives the first token's logits; {@link decodeStep} feeds one token per row
 * and gives the next logits; {@link extend} feeds several (teacher forcing, for scoring).
 *
 * - T5: prefill encodes `combine(prompt, embed(inputIds))` and runs the decoder on
 *   `decoder_start_token_id`; each step runs the decoder on the new tokens with the self-attention
 *   cache (the cross-attention keys and values are projected once, at prefill).
 * - GPT-2 and LLaMA: prefill runs the combined prefix, fills the cache and takes the logits at each
 *   row's last real position (left or right padding both work: padding is masked out and positions
 *   count real tokens, `cumsum(mask) - 1`); each step appends one column of ones to the attention
 *   mask, so positions continue from there.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type FrozenModel, vocabSize } from "../model/frozen.ts";
import { t5Decode, t5Encode } from "../model/t5/mod.ts";
import { type Combine, prefix, type PromptInput } from "../model/combine.ts";
import {
  causalForward,
  causalHead,
  causalHidden,
  checkInputs,
  checkPrompt,
  embed,
  type InputBatch,
  promptedInputs,
  shapeText,
} from "../model/prompted.ts";
import type { DecodeState } from "./state.ts";

/**
 * Options of {@link prefill}.
 *
 * @example
 * ```ts
 * import type { PrefillOptions } from "./prefill.ts";
 * import { prefixAfterBos } from "../model/combine.ts";
 * import assert from "node:assert/strict";
 * const options: PrefillOptions = { combine: prefixAfterBos, useCache: false };
 * assert(options.useCache === false);
 * ```
 */
export interface PrefillOptions {
  /** Where the prompt goes in each row; default `prefix` (before the first real token). */
  readonly combine?: Combine;
  /**
   * Keep the key/value cache (default true). False keeps the whole sequence instead and reruns
   * the model on all of it at every step: slow, but an independent reference for tests.
   */
  readonly useCache?: boolean;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * What {@link prefill} and {@link decodeStep} return: the next token's logits and the new state. The
 * caller owns both.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { StepOutput } from "./prefill.ts";
 * import { disposeDecodeState } from "./state.ts";
 * import assert from "node:assert/strict";
 * const out: StepOutput = {
 *   logits: tf.zeros([1, 8]),
 *   state: { _tag: "Full", architecture: "t5", mask: tf.ones([1, 2], "int32"), sequence: tf.zeros([1, 1], "int32") },
 * };
 * assert(out.logits.shape[1] === 8);
 * out.logits.dispose();
 * disposeDecodeState(out.state);
 * ```
 */
export interface StepOutput {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, V]` float32 logits of the next token. */
  readonly logits: tf.Tensor;
  /** The state after the tokens fed so far. */
  readonly state: DecodeState;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * What {@link extend} returns: logits at every fed position and the new state.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { ExtendOutput } from "./prefill.ts";
 * import { disposeDecodeState } from "./state.ts";
 * import assert from "node:assert/strict";
 * const out: ExtendOutput = {
 *   logits: tf.zeros([1, 2, 8]),
 *   state: { _tag: "Full", architecture: "t5", mask: tf.ones([1, 2], "int32"), sequence: tf.zeros([1, 3], "int32") },
 * };
 * assert(out.logits.shape[1] === 2);
 * out.logits.dispose();
 * disposeDecodeState(out.state);
 * ```
 */
export interface ExtendOutput {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, S, V]`: position `s` holds the logits of the token after the `s`-th fed one. */
  readonly logits: tf.Tensor;
  /** The state after the fed tokens. */
  readonly state: DecodeState;
}

/**
 * For each row, the flat index (into `[B·W]`) of its last real position in the combined
 * sequence: the last where the combined mask (the prompt's positions included) is non-zero.
 */
function lastRealPositions(combinedMask: ArrayLike<number>, b: number, width: number): Int32Array {
  const last = new Int32Array(b);
  for (let i = 0; i < b; i++) {
    let found = -1;
    for (let j = width - 1; j >= 0 && found < 0; j--) if (combinedMask[i * width + j]) found = j;
    if (found < 0) {
      throw new RangeError(
        `Decoding: row ${i} has no real token and there is no prompt; expected at least one position where inputMask is non-zero`,
      );
    }
    last[i] = i * width + found;
  }
  return last;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Reads the inputs, with the prompt, and returns the logits of the first token to generate and
 * the state to continue from (see the module doc for what each architecture does).
 *
 * @param model a loaded frozen model
 * @param prompt `[P, H]` float32 soft prompt, one per row (`MixedPrompts`), or undefined for none
 * @param batch input ids and mask `[B, T]` (the caller keeps owning them)
 * @param options the combine (default `prefix`) and whether to keep a cache (default true)
 * @returns logits `[B, V]` and the state; the caller disposes both (see `disposeDecodeState`)
 * @throws {TypeError} or {RangeError} for inputs of the wrong kind or shape, or a row with no real
 *   token and no prompt
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "../model/load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { decodeStep, prefill } from "./prefill.ts";
 * import { disposeDecodeState } from "./state.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/t5_v1_1"));
 * const inputIds = tf.tensor2d([[5, 6, 1]], [1, 3], "int32");
 * const inputMask = tf.ones([1, 3], "int32");
 * const prompt = tf.zeros([2, 32]);
 * const first = prefill(model, prompt, { inputIds, inputMask });
 * const next = decodeStep(model, first.state, [7]);
 * assert(first.logits.shape.join() === "1,96" && next.logits.shape.join() === "1,96");
 * tf.dispose([inputIds, inputMask, prompt, first.logits, next.logits]);
 * disposeDecodeState(first.state);
 * disposeDecodeState(next.state);
 * disposeTree(model.params);
 * ```
 */
export function prefill(
  model: FrozenModel,
  prompt: PromptInput | undefined,
  batch: InputBatch,
  options: PrefillOptions = {},
): StepOutput {
  checkInputs(batch, "decoding");
  if (prompt !== undefined) checkPrompt(model, prompt, "decoding");
  const combine = options.combine ?? prefix;
  const cached = options.useCache ?? true;
  return tf.tidy(() =>
    encodeInputs(model, prompt, batch, combine, cached) as unknown as tf.TensorContainer
  ) as unknown as StepOutput;
}

/** {@link prefill}'s computation, to be called inside a `tf.tidy`. */
function encodeInputs(
  model: FrozenModel,
  prompt: PromptInput | undefined,
  batch: InputBatch,
  combine: Combine,
  cached: boolean,
): StepOutput {
  const b = batch.inputIds.shape[0] as number;
  const prompted = promptedInputs(model, prompt, batch, combine); // [B, W, H], W = P + T or T
  const inputs = prompted.embeds;
  const mask = prompted.mask; // [B, W]
  const width = inputs.shape[1] as number;
  const last = lastRealPositions(mask.dataSync(), b, width);
  if (model.architecture === "t5") {
    const params = model.params;
    const encoderStates = t5Encode(params, model.config, {
      inputsEmbeds: inputs,
      attentionMask: mask,
    }); // [B, P + T, H]
    const start = tf.fill([b, 1], model.config.decoderStartTokenId, "int32"); // [B, 1]
    const decoded = t5Decode(params, model.config, {
      decoderInputIds: start,
      encoderStates,
      encoderMask: mask,
    });
    const logits = tf.reshape(decoded.logits, [b, -1]); // [B, 1, V] → [B, V]
    const base = { architecture: "t5" as const, mask, encoderStates };
    const state: DecodeState = cached
      ? { _tag: "Cached", ...base, cache: decoded.cache }
      : { _tag: "Full", ...base, sequence: start };
    return { logits, state };
  }
  const forward = causalHidden(model, { inputsEmbeds: inputs, attentionMask: mask }); // [B, W, H]
  const h = forward.hidden.shape[2] as number;
  const rows = tf.reshape(forward.hidden, [b * width, h]); // [B, W, H] → [B·W, H]
  // The head only at each row's last real position: [B, H] → [B, V].
  const logits = causalHead(model, tf.gather(rows, tf.tensor1d(last, "int32")));
  const architecture = model.architecture;
  const state: DecodeState = cached
    ? { _tag: "Cached", architecture, mask, cache: forward.cache }
    : { _tag: "Full", architecture, mask, sequence: inputs };
  return { logits, state };
}

function checkTokens(model: FrozenModel, state: DecodeState, tokens: tf.Tensor): void {
  const b = state.mask.shape[0];
  if (tokens.dtype !== "int32" || tokens.rank !== 2 || tokens.shape[0] !== b) {
    throw new TypeError(
      `Decoding: the fed tokens are ${tokens.dtype} ${
        shapeText(tokens)
      }; expected int32 [${b}, S] (the state's rows)`,
    );
  }
  if (state.architecture !== model.architecture) {
    throw new TypeError(
      `Decoding: the state belongs to a ${state.architecture} model; expected ${model.architecture}`,
    );
  }
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Feeds `S` tokens per row after the state (teacher forcing) and returns the logits at each of
 * them: position `s` scores the token that follows the `s`-th fed one. The given state is left as
 * it was; the caller disposes it when done.
 *
 * @param model the model the state came from
 * @param state the state after prefill or earlier steps
 * @param tokens `[B, S]` int32 tokens to feed (the caller keeps owning them)
 * @returns logits `[B, S, V]` and the state after the tokens; the caller disposes both
 * @throws {TypeError} when the tokens are not int32 `[B, S]` or the state is another model's
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "../model/load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { extend, prefill } from "./prefill.ts";
 * import { disposeDecodeState } from "./state.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/gpt2_tiny"));
 * const inputIds = tf.tensor2d([[1, 5, 6]], [1, 3], "int32");
 * const inputMask = tf.ones([1, 3], "int32");
 * const first = prefill(model, undefined, { inputIds, inputMask });
 * const label = tf.tensor2d([[8, 9]], [1, 2], "int32");
 * const more = extend(model, first.state, label);
 * assert(more.logits.shape.join() === "1,2,96");
 * tf.dispose([inputIds, inputMask, label, first.logits, more.logits]);
 * disposeDecodeState(first.state);
 * disposeDecodeState(more.state);
 * disposeTree(model.params);
 * ```
 */
export function extend(model: FrozenModel, state: DecodeState, tokens: tf.Tensor): ExtendOutput {
  checkTokens(model, state, tokens);
  return tf.tidy(() =>
    feed(model, state, tokens) as unknown as tf.TensorContainer
  ) as unknown as ExtendOutput;
}

/** {@link extend}'s computation, to be called inside a `tf.tidy`. */
function feed(model: FrozenModel, state: DecodeState, tokens: tf.Tensor): ExtendOutput {
  const [b, s] = tokens.shape as [number, number];
  if (model.architecture === "t5") {
    const params = model.params;
    const encoderStates = state.encoderStates!; // [B, T, H]
    const base = {
      architecture: "t5" as const,
      mask: tf.clone(state.mask),
      encoderStates: tf.clone(encoderStates),
    };
    if (state._tag === "Cached") {
      const decoded = t5Decode(params, model.config, {
        decoderInputIds: tokens,
        encoderStates,
        encoderMask: state.mask,
        cache: state.cache,
      }); // [B, S, V]
      return { logits: decoded.logits, state: { _tag: "Cached", ...base, cache: decoded.cache } };
    }
    const sequence = tf.concat([state.sequence, tokens], 1); // [B, S_past + S]
    const decoded = t5Decode(params, model.config, {
      decoderInputIds: sequence,
      encoderStates,
      encoderMask: state.mask,
    }); // [B, S_past + S, V]
    const total = sequence.shape[1] as number;
    const logits = tf.slice(decoded.logits, [0, total - s, 0], [b, s, -1]); // [B, S, V]
    return { logits, state: { _tag: "Full", ...base, sequence } };
  }
  const architecture = model.architecture;
  const mask = tf.concat([state.mask, tf.ones([b, s], "int32")], 1); // [B, W + S]
  if (state._tag === "Cached") {
    const forward = causalForward(model, {
      inputIds: tokens,
      attentionMask: mask,
      cache: state.cache,
    }); // [B, S, V]
    return {
      logits: forward.logits,
      state: { _tag: "Cached", architecture, mask, cache: forward.cache },
    };
  }
  const embeds = embed(model, tokens); // [B, S, H]
  const sequence = tf.concat([state.sequence, embeds], 1); // [B, W + S, H]
  const forward = causalForward(model, { inputsEmbeds: sequence, attentionMask: mask });
  const total = sequence.shape[1] as number;
  const logits = tf.slice(forward.logits, [0, total - s, 0], [b, s, -1]); // [B, S, V]
  return { logits, state: { _tag: "Full", architecture, mask, sequence } };
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Feeds one token per row and returns the next logits: with a cached state, one token's work.
 * The given state is left as it was; the caller disposes it when done.
 *
 * @param model the model the state came from
 * @param state the state after prefill or earlier steps, `B` rows
 * @param nextTokens `B` token ids, integers in `[0, V)` (finished rows feed padding)
 * @returns logits `[B, V]` and the new state; the caller disposes both
 * @throws {RangeError} when there are not `B` tokens or one is not a valid id
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "../model/load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { decodeStep, prefill } from "./prefill.ts";
 * import { disposeDecodeState } from "./state.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/llama_gqa"));
 * const inputIds = tf.tensor2d([[0, 1, 5], [1, 7, 8]], [2, 3], "int32");
 * const inputMask = tf.tensor2d([[0, 1, 1], [1, 1, 1]], [2, 3], "int32"); // left padding
 * const first = prefill(model, undefined, { inputIds, inputMask });
 * const next = decodeStep(model, first.state, [9, 10]);
 * assert(next.logits.shape.join() === "2,96");
 * tf.dispose([inputIds, inputMask, first.logits, next.logits]);
 * disposeDecodeState(first.state);
 * disposeDecodeState(next.state);
 * disposeTree(model.params);
 * ```
 */
export function decodeStep(
  model: FrozenModel,
  state: DecodeState,
  nextTokens: ArrayLike<number>,
): StepOutput {
  const b = state.mask.shape[0];
  const v = vocabSize(model);
  if (nextTokens.length !== b) {
    throw new RangeError(`Decoding: ${nextTokens.length} next tokens; expected ${b} (one per row)`);
  }
  for (let i = 0; i < b; i++) {
    const id = nextTokens[i];
    if (!Number.isInteger(id) || id < 0 || id >= v) {
      throw new RangeError(`Decoding: next token ${i} is ${id}; expected an integer in [0, ${v})`);
    }
  }
  return tf.tidy(() => {
    const tokens = tf.tensor2d(Int32Array.from(nextTokens), [b, 1], "int32"); // [B, 1]
    checkTokens(model, state, tokens);
    const out = feed(model, state, tokens);
    const logits = tf.reshape(out.logits, [b, v]); // [B, 1, V] → [B, V]
    return { logits, state: out.state } as unknown as tf.TensorContainer;
  }) as unknown as StepOutput;
}
