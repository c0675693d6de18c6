/**
 * Gradient clipping by global norm (Pascanu et al. 2013), over one tensor, an array of tensors or
 * any parameter tree.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { flatten, type ParamTree, unflatten } from "../../tree/tree.ts";

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * Clipped gradients, in the structure they came in, and the global norm before clipping.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { type Clipped, clipByGlobalNorm } from "./clip.ts";
 * import assert from "node:assert/strict";
 * const g = [tf.tensor1d([0.3]), tf.tensor1d([0.4])];
 * const c: Clipped<tf.Tensor[]> = clipByGlobalNorm(g, 1); // norm 0.5 ≤ 1: values unchanged
 * assert(Math.abs(c.norm.dataSync()[0] - 0.5) < 1e-6);
 * assert(c.grads.length === 2 && Math.abs(c.grads[1].dataSync()[0] - 0.4) < 1e-6);
 * tf.dispose([...g, ...c.grads, c.norm]);
 * ```
 */
export interface Clipped<T extends ParamTree> {
  /** The gradients times `min(1, maxNorm / (norm + eps))`; new tensors the caller owns. */
  readonly grads: T;
  // deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
  /** `√(Σ over all leaves of Σ g²)` before clipping; the caller owns it. */
  readonly norm: tf.Scalar;
}

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * The global L2 norm of all leaves together: `√(Σ_leaves Σ g²)`.
 *
 * @param grads a tensor, an array of tensors or a tree
 * @returns the norm, a new scalar the caller owns (0 for an empty tree)
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { globalNorm } from "./clip.ts";
 * import assert from "node:assert/strict";
 * const a = tf.tensor1d([3]), b = tf.tensor1d([4]);
 * const n = globalNorm([a, b]);
 * assert(n.dataSync()[0] === 5);
 * tf.dispose([a, b, n]);
 * ```
 */
export function globalNorm(grads: ParamTree): tf.Scalar {
  const leaves = flatten(grads).map(([, t]) => t);
  return tf.tidy(() =>
    tf.sqrt(leaves.reduce<tf.Scalar>((acc, t) => tf.add(acc, tf.sum(tf.square(t))), tf.scalar(0)))
  );
}

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * Scales all gradients together so that their global norm is at most `maxNorm`:
 * `g ← g · min(1, maxNorm / (norm + eps))`, `norm = √(Σ_leaves Σ g²)`. With `eps: 0` (the default)
 * this is optax's `clip_by_global_norm`; `eps: 1e-6` is PyTorch's `clip_grad_norm_` (and so the
 * Hugging Face Trainer's `max_grad_norm`). The inputs are not disposed. A NaN norm gives NaN
 * gradients, so a bad step is not hidden.
 *
 * @param grads a tensor, an array of tensors or a tree
 * @param maxNorm the largest global norm allowed (positive)
 * @param options `eps`: added to the norm in the denominator (default 0)
 * @returns the clipped gradients in the same structure, and the norm before clipping
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { clipByGlobalNorm } from "./clip.ts";
 * import assert from "node:assert/strict";
 * const g = { a: tf.tensor1d([3]), b: tf.tensor1d([4]) };
 * const { grads, norm } = clipByGlobalNorm(g, 1);
 * assert(norm.dataSync()[0] === 5);
 * assert(Math.abs(grads.b.dataSync()[0] - 0.8) < 1e-6);
 * tf.dispose([g.a, g.b, grads.a, grads.b, norm]);
 * ```
 */
export function clipByGlobalNorm<T extends ParamTree>(
  grads: T,
  maxNorm: number,
  options: { readonly eps?: number } = {},
): Clipped<T> {
  const eps = options.eps ?? 0;
  if (!Number.isFinite(maxNorm) || maxNorm <= 0) {
    throw new RangeError(`clipByGlobalNorm maxNorm is ${maxNorm}; expected a positive number`);
  }
  if (!Number.isFinite(eps) || eps < 0) {
    throw new RangeError(`clipByGlobalNorm eps is ${eps}; expected a number ≥ 0`);
  }
  const flat = flatten(grads);
  const [norm, ...clipped] = tf.tidy(() => {
    const norm = globalNorm(grads);
    const coef = tf.minimum(tf.div(maxNorm, tf.add(norm, eps)), 1);
    return [norm, ...flat.map(([, g]) => tf.mul(g, coef))];
  });
  const out = unflatten(flat.map(([path], i) => [path, clipped[i]] as const));
  return { grads: out as T, norm: norm as tf.Scalar };
}
