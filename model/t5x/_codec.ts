/**
 * Zarr chunk codecs (numcodecs ids `gzip` and `zlib`, or none), decoded strictly: the output must
 * be exactly the chunk's size, and the stream's checksum must hold.
 *
 * fflate checks neither gzip's CRC-32 nor zlib's Adler-32, so both are checked here. The inflater
 * writes into a buffer one byte longer than the chunk, so a stream that would grow larger is
 * caught without allocating what it claims.
 *
 * @module
 */
import { gunzipSync, unzlibSync } from "fflate";
import * as E from "fp-ts/Either";
import { type Problem, problem } from "../../problem.ts";
import { crc32 } from "../../io/bytes.ts";

/**
 * The chunk compressors this reader understands (`null`: chunks are stored raw).
 *
 * @example
 * ```ts
 * import { gzipSync, zlibSync } from "fflate";
 * import { type Compressor, decodeChunk } from "./_codec.ts";
 * import assert from "node:assert/strict";
 * const raw = new Uint8Array([1, 2, 3, 4]);
 * const stored: [Compressor, Uint8Array][] = [[null, raw], ["gzip", gzipSync(raw)], ["zlib", zlibSync(raw)]];
 * for (const [compressor, data] of stored) {
 *   const r = decodeChunk(data, compressor, 4, "0");
 *   assert(r._tag === "Right" && r.right.join() === "1,2,3,4");
 * }
 * ```
 */
export type Compressor = "gzip" | "zlib" | null;

function adler32(b: Uint8Array): number {
  let a = 1;
  let s = 0;
  // 5552 bytes is the most that can be summed before `s` may pass 2^32 (zlib's NMAX).
  for (let i = 0; i < b.length; i += 5552) {
    const end = Math.min(i + 5552, b.length);
    for (let j = i; j < end; j++) {
      a += b[j];
      s += a;
    }
    a %= 65521;
    s %= 65521;
  }
  return ((s << 16) | a) >>> 0;
}

const u32le = (b: Uint8Array, at: number) =>
  (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
const u32be = (b: Uint8Array, at: number) =>
  ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Decodes one stored chunk into exactly `size` bytes.
 *
 * @param data the chunk file's bytes
 * @param compressor how it was compressed
 * @param size the bytes a full chunk holds (chunk shape × item size)
 * @param where the chunk file, for problems
 * @returns the chunk's bytes (a fresh buffer), or a `Corrupt` problem (not valid compressed data,
 * or a failed checksum) or a `Mismatch` problem (the data is valid but of the wrong size)
 * @example
 * ```ts
 * import { gzipSync } from "fflate";
 * import { decodeChunk } from "./_codec.ts";
 * import assert from "node:assert/strict";
 * const data = gzipSync(new Uint8Array([1, 2, 3, 4]));
 * const r = decodeChunk(data, "gzip", 4, "0.0");
 * assert(r._tag === "Right" && r.right[3] === 4);
 * assert(decodeChunk(data, "gzip", 8, "0.0")._tag === "Left");
 * ```
 */
export function decodeChunk(
  data: Uint8Array,
  compressor: Compressor,
  size: number,
  where: string,
): E.Either<Problem, Uint8Array<ArrayBuffer>> {
  const sizeProblem = (got: string) =>
    E.left(
      problem("Mismatch", where, `Chunk holds ${got} bytes; expected exactly ${size} bytes`),
    );
  if (compressor === null) {
    return data.length === size ? E.right(data.slice()) : sizeProblem(String(data.length));
  }
  const name = compressor === "gzip" ? "gzip" : "zlib";
  const minLength = compressor === "gzip" ? 18 : 6;
  if (data.length < minLength) {
    return E.left(
      problem("Corrupt", where, `Chunk is ${data.length} bytes, too short for ${name} data`),
    );
  }
  const out = new Uint8Array(size + 1);
  let got: Uint8Array;
  try {
    got = compressor === "gzip" ? gunzipSync(data, { out }) : unzlibSync(data, { out });
  } catch (e) {
    // fflate throws a RangeError when a stored block would run past the end of `out`.
    if (e instanceof RangeError) return sizeProblem(`more than ${size}`);
    const msg = e instanceof Error ? e.message : String(e);
    return E.left(
      problem("Corrupt", where, `Chunk is not valid ${name} data (${msg}); the file is damaged`),
    );
  }
  if (got.length !== size) {
    return sizeProblem(got.length > size ? `more than ${size}` : `${got.length}`);
  }
  const chunk = out.slice(0, size);
  const ok = compressor === "gzip"
    ? u32le(data, data.length - 8) === crc32(chunk) && u32le(data, data.length - 4) === size >>> 0
    : u32be(data, data.length - 4) === adler32(chunk);
  if (!ok) {
    return E.left(
      problem(
        "Corrupt",
        where,
        `Chunk fails its ${
          compressor === "gzip" ? "gzip CRC-32" : "zlib Adler-32"
        } check; the file is damaged`,
      ),
    );
  }
  return E.right(chunk);
}
