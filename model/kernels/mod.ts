/**
 * Faster kernels for the WASM backend, installed on first use by the model code: a `BatchMatMul`
 * on our own matrix-product kernel (`wasm/`: packed blocks, relaxed SIMD, transposition by
 * strides, both cores), a zero-copy `Identity` and same-dtype `Cast`, a row-copy `GatherV2`,
 * and per-layer recomputation for the backward pass; and on the WebGPU backend a `BatchMatMul` that avoids
 * tfjs-webgpu's wrong split-K products with a transposed right operand.
 *
 * @module
 */
import { useRowGather } from "./gather.ts";
import { useSharedIdentity } from "./identity.ts";
import { useFastMatMul } from "./matmul.ts";
import { useWebGpuMatMul } from "./webgpu_matmul.ts";

export { useFastMatMul } from "./matmul.ts";
export { useSharedIdentity } from "./identity.ts";
export { useRowGather } from "./gather.ts";
export { useWebGpuMatMul } from "./webgpu_matmul.ts";
export { type Recompute, remat } from "./recompute.ts";

let done = false;

/**
 * Installs every faster WASM kernel once the WASM backend is active, and the corrected WebGPU
 * `BatchMatMul` once the WebGPU backend is; cheap to call often (the model's layers call it).
 *
 * @returns whether the WASM kernels are installed
 * @example
 * ```ts
 * import { useFastKernels } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert(typeof useFastKernels() === "boolean"); // false until the WASM backend is active
 * ```
 */
export function useFastKernels(): boolean {
  useWebGpuMatMul();
  if (done) return true;
  const gather = useRowGather();
  done = useFastMatMul() && useSharedIdentity() && gather;
  return done;
}
