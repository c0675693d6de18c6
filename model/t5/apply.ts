/**
 * The whole T5 model in one call (encode, then decode with teacher forcing), and the decoder-input
 * shift of `transformers`' `_shift_right`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { T5Config } from "./config.ts";
import { t5Decode } from "./decoder.ts";
import { t5Encode, type T5EncodeInputs } from "./encoder.ts";
import type { T5Params } from "./params.ts";

/**
 * Inputs of {@link t5Apply}: the encoder's inputs and the decoder's.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { shiftRight, t5Apply, type T5ApplyInputs } from "./apply.ts";
 * import { parseT5Config } from "./config.ts";
 * import { makeT5Params } from "./params.ts";
 * import { disposeTree } from "../../tree/tree.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const config = orThrow(parseT5Config({ vocab_size: 10, d_model: 4, d_kv: 2, d_ff: 8, num_layers: 1, num_heads: 2 }, "config.json"));
 * const params = makeT5Params(config, (_, shape) => tf.fill(shape, 0.1));
 * const inputIds = tf.tensor2d([[3, 4, 1]], [1, 3], "int32");
 * const attentionMask = tf.ones([1, 3], "int32");
 * const labels = tf.tensor2d([[5, 6, -100]], [1, 3], "int32");
 * const decoderInputIds = shiftRight(labels, config.decoderStartTokenId, config.padTokenId);
 * const inputs: T5ApplyInputs = { inputIds, attentionMask, decoderInputIds };
 * const logits = t5Apply(params, config, inputs);
 * assert(logits.shape.join() === "1,3,10");
 * tf.dispose([inputIds, attentionMask, labels, decoderInputIds, logits]);
 * disposeTree(params);
 * ```
 */
export interface T5ApplyInputs extends T5EncodeInputs {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, S]` int32 decoder input ids (usually {@link shiftRight} of the labels). */
  readonly decoderInputIds: tf.Tensor;
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, S]` decoder padding mask; default all ones. */
  readonly decoderMask?: tf.Tensor;
}

/**
 * Encodes, then decodes a whole target sequence: `transformers`' `T5ForConditionalGeneration`
 * forward. `attentionMask` masks the encoder's self-attention and the decoder's cross-attention.
 *
 * @param params the T5 tree
 * @param config the configuration
 * @param inputs encoder ids or embeddings (`[B, T]` or `[B, T, H]`), encoder mask, decoder ids
 *   `[B, S]` and mask
 * @returns logits `[B, S, V]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { t5Apply } from "./apply.ts";
 * import { parseT5Config } from "./config.ts";
 * import { makeT5Params } from "./params.ts";
 * import { disposeTree } from "../../tree/tree.ts";
 * import assert from "node:assert/strict";
 * const c = parseT5Config({ vocab_size: 10, d_model: 4, d_kv: 2, d_ff: 8, num_layers: 1, num_heads: 2 }, "config.json");
 * if (c._tag === "Right") {
 *   const params = makeT5Params(c.right, (_, shape) => tf.fill(shape, 0.1));
 *   const inputIds = tf.tensor2d([[3, 4, 1]], [1, 3], "int32");
 *   const decoderInputIds = tf.tensor2d([[0, 5]], [1, 2], "int32");
 *   const logits = t5Apply(params, c.right, { inputIds, decoderInputIds });
 *   assert(logits.shape.join() === "1,2,10");
 *   tf.dispose([inputIds, decoderInputIds, logits]);
 *   disposeTree(params);
 * }
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
export function t5Apply(params: T5Params, config: T5Config, inputs: T5ApplyInputs): tf.Tensor {
  return tf.tidy(() => {
    const encoderStates = t5Encode(params, config, inputs); // [B, T, H]
    return t5Decode(params, config, {
      decoderInputIds: inputs.decoderInputIds,
      encoderStates,
      encoderMask: inputs.attentionMask,
      decoderMask: inputs.decoderMask,
    }).logits; // [B, S, V]; the cache is disposed with the tidy
  });
}

/**
 * Decoder inputs from labels: the start token, then the labels shifted right by one, with `-100`
 * (ignored positions) replaced by the padding id, as `transformers`' `_shift_right`.
 *
 * @param labels `[B, S]` int32 target ids, `-100` where ignored
 * @param decoderStartTokenId the first decoder input (T5: 0, the padding id)
 * @param padTokenId the padding id (T5: 0)
 * @returns `[B, S]` int32
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { shiftRight } from "./apply.ts";
 * import assert from "node:assert/strict";
 * const labels = tf.tensor2d([[5, 6, -100, -100]], [1, 4], "int32");
 * const d = shiftRight(labels, 0, 0);
 * assert(d.arraySync()[0].join() === "0,5,6,0");
 * tf.dispose([labels, d]);
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
export function shiftRight(
  labels: tf.Tensor,
  decoderStartTokenId: number,
  padTokenId: number,
): tf.Tensor2D {
  if (labels.dtype !== "int32" || labels.rank !== 2) {
    throw new TypeError(`Labels are ${labels.dtype} [${labels.shape}], expected int32 [B, S]`);
  }
  return tf.tidy(() => {
    const [b, s] = labels.shape;
    if (s === 0) return tf.clone(labels) as tf.Tensor2D;
    const start = tf.fill([b, 1], decoderStartTokenId, "int32"); // [B, 1]
    const shifted = tf.concat([start, labels.slice([0, 0], [b, s - 1])], 1); // [B, S]
    const pad = tf.fill([b, s], padTokenId, "int32");
    return tf.where(tf.equal(shifted, -100), pad, shifted) as tf.Tensor2D;
  });
}
