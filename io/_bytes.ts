/**
 * Private byte-level helpers shared by the readers and writers: typed-array views, byte order,
 * Fortran-to-C transposition, exact reads from a file, atomic writes.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Problem, problem } from "../problem.ts";
import type { DType, HostData, HostTensor } from "./host_tensor.ts";

/** True on little-endian hosts (every platform Deno ships for). */
export const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A typed-array view of a buffer for a dtype (no copy; `byteOffset` must be aligned). */
export function viewData(dtype: DType, buf: ArrayBuffer, byteOffset: number, n: number): HostData {
  switch (dtype) {
    case "float16":
    case "bfloat16":
      return new Uint16Array(buf, byteOffset, n);
    case "float32":
      return new Float32Array(buf, byteOffset, n);
    case "float64":
      return new Float64Array(buf, byteOffset, n);
    case "int8":
      return new Int8Array(buf, byteOffset, n);
    case "int16":
      return new Int16Array(buf, byteOffset, n);
    case "int32":
      return new Int32Array(buf, byteOffset, n);
    case "int64":
      return new BigInt64Array(buf, byteOffset, n);
    case "uint8":
    case "bool":
      return new Uint8Array(buf, byteOffset, n);
  }
}

/** Reverses the bytes of each `size`-byte item, in place. */
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
 * Turns raw bytes from a file into a typed array for `dtype`: copies them into a fresh (aligned)
 * buffer, swaps them when the file's byte order differs from the host's, and maps bool bytes to
 * 0/1. `bytes` must hold exactly `n * itemSize` bytes.
 */
export function decodeData(
  dtype: DType,
  bytes: Uint8Array,
  n: number,
  size: number,
  littleEndian: boolean,
): HostData {
  const copy = bytes.slice(); // a fresh buffer at offset 0, so every view is aligned
  if (littleEndian !== HOST_LITTLE) swapBytes(copy, size);
  if (dtype === "bool") {
    for (let i = 0; i < copy.length; i++) copy[i] = copy[i] ? 1 : 0;
  }
  return viewData(dtype, copy.buffer, 0, n);
}

/**
 * Like {@link decodeData}, but takes ownership of `bytes`: when they are aligned for the dtype,
 * they are swapped / normalized in place and viewed without a copy.
 */
export function ownData(
  dtype: DType,
  bytes: Uint8Array,
  n: number,
  size: number,
  littleEndian: boolean,
): HostData {
  if (bytes.byteOffset % size !== 0 || !(bytes.buffer instanceof ArrayBuffer)) {
    return decodeData(dtype, bytes, n, size, littleEndian);
  }
  if (littleEndian !== HOST_LITTLE) swapBytes(bytes, size);
  if (dtype === "bool") {
    for (let i = 0; i < bytes.length; i++) bytes[i] = bytes[i] ? 1 : 0;
  }
  return viewData(dtype, bytes.buffer, bytes.byteOffset, n);
}

/** The tensor's values as little-endian bytes (a view when the host is little-endian). */
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

/** A path as text, for messages and extension checks. */
export function pathText(path: string | URL): string {
  return typeof path === "string" ? path : fileURLToPath(path);
}

/** Maps a file-system error to a problem. */
export function fsProblem(e: unknown, where: string, doing: string): Problem {
  if (e instanceof Deno.errors.NotFound) return problem("NotFound", where, "No such file");
  if (e instanceof Deno.errors.PermissionDenied) {
    return problem("Io", where, `Permission denied while ${doing}`);
  }
  if (e instanceof Deno.errors.IsADirectory) {
    return problem("Io", where, `Is a directory; expected a file`);
  }
  const msg = e instanceof Error ? e.message : String(e);
  return problem("Io", where, `Could not ${doing}: ${msg}`);
}

/**
 * Reads a whole file, refusing files larger than `maxBytes` before reading them.
 */
export async function readFileCapped(
  path: string | URL,
  maxBytes: number,
  what: string,
): Promise<E.Either<Problem, Uint8Array<ArrayBuffer>>> {
  const where = pathText(path);
  try {
    const st = await Deno.stat(path);
    if (st.isDirectory) return E.left(problem("Io", where, `Is a directory; expected ${what}`));
    if (st.size > maxBytes) {
      return E.left(
        problem(
          "TooLarge",
          where,
          `File is ${st.size} bytes, over the limit of ${maxBytes} bytes for ${what}; raise maxBytes to read it`,
        ),
      );
    }
    return E.right(await Deno.readFile(path));
  } catch (e) {
    return E.left(fsProblem(e, where, "read the file"));
  }
}

/** Reads exactly `n` bytes at `position`, or reports how many were missing. */
export async function readExactly(
  file: Deno.FsFile,
  position: number,
  n: number,
): Promise<Uint8Array<ArrayBuffer> | number> {
  const buf = new Uint8Array(n);
  await file.seek(position, Deno.SeekMode.Start);
  let got = 0;
  while (got < n) {
    const r = await file.read(buf.subarray(got));
    if (r === null) return got;
    got += r;
  }
  return buf;
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await file.write(bytes.subarray(off));
}

/**
 * Writes a file atomically: `write` fills `name.tmp-<random>` in the same directory, which is
 * synced and then renamed over `path`. On failure the temporary file is removed and `path` is
 * left as it was.
 */
export async function writeAtomic(
  path: string | URL,
  write: (put: (bytes: Uint8Array) => Promise<void>) => Promise<void>,
): Promise<E.Either<Problem, void>> {
  const target = pathText(path);
  const tmp = join(dirname(target), `${basename(target)}.tmp-${crypto.randomUUID().slice(0, 8)}`);
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(tmp, { write: true, createNew: true });
    const f = file;
    await write((bytes) => writeAll(f, bytes));
    await f.syncData();
    f.close();
    file = undefined;
    await Deno.rename(tmp, target);
    return E.right(undefined);
  } catch (e) {
    try {
      file?.close();
    } catch { /* already closed */ }
    try {
      await Deno.remove(tmp);
    } catch { /* never created */ }
    if (e instanceof Deno.errors.NotFound) {
      return E.left(
        problem(
          "NotFound",
          target,
          `Cannot write: the directory ${dirname(target)} does not exist`,
        ),
      );
    }
    return E.left(fsProblem(e, target, "write the file"));
  }
}
