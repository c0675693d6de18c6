/**
 * The building blocks every architecture shares, written once as small pure functions so that a
 * faster kernel can replace any of them: dense layers, norms, activations, attention and rotary
 * position embeddings.
 *
 * Weights are stored `[in, out]` (as T5X/Flax kernels and GPT-2's Conv1D; PyTorch `Linear`
 * weights are transposed on load), so a dense layer is one `matMul` with no transpose.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { useFastKernels } from "./kernels/mod.ts";
import { remat } from "./kernels/recompute.ts";

/**
 * A dense layer: `x @ w (+ b)`.
 *
 * @param x `[..., in]`
 * @param w `[in, out]`
 * @param b `[out]`, optional
 * @returns `[..., out]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { dense } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const y = tf.tidy(() => dense(tf.ones([2, 3]), tf.ones([3, 4])));
 * assert(y.shape[1] === 4);
 * y.dispose();
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
export function dense(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  useFastKernels();
  const [inDim, outDim] = w.shape as number[];
  const lead = x.shape.slice(0, -1);
  const x2 = x.reshape([-1, inDim]); // [N, in]
  const y = b === undefined ? tf.matMul(x2, w) : tf.add(tf.matMul(x2, w), b); // [N, out]
  return y.reshape([...lead, outDim]);
}

/**
 * Root-mean-square norm, as T5 and LLaMA use it: no mean subtraction, no bias.
 * `x * rsqrt(mean(x², -1) + eps) * weight`.
 *
 * @param x `[..., H]`
 * @param weight `[H]`
 * @param eps added to the mean square (T5: 1e-6)
 * @returns `[..., H]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { rmsNorm } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const y = tf.tidy(() => rmsNorm(tf.tensor2d([[3, 4]]), tf.ones([2]), 0));
 * assert(Math.abs((y.arraySync() as number[][])[0][0] - 3 / Math.sqrt(12.5)) < 1e-6);
 * y.dispose();
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
export function rmsNorm(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  // Recomputed in the backward pass: it keeps x instead of three [..., H] tensors. The weight is
  // frozen: a constant of the gradient.
  return remat(
    (x, weight) => {
      const ms = tf.mean(tf.square(x), -1, true); // [..., 1]
      return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), weight);
    },
    [x],
    [weight],
  );
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Layer norm with mean subtraction, scale and bias (GPT-2).
 *
 * @param x `[..., H]`
 * @param weight `[H]`
 * @param bias `[H]`
 * @param eps added to the variance (GPT-2: 1e-5)
 * @returns `[..., H]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { layerNorm } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const y = tf.tidy(() => layerNorm(tf.tensor2d([[1, 3]]), tf.ones([2]), tf.zeros([2]), 0));
 * assert(Math.abs((y.arraySync() as number[][])[0][1] - 1) < 1e-6);
 * y.dispose();
 * ```
 */
export function layerNorm(
  x: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor,
  eps: number,
): tf.Tensor {
  // Recomputed in the backward pass: it keeps x instead of its intermediates; the weight and
  // bias are frozen constants of the gradient.
  return remat(
    (x, weight, bias) => {
      const { mean, variance } = tf.moments(x, -1, true); // [..., 1]
      const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
      return tf.add(tf.mul(normed, weight), bias);
    },
    [x],
    [weight, bias],
  );
}

/**
 * The activations used by the supported architectures, by their Hugging Face names.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { type Activation, activate } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const names: Activation[] = ["silu", "swish"]; // two names of x · sigmoid(x)
 * const [a, b] = tf.tidy(() => names.map((name) => activate(name, tf.tensor1d([-1, 0, 2]))));
 * assert(a.dataSync()[1] === 0 && a.dataSync().join() === b.dataSync().join());
 * tf.dispose([a, b]);
 * ```
 */
