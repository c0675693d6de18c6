/**
 * Plumbing every decoder-only model shares (GPT-2 and the LLaMA family): the forward options,
 * checking them, embedding token ids, default position ids, the causal-plus-padding attention
 * bias (with an optional sliding window) and growing the key/value cache.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { MASK_BIAS, paddingBias } from "./layers.ts";
import type { KVCache, LayerCache } from "./types.ts";
import type { Recompute } from "./kernels/recompute.ts";

/**
 * What a decoder-only forward pass takes besides its parameters and config.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { DecoderOptions } from "./_decoder.ts";
 * import { gpt2Forward, type Gpt2Params } from "./gpt2/forward.ts";
 * import { gpt2ParamShapes, parseGpt2Config } from "./gpt2/config.ts";
 * import { disposeTree, unflatten } from "../tree/tree.ts";
 * import { disposeCache } from "./types.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const config = orThrow(parseGpt2Config({ vocab_size: 10, n_embd: 6, n_head: 3, n_layer: 1, n_positions: 8 }, "c"));
 * const tree = unflatten([...gpt2ParamShapes(config)].map(([p, s]) => [p, tf.ones([...s])] as const));
 * const params = tree as unknown as Gpt2Params;
 * const inputIds = tf.tensor2d([[0, 4, 5]], [1, 3], "int32");
 * const attentionMask = tf.tensor2d([[0, 1, 1]], [1, 3], "int32"); // left padding
 * const options: DecoderOptions = { inputIds, attentionMask };
 * const out = gpt2Forward(params, config, options);
 * assert(out.logits.shape.join() === "1,3,10");
 * tf.dispose([inputIds, attentionMask, out.logits]);
 * disposeCache(out.cache);
 * disposeTree(tree);
 * ```
 */
export interface DecoderOptions {
  // deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
  /** `[B, T]` int32 token ids; give these or {@link DecoderOptions.inputsEmbeds}. */
  readonly inputIds?: tf.Tensor;
  // deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
  /** `[B, T, H]` input embeddings (for example a prompt followed by embedded ids). */
  readonly inputsEmbeds?: tf.Tensor;
  // deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
  /**
   * `[B, T_past + T]`: 1 for real tokens, 0 for padding, covering the cached tokens too (as
   * Hugging Face's `generate` extends it). Absent: every token is real.
   */
  readonly attentionMask?: tf.Tensor;
  // deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
  /**
   * `[B, T]` int32 positions. Absent: `cumsum(mask) - 1` (0 at padding) over the whole mask, its
   * last `T` columns, when a mask is given (so left padding works, as in `generate`); else
   * `T_past … T_past + T - 1`.
   */
  readonly positionIds?: tf.Tensor;
  // deno-doc-ignore private-type-ref -- KVCache is model/types.ts's own, exported with the model API
  /** The keys and values of earlier tokens, one entry per layer (absent or `[]`: none). */
  readonly cache?: KVCache;
  /**
   * What a backward pass keeps of each layer (default `"none"`: every activation); `"layer"`
   * keeps only each layer's input and recomputes the layer, and grows no cache (training
   * needs none).
   */
  readonly recompute?: Recompute;
  // deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
  /**
   * The additive attention bias `[B, 1, T, T]` for a sliding window (null: none), replacing the
   * causal and padding bias, for sequences that are not one causal run (several continuations
   * packed after one input); it must mask what the window excludes. Only without a cache.
   */
  readonly attentionBias?: (window: number | null) => tf.Tensor;
}

/**
 * What a decoder-only forward pass returns; the caller disposes both.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { DecoderOutput } from "./_decoder.ts";
 * import { gpt2Forward, type Gpt2Params } from "./gpt2/forward.ts";
 * import { gpt2ParamShapes, parseGpt2Config } from "./gpt2/config.ts";
 * import { disposeTree, unflatten } from "../tree/tree.ts";
 * import { disposeCache } from "./types.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const config = orThrow(parseGpt2Config({ vocab_size: 10, n_embd: 6, n_head: 3, n_layer: 1, n_positions: 8 }, "c"));
 * const tree = unflatten([...gpt2ParamShapes(config)].map(([p, s]) => [p, tf.ones([...s])] as const));
 * const params = tree as unknown as Gpt2Params;
 * const prompt = tf.tensor2d([[1, 2, 3]], [1, 3], "int32");
 * const first: DecoderOutput = gpt2Forward(params, config, { inputIds: prompt });
 * const next = tf.tensor2d([[4]], [1, 1], "int32");
 * const second: DecoderOutput = gpt2Forward(params, config, { inputIds: next, cache: first.cache });
 * assert(second.logits.shape.join() === "1,1,10" && second.cache[0].key.shape[2] === 4);
 * tf.dispose([prompt, next, first.logits, second.logits]);
 * disposeCache(first.cache);
 * disposeCache(second.cache);
 * disposeTree(tree);
 * ```
 */
