/**
 * Tensor files: NumPy `.npy` and `.npz`, safetensors (single files and sharded checkpoints) and
 * GGUF (metadata, and tensors dequantized to float32), read
 * into host tensors and written atomically. Every reader returns `Either<Problem, A>`: input is
 * untrusted, so sizes are checked against the bytes present and capped before allocating.
 *
 * ```ts
 * import { hostTensor, readNpy, writeNpy } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const prompt = hostTensor("float32", [2, 3], new Float32Array([0, 1, 2, 3, 4, 5])); // [P, H]
 * assert.equal((await writeNpy(`${dir}/prompt.npy`, prompt))._tag, "Right");
 * const back = await readNpy(`${dir}/prompt.npy`);
 * assert(back._tag === "Right");
 * assert.deepEqual(back.right.shape, [2, 3]);
 * assert.deepEqual(Array.from(back.right.data as Float32Array), [0, 1, 2, 3, 4, 5]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
export { type DType, DTYPES, type HostData, isDType } from "./dtype.ts";
export {
  fromTensor,
  type HostTensor,
  hostTensor,
  type NamedTensors,
  type Stats,
  stats,
  type TensorEntry,
  toTensor,
} from "./host_tensor.ts";
export { encodeNpy, parseNpy, readNpy, type ReadNpyOptions, writeNpy } from "./npy.ts";
export {
  encodeNpz,
  parseNpz,
  readNpz,
  type ReadNpzOptions,
  writeNpz,
  type WriteNpzOptions,
} from "./npz.ts";
export {
  encodeSafetensors,
  openSafetensors,
  openSafetensorsIndex,
  parseSafetensors,
  type SafetensorsContents,
  type SafetensorsFile,
  writeSafetensors,
} from "./safetensors.ts";
export { openTensorFile, TENSOR_FILE_EXTENSIONS, type TensorSource } from "./tensor_file.ts";
export {
  FINGERPRINT_MAX_FILES,
  fingerprintChanges,
  fingerprintModel,
  isModelFingerprint,
  type ModelFingerprint,
} from "./fingerprint.ts";
export {
  GGUF_LIMITS,
  GGUF_TENSOR_TYPES,
  type GgufFile,
  type GgufTensorInfo,
  type GgufValue,
  openGguf,
  readGgufMetadata,
} from "./gguf.ts";
export type { Problem, ProblemTag } from "../problem.ts";
