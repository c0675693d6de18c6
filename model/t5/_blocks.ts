/**
 * T5's sub-blocks over the shared layers of `model/layers.ts`: head projections, attention without
 * `1/√d` scaling (T5 folds it into the query weights), and the feed-forward block.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  type Activation,
  attention,
  dense,
  mergeHeads,
  mlpActivation,
  splitHeads,
} from "../layers.ts";
import type { T5Kernel, T5MlpParams } from "./params.ts";

/**
 * Projects to heads: `x @ kernel`, split.
 *
 * @param x `[B, T, H]`
 * @param w the kernel `[H, N·D]`
 * @param heads `N`
 * @returns `[B, N, T, D]`
 */
export function heads(x: tf.Tensor, w: T5Kernel, heads: number): tf.Tensor {
  return splitHeads(dense(x, w.kernel), heads);
}

/**
 * Attention (unscaled, as T5) and the output projection.
 *
 * @param q `[B, N, Tq, D]`
 * @param k `[B, N, Tk, D]`
 * @param v `[B, N, Tk, D]`
 * @param bias added to the scores, broadcast to `[B, N, Tq, Tk]`, or undefined
 * @param out the output kernel `[N·D, H]`
 * @returns `[B, Tq, H]`
 */
export function attend(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  bias: tf.Tensor | undefined,
  out: T5Kernel,
): tf.Tensor {
  const o = attention(q, k, v, { scale: 1, bias }); // [B, N, Tq, D]
  return dense(mergeHeads(o), out.kernel); // [B, Tq, N·D] → [B, Tq, H]
}

/**
 * The feed-forward block: `wo(act(wi x))`, or gated `wo(act(wi_0 x) · wi_1 x)`.
 *
 * @param x `[B, T, H]`
 * @param mlp its kernels
 * @param act the activation
 * @returns `[B, T, H]`
 */
export function feedForward(x: tf.Tensor, mlp: T5MlpParams, act: Activation): tf.Tensor {
  return tf.tidy(() => {
    const hidden = "wi" in mlp
      ? mlpActivation(act, dense(x, mlp.wi.kernel))
      : mlpActivation(act, dense(x, mlp.wi_0.kernel), dense(x, mlp.wi_1.kernel)); // [B, T, F]
    return dense(hidden, mlp.wo.kernel);
  });
}
