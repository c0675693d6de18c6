/**
 * Zarr v2 arrays on local disk, as TensorStore writes them for T5X: a directory holding a
 * `.zarray` JSON file and one file per chunk, named by its grid index (`0.0`, `1.0`, …).
 *
 * Every chunk file holds a full chunk, edge chunks included (their out-of-range part is padding);
 * a missing chunk file means "all `fill_value`" (`null` reads as zero, as TensorStore does).
 * Every size is checked before anything is allocated, so a lying `.zarray` or a compressed chunk
 * that would grow too large is refused.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { join } from "node:path";
import { type Problem, problem, shownValue } from "../../problem.ts";
import { fortranToC, HOST_LITTLE, swapBytes } from "../../io/bytes.ts";
import { type DType, isFloatDType, itemSize, NUMPY_DTYPE_CODES } from "../../io/dtype.ts";
import { readFileCapped } from "../../io/files.ts";
import {
  allocData,
  bfloat16Bits,
  float16Bits,
  type HostTensor,
  hostTensor,
  sizeOf,
} from "../../io/host_tensor.ts";
import { type Compressor, decodeChunk } from "./_codec.ts";

/**
 * Limits on what {@link readZarray} and {@link readZarrArray} accept.
 *
 * @example
 * ```ts
 * import { parseZarray, type ZarrLimits } from "./zarr.ts";
 * import assert from "node:assert/strict";
 * const text = JSON.stringify({
 *   zarr_format: 2, shape: [1000, 1000], chunks: [100, 1000], dtype: "<f4", compressor: null,
 *   fill_value: 0, filters: null, order: "C",
 * });
 * const limits: ZarrLimits = { maxArrayBytes: 2 ** 20 };
 * const r = parseZarray(text, ".zarray", limits);
 * assert(r._tag === "Left" && r.left._tag === "TooLarge"); // 4 MB is over 1 MiB
 * assert(parseZarray(text, ".zarray")._tag === "Right"); // the default allows 2 GiB
 * ```
 */
export interface ZarrLimits {
  /** The largest `.zarray` file, in bytes (default 64 KiB). */
  readonly maxMetadataBytes?: number;
  /** The largest array, in bytes once decoded (default 2 GiB). */
  readonly maxArrayBytes?: number;
  /** The largest chunk, in bytes once decoded (default 1 GiB). */
  readonly maxChunkBytes?: number;
  /** The most chunks one array may have (default 1,000,000). */
  readonly maxChunks?: number;
}

const DEFAULTS = {
  maxMetadataBytes: 64 * 1024,
  maxArrayBytes: 2 ** 31,
  maxChunkBytes: 2 ** 30,
  maxChunks: 1_000_000,
};

/**
 * A zarr array's metadata, checked.
 *
 * @example
 * ```ts
 * import { parseZarray, type ZarrMeta } from "./zarr.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const text = JSON.stringify({
 *   zarr_format: 2, shape: [5, 3], chunks: [2, 3], dtype: ">i4", compressor: { id: "zlib", level: 1 },
 *   fill_value: 7, filters: null, order: "F", dimension_separator: "/",
 * });
 * const meta: ZarrMeta = orThrow(parseZarray(text, ".zarray"));
 * assert(meta.dtype === "int32" && !meta.littleEndian && meta.compressor === "zlib");
 * assert(meta.order === "F" && meta.fillValue === 7 && meta.separator === "/");
 * ```
 */
export interface ZarrMeta {
  /** The element type. */
  readonly dtype: DType;
  /** True when the stored bytes are little-endian. */
  readonly littleEndian: boolean;
  /** The array's shape. */
  readonly shape: readonly number[];
  /** The shape of every chunk (edge chunks are padded to it). */
  readonly chunks: readonly number[];
  /** How chunks are compressed. */
  readonly compressor: Compressor;
  /** Whether each chunk's items are in C (row-major) or Fortran order. */
  readonly order: "C" | "F";
  /** The value of items in missing chunks; `null` reads as zero. */
  readonly fillValue: number | bigint | boolean | null;
  /** The character joining a chunk's grid indices into its file name. */
  readonly separator: "." | "/";
}

// zarr dtype codes: numpy's typestr, plus TensorStore's "bfloat16".
const SUPPORTED = "<f2, <f4, <f8, bfloat16, |i1, <i2, <i4, <i8, |u1 or |b1 (or big-endian >)";

type Parsed<A> = E.Either<string, A>;

