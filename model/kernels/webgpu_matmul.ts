/**
 * A correct `BatchMatMul` for the WebGPU backend. TensorFlow.js 4.22's WebGPU kernel splits a
 * long inner dimension over workgroups (its `MatMulSplitKProgram`: one product, `K ≥ 2000`, a
 * small output) and then reads a transposed right operand as if it were not transposed when it
 * uses 4-wide vectors (its packed program excludes `transposeB` from that path; the split-K one
 * does not). The products it gets wrong are exactly an output head's gradient, `dy · Wᵀ` with
 * `dy: [B·S, V]` and `W: [H, V]`: on lavapipe the tiny embedded T5's prompt gradient came out
 * with twice its norm. The replacement transposes such a right operand explicitly (one copy) and
 * leaves every other product to the original kernel.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type BaseKernel, type KernelArgs, wrapKernel } from "./_wrap.ts";

/** The inner length from which tfjs-webgpu 4.22 may choose its split-K program. */
const SPLIT_K_FROM = 2000;

const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/**
 * Whether a product `a · bᵀ` could reach tfjs-webgpu's split-K program (one product, a long
 * inner dimension) and so needs `b` transposed beforehand.
 *
 * @param a the left operand's shape `[..., M, K]` (or `[..., K, M]` when `transposeA`)
 * @param b the right operand's shape `[..., N, K]`
 * @param transposeA whether `a` is transposed
 * @returns true when `b` must be transposed explicitly
 * @example
 * ```ts
 * import { needsExplicitTranspose } from "./webgpu_matmul.ts";
 * import assert from "node:assert/strict";
 * assert.equal(needsExplicitTranspose([6, 8192], [128, 8192], false), true); // a head's gradient
 * assert.equal(needsExplicitTranspose([2, 4, 6, 32], [2, 4, 9, 32], false), false); // attention
 * ```
 */
export function needsExplicitTranspose(
  a: readonly number[],
  b: readonly number[],
  transposeA: boolean,
): boolean {
  const inner = transposeA ? a[a.length - 2] : a[a.length - 1];
  const batch = Math.max(size(a.slice(0, -2)), size(b.slice(0, -2)));
  return batch === 1 && inner >= SPLIT_K_FROM;
}

/**
 * Installs the corrected `BatchMatMul` into the WebGPU backend (once; a no-op while another
 * backend is active). `initBackend("webgpu")` calls it, and so does the model code.
 *
 * @returns whether it is installed now
 * @example
 * ```ts
 * import { useWebGpuMatMul } from "./webgpu_matmul.ts";
 * import assert from "node:assert/strict";
 * assert.equal(typeof useWebGpuMatMul(), "boolean"); // false until the WebGPU backend is active
 * ```
 */
export function useWebGpuMatMul(): boolean {
  return wrapKernel("BatchMatMul", "webgpu", batchMatMul);
}

function batchMatMul(
  args: KernelArgs,
  baseFunc: BaseKernel,
): tf.TensorInfo {
  const a = args.inputs.a as tf.Tensor, b = args.inputs.b as tf.Tensor;
  const transposeA = args.attrs?.transposeA === true;
  if (args.attrs?.transposeB !== true || !needsExplicitTranspose(a.shape, b.shape, transposeA)) {
    return baseFunc(args);
  }
  const r = b.rank;
  const perm = [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2];
  const bt = tf.transpose(b, perm); // [..., N, K] → [..., K, N]
  try {
    return baseFunc({ ...args, inputs: { a, b: bt }, attrs: { ...args.attrs, transposeB: false } });
  } finally {
    bt.dispose();
  }
}
