/**
 * Byte-level helpers shared by the tensor readers and writers: byte order, raw bytes to typed
 * arrays, Fortran-to-C transposition, CRC-32.
 *
 * @module
 */
import { type DType, type HostData, viewData } from "./dtype.ts";
import type { HostTensor } from "./host_tensor.ts";

/**
 * True on little-endian hosts (every platform Deno ships for).
 *
 * @example
 * ```ts
 * import { HOST_LITTLE } from "./bytes.ts";
 * import assert from "node:assert/strict";
 * const first = new Uint8Array(new Uint32Array([1]).buffer)[0];
 * assert.equal(HOST_LITTLE, first === 1);
 * ```
 */
export const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Reverses the bytes of each `size`-byte item, in place.
 *
 * @param b the bytes, a whole number of items
 * @param size bytes per item
 * @example
 * ```ts
 * import { swapBytes } from "./bytes.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([1, 2, 3, 4]);
 * swapBytes(b, 2);
 * assert.deepEqual([...b], [2, 1, 4, 3]);
 * ```
 */
export function swapBytes(b: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i + size <= b.length; i += size) {
    for (let lo = i, hi = i + size - 1; lo < hi; lo++, hi--) {
      const t = b[lo];
      b[lo] = b[hi];
      b[hi] = t;
    }
  }
}

/**
 * Turns raw bytes from a file into a typed array for `dtype`: swaps them when the file's byte
 * order differs from the host's, and maps bool bytes to 0/1. The bytes are copied into a fresh
 * (aligned) buffer, unless the caller hands them over (`owned`) and they are aligned for the
 * dtype: then they are swapped / normalized in place and viewed without a copy. `bytes` must hold
 * exactly `n * size` bytes.
 *
 * @param dtype the element type
 * @param bytes the raw bytes
 * @param n number of elements
 * @param size bytes per element
 * @param littleEndian the byte order of `bytes`
 * @param owned whether `bytes` are handed over (they may then be changed and shared)
 * @returns a typed array
 * @example
 * ```ts
 * import { decodeData, HOST_LITTLE } from "./bytes.ts";
 * import assert from "node:assert/strict";
 * const big = new Uint8Array([0, 0, 0, 7, 0, 0, 1, 0]); // int32 7 and 256, big-endian
 * assert.deepEqual([...decodeData("int32", big, 2, 4, false)], [7, 256]);
 * assert.deepEqual([...decodeData("bool", new Uint8Array([0, 5]), 2, 1, true)], [0, 1]);
 * const mine = new Uint8Array(new Float32Array([1.5, -2]).buffer);
 * const data = decodeData("float32", mine, 2, 4, HOST_LITTLE, true);
 * assert(data.buffer === mine.buffer && data[0] === 1.5 && data[1] === -2); // no copy
 * ```
 */
export function decodeData(
  dtype: DType,
  bytes: Uint8Array,
  n: number,
  size: number,
  littleEndian: boolean,
  owned = false,
): HostData {
  const inPlace = owned && bytes.byteOffset % size === 0 && bytes.buffer instanceof ArrayBuffer;
  // Else a fresh buffer at offset 0, so every view is aligned.
  const b = inPlace ? bytes as Uint8Array<ArrayBuffer> : bytes.slice();
  if (littleEndian !== HOST_LITTLE) swapBytes(b, size);
  if (dtype === "bool") {
    for (let i = 0; i < b.length; i++) b[i] = b[i] ? 1 : 0;
  }
  return viewData(dtype, b.buffer, b.byteOffset, n);
}

/**
 * The tensor's values as little-endian bytes (a view when the host is little-endian).
 *
 * @param h the tensor
 * @returns its data's bytes, little-endian
 * @example
 * ```ts
 * import { littleEndianBytes } from "./bytes.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const h = hostTensor("int16", [2], new Int16Array([1, 0x0203]));
 * assert.deepEqual([...littleEndianBytes(h)], [1, 0, 3, 2]);
 * ```
 */
export function littleEndianBytes(h: HostTensor): Uint8Array {
  const d = h.data;
  const view = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  if (HOST_LITTLE) return view;
  const copy = view.slice();
  swapBytes(copy, d.BYTES_PER_ELEMENT);
  return copy;
}

/**
 * Reorders Fortran-order (column-major) items into C order, treating each item as `size` opaque
 * bytes so no value is reinterpreted (NaN payloads survive).
 *
 * @param bytes the items in Fortran order (not changed)
 * @param shape the array's shape
 * @param size bytes per item
 * @returns the items in C order, in a new buffer
 * @example
 * ```ts
 * import { fortranToC } from "./bytes.ts";
 * import assert from "node:assert/strict";
 * // [[1, 2, 3], [4, 5, 6]] stored column by column: 1 4 2 5 3 6
 * const c = fortranToC(new Uint8Array([1, 4, 2, 5, 3, 6]), [2, 3], 1);
 * assert.deepEqual([...c], [1, 2, 3, 4, 5, 6]);
 * ```
 */
export function fortranToC(bytes: Uint8Array, shape: readonly number[], size: number): Uint8Array {
  const nd = shape.length;
  let n = 1;
  for (const d of shape) n *= d;
  if (nd < 2 || n === 0) return bytes.slice();
  const words = size === 8 ? 2 : 1; // 8-byte items move as two 32-bit words
  const unit = size === 8 ? 4 : size;
  const src = bytes.slice(); // aligned copy
  const out = new Uint8Array(bytes.length);
  const view = (b: Uint8Array) =>
    unit === 1
      ? b
      : unit === 2
      ? new Uint16Array(b.buffer, 0, b.length / 2)
      : new Uint32Array(b.buffer, 0, b.length / 4);
  const s = view(src);
  const o = view(out);
  // Fortran strides, in items: the first axis varies fastest.
  const fs = new Array<number>(nd);
  fs[0] = 1;
  for (let k = 1; k < nd; k++) fs[k] = fs[k - 1] * shape[k - 1];
  const idx = new Array<number>(nd).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    if (words === 1) {
      o[i] = s[off];
    } else {
      o[2 * i] = s[2 * off];
      o[2 * i + 1] = s[2 * off + 1];
    }
    // Advance the C-order index (last axis fastest) and its Fortran offset.
    for (let k = nd - 1; k >= 0; k--) {
      idx[k]++;
      off += fs[k];
      if (idx[k] < shape[k]) break;
      off -= fs[k] * shape[k];
      idx[k] = 0;
    }
  }
  return out;
}

let crcTable: Uint32Array | undefined;

/**
 * CRC-32 (the ZIP and gzip polynomial, 0xEDB88320 reflected).
 *
 * @param b the bytes
 * @returns the checksum, an unsigned 32-bit integer
 * @example
 * ```ts
 * import { crc32 } from "./bytes.ts";
 * import assert from "node:assert/strict";
 * assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926); // the check value
 * ```
 */
export function crc32(b: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const t = crcTable;
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = t[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