export interface DecoderOutput {
  // deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
  /** `[B, T, V]` next-token logits. */
  readonly logits: tf.Tensor;
  // deno-doc-ignore private-type-ref -- KVCache is model/types.ts's own, exported with the model API
  /** The cache grown by these `T` tokens: keys `[B, Nkv, T_past + T, D]` per layer. */
  readonly cache: KVCache;
}

/**
 * A decoder-only forward pass without its head: the final hidden states (after the final norm)
 * and the grown cache; the caller disposes both. The head (`gpt2Head`, `llamaHead`) turns any
 * rows of the states into logits, so a loss applies it only where it reads them.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { DecoderHidden } from "./_decoder.ts";
 * import { gpt2Head, gpt2Hidden, type Gpt2Params } from "./gpt2/forward.ts";
 * import { gpt2ParamShapes, parseGpt2Config } from "./gpt2/config.ts";
 * import { disposeTree, unflatten } from "../tree/tree.ts";
 * import { disposeCache } from "./types.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const config = orThrow(parseGpt2Config({ vocab_size: 10, n_embd: 6, n_head: 3, n_layer: 1, n_positions: 8 }, "c"));
 * const tree = unflatten([...gpt2ParamShapes(config)].map(([p, s]) => [p, tf.ones([...s])] as const));
 * const params = tree as unknown as Gpt2Params;
 * const inputIds = tf.tensor2d([[1, 2, 3]], [1, 3], "int32");
 * const out: DecoderHidden = gpt2Hidden(params, config, { inputIds });
 * const last = tf.tidy(() => gpt2Head(params, out.hidden.reshape([3, 6]).slice([2, 0], [1, 6])));
 * assert.deepEqual(out.hidden.shape, [1, 3, 6]); // [B, T, H]
 * assert.deepEqual(last.shape, [1, 10]); // the last position's logits only, [1, V]
 * tf.dispose([inputIds, out.hidden, last]);
 * disposeCache(out.cache);
 * disposeTree(tree);
 * ```
 */
export interface DecoderHidden {
  // deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
  /** `[B, T, H]` the final hidden states, the head's input. */
  readonly hidden: tf.Tensor;
  // deno-doc-ignore private-type-ref -- KVCache is model/types.ts's own, exported with the model API
  /** The cache grown by these `T` tokens: keys `[B, Nkv, T_past + T, D]` per layer. */
  readonly cache: KVCache;
}

/**
 * A forward pass's output from its hidden states and a head: the logits at every row, the
 * hidden states disposed, the cache passed on.
 *
 * @param out the hidden states `[B, T, H]` and the cache (the states are disposed)
 * @param head the model's head, `[..., H] → [..., V]`
 * @returns logits `[B, T, V]` and the cache
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { withHead } from "./_decoder.ts";
 * import assert from "node:assert/strict";
 * const out = withHead({ hidden: tf.ones([1, 2, 3]), cache: [] }, (h) => tf.sum(h, -1, true));
 * assert.deepEqual(out.logits.arraySync(), [[[3], [3]]]);
 * out.logits.dispose();
 * ```
 */
export function withHead(out: DecoderHidden, head: (h: tf.Tensor) => tf.Tensor): DecoderOutput {
  const logits = head(out.hidden);
  out.hidden.dispose();
  return { logits, cache: out.cache };
}

/** Checked inputs of a forward pass. */
export interface PreparedInputs {
  /** `[B, T, H]` */
  readonly embeds: tf.Tensor;
  /** `[B, T]` int32 */
  readonly positions: tf.Tensor;
  /** `T_past`, the cached length. */
  readonly past: number;
  /** The attention bias `[B or 1, 1, T, T_past + T]` for a sliding window (null: none). */
  readonly bias: (window: number | null) => tf.Tensor;
}

