/**
 * Private: GZIP pages of Parquet files, inflated by hyparquet-compressors and then checked against
 * the gzip trailer's CRC-32, which that decoder does not read. A page whose compressed bytes were
 * damaged can still inflate (to other bytes), so without the check it would give wrong values.
 *
 * @module
 */
import { compressors } from "hyparquet-compressors";
import { crc32 } from "../io/bytes.ts";

const gunzip = compressors.GZIP!;

/**
 * Inflates a GZIP page of `length` bytes and checks its CRC-32. The check is made when the input
 * is one gzip member (its trailer's ISIZE is the whole page's length), which is what Parquet
 * writers produce; a stream of several members, or raw deflate without a gzip header, is
 * inflated unchecked as before.
 *
 * @param input the compressed page
 * @param length the page's uncompressed length, from its header
 * @returns the uncompressed page
 * @throws {Error} when the CRC-32 of the inflated bytes is not the trailer's
 * @example
 * ```ts
 * import { gzipSync } from "fflate";
 * import { gunzipChecked } from "./_parquet_gzip.ts";
 * import assert from "node:assert/strict";
 * const text = new TextEncoder().encode("alpha beta gamma");
 * const page = gzipSync(text);
 * assert.deepEqual(gunzipChecked(page, text.length), text);
 * const damaged = page.slice();
 * damaged[damaged.length - 8] ^= 1; // the trailer's CRC-32 no longer matches
 * assert.throws(() => gunzipChecked(damaged, text.length), /CRC-32/);
 * ```
 */
export function gunzipChecked(input: Uint8Array, length: number): Uint8Array {
  const out = gunzip(input, length);
  const n = input.length;
  if (n >= 18 && input[0] === 0x1f && input[1] === 0x8b && input[2] === 8) {
    const dv = new DataView(input.buffer, input.byteOffset, n);
    if (
      dv.getUint32(n - 4, true) === out.length >>> 0 && crc32(out) !== dv.getUint32(n - 8, true)
    ) {
      throw new Error("a GZIP page fails its CRC-32 check");
    }
  }
  return out;
}