export type Activation = "relu" | "gelu" | "gelu_new" | "gelu_pytorch_tanh" | "silu" | "swish";

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Applies an activation by its Hugging Face name. `gelu` is the exact (erf) form; `gelu_new` and
 * `gelu_pytorch_tanh` the tanh approximation.
 *
 * @param name the activation
 * @param x any tensor
 * @returns the activation of `x`, same shape
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { activate } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const y = tf.tidy(() => activate("relu", tf.tensor1d([-1, 2])));
 * assert((y.arraySync() as number[])[0] === 0);
 * y.dispose();
 * ```
 */
export function activate(name: Activation, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    switch (name) {
      case "relu":
        return tf.relu(x);
      case "silu":
      case "swish":
        return tf.mul(x, tf.sigmoid(x));
      case "gelu":
        return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
      case "gelu_new":
      case "gelu_pytorch_tanh": {
        // 0.5 x (1 + tanh(u)) = x · sigmoid(2u), u = √(2/π) (x + 0.044715 x³): the same
        // function with fewer kernels, and WASM's sigmoid is vectorized where tanh is not.
        // 2u = x · (k + 0.044715 k x²) with k = 2√(2/π) (no pow: it is slow on WASM).
        const k = 2 * Math.sqrt(2 / Math.PI);
        const inner = tf.mul(x, tf.add(tf.mul(tf.square(x), 0.044715 * k), k)); // 2u
        return tf.mul(x, tf.sigmoid(inner));
      }
      default:
        throw new RangeError(`Unknown activation "${String(name)}"`);
    }
  });
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * The feed-forward block's activation: `act(a)`, or gated `act(a) · gate` (LLaMA's SwiGLU, T5
 * 1.1's gated GELU). Recomputed in the backward pass: it keeps its inputs, not the activation's
 * intermediates (a few element-wise passes over `[..., F]` instead of as many tensors kept).
 *
 * @param name the activation
 * @param a `[..., F]` the activation's input
 * @param gate `[..., F]` the gate, or undefined for none
 * @returns `[..., F]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { mlpActivation } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const y = tf.tidy(() => mlpActivation("relu", tf.tensor1d([-1, 2]), tf.tensor1d([5, 3])));
 * assert.deepEqual(Array.from(y.dataSync()), [0, 6]);
 * y.dispose();
 * ```
 */
export function mlpActivation(name: Activation, a: tf.Tensor, gate?: tf.Tensor): tf.Tensor {
  return gate === undefined
    ? remat((a) => activate(name, a), [a])
    : remat((a, b) => tf.mul(activate(name, a), b), [a, gate]);
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Splits the last axis into heads: `[B, T, N·D]` → `[B, N, T, D]`.
 *
 * @param x `[B, T, N·D]`
 * @param heads `N`
 * @returns `[B, N, T, D]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { splitHeads } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const y = tf.tidy(() => splitHeads(tf.zeros([2, 5, 12]), 3));
 * assert(y.shape.join() === "2,3,5,4");
 * y.dispose();
 * ```
 */
export function splitHeads(x: tf.Tensor, heads: number): tf.Tensor {
  const [b, t, nd] = x.shape as number[];
  return tf.transpose(x.reshape([b, t, heads, nd / heads]), [0, 2, 1, 3]);
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Joins heads back: `[B, N, T, D]` → `[B, T, N·D]`.
 *
 * @param x `[B, N, T, D]`
 * @returns `[B, T, N·D]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { mergeHeads } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const y = tf.tidy(() => mergeHeads(tf.zeros([2, 3, 5, 4])));
 * assert(y.shape.join() === "2,5,12");
 * y.dispose();
 * ```
 */
export function mergeHeads(x: tf.Tensor): tf.Tensor {
  const [b, n, t, d] = x.shape as number[];
  return tf.transpose(x, [0, 2, 1, 3]).reshape([b, t, n * d]);
}

/**
 * Options of {@link attention}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { attention, type AttentionOptions, causalBias } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const y = tf.tidy(() => {
 *   const options: AttentionOptions = { scale: 1 / Math.sqrt(2), bias: causalBias(2, 2, 0) };
 *   const qk = tf.ones([1, 1, 2, 2]); // [B, N, T, D]
 *   const v = tf.tensor4d([[[[1, 0], [0, 1]]]]);
 *   return attention(qk, qk, v, options);
 * });
 * assert(y.dataSync().join() === "1,0,0.5,0.5"); // the first query sees only the first key
 * y.dispose();
 * ```
 */
