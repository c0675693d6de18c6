/**
 * The T5 encoder: token embedding, then pre-norm layers of bidirectional self-attention (with a
 * relative position bias computed once and shared by all layers) and a feed-forward block, then a
 * final RMS norm.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { paddingBias, rmsNorm } from "../layers.ts";
import { type Recompute, remat } from "../kernels/recompute.ts";
import { attend, feedForward, heads } from "./_blocks.ts";
import type { T5Config } from "./config.ts";
import type { T5Params } from "./params.ts";
import { relativePositionBias } from "./position.ts";

/**
 * Looks up token embeddings.
 *
 * @param params the T5 tree
 * @param ids `[B, T]` int32 token ids
 * @returns `[B, T, H]`
 * @throws {TypeError} when `ids` is not int32 (token ids are never cast silently)
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { t5Embed } from "./encoder.ts";
 * import type { T5Params } from "./params.ts";
 * import assert from "node:assert/strict";
 * const embedding = tf.tensor2d([[0, 0], [1, 1], [2, 2]]);
 * const params = { token_embedder: { embedding } } as unknown as T5Params;
 * const ids = tf.tensor2d([[2, 1]], [1, 2], "int32");
 * const e = t5Embed(params, ids);
 * assert(e.shape.join() === "1,2,2" && e.arraySync()[0][0][0] === 2);
 * tf.dispose([embedding, ids, e]);
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
export function t5Embed(params: T5Params, ids: tf.Tensor): tf.Tensor3D {
  if (ids.dtype !== "int32") {
    throw new TypeError(`Token ids are ${ids.dtype}, expected int32`);
  }
  if (ids.rank !== 2) {
    throw new RangeError(`Token ids have shape [${ids.shape}], expected [B, T]`);
  }
  return tf.gather(params.token_embedder.embedding, ids) as tf.Tensor3D; // [B, T, H]
}

/**
 * Inputs of {@link t5Encode}: exactly one of `inputIds` and `inputsEmbeds`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { t5Embed, t5Encode, type T5EncodeInputs } from "./encoder.ts";
 * import { parseT5Config } from "./config.ts";
 * import { makeT5Params } from "./params.ts";
 * import { disposeTree } from "../../tree/tree.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const config = orThrow(parseT5Config({ vocab_size: 10, d_model: 4, d_kv: 2, d_ff: 8, num_layers: 1, num_heads: 2 }, "config.json"));
 * const params = makeT5Params(config, (_, shape) => tf.fill(shape, 0.1));
 * const ids = tf.tensor2d([[3, 4]], [1, 2], "int32");
 * const prompt = tf.zeros([1, 3, 4]); // [B, P, H]
 * const inputsEmbeds = tf.tidy(() => tf.concat([prompt, t5Embed(params, ids)], 1)); // [B, P + T, H]
 * const attentionMask = tf.ones([1, 5], "int32");
 * const inputs: T5EncodeInputs = { inputsEmbeds, attentionMask };
 * const states = t5Encode(params, config, inputs);
 * assert(states.shape.join() === "1,5,4");
 * tf.dispose([ids, prompt, inputsEmbeds, attentionMask, states]);
 * disposeTree(params);
 * ```
 */