/**
 * Looks up token embeddings.
 *
 * @param embedding `[V, H]`
 * @param ids `[B, T]` int32
 * @returns `[B, T, H]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { embedIds } from "./_decoder.ts";
 * import assert from "node:assert/strict";
 * const e = tf.tidy(() => embedIds(tf.eye(3), tf.tensor2d([[2]], [1, 1], "int32")));
 * assert(e.shape.join() === "1,1,3");
 * e.dispose();
 * ```
 */
export function embedIds(embedding: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  if (ids.dtype !== "int32" || ids.rank !== 2) {
    throw new TypeError(
      `Token ids must be an int32 [B, T] tensor, got ${ids.dtype} [${ids.shape.join(", ")}]`,
    );
  }
  return tf.gather(embedding, ids); // [B, T, H]
}

/**
 * Positions from a padding mask as `generate` computes them: `cumsum(mask) - 1`, 0 at padding.
 *
 * @param mask `[B, Tk]`
 * @param t how many of the last columns to keep
 * @returns `[B, t]` int32
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { positionsFromMask } from "./_decoder.ts";
 * import assert from "node:assert/strict";
 * const p = tf.tidy(() => positionsFromMask(tf.tensor2d([[0, 1, 1]], [1, 3], "int32"), 3));
 * assert(p.arraySync().toString() === "0,0,1");
 * p.dispose();
 * ```
 */
export function positionsFromMask(mask: tf.Tensor, t: number): tf.Tensor {
  return tf.tidy(() => {
    const m = tf.cast(mask, "int32"); // [B, Tk]
    const pos = tf.sub(tf.cumsum(m, 1), tf.scalar(1, "int32"));
    const kept = tf.where(tf.equal(m, 0), tf.zerosLike(pos), pos);
    const tk = (mask.shape as number[])[1];
    return kept.slice([0, tk - t], [-1, t]); // [B, t]
  });
}

/**
 * The causal bias with an optional sliding window: query `i` (at index `offset + i`) sees keys
 * `j` with `offset + i - window < j ≤ offset + i` (Hugging Face's `sliding_window_overlay`).
 *
 * @param tq query length
 * @param tk key length
 * @param offset the index of the first query
 * @param window the window, or null for plain causal attention
 * @returns `[1, 1, Tq, Tk]`
 * @example
 * ```ts
 * import { windowedCausalBias } from "./_decoder.ts";
 * import assert from "node:assert/strict";
 * const b = windowedCausalBias(1, 3, 2, 2);
 * assert(b.dataSync()[0] < 0 && b.dataSync()[1] === 0);
 * b.dispose();
 * ```
 */
export function windowedCausalBias(
  tq: number,
  tk: number,
  offset: number,
  window: number | null,
): tf.Tensor {
  const values = new Float32Array(tq * tk);
  for (let i = 0; i < tq; i++) {
    const q = offset + i;
    for (let j = 0; j < tk; j++) {
      const seen = j <= q && (window === null || j > q - window);
      values[i * tk + j] = seen ? 0 : MASK_BIAS;
    }
  }
  return tf.tensor4d(values, [1, 1, tq, tk]);
}

const dimsText = (t: tf.Tensor) => `[${t.shape.join(", ")}]`;

/**
 * Checks a forward pass's options and makes its embeddings, positions and attention bias. Call
 * inside a `tf.tidy`.
 *
 * @param embedding `[V, H]` the token embedding
 * @param options the forward options
 * @param numLayers layers of the model (a non-empty cache has one entry per layer)
 * @param label the architecture, for messages
 * @returns the prepared inputs
 * @throws {RangeError} or {TypeError} when inputs are missing, both given, or of wrong shapes
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { prepareInputs } from "./_decoder.ts";
 * import assert from "node:assert/strict";
 * tf.tidy(() => {
 *   const p = prepareInputs(tf.zeros([5, 2]), { inputIds: tf.zeros([1, 3], "int32") }, 1, "GPT-2");
 *   assert(p.embeds.shape.join() === "1,3,2" && p.bias(null).shape.join() === "1,1,3,3");
 * });
 * ```
 */