export interface AttentionOptions {
  /** Multiplies `q·kᵀ` (T5: 1, no scaling; others: `1/√D`). */
  readonly scale: number;
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** Added to the scores, broadcast to `[B, N, Tq, Tk]`: position bias and/or a mask bias. */
  readonly bias?: tf.Tensor;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Scaled dot-product attention with an additive bias, and grouped-query attention when `k`/`v`
 * have fewer heads than `q` (each key/value head serves `Nq / Nkv` query heads).
 *
 * @param q `[B, Nq, Tq, D]`
 * @param k `[B, Nkv, Tk, D]`
 * @param v `[B, Nkv, Tk, Dv]`
 * @param options scale and additive bias (`[B or 1, N or 1, Tq, Tk]`; use a large negative number
 *   at masked positions). The bias is a constant for gradients: none flows back to it. The scores
 *   and probabilities are recomputed in a backward pass rather than kept, unless they are small
 *   ({@link keepsProbabilities}).
 * @returns `[B, Nq, Tq, Dv]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { attention } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const y = tf.tidy(() => attention(tf.ones([1, 4, 3, 2]), tf.ones([1, 2, 5, 2]), tf.ones([1, 2, 5, 2]), { scale: 1 }));
 * assert(y.shape.join() === "1,4,3,2");
 * y.dispose();
 * ```
 */
export function attention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  options: AttentionOptions,
): tf.Tensor {
  useFastKernels();
  const [, nq, , d] = q.shape as number[];
  const [, nkv, tk] = k.shape as number[];
  if (keepsProbabilities(nq, nkv, d, tk)) return attentionOf(q, k, v, options.scale, options.bias);
  // Recomputed in the backward pass: it keeps q, k, v instead of the [B, N, Tq, Tk] scores and
  // probabilities. The bias is a constant of the gradient (masks and position biases).
  const bias = options.bias === undefined ? [] : [options.bias];
  return remat(
    (q, k, v, ...bias) => attentionOf(q, k, v, options.scale, bias[0]),
    [q, k, v],
    bias,
  );
}

/**
 * Whether a backward pass through {@link attention} keeps its probabilities (`Nq · Tk` values per
 * query) rather than recomputing them: when they are no more than the queries, keys and values
 * it keeps anyway (`Nq·D + 2·Nkv·D` per position), so that keeping them at most doubles what
 * attention keeps and saves recomputing the scores (short sequences: t5-small's 148 positions,
 * SmolLM2's 85).
 *
 * @param nq query heads
 * @param nkv key/value heads
 * @param d the head width
 * @param tk keys (past + present)
 * @returns true to keep them
 * @example
 * ```ts
 * import { keepsProbabilities } from "./layers.ts";
 * import assert from "node:assert/strict";
 * assert.equal(keepsProbabilities(6, 6, 64, 148), true); // t5-small, 148 positions
 * assert.equal(keepsProbabilities(6, 6, 64, 512), false); // 512 positions: recomputed
 * ```
 */
export function keepsProbabilities(nq: number, nkv: number, d: number, tk: number): boolean {
  return nq * tk <= nq * d + 2 * nkv * d;
}

