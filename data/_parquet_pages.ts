/**
 * Walks the page headers of a Parquet column chunk before hyparquet decodes it, and checks that
 * each header can be read and that its page lies inside the chunk.
 *
 * hyparquet steps from page to page by each header's `compressed_page_size` and trusts it: a
 * missing size turns its position into `NaN`, and its page loop never ends (two fuzzed inputs of
 * issue 14 hung the reader that way). The walk here reads only the headers (a small window at
 * each page, grown when a header is longer), so a chunk costs one short read per page.
 *
 * @module
 */
import type { AsyncBuffer } from "hyparquet";
import { parquetHeader } from "hyparquet/src/column.js";

/** A column chunk's byte range in the file, and what to call it in a message. */
export interface ChunkRange {
  readonly start: number;
  readonly end: number;
  readonly name: string;
}

const FIRST_WINDOW = 1024;
/** A page header longer than this is refused (statistics of large values make them long). */
export const MAX_PAGE_HEADER = 16 * 1024 * 1024;
/** A decompressed page larger than this is refused before anything is decompressed. */
export const MAX_PAGE_BYTES = 1024 * 1024 * 1024;

const PAGE_TYPES = ["DATA_PAGE", "DATA_PAGE_V2", "DICTIONARY_PAGE"];

function size(v: unknown): number | undefined {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/** The header at `at`: its length and fields, or why it cannot be read. */
async function headerAt(
  file: AsyncBuffer,
  at: number,
  end: number,
): Promise<{ length: number; header: ReturnType<typeof parquetHeader> } | string> {
  for (let window = FIRST_WINDOW;; window *= 2) {
    const stop = Math.min(end, at + window);
    const bytes = await file.slice(at, stop);
    const reader = { view: new DataView(bytes), offset: 0 };
    try {
      const header = parquetHeader(reader);
      return { length: reader.offset, header };
    } catch {
      // Cut off by the window, or not a header at all: a wider window tells them apart.
      if (stop >= end || stop - at >= MAX_PAGE_HEADER) {
        return stop - at >= MAX_PAGE_HEADER
          ? `its header is longer than ${MAX_PAGE_HEADER} bytes`
          : "its header cannot be decoded";
      }
    }
  }
}

/**
 * Checks every page header of a column chunk.
 *
 * @param file the file, as hyparquet reads it
 * @param chunk the chunk's range (as hyparquet computes it) and name
 * @returns `undefined` when every page header is sound, else what is wrong (for a message)
 * @example
 * ```ts
 * import { checkChunkPages } from "./_parquet_pages.ts";
 * import assert from "node:assert/strict";
 * // One page header (type DATA_PAGE, sizes 2 and 2, a data page header of 1 value, PLAIN), then
 * // 2 bytes of data.
 * const page = [0x15, 0x00, 0x15, 0x04, 0x15, 0x04, 0x2c, 0x15, 0x02, 0x15, 0x00, 0x00, 0x00, 7, 7];
 * const bytes = new Uint8Array(page).buffer;
 * const file = { byteLength: bytes.byteLength, slice: (s: number, e?: number) => bytes.slice(s, e) };
 * assert.equal(await checkChunkPages(file, { start: 0, end: page.length, name: "x" }), undefined);
 * // Without its compressed size (field 3), the page cannot be stepped over.
 * const cut = [0x15, 0x00, 0x15, 0x04, 0x25, 0x02, 0x15, 0x02, 0x00, 0x00, 7, 7];
 * const bad = new Uint8Array(cut).buffer;
 * const file2 = { byteLength: bad.byteLength, slice: (s: number, e?: number) => bad.slice(s, e) };
 * assert.match(await checkChunkPages(file2, { start: 0, end: cut.length, name: "x" }) ?? "", /size/);
 * ```
 */
export async function checkChunkPages(
  file: AsyncBuffer,
  chunk: ChunkRange,
): Promise<string | undefined> {
  let at = chunk.start;
  for (let page = 1; at < chunk.end - 1; page++) {
    const where = `page ${page} of the ${chunk.name} (byte ${at})`;
    const got = await headerAt(file, at, chunk.end);
    if (typeof got === "string") return `${where}: ${got}`;
    const { header, length } = got;
    if (!PAGE_TYPES.includes(String(header.type))) {
      return `${where} has page type ${
        header.type === undefined ? "missing" : JSON.stringify(String(header.type))
      }; expected DATA_PAGE, DATA_PAGE_V2 or DICTIONARY_PAGE`;
    }
    const compressed = size(header.compressed_page_size);
    const uncompressed = size(header.uncompressed_page_size);
    const left = chunk.end - at - length;
    if (compressed === undefined || compressed > left) {
      return `${where} has compressed size ${
        typeof header.compressed_page_size === "number" ? header.compressed_page_size : "missing"
      }; expected 0 to ${left}, the bytes left in the chunk`;
    }
    if (uncompressed === undefined || uncompressed > MAX_PAGE_BYTES) {
      return `${where} has uncompressed size ${
        typeof header.uncompressed_page_size === "number"
          ? header.uncompressed_page_size
          : "missing"
      }; expected 0 to ${MAX_PAGE_BYTES}`;
    }
    const counts = header.type === "DATA_PAGE"
      ? header.data_page_header
      : header.type === "DATA_PAGE_V2"
      ? header.data_page_header_v2
      : header.dictionary_page_header;
    if (counts === undefined || size(counts.num_values) === undefined) {
      return `${where} (${header.type}) has no count of values`;
    }
    if (counts.encoding === undefined) {
      return `${where} (${header.type}) has an encoding this reader does not know, or none`;
    }
    at += length + compressed;
  }
  return undefined;
}
