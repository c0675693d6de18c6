/**
 * NumPy `.npy` files: read (format versions 1, 2 and 3, either byte order, C or Fortran order)
 * and write (version 1.0, or 2.0 when the header needs it).
 *
 * The header is a Python dict literal; it is parsed strictly, never evaluated. Every size in it
 * is checked against the bytes actually present, so a header that lies cannot cause a huge
 * allocation.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import type { Problem } from "../problem.ts";
import { littleEndianBytes } from "./bytes.ts";
import { pathText, readFileCapped, writeAtomic } from "./files.ts";
import { decodeNpy, headerBytes, npyable } from "./_npy.ts";
import type { HostTensor } from "./host_tensor.ts";

export { encodeNpy, NPY_MAX_HEADER_BYTES, parseNpy } from "./npy_bytes.ts";

/**
 * The largest file {@link readNpy} reads unless told otherwise: 2 GiB.
 *
 * @example
 * ```ts
 * import { NPY_DEFAULT_MAX_BYTES, readNpy } from "./npy.ts";
 * import assert from "node:assert/strict";
 * assert(NPY_DEFAULT_MAX_BYTES === 2 * 1024 ** 3);
 * // Larger files need an explicit limit: readNpy(path, { maxBytes: 4 * NPY_DEFAULT_MAX_BYTES }).
 * const r = await readNpy("missing.npy", { maxBytes: NPY_DEFAULT_MAX_BYTES });
 * assert(r._tag === "Left" && r.left._tag === "NotFound");
 * ```
 */
export const NPY_DEFAULT_MAX_BYTES = 2 ** 31;

/**
 * Options for {@link readNpy}.
 *
 * @example
 * ```ts
 * import { readNpy, type ReadNpyOptions, writeNpy } from "./npy.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await writeNpy(`${dir}/a.npy`, hostTensor("float32", [64], new Float32Array(64))); // 384 bytes
 * const small: ReadNpyOptions = { maxBytes: 256 };
 * const r = await readNpy(`${dir}/a.npy`, small);
 * assert(r._tag === "Left" && r.left._tag === "TooLarge");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface ReadNpyOptions {
  /** Refuse files larger than this many bytes (default {@link NPY_DEFAULT_MAX_BYTES}). */
  readonly maxBytes?: number;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Reads an `.npy` file.
 *
 * @param path the file
 * @param options `maxBytes`: the largest file accepted (default 2 GiB)
 * @returns the tensor, or a problem (`NotFound` for a missing file, then as {@link parseNpy})
 * @example
 * ```ts
 * import { readNpy, writeNpy } from "./npy.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const path = await Deno.makeTempFile({ suffix: ".npy" });
 * await writeNpy(path, hostTensor("float64", [1], new Float64Array([0.25])));
 * const r = await readNpy(path);
 * assert(r._tag === "Right" && r.right.data[0] === 0.25);
 * assert((await readNpy(path + ".missing"))._tag === "Left");
 * await Deno.remove(path);
 * ```
 */
export async function readNpy(
  path: string | URL,
  options: ReadNpyOptions = {},
): Promise<E.Either<Problem, HostTensor>> {
  const bytes = await readFileCapped(
    path,
    options.maxBytes ?? NPY_DEFAULT_MAX_BYTES,
    "an .npy file",
  );
  return E.isLeft(bytes) ? bytes : decodeNpy(bytes.right, pathText(path), true);
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Writes a tensor as an `.npy` file (see {@link encodeNpy}), atomically: the bytes go to a
 * temporary file in the same directory, which is then renamed over `path`.
 *
 * @param path the file to write
 * @param h the tensor
 * @returns nothing, or an `Io`/`NotFound` problem
 * @example
 * ```ts
 * import { writeNpy } from "./npy.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const r = await writeNpy(`${dir}/p.npy`, hostTensor("int8", [2], new Int8Array([1, -1])));
 * assert(r._tag === "Right");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function writeNpy(path: string | URL, h: HostTensor): Promise<E.Either<Problem, void>> {
  const t = npyable(h);
  return writeAtomic(path, async (put) => {
    await put(headerBytes(t));
    await put(littleEndianBytes(t)); // a view of the tensor's memory: no copy of the data
  });
}