function attentionOf(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  scale: number,
  bias: tf.Tensor | undefined,
): tf.Tensor {
  return tf.tidy(() => {
    const [b, nq, tq, d] = q.shape as number[];
    const [, nkv, tk] = k.shape as number[];
    const dv = (v.shape as number[])[3];
    if (nq % nkv !== 0) {
      throw new RangeError(`Attention: ${nq} query heads are not a multiple of ${nkv} key heads`);
    }
    const group = nq / nkv;
    // Grouped queries: [B, Nkv, G·Tq, D] so that each key head serves its G query heads at once.
    const qg = group === 1 ? q : q.reshape([b, nkv, group * tq, d]);
    let scores = tf.matMul(qg, k, false, true); // [B, Nkv, G·Tq, Tk]
    if (group !== 1) scores = scores.reshape([b, nq, tq, tk]);
    if (scale !== 1) scores = tf.mul(scores, scale);
    if (bias !== undefined) scores = tf.add(scores, bias);
    let probs = tf.softmax(scores, -1); // [B, Nq, Tq, Tk]
    if (group !== 1) probs = probs.reshape([b, nkv, group * tq, tk]);
    const out = tf.matMul(probs, v); // [B, Nkv, G·Tq, Dv]
    return group === 1 ? out : out.reshape([b, nq, tq, dv]);
  });
}

/**
 * The bias added at masked positions: large and negative, but finite so softmax stays defined.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { MASK_BIAS, paddingBias } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const b = tf.tidy(() => paddingBias(tf.tensor2d([[1, 0]], [1, 2], "int32")));
 * assert(b.dataSync()[0] === 0 && b.dataSync()[1] === MASK_BIAS && Number.isFinite(MASK_BIAS));
 * b.dispose();
 * ```
 */
export const MASK_BIAS: number = -1e9;

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * An additive attention bias from a key padding mask: 0 where `mask` is 1, {@link MASK_BIAS}
 * where it is 0.
 *
 * @param mask `[B, Tk]`, 1 for real tokens, 0 for padding
 * @returns `[B, 1, 1, Tk]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { paddingBias } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const b = tf.tidy(() => paddingBias(tf.tensor2d([[1, 0]], [1, 2], "int32")));
 * assert(b.shape.join() === "1,1,1,2");
 * b.dispose();
 * ```
 */
export function paddingBias(mask: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [b, t] = mask.shape;
    return tf.mul(tf.sub(1, tf.cast(mask, "float32")), MASK_BIAS).reshape([b, 1, 1, t]);
  });
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * A causal bias: query `i` (at absolute position `offset + i`) sees keys `0 … offset + i`.
 *
 * @param tq query length
 * @param tk key length (past + present)
 * @param offset the absolute position of the first query (`tk - tq` when decoding with a cache)
 * @returns `[1, 1, Tq, Tk]`
 * @example
 * ```ts
 * import { causalBias } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const b = causalBias(2, 2, 0);
 * assert((b.arraySync() as number[][][][])[0][0][0][1] < 0);
 * b.dispose();
 * ```
 */
