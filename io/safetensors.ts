/**
 * safetensors files on the local disk: an 8-byte little-endian header length, a JSON header
 * (`name → {dtype, shape, data_offsets}` plus an optional `__metadata__` of strings), then the
 * tensors' bytes, contiguous and little-endian.
 *
 * {@link openSafetensors} reads only the header, then each tensor on demand with a seek and a
 * read of exactly its bytes, so a file larger than the JS heap can be used a tensor at a time.
 * Sharded checkpoints (`model.safetensors.index.json`) open as one file with
 * {@link openSafetensorsIndex}. The parsing is `safetensors_read.ts`'s (which runs without Deno);
 * these functions only open the files.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { basename, dirname } from "node:path";
import { type Problem, problem } from "../problem.ts";
import { littleEndianBytes } from "./bytes.ts";
import { dirFileSet, openFileReader } from "./dir_files.ts";
import { pathText, writeAtomic } from "./files.ts";
import type { NamedTensors } from "./host_tensor.ts";
import { plan } from "./_safetensors_layout.ts";
import {
  openSafetensorsFrom,
  openSafetensorsIndexIn,
  type SafetensorsFile,
} from "./safetensors_read.ts";

export {
  encodeSafetensors,
  openSafetensorsFrom,
  openSafetensorsIndexIn,
  parseSafetensors,
  SAFETENSORS_MAX_HEADER_BYTES,
  SAFETENSORS_MAX_INDEX_BYTES,
  type SafetensorsContents,
  type SafetensorsFile,
} from "./safetensors_read.ts";

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Opens a safetensors file: reads and validates its header (dtype, shapes, offsets contiguous
 * from 0 to the end of the file, `__metadata__` strings) and keeps the file open for
 * {@link SafetensorsFile.read}. Call `close()` when done.
 *
 * @param path the file
 * @returns the open file, or a problem: `NotFound`, `TooLarge` (header length over 100 MB),
 * `Corrupt` (bad JSON, overlapping offsets, gaps, sizes that disagree), `Truncated`,
 * `Unsupported` (a dtype outside F32 F16 BF16 F64 I64 I32 I16 I8 U8 BOOL)
 * @example
 * ```ts
 * import { openSafetensors, writeSafetensors } from "./safetensors.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await writeSafetensors(path, { w: hostTensor("float32", [2], new Float32Array([1, 2])) });
 * const f = await openSafetensors(path);
 * if (f._tag === "Right") {
 *   const w = await f.right.read("w");
 *   assert(w._tag === "Right" && w.right.data[1] === 2);
 *   f.right.close();
 * }
 * await Deno.remove(path);
 * ```
 */
export async function openSafetensors(
  path: string | URL,
): Promise<E.Either<Problem, SafetensorsFile>> {
  const where = pathText(path);
  const opened = await openFileReader(path, "a .safetensors file");
  return E.isLeft(opened) ? opened : await openSafetensorsFrom(opened.right, where);
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Writes tensors as a safetensors file (see {@link encodeSafetensors}), streaming each tensor's
 * bytes to a temporary file in the same directory, then renaming it over `path`.
 *
 * @param path the file to write
 * @param tensors name → tensor
 * @param metadata optional `__metadata__` strings
 * @returns nothing, or an `Invalid`/`Io`/`NotFound` problem
 * @example
 * ```ts
 * import { writeSafetensors } from "./safetensors.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const t = hostTensor("bfloat16", [1], new Uint16Array([0x3f80]));
 * const r = await writeSafetensors(`${dir}/p.safetensors`, { prompt: t }, { format: "np" });
 * assert(r._tag === "Right");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function writeSafetensors(
  path: string | URL,
  tensors: NamedTensors,
  metadata?: Readonly<Record<string, string>>,
): Promise<E.Either<Problem, void>> {
  let planned: ReturnType<typeof plan>;
  try {
    planned = plan(tensors, metadata);
  } catch (e) {
    return Promise.resolve(E.left(problem("Invalid", pathText(path), (e as Error).message)));
  }
  return writeAtomic(path, async (put) => {
    await put(planned.header);
    for (const t of planned.order) await put(littleEndianBytes(t));
  });
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Opens a sharded checkpoint from its `model.safetensors.index.json` (`{"weight_map": {name:
 * shard file}}`). Shards must be plain file names in the index's directory. Every shard is
 * opened and every mapped tensor checked to be in its shard; the result reads like one file.
 * Its `metadata` merges the shards' `__metadata__` (the first shard wins on a conflict); the
 * index's own `metadata` (such as `total_size`) is not checked.
 *
 * @param indexPath the index file
 * @returns the checkpoint, or a problem: the index's (`NotFound`, `Corrupt`, `Invalid` for a
 * shard name with a directory part) or a shard's, or `Mismatch` for a tensor missing from its
 * shard
 * @example
 * ```ts
 * import { openSafetensorsIndex, writeSafetensors } from "./safetensors.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await writeSafetensors(`${dir}/a.safetensors`, { x: hostTensor("int8", [1], new Int8Array([3])) });
 * await Deno.writeTextFile(`${dir}/model.safetensors.index.json`, '{"weight_map": {"x": "a.safetensors"}}');
 * const f = await openSafetensorsIndex(`${dir}/model.safetensors.index.json`);
 * if (f._tag === "Right") {
 *   const x = await f.right.read("x");
 *   assert(x._tag === "Right" && x.right.data[0] === 3);
 *   f.right.close();
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openSafetensorsIndex(
  indexPath: string | URL,
): Promise<E.Either<Problem, SafetensorsFile>> {
  const where = pathText(indexPath);
  return await openSafetensorsIndexIn(dirFileSet(dirname(where)), basename(where));
}
