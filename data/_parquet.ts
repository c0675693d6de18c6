/**
 * Parquet files (the format of Hugging Face datasets) through hyparquet, one row group at a
 * time, reading the file by ranges rather than whole. Columns compressed with SNAPPY (hyparquet's
 * own), GZIP, BROTLI, ZSTD or LZ4_RAW (hyparquet-compressors) are read, or none at all.
 *
 * Whatever goes wrong becomes one {@link ProblemError} naming the file (and the row group, for
 * its data), and every read of the file has finished before it is closed.
 *
 * @module
 */
import {
  type AsyncBuffer,
  type Compressors,
  type FileMetaData,
  parquetMetadataAsync,
  parquetReadObjects,
} from "hyparquet";
import { compressors } from "hyparquet-compressors";
import { fsProblem } from "../io/files.ts";
import { problem, ProblemError } from "../problem.ts";
import { fileRanges } from "./_parquet_file.ts";
import { gunzipChecked } from "./_parquet_gzip.ts";
import { checkParquetMetadata, schemaTree } from "./_parquet_meta.ts";
import { checkChunkPages } from "./_parquet_pages.ts";
import { columnSets, plainRow, STRICT_PARSERS } from "./_parquet_values.ts";

/** A row of a Parquet file and its 1-based row number. */
export interface ParquetRow {
  readonly fields: Record<string, unknown>;
  readonly row: number;
}

const lz4Raw = compressors.LZ4_RAW!;

// SNAPPY stays with hyparquet's own decoder, as before; LZ4 (Hadoop-framed) and LZO are refused
// by checkParquetMetadata before any page is read.
const DECOMPRESSORS: Compressors = {
  GZIP: gunzipChecked, // hyparquet-compressors' own, then the trailer's CRC-32
  BROTLI: compressors.BROTLI,
  ZSTD: compressors.ZSTD,
  // An empty block is the single token 0 (Arrow writes one for an all-null column's empty
  // dictionary page), which hyparquet-compressors 1.1.2 refuses as "lz4 offset out of range 0".
  LZ4_RAW: (input, length) =>
    length === 0 && input.length === 1 && input[0] === 0
      ? new Uint8Array(0)
      : lz4Raw(input, length),
};

const ENGINE_ERRORS = [TypeError, RangeError, SyntaxError, ReferenceError];

/** What a thrown error says about the file, in words fit for a problem. */
function detail(e: unknown): string {
  if (e instanceof RangeError && /call stack/i.test(e.message)) return "it nests too deep";
  if (e instanceof RangeError) return "a length or offset in it is out of range";
  if (ENGINE_ERRORS.some((c) => e instanceof c)) {
    return "a field is missing or has the wrong type";
  }
  const first = (e instanceof Error ? e.message : String(e)).split("\n")[0];
  // deno-lint-ignore no-control-regex -- control characters are what is removed
  const msg = first.replace(/[\x00-\x1f\x7f]/g, " ")
    // hyparquet's words for a field the file lacks
    .replace(/ is undefined\b/g, " is missing").replace(/: undefined\b/g, ": missing");
  return msg.trim() === "" ? "it cannot be decoded" : msg;
}

/** A thrown error as a problem of `file` at `where`: I/O errors as `Io`, anything else `Corrupt`. */
function parquetProblem(e: unknown, file: string, where: string, part: string): ProblemError {
  if (e instanceof ProblemError) return e;
  if (Object.values(Deno.errors).some((c) => e instanceof c)) {
    return new ProblemError(fsProblem(e, file, "read the file"));
  }
  return new ProblemError(
    problem("Corrupt", where, `Not a readable Parquet file: ${part}: ${detail(e)}`),
  );
}

async function footer(buffer: AsyncBuffer, size: number, where: string) {
  let metadata: FileMetaData;
  try {
    // Not GeoParquet's column marking: it steps over schema elements by their child counts
    // before schemaTree has checked them, and a negative count loops it forever.
    metadata = await parquetMetadataAsync(buffer, { geoparquet: false });
  } catch (e) {
    throw parquetProblem(e, where, where, "its footer");
  }
  let tree;
  try {
    tree = schemaTree(metadata);
  } catch (e) {
    throw parquetProblem(e, where, where, "its schema");
  }
  if (typeof tree === "string") {
    throw new ProblemError(problem("Corrupt", where, `Not a readable Parquet file: ${tree}`));
  }
  const bad = checkParquetMetadata(metadata, tree, size, where);
  if (bad !== undefined) throw new ProblemError(bad);
  return { metadata, tree };
}