export function causalBias(tq: number, tk: number, offset: number): tf.Tensor {
  const values = new Float32Array(tq * tk);
  for (let i = 0; i < tq; i++) {
    for (let j = 0; j < tk; j++) values[i * tk + j] = j > offset + i ? MASK_BIAS : 0;
  }
  return tf.tensor4d(values, [1, 1, tq, tk]);
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * The rotary position embedding's tables for some positions, made once per forward pass and
 * shared by every layer's queries and keys ({@link applyRope}).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { type RopeTables, ropeTables } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const t: RopeTables = ropeTables(tf.tensor2d([[0, 1]], [1, 2], "int32"), 10000, 4);
 * assert.deepEqual(t.cos.shape, [1, 1, 2, 4]);
 * tf.dispose([t.cos, t.sin, t.swap]);
 * ```
 */
export interface RopeTables {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, 1, T, D]` the cosines of each position's angles (each frequency twice). */
  readonly cos: tf.Tensor;
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, 1, T, D]` their sines, negated in the first half (the sign of `rotate_half`). */
  readonly sin: tf.Tensor;
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[D, D]` the permutation that swaps a row's halves (`x · swap = [x₂, x₁]`). */
  readonly swap: tf.Tensor;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * The tables of {@link applyRope} for `positions`.
 *
 * @param positions `[B, T]` int32 positions of each token
 * @param theta the base (`rope_theta`, LLaMA: 10000)
 * @param d the head width
 * @returns the cosines and signed sines `[B, 1, T, D]` and the halves' swap; the caller disposes
 *   them
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { ropeTables } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const t = ropeTables(tf.tensor2d([[0]], [1, 1], "int32"), 10000, 2);
 * assert.deepEqual(Array.from(t.cos.dataSync()), [1, 1]); // position 0: no rotation
 * tf.dispose([t.cos, t.sin, t.swap]);
 * ```
 */
export function ropeTables(positions: tf.Tensor, theta: number, d: number): RopeTables {
  return tf.tidy(() => {
    const half = d / 2;
    const invFreq = new Float32Array(half);
    for (let i = 0; i < half; i++) invFreq[i] = 1 / Math.pow(theta, (2 * i) / d);
    const [b, t] = positions.shape;
    const angles = tf.mul(
      tf.cast(positions, "float32").reshape([b, t, 1]),
      tf.tensor1d(invFreq).reshape([1, 1, half]),
    ); // [B, T, D/2]
    const cos = tf.cos(angles), sin = tf.sin(angles);
    const swap = new Float32Array(d * d);
    for (let i = 0; i < d; i++) swap[i * d + ((i + half) % d)] = 1;
    return {
      cos: tf.concat([cos, cos], -1).reshape([b, 1, t, d]),
      sin: tf.concat([tf.neg(sin), sin], -1).reshape([b, 1, t, d]),
      swap: tf.tensor2d(swap, [d, d]),
    };
  });
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Rotary position embedding (the "rotate half" form of LLaMA in Hugging Face) with tables from
 * {@link ropeTables}: `x · cos + rotate_half(x) · sin`, where `rotate_half(x) = [-x₂, x₁]` is
 * the halves swapped (a product with the tables' permutation) times the tables' sign.
 *
 * @param x `[B, N, T, D]`
 * @param tables the cosines and signed sines `[B, 1, T, D]`, and the swap `[D, D]`
 * @returns `[B, N, T, D]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { applyRope, ropeTables } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const t = ropeTables(tf.tensor2d([[1]], [1, 1], "int32"), 10000, 2); // angle 1 at position 1
 * const y = tf.tidy(() => applyRope(tf.tensor4d([[[[1, 0]]]]), t));
 * assert(Math.abs(y.dataSync()[1] - Math.sin(1)) < 1e-6);
 * tf.dispose([y, t.cos, t.sin, t.swap]);
 * ```
 */
export function applyRope(x: tf.Tensor, tables: RopeTables): tf.Tensor {
  return tf.tidy(() => {
    const d = (x.shape as number[])[3];
    // One small product with the permutation: exact, and cheaper than slices and a concat.
    const swapped = tf.matMul(x.reshape([-1, d]), tables.swap).reshape(x.shape); // [B, N, T, D]
    return tf.add(tf.mul(x, tables.cos), tf.mul(swapped, tables.sin));
  });
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Rotary position embedding at the given positions: {@link applyRope} with the tables of
 * {@link ropeTables} (a model's forward pass makes them once for all its layers).
 *
 * @param x `[B, N, T, D]`
 * @param positions `[B, T]` int32 positions of each token
 * @param theta the base (`rope_theta`, LLaMA: 10000)
 * @returns `[B, N, T, D]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { rope } from "./layers.ts";
 * import assert from "node:assert/strict";
 * const y = tf.tidy(() => rope(tf.ones([1, 1, 2, 4]), tf.tensor2d([[0, 1]], [1, 2], "int32"), 10000));
 * assert((y.arraySync() as number[][][][])[0][0][0][0] === 1); // position 0: unchanged
 * y.dispose();
 * ```
 */
export function rope(x: tf.Tensor, positions: tf.Tensor, theta: number): tf.Tensor {
  return tf.tidy(() => applyRope(x, ropeTables(positions, theta, (x.shape as number[])[3])));
}
