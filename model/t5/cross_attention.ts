/**
 * T5's cross-attention for a few decoded positions over a long encoder sequence (training and
 * scoring), with the key and value projections folded into the queries and the output instead
 * of applied to every encoder state.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { dense } from "../layers.ts";
import type { T5Kernel } from "./params.ts";

/**
 * Whether cross-attention is cheaper with the key and value projections folded into the queries
 * and the attention output ({@link crossAttendFolded}): when `S · (T + D) < T · D` per head,
 * true for a few decoded positions over a long encoder sequence (training and scoring).
 *
 * @param decoded `S`, the decoder positions
 * @param encoded `T`, the encoder positions
 * @param headDim `D`
 */
export function foldCrossAttention(decoded: number, encoded: number, headDim: number): boolean {
  return decoded * (encoded + headDim) < encoded * headDim;
}

/**
 * Cross-attention and its output projection without projecting the encoder states to keys and
 * values: per head, `q·(E·Wk)ᵀ = (q·Wkᵀ)·Eᵀ` and `P·(E·Wv) = (P·E)·Wv`. The same function as
 * `attend` (`_blocks.ts`) over `heads(E, key)` and `heads(E, value)`, summed in another order; it costs
 * `B·N·S·(T + D)·H` multiply-adds for each product pair instead of `B·T·H·N·D`.
 *
 * @param q `[B, N, S, D]` the queries
 * @param encoder `[B, T, H]` the encoder states
 * @param attn the cross-attention's kernels (key and value `[H, N·D]`, out `[N·D, H]`)
 * @param bias added to the scores, broadcast to `[B, N, S, T]`, or undefined
 * @returns `[B, S, H]`
 */
export function crossAttendFolded(
  q: tf.Tensor,
  encoder: tf.Tensor,
  attn: { readonly key: T5Kernel; readonly value: T5Kernel; readonly out: T5Kernel },
  bias: tf.Tensor | undefined,
): tf.Tensor {
  return tf.tidy(() => {
    const [b, n, s, d] = q.shape as number[];
    const [, t, h] = encoder.shape as number[];
    const perHead = (w: tf.Tensor) => tf.transpose(w.reshape([h, n, d]), [1, 0, 2]); // [N, H, D]
    const byHead = tf.transpose(q, [1, 0, 2, 3]).reshape([n, b * s, d]); // [N, B·S, D]
    const qk = tf.matMul(byHead, perHead(attn.key.kernel), false, true); // [N, B·S, H]
    const queries = tf.transpose(qk.reshape([n, b, s, h]), [1, 0, 2, 3]).reshape([b, n * s, h]);
    let scores = tf.matMul(queries, encoder, false, true).reshape([b, n, s, t]); // [B, N, S, T]
    if (bias !== undefined) scores = tf.add(scores, bias);
    const probs = tf.softmax(scores, -1).reshape([b, n * s, t]); // [B, N·S, T]
    const mixed = tf.matMul(probs, encoder).reshape([b, n, s, h]); // [B, N, S, H]
    const perHeadMixed = tf.transpose(mixed, [1, 0, 2, 3]).reshape([n, b * s, h]); // [N, B·S, H]
    const o = tf.matMul(perHeadMixed, perHead(attn.value.kernel)); // [N, B·S, D]
    const merged = tf.transpose(o.reshape([n, b, s, d]), [1, 2, 0, 3]).reshape([b, s, n * d]);
    return dense(merged, attn.out.kernel); // [B, S, H]
  });
}