function parseDtype(v: unknown): Parsed<{ dtype: DType; little: boolean }> {
  if (v === "bfloat16") return E.right({ dtype: "bfloat16", little: true });
  const m = typeof v === "string" ? /^([<>|])([a-zA-Z]\d+)$/.exec(v) : null;
  if (!m || !Object.hasOwn(NUMPY_DTYPE_CODES, m[2])) {
    return E.left(`'dtype' is ${shownValue(v)}; expected one of ${SUPPORTED}`);
  }
  return E.right({ dtype: NUMPY_DTYPE_CODES[m[2]], little: m[1] !== ">" });
}

function parseDims(v: unknown, key: string, min: number): Parsed<number[]> {
  if (
    !Array.isArray(v) || v.length > 32 ||
    !v.every((d) => Number.isSafeInteger(d) && (d as number) >= min)
  ) {
    return E.left(
      `'${key}' is ${shownValue(v)}; expected a list of at most 32 integers >= ${min}`,
    );
  }
  return E.right(v as number[]);
}

function parseCompressor(v: unknown): Parsed<Compressor> {
  if (v === null) return E.right(null);
  const id = typeof v === "object" && v !== null ? (v as Record<string, unknown>).id : undefined;
  if (id === "gzip" || id === "zlib") return E.right(id);
  return E.left(
    `'compressor' is ${shownValue(v)}; expected null or a compressor with id gzip or zlib`,
  );
}

