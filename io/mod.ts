/**
 * Tensor files: NumPy `.npy` and `.npz`, safetensors (single files and sharded checkpoints), read
 * into host tensors and written atomically. Every reader returns `Either<Problem, A>`: input is
 * untrusted, so sizes are checked against the bytes present and capped before allocating.
 *
 * ```ts
 * import { openTensorFile, toTensor } from "./mod.ts";
 * ```
 *
 * @module
 */
export { type DType, DTYPES, type HostData, isDType, itemSize } from "./dtype.ts";
export * from "./host_tensor.ts";
export * from "./npy.ts";
export * from "./npz.ts";
export * from "./safetensors.ts";
export * from "./tensor_file.ts";
export type { Problem, ProblemTag } from "../problem.ts";