export function prepareInputs(
  embedding: tf.Tensor,
  options: DecoderOptions,
  numLayers: number,
  label: string,
): PreparedInputs {
  const { inputIds, inputsEmbeds, attentionMask, positionIds } = options;
  const cache = options.cache ?? [];
  if ((inputIds === undefined) === (inputsEmbeds === undefined)) {
    throw new RangeError(`${label} forward: give exactly one of inputIds and inputsEmbeds`);
  }
  const hidden = (embedding.shape as number[])[1];
  let embeds: tf.Tensor;
  if (inputsEmbeds !== undefined) {
    if (inputsEmbeds.rank !== 3 || (inputsEmbeds.shape as number[])[2] !== hidden) {
      throw new RangeError(
        `${label} forward: inputsEmbeds must be [B, T, ${hidden}], got ${dimsText(inputsEmbeds)}`,
      );
    }
    embeds = inputsEmbeds.dtype === "float32" ? inputsEmbeds : tf.cast(inputsEmbeds, "float32");
  } else {
    embeds = embedIds(embedding, inputIds!);
  }
  const [b, t] = embeds.shape as number[]; // [B, T, H]
  if (cache.length !== 0 && cache.length !== numLayers) {
    throw new RangeError(
      `${label} forward: the cache has ${cache.length} layers, expected ${numLayers} or none`,
    );
  }
  const cached = cache.length === 0 ? [b, 0, 0, 0] : cache[0].key.shape as number[]; // [B, N, T_past, D]
  const past = cached[2];
  if (cached[0] !== b) {
    throw new RangeError(
      `${label} forward: the cache holds batch ${cached[0]}, the inputs batch ${b}`,
    );
  }
  if (
    attentionMask !== undefined &&
    dimsText(attentionMask) !== `[${b}, ${past + t}]`
  ) {
    throw new RangeError(
      `${label} forward: attentionMask must be [${b}, ${past + t}] (cached + new tokens), got ${
        dimsText(attentionMask)
      }`,
    );
  }
  let positions: tf.Tensor;
  if (positionIds !== undefined) {
    if (
      positionIds.dtype !== "int32" || positionIds.rank !== 2 ||
      dimsText(positionIds) !== `[${b}, ${t}]`
    ) {
      throw new TypeError(
        `${label} forward: positionIds must be int32 [${b}, ${t}], got ${positionIds.dtype} ${
          dimsText(positionIds)
        }`,
      );
    }
    positions = positionIds;
  } else if (attentionMask !== undefined) {
    positions = positionsFromMask(attentionMask, t);
  } else {
    positions = tf.tile(tf.range(past, past + t, 1, "int32").reshape([1, t]), [b, 1]); // [B, T]
  }
  const padding = attentionMask === undefined ? undefined : paddingBias(attentionMask); // [B,1,1,Tk]
  const given = options.attentionBias;
  if (given !== undefined && (past !== 0 || attentionMask !== undefined)) {
    throw new RangeError(`${label} forward: attentionBias takes no cache and no attentionMask`);
  }
  const biases = new Map<number | null, tf.Tensor>();
  const bias = (window: number | null) => {
    let found = biases.get(window);
    if (found === undefined) {
      if (given !== undefined) {
        found = given(window);
        if (dimsText(found) !== `[${b}, 1, ${t}, ${t}]`) {
          throw new RangeError(
            `${label} forward: attentionBias must be [${b}, 1, ${t}, ${t}], got ${dimsText(found)}`,
          );
        }
      } else {
        const causal = windowedCausalBias(t, past + t, past, window); // [1, 1, T, Tk]
        found = padding === undefined ? causal : tf.add(causal, padding); // [B, 1, T, Tk]
      }
      biases.set(window, found);
    }
    return found;
  };
  return { embeds, positions, past, bias };
}

/**
 * Appends this step's keys and values to a layer's cache.
 *
 * @param layer the layer's past (undefined: none)
 * @param key `[B, Nkv, T, D]`
 * @param value `[B, Nkv, T, Dv]`
 * @returns keys `[B, Nkv, T_past + T, D]` and values
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { extendCache } from "./_decoder.ts";
 * import assert from "node:assert/strict";
 * tf.tidy(() => {
 *   const c = extendCache({ key: tf.zeros([1, 1, 2, 4]), value: tf.zeros([1, 1, 2, 4]) }, tf.ones([1, 1, 1, 4]), tf.ones([1, 1, 1, 4]));
 *   assert(c.key.shape[2] === 3);
 * });
 * ```
 */
export function extendCache(
  layer: LayerCache | undefined,
  key: tf.Tensor,
  value: tf.Tensor,
): LayerCache {
  if (layer === undefined) return { key, value };
  return { key: tf.concat([layer.key, key], 2), value: tf.concat([layer.value, value], 2) };
}
