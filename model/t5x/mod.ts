/**
 * T5X checkpoints (the original prompt-tuning implementation's native format): a msgpack file
 * plus zarr arrays with gzip chunks, read into the library's T5 parameter tree.
 *
 * ```ts
 * import { loadT5x } from "./mod.ts";
 * import { disposeTree } from "../../tree/tree.ts";
 * import assert from "node:assert/strict";
 * const dir = new URL("../../tests/data/prompt-tuning/test_data/test_t5_1_1_tiny/checkpoint_3/", import.meta.url);
 * const r = await loadT5x(dir);
 * if (r._tag === "Right") {
 *   assert(r.right.sizes.dModel === 4);
 *   disposeTree(r.right.params);
 * }
 * ```
 *
 * @module
 */
export * from "./checkpoint.ts";
export * from "./load.ts";
export * from "./tree.ts";
export * from "./zarr.ts";
export type { Compressor } from "./_codec.ts";
export type { Problem, ProblemTag } from "../../problem.ts";
export type { DType, HostData } from "../../io/dtype.ts";
export type { HostTensor, TensorEntry } from "../../io/host_tensor.ts";
export type { TensorSource } from "../../io/tensor_file.ts";
export type { ParamTree } from "../../tree/tree.ts";