/**
 * Checks the page headers of every column chunk of row group `g` (index from 0), whose offsets
 * and lengths {@link checkParquetMetadata} has already found inside the file.
 */
async function checkGroupPages(
  buffer: AsyncBuffer,
  group: FileMetaData["row_groups"][number],
  g: number,
  where: string,
): Promise<void> {
  for (const chunk of group.columns) {
    const meta = chunk.meta_data!;
    const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
    const name = `column ${JSON.stringify(meta.path_in_schema.join("."))} of row group ${g + 1}`;
    let bad: string | undefined;
    try {
      bad = await checkChunkPages(buffer, {
        start,
        end: start + Number(meta.total_compressed_size),
        name,
      });
    } catch (e) {
      throw parquetProblem(e, where, where, `the pages of the ${name}`);
    }
    if (bad !== undefined) {
      throw new ProblemError(problem("Corrupt", where, `Not a readable Parquet file: ${bad}`));
    }
  }
}

/**
 * Yields the rows of an open Parquet file, one row group at a time. Throws a
 * {@link ProblemError} (`Corrupt`, `Unsupported`, `Io`). Closes the file when done or abandoned,
 * once no read of it is left running.
 */
export async function* parquetRows(
  file: Deno.FsFile,
  size: number,
  where: string,
): AsyncGenerator<ParquetRow> {
  const ranges = fileRanges(file, size);
  try {
    const { metadata, tree } = await footer(ranges.buffer, size, where);
    const sets = columnSets(tree);
    const names = tree.children.map((c) => c.element.name);
    // hyparquet gives null for a null of a top-level primitive column; undefined there means it
    // found no value (an index past the column's dictionary, say).
    const flat = tree.children.filter((c) => c.children.length === 0).map((c) => c.element.name);
    let start = 0;
    for (const [g, group] of metadata.row_groups.entries()) {
      const end = start + Number(group.num_rows);
      if (end === start) continue;
      await checkGroupPages(ranges.buffer, group, g, where);
      const read = (columns: string[], strict: boolean) =>
        parquetReadObjects({
          file: ranges.buffer,
          metadata,
          rowStart: start,
          rowEnd: end,
          compressors: DECOMPRESSORS,
          ...(columns.length === names.length ? {} : { columns }),
          ...(strict ? { parsers: STRICT_PARSERS } : {}),
        });
      let rows: Record<string, unknown>[];
      try {
        const strict = sets.strict.length > 0 ? await read(sets.strict, true) : [];
        const lenient = sets.lenient.length > 0 ? await read(sets.lenient, false) : [];
        rows = sets.lenient.length === 0 ? strict : sets.strict.length === 0
          ? lenient
          // Both sets: put the fields back in schema order.
          : strict.map((s, i) =>
            Object.fromEntries(names.map((n) => [n, n in s ? s[n] : lenient[i][n]]))
          );
      } catch (e) {
        throw parquetProblem(
          e,
          where,
          `${where}:row ${start + 1}`,
          `the data of row group ${g + 1} (rows ${start + 1}-${end})`,
        );
      }
      for (let i = 0; i < rows.length; i++) {
        const row = start + i + 1;
        const missing = flat.find((n) => rows[i][n] === undefined);
        if (missing !== undefined) {
          throw new ProblemError(
            problem(
              "Corrupt",
              `${where}:row ${row}`,
              `Not a readable Parquet file: column ${
                JSON.stringify(missing)
              } has no value in row ${row} (an index past its dictionary?); expected a value or null`,
            ),
          );
        }
        yield { fields: plainRow(rows[i], `${where}:row ${row}`), row };
      }
      start = end;
    }
  } finally {
    await ranges.idle();
    try {
      file.close();
    } catch {
      // already closed
    }
  }
}
