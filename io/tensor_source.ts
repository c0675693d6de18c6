/**
 * What every tensor reader gives: named tensors that can be listed, then read one at a time
 * (safetensors, sharded checkpoints, npz, GGUF). Opening one from a path is `tensor_file.ts`'s.
 *
 * @module
 */
import type * as E from "fp-ts/Either";
import type { Problem } from "../problem.ts";
import type { HostTensor, TensorEntry } from "./host_tensor.ts";

/**
 * Named tensors that can be listed, then read one at a time.
 *
 * @example
 * ```ts
 * import { openTensorFile, type TensorSource } from "./tensor_file.ts";
 * import { writeNpz } from "./npz.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const t = hostTensor("float32", [2], new Float32Array([1, 2]));
 * await writeNpz(`${dir}/a.npz`, { x: t, y: t });
 * const src: TensorSource = orThrow(await openTensorFile(`${dir}/a.npz`));
 * try {
 *   assert(src.entries.map((e) => e.name).join() === "x,y");
 *   const y = await src.read("y");
 *   assert(y._tag === "Right" && y.right.data[1] === 2);
 * } finally {
 *   src.close();
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface TensorSource {
  /** The tensors' names, dtypes and shapes. */
  readonly entries: readonly TensorEntry[];
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /**
   * Reads one tensor.
   *
   * @param name a name from {@link TensorSource.entries}
   * @returns the tensor, or a `NotFound` problem for an unknown name
   */
  read(name: string): Promise<E.Either<Problem, HostTensor>>;
  /** Releases open files; safe to call twice. */
  close(): void;
}
