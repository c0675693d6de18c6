/**
 * Byte ranges of an open file, read one at a time, for hyparquet.
 *
 * hyparquet asks for several ranges at once and does not always wait for them (a prefetch it
 * no longer needs once a sibling column has failed). Reads here run in turn, so two never move
 * the shared file position under each other; each returned promise is marked handled, so a read
 * nobody waits for cannot become an unhandled rejection; and {@link FileRanges.idle} settles once
 * every read asked for so far is done, so the file can then be closed with nothing still reading.
 *
 * @module
 */
import type { AsyncBuffer } from "hyparquet";

/** An {@link AsyncBuffer} over an open file, and a way to wait for its reads to finish. */
export interface FileRanges {
  /** The file as hyparquet reads it: its size and a `slice(start, end)` that reads a range. */
  readonly buffer: AsyncBuffer;
  /** Settles (never rejects) once every read asked for so far, and any asked for meanwhile, is done. */
  idle(): Promise<void>;
}

async function readRange(file: Deno.FsFile, start: number, stop: number): Promise<ArrayBuffer> {
  const buf = new Uint8Array(Math.max(0, stop - start));
  if (buf.length === 0) return buf.buffer;
  await file.seek(start, Deno.SeekMode.Start);
  let got = 0;
  while (got < buf.length) {
    const n = await file.read(buf.subarray(got));
    if (n === null) break;
    got += n;
  }
  return buf.buffer.slice(0, got);
}

/**
 * Wraps an open file of `size` bytes for hyparquet. A range past the end is cut at `size`; a
 * file that shrank since is read short.
 *
 * @param file the open file (it is not closed here)
 * @param size its size in bytes
 * @returns the buffer and its `idle()`
 * @example
 * ```ts
 * import { fileRanges } from "./_parquet_file.ts";
 * import assert from "node:assert/strict";
 * const path = await Deno.makeTempFile();
 * await Deno.writeFile(path, new Uint8Array([1, 2, 3, 4, 5]));
 * const file = await Deno.open(path);
 * const ranges = fileRanges(file, 5);
 * const [a, b] = await Promise.all([ranges.buffer.slice(3, 9), ranges.buffer.slice(0, 2)]);
 * assert.deepEqual([...new Uint8Array(a)], [4, 5]);
 * assert.deepEqual([...new Uint8Array(b)], [1, 2]);
 * ranges.buffer.slice(1, 4); // a read nobody waits for
 * await ranges.idle(); // it is done now, so closing cannot cut it off
 * file.close();
 * await Deno.remove(path);
 * ```
 */
export function fileRanges(file: Deno.FsFile, size: number): FileRanges {
  let last: Promise<unknown> = Promise.resolve();
  return {
    buffer: {
      byteLength: size,
      slice(start: number, end?: number): Promise<ArrayBuffer> {
        const stop = Math.min(end ?? size, size);
        const read = last.then(() => readRange(file, start, stop));
        // Handled here, so a read hyparquet never waits for cannot reject unheard; hyparquet
        // still sees the rejection of those it does wait for.
        last = read.catch(() => undefined);
        return read;
      },
    },
    async idle(): Promise<void> {
      let seen: Promise<unknown>;
      do {
        seen = last;
        await seen;
      } while (seen !== last);
    },
  };
}
