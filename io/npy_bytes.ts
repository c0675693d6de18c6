/**
 * NumPy `.npy` bytes: {@link parseNpy} reads format versions 1, 2 and 3 (either byte order, C or
 * Fortran order), {@link encodeNpy} writes version 1.0 (2.0 when the header needs it). No Deno
 * API is used; reading and writing files is `npy.ts`'s.
 *
 * @module
 */
import type * as E from "fp-ts/Either";
import type { Problem } from "../problem.ts";
import { littleEndianBytes } from "./bytes.ts";
import { decodeNpy, headerBytes, npyable } from "./_npy.ts";
import type { HostTensor } from "./host_tensor.ts";

export { NPY_MAX_HEADER_BYTES } from "./_npy.ts";

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Parses the bytes of an `.npy` file.
 *
 * @param bytes the whole file
 * @param where the file's name, for problems
 * @returns the tensor in C order and host byte order, or a problem: `Corrupt` (bad magic or
 * header), `Truncated` (fewer data bytes than the header's shape needs), `Unsupported` (object,
 * structured, string or unsigned wider than 8-bit dtypes; unknown versions), `TooLarge`
 * @example
 * ```ts
 * import { encodeNpy, parseNpy } from "./npy_bytes.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const bytes = encodeNpy(hostTensor("int32", [2], new Int32Array([5, -6])));
 * const r = parseNpy(bytes, "a.npy");
 * assert(r._tag === "Right" && r.right.data[1] === -6);
 * assert(parseNpy(new Uint8Array(3), "b.npy")._tag === "Left");
 * ```
 */
export function parseNpy(bytes: Uint8Array, where: string): E.Either<Problem, HostTensor> {
  return decodeNpy(bytes, where, false); // copies: the caller keeps its bytes
}

/**
 * Encodes a tensor as an `.npy` file: format 1.0 (2.0 when the header exceeds 65,535 bytes),
 * little-endian, C order, data aligned to 64 bytes like numpy writes it. numpy has no bfloat16,
 * so a `bfloat16` tensor is written as `<f4` (float32 holds every bfloat16 value exactly; it
 * reads back as `float32`).
 *
 * @param h the tensor
 * @returns the file's bytes
 * @example
 * ```ts
 * import { encodeNpy } from "./npy_bytes.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const b = encodeNpy(hostTensor("float32", [2, 3], new Float32Array(6)));
 * assert(b[0] === 0x93 && b[6] === 1 && (b.length - 24) % 64 === 0);
 * ```
 */
export function encodeNpy(h: HostTensor): Uint8Array {
  const t = npyable(h);
  const head = headerBytes(t);
  const data = littleEndianBytes(t);
  const out = new Uint8Array(head.length + data.length);
  out.set(head);
  out.set(data, head.length);
  return out;
}
