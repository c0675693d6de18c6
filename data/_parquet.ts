/**
 * Parquet files (the format of Hugging Face datasets) through hyparquet, one row group at a
 * time, reading the file by ranges rather than whole.
 *
 * @module
 */
import { type AsyncBuffer, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { problem, ProblemError } from "../problem.ts";

/** A row of a Parquet file and its 1-based row number. */
export interface ParquetRow {
  readonly fields: Record<string, unknown>;
  readonly row: number;
}

function fileBuffer(file: Deno.FsFile, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = Math.min(end ?? size, size);
      const buf = new Uint8Array(Math.max(0, stop - start));
      await file.seek(start, Deno.SeekMode.Start);
      let got = 0;
      while (got < buf.length) {
        const n = await file.read(buf.subarray(got));
        if (n === null) break;
        got += n;
      }
      return buf.buffer.slice(0, got);
    },
  };
}

/** Turns int64 values (bigint) into numbers where exact, else decimal strings; recurses. */
function plain(v: unknown): unknown {
  if (typeof v === "bigint") {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v.toString();
  }
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object" && !(v instanceof Date) && !ArrayBuffer.isView(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

function parquetProblem(e: unknown, file: string, where = file): ProblemError {
  if (e instanceof ProblemError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const codec = /unsupported compression codec: (\w+)/.exec(msg);
  if (codec) {
    return new ProblemError(
      problem(
        "Unsupported",
        file,
        `Parquet compression ${codec[1]} is not supported; expected SNAPPY or UNCOMPRESSED`,
      ),
    );
  }
  return new ProblemError(
    problem("Corrupt", where, `Not a readable Parquet file: ${msg.split("\n")[0]}`),
  );
}

/**
 * Yields the rows of an open Parquet file, one row group at a time. Throws a
 * {@link ProblemError} (`Corrupt`, `Unsupported`). Closes the file when done or abandoned.
 */
export async function* parquetRows(
  file: Deno.FsFile,
  size: number,
  where: string,
): AsyncGenerator<ParquetRow> {
  try {
    const buffer = fileBuffer(file, size);
    let metadata;
    try {
      metadata = await parquetMetadataAsync(buffer);
    } catch (e) {
      throw parquetProblem(e, where);
    }
    let start = 0;
    for (const group of metadata.row_groups) {
      const end = start + Number(group.num_rows);
      let rows: Record<string, unknown>[];
      try {
        rows = await parquetReadObjects({ file: buffer, metadata, rowStart: start, rowEnd: end });
      } catch (e) {
        throw parquetProblem(e, where, `${where}:row ${start + 1}`);
      }
      for (let i = 0; i < rows.length; i++) {
        yield { fields: plain(rows[i]) as Record<string, unknown>, row: start + i + 1 };
      }
      start = end;
    }
  } finally {
    try {
      file.close();
    } catch {
      // already closed
    }
  }
}