function parseFill(v: unknown, dtype: DType): Parsed<number | bigint | boolean | null> {
  if (v === null) return E.right(null);
  if (isFloatDType(dtype)) {
    if (typeof v === "number") return E.right(v);
    if (v === "NaN") return E.right(NaN);
    if (v === "Infinity") return E.right(Infinity);
    if (v === "-Infinity") return E.right(-Infinity);
  } else if (dtype === "bool") {
    if (typeof v === "boolean") return E.right(v);
    if (v === 0 || v === 1) return E.right(v === 1);
  } else if (Number.isInteger(v)) {
    return E.right(dtype === "int64" ? BigInt(v as number) : v as number);
  }
  return E.left(`'fill_value' is ${shownValue(v)}, which does not fit dtype ${dtype}`);
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Parses and checks the text of a `.zarray` file.
 *
 * @param text the file's text
 * @param where the file, for the problem
 * @param limits `maxArrayBytes`, `maxChunkBytes`, `maxChunks`
 * @returns the metadata, or a problem: `Corrupt` (not JSON, a field malformed), `Unsupported`
 * (a format, dtype, compressor or filter this reader does not handle), `TooLarge` (over a limit)
 * @example
 * ```ts
 * import { parseZarray } from "./zarr.ts";
 * import assert from "node:assert/strict";
 * const text = JSON.stringify({
 *   zarr_format: 2, shape: [5, 3], chunks: [2, 3], dtype: "<f4", compressor: { id: "gzip" },
 *   fill_value: null, filters: null, order: "C",
 * });
 * const r = parseZarray(text, ".zarray");
 * assert(r._tag === "Right" && r.right.dtype === "float32" && r.right.chunks[0] === 2);
 * assert(parseZarray("{", ".zarray")._tag === "Left");
 * ```
 */
export function parseZarray(
  text: string,
  where: string,
  limits: ZarrLimits = {},
): E.Either<Problem, ZarrMeta> {
  const lim = { ...DEFAULTS, ...limits };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
    return E.left(problem("Corrupt", where, `Zarr metadata is not valid JSON (${msg})`));
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return E.left(problem("Corrupt", where, "Zarr metadata is not a JSON object"));
  }
  const m = json as Record<string, unknown>;
  if (m.zarr_format !== 2) {
    return E.left(
      problem(
        "Unsupported",
        where,
        `'zarr_format' is ${shownValue(m.zarr_format)}; expected 2`,
      ),
    );
  }
  const corrupt = (msg: string) => E.left(problem("Corrupt", where, msg));
  const unsupported = (msg: string) => E.left(problem("Unsupported", where, msg));
  const shape = parseDims(m.shape, "shape", 0);
  if (E.isLeft(shape)) return corrupt(shape.left);
  const chunks = parseDims(m.chunks, "chunks", 1);
  if (E.isLeft(chunks)) return corrupt(chunks.left);
  if (chunks.right.length !== shape.right.length) {
    return corrupt(
      `'chunks' [${chunks.right}] and 'shape' [${shape.right}] have different numbers of axes`,
    );
  }
  const dt = parseDtype(m.dtype);
  if (E.isLeft(dt)) return unsupported(dt.left);
  const compressor = parseCompressor(m.compressor);
  if (E.isLeft(compressor)) return unsupported(compressor.left);
  if (
    m.filters !== null && m.filters !== undefined &&
    !(Array.isArray(m.filters) && m.filters.length === 0)
  ) {
    return unsupported(`'filters' is ${shownValue(m.filters)}; expected null`);
  }
  if (m.order !== "C" && m.order !== "F") {
    return corrupt(`'order' is ${shownValue(m.order)}; expected "C" or "F"`);
  }
  const sep = m.dimension_separator ?? ".";
  if (sep !== "." && sep !== "/") {
    return corrupt(`'dimension_separator' is ${shownValue(sep)}; expected "." or "/"`);
  }
  const fill = parseFill(m.fill_value, dt.right.dtype);
  if (E.isLeft(fill)) return corrupt(fill.left);
  const size = itemSize(dt.right.dtype);
  const arrayBytes = sizeOf(shape.right) * size;
  const chunkBytes = sizeOf(chunks.right) * size;
  const gridCount = sizeOf(shape.right.map((d, k) => Math.ceil(d / chunks.right[k])));
  const tooLarge = (msg: string) => E.left(problem("TooLarge", where, msg));
  if (arrayBytes > lim.maxArrayBytes) {
    return tooLarge(
      `Array of shape [${shape.right}] is ${arrayBytes} bytes, over the limit of ${lim.maxArrayBytes}`,
    );
  }
  if (chunkBytes > lim.maxChunkBytes) {
    return tooLarge(
      `Chunks of shape [${chunks.right}] are ${chunkBytes} bytes, over the limit of ${lim.maxChunkBytes}`,
    );
  }
  if (gridCount > lim.maxChunks) {
    return tooLarge(`Array has ${gridCount} chunks, over the limit of ${lim.maxChunks}`);
  }
  return E.right(Object.freeze({
    dtype: dt.right.dtype,
    littleEndian: dt.right.little,
    shape: Object.freeze([...shape.right]),
    chunks: Object.freeze([...chunks.right]),
    compressor: compressor.right,
    order: m.order,
    fillValue: fill.right,
    separator: sep,
  }));
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Reads and checks a zarr array's `.zarray` file.
 *
 * @param dir the array's directory
 * @param limits see {@link ZarrLimits}
 * @returns the metadata, or a problem (`NotFound` when there is no `.zarray`, then as
 * {@link parseZarray})
 * @example
 * ```ts
 * import { readZarray } from "./zarr.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * assert((await readZarray(dir))._tag === "Left");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readZarray(
  dir: string,
  limits: ZarrLimits = {},
): Promise<E.Either<Problem, ZarrMeta>> {
  const path = join(dir, ".zarray");
  const max = limits.maxMetadataBytes ?? DEFAULTS.maxMetadataBytes;
  const bytes = await readFileCapped(path, max, "a .zarray file");
  if (E.isLeft(bytes)) return bytes;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.right);
  } catch {
    return E.left(problem("Corrupt", path, "Zarr metadata is not UTF-8 text"));
  }
  return parseZarray(text, path, limits);
}

/** One item's bytes in the file's byte order, for filling missing chunks. */
function fillItem(meta: ZarrMeta): Uint8Array | undefined {
  const v = meta.fillValue;
  // All-zero bits need no filling (the buffer starts zeroed); -0 has its sign bit set.
  if (v === null || v === false || v === 0n || (v === 0 && !Object.is(v, -0))) return undefined;
  const { dtype } = meta;
  const item = allocData(dtype, 1); // in the host's byte order
  (item as unknown as unknown[])[0] = dtype === "float16"
    ? float16Bits([v as number])[0]
    : dtype === "bfloat16"
    ? bfloat16Bits([v as number])[0]
    : dtype === "bool"
    ? (v ? 1 : 0)
    : v;
  const b = new Uint8Array(item.buffer);
  if (meta.littleEndian !== HOST_LITTLE) swapBytes(b, itemSize(dtype));
  return b;
}

/** C-order strides, in items. */
function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let n = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    s[k] = n;
    n *= shape[k];
  }
  return s;
}

/**
 * Copies the in-range part of one chunk (or the fill value, when `chunk` is undefined) into the
 * array's bytes. Runs along the last axis are contiguous in both, so each is one copy.
 */
function place(
  out: Uint8Array,
  meta: ZarrMeta,
  grid: readonly number[],
  chunk: Uint8Array | undefined,
  fill: Uint8Array | undefined,
): void {
  const size = itemSize(meta.dtype);
  const nd = meta.shape.length;
  if (nd === 0) {
    if (chunk) out.set(chunk.subarray(0, size));
    else if (fill) out.set(fill);
    return;
  }
  const origin = grid.map((g, k) => g * meta.chunks[k]);
  const extent = origin.map((o, k) => Math.min(meta.chunks[k], meta.shape[k] - o));
  const os = strides(meta.shape);
  const cs = strides(meta.chunks);
  const run = extent[nd - 1] * size;
  const idx = new Array<number>(nd).fill(0);
  const rows = sizeOf(extent.slice(0, nd - 1));
  for (let r = 0; r < rows; r++) {
    let o = 0;
    let c = 0;
    for (let k = 0; k < nd; k++) {
      o += (origin[k] + idx[k]) * os[k];
      c += idx[k] * cs[k];
    }
    if (chunk) {
      out.set(chunk.subarray(c * size, c * size + run), o * size);
    } else if (fill) {
      for (let i = 0; i < extent[nd - 1]; i++) out.set(fill, (o + i) * size);
    }
    // Next row: advance the index over every axis but the last.
    for (let k = nd - 2; k >= 0; k--) {
      if (++idx[k] < extent[k]) break;
      idx[k] = 0;
    }
  }
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Reads a whole zarr array into a host tensor, chunk by chunk.
 *
 * @param dir the array's directory
 * @param meta its metadata, from {@link readZarray}
 * @param limits `maxChunkBytes` bounds each chunk file read (see {@link ZarrLimits})
 * @returns the tensor, or a problem naming the chunk file: `Corrupt` (damaged compressed data),
 * `Mismatch` (a chunk of the wrong size), `TooLarge`, `Io`
 * @example
 * ```ts
 * import { gzipSync } from "fflate";
 * import { readZarrArray, readZarray } from "./zarr.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const meta = { zarr_format: 2, shape: [3], chunks: [2], dtype: "|u1", compressor: { id: "gzip" },
 *   fill_value: 9, filters: null, order: "C" };
 * await Deno.writeTextFile(`${dir}/.zarray`, JSON.stringify(meta));
 * await Deno.writeFile(`${dir}/0`, gzipSync(new Uint8Array([1, 2])));
 * const m = await readZarray(dir);
 * const r = m._tag === "Right" ? await readZarrArray(dir, m.right) : m;
 * assert(r._tag === "Right" && [...r.right.data].join() === "1,2,9");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readZarrArray(
  dir: string,
  meta: ZarrMeta,
  limits: ZarrLimits = {},
): Promise<E.Either<Problem, HostTensor>> {
  const maxChunk = limits.maxChunkBytes ?? DEFAULTS.maxChunkBytes;
  const size = itemSize(meta.dtype);
  const n = sizeOf(meta.shape);
  const chunkItems = sizeOf(meta.chunks);
  const chunkBytes = chunkItems * size;
  // Compressed data may be a little larger than its contents (stored blocks, headers).
  const maxFile = Math.min(chunkBytes + Math.ceil(chunkBytes / 256) + 4096, maxChunk + 4096);
  const data = allocData(meta.dtype, n); // zeroed; filled in the file's byte order
  const out = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const fill = fillItem(meta);
  const gridShape = meta.shape.map((d, k) => Math.ceil(d / meta.chunks[k]));
  const gridCount = n === 0 ? 0 : sizeOf(gridShape);
  const grid = new Array<number>(meta.shape.length).fill(0);
  for (let g = 0; g < gridCount; g++) {
    const key = meta.shape.length === 0 ? "0" : grid.join(meta.separator);
    const path = join(dir, key);
    const file = await readFileCapped(path, maxFile, `a zarr chunk of ${chunkBytes} bytes`);
    if (E.isLeft(file) && file.left._tag !== "NotFound") return file;
    if (E.isRight(file)) {
      const decoded = decodeChunk(file.right, meta.compressor, chunkBytes, path);
      if (E.isLeft(decoded)) return decoded;
      const chunk = meta.order === "F"
        ? fortranToC(decoded.right, meta.chunks, size)
        : decoded.right;
      place(out, meta, grid, chunk, undefined);
    } else {
      place(out, meta, grid, undefined, fill);
    }
    for (let k = grid.length - 1; k >= 0; k--) {
      if (++grid[k] < gridShape[k]) break;
      grid[k] = 0;
    }
  }
  if (meta.littleEndian !== HOST_LITTLE) swapBytes(out, size);
  if (meta.dtype === "bool") {
    for (let i = 0; i < out.length; i++) out[i] = out[i] ? 1 : 0;
  }
  return E.right(hostTensor(meta.dtype, meta.shape, data));
}