export interface T5EncodeInputs {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, T]` int32 token ids. */
  readonly inputIds?: tf.Tensor;
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, T, H]` input embeddings (for example `[prompt; embedded ids]`). */
  readonly inputsEmbeds?: tf.Tensor;
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, T]`, 1 for real tokens and 0 for padding; default all ones. */
  readonly attentionMask?: tf.Tensor;
  /**
   * What a gradient pass keeps: `"none"` (default) every activation, `"layer"` only each layer's
   * input, recomputing the layer in the backward pass (less memory, one more encoder forward).
   */
  readonly recompute?: Recompute;
}

/**
 * The embeddings the encoder starts from: `inputsEmbeds`, or the embedded `inputIds`.
 *
 * @param params the T5 tree
 * @param inputs exactly one of `inputIds` and `inputsEmbeds`
 * @returns `[B, T, H]`
 */
function encoderInput(params: T5Params, inputs: T5EncodeInputs): tf.Tensor {
  const { inputIds, inputsEmbeds } = inputs;
  if ((inputIds === undefined) === (inputsEmbeds === undefined)) {
    throw new RangeError("T5 encoder: give exactly one of inputIds and inputsEmbeds");
  }
  if (inputsEmbeds !== undefined) {
    const h = params.token_embedder.embedding.shape[1];
    if (inputsEmbeds.rank !== 3 || inputsEmbeds.shape[2] !== h) {
      throw new RangeError(
        `T5 encoder: inputsEmbeds has shape [${inputsEmbeds.shape}], expected [B, T, ${h}]`,
      );
    }
    return inputsEmbeds;
  }
  return t5Embed(params, inputIds!);
}

/**
 * Runs the T5 encoder. Attention is unscaled (as T5), with the bidirectional relative position
 * bias of `encoder/relpos_bias` plus a padding bias from `attentionMask`.
 *
 * @param params the T5 tree
 * @param config the configuration
 * @param inputs ids or embeddings `[B, T(, H)]`, and an optional mask `[B, T]`
 * @returns the encoder states `[B, T, H]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { t5Encode } from "./encoder.ts";
 * import { parseT5Config } from "./config.ts";
 * import { makeT5Params } from "./params.ts";
 * import { disposeTree } from "../../tree/tree.ts";
 * import assert from "node:assert/strict";
 * const config = parseT5Config({ vocab_size: 10, d_model: 4, d_kv: 2, d_ff: 8, num_layers: 1, num_heads: 2 }, "config.json");
 * if (config._tag === "Right") {
 *   const params = makeT5Params(config.right, (_, shape) => tf.fill(shape, 0.1));
 *   const ids = tf.tensor2d([[3, 4, 0]], [1, 3], "int32");
 *   const mask = tf.tensor2d([[1, 1, 0]], [1, 3], "int32");
 *   const states = t5Encode(params, config.right, { inputIds: ids, attentionMask: mask });
 *   assert(states.shape.join() === "1,3,4");
 *   tf.dispose([ids, mask, states]);
 *   disposeTree(params);
 * }
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
export function t5Encode(params: T5Params, config: T5Config, inputs: T5EncodeInputs): tf.Tensor {
  return tf.tidy(() => {
    let x = encoderInput(params, inputs); // [B, T, H]
    const [b, t] = x.shape as [number, number, number];
    const mask = inputs.attentionMask;
    if (mask !== undefined && (mask.rank !== 2 || mask.shape[0] !== b || mask.shape[1] !== t)) {
      throw new RangeError(
        `T5 encoder: attentionMask has shape [${mask.shape}], expected [${b}, ${t}]`,
      );
    }
    const enc = params.encoder;
    const positions = relativePositionBias(enc.relpos_bias.rel_embedding, {
      queryLength: t,
      keyLength: t,
      bidirectional: true,
      numBuckets: config.relativeAttentionNumBuckets,
      maxDistance: config.relativeAttentionMaxDistance,
    }); // [1, N, T, T]
    // One bias for every layer: positions + padding, [B, N, T, T].
    const bias = mask === undefined ? positions : tf.add(positions, paddingBias(mask));
    const eps = config.layerNormEpsilon;
    for (const layer of enc.layers) {
      const block = (x: tf.Tensor, bias: tf.Tensor): tf.Tensor => {
        const h = rmsNorm(x, layer.pre_attention_layer_norm.scale, eps);
        const a = layer.attention;
        const q = heads(h, a.query, config.numHeads); // [B, N, T, D]
        const k = heads(h, a.key, config.numHeads);
        const v = heads(h, a.value, config.numHeads);
        const y = tf.add(x, attend(q, k, v, bias, a.out));
        const m = rmsNorm(y, layer.pre_mlp_layer_norm.scale, eps);
        return tf.add(y, feedForward(m, layer.mlp, config.denseActFn)); // [B, T, H]
      };
      // A layer's own tidy frees what the backward pass does not keep as soon as it is done.
      const input = x;
      x = inputs.recompute === "layer"
        ? remat(block, [x], [bias])
        : tf.tidy(() => block(input, bias));
    }
    return rmsNorm(x, enc.encoder_norm.scale, eps); // [B, T, H]
  });
}
