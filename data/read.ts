/**
 * Reading data files into records: JSON Lines, CSV and TSV (with or without a header, quoted as
 * RFC 4180 or not quoted at all) and Parquet (the format of Hugging Face datasets). Text files
 * are streamed line by line; Parquet files are read one row group at a time.
 *
 * Every record carries its location (`file:line`, or `file:row N` for Parquet), so a problem
 * with it can say where it is. A file that cannot be read at all (missing, too large, not UTF-8,
 * an unterminated quote, a corrupt Parquet footer) is a `Left`; a single malformed line (bad JSON,
 * the wrong number of fields) is a `Left` too unless the caller asks to hear about bad lines and
 * go on.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { errorText, fsProblem, nonRegularKind, pathText, quoted } from "../io/files.ts";
import { type Problem, problem, ProblemError } from "../problem.ts";
import { delimitedRows, type Quoting } from "./_delimited.ts";
import { readLines } from "./_lines.ts";
import { parquetRows } from "./_parquet.ts";

/**
 * The file formats {@link readRecords} understands.
 *
 * @example
 * ```ts
 * import { type DataFormat, formatFromPath } from "./read.ts";
 * import assert from "node:assert/strict";
 * const f: DataFormat | undefined = formatFromPath("train.tsv");
 * assert(f === "tsv");
 * ```
 */
export type DataFormat = "jsonl" | "csv" | "tsv" | "parquet";

/**
 * How quotes in CSV/TSV are read: `"rfc4180"` (fields may be wrapped in `"`, a quote inside is
 * doubled, line breaks inside quotes are kept) or `"none"` (every delimiter splits; quotes are
 * plain text, as in GLUE's `.tsv` files).
 *
 * @example
 * ```ts
 * import type { CsvQuoting } from "./read.ts";
 * import assert from "node:assert/strict";
 * const glue: CsvQuoting = "none";
 * assert(glue === "none");
 * ```
 */
export type CsvQuoting = Quoting;

/**
 * The largest file read unless told otherwise: 2 GiB (GLUE's largest file, MNLI's training
 * set, is about 0.4 GiB).
 *
 * @example
 * ```ts
 * import { DATA_DEFAULT_MAX_BYTES } from "./read.ts";
 * import assert from "node:assert/strict";
 * assert(DATA_DEFAULT_MAX_BYTES === 2 ** 31);
 * ```
 */
export const DATA_DEFAULT_MAX_BYTES = 2 ** 31;

/**
 * The longest line (or quoted multi-line record) read unless told otherwise: 16 Mi characters.
 *
 * @example
 * ```ts
 * import { DATA_DEFAULT_MAX_LINE_CHARS } from "./read.ts";
 * import assert from "node:assert/strict";
 * assert(DATA_DEFAULT_MAX_LINE_CHARS === 16 * 1024 * 1024);
 * ```
 */
export const DATA_DEFAULT_MAX_LINE_CHARS = 16 * 1024 * 1024;

/**
 * Options for {@link readRecords} and {@link scanRecords}.
 *
 * @example
 * ```ts
 * import type { ReadOptions } from "./read.ts";
 * import assert from "node:assert/strict";
 * // CoLA's files: tab-separated, no header, no quoting.
 * const cola: ReadOptions = {
 *   format: "tsv",
 *   header: false,
 *   columns: ["source", "label", "original_label", "sentence"],
 *   quoting: "none",
 * };
 * assert(cola.columns?.length === 4);
 * ```
 */
export interface ReadOptions {
  /** The format; by default from the file's extension (`.jsonl`/`.ndjson`, `.csv`, `.tsv`, `.parquet`). */
  readonly format?: DataFormat;
  /** CSV/TSV: whether the first row names the columns. Default `true`. */
  readonly header?: boolean;
  /**
   * CSV/TSV: the column names. Required without a header; with a header they replace its names
   * (the counts must agree).
   */
  readonly columns?: readonly string[];
  /** CSV/TSV: how quotes are read. Default `"rfc4180"` for CSV, `"none"` for TSV. */
  readonly quoting?: CsvQuoting;
  /** CSV/TSV: the field separator. Default `","` for CSV, `"\t"` for TSV. */
  readonly delimiter?: string;
  /** The largest file accepted, in bytes. Default {@link DATA_DEFAULT_MAX_BYTES}. */
  readonly maxBytes?: number;
  /** The longest line or record accepted, in characters. Default {@link DATA_DEFAULT_MAX_LINE_CHARS}. */
  readonly maxLineChars?: number;
  /** Stop after this many records. */
  readonly limit?: number;
}

/**
 * One record of a data file: its fields and where it was found.
 *
 * @example
 * ```ts
 * import type { DataRecord } from "./read.ts";
 * import assert from "node:assert/strict";
 * const r: DataRecord = { location: "train.tsv:2", fields: { sentence: "hi", label: "1" } };
 * assert(r.fields.label === "1");
 * ```
 */
export interface DataRecord {
  /** `file:line` for text files (the line the record starts on), `file:row N` for Parquet. */
  readonly location: string;
  /** The record's fields: strings for CSV/TSV, JSON values for JSONL, column values for Parquet. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * What {@link scanRecords} calls for each record, and for each malformed line.
 *
 * @example
 * ```ts
 * import type { RecordVisitor } from "./read.ts";
 * import assert from "node:assert/strict";
 * let n = 0;
 * const count: RecordVisitor = { record: () => void n++ };
 * count.record({ location: "a.jsonl:1", fields: {} });
 * assert(n === 1);
 * ```
 */
export interface RecordVisitor {
  /** Takes one record; returning a problem stops the scan with it. */
  record(r: DataRecord): Problem | void;
  /**
   * Takes a malformed line (bad JSON, the wrong number of fields, a stray quote); returning a
   * problem stops the scan. Without it a malformed line stops the scan.
   */
  badLine?(p: Problem): Problem | void;
}

/**
 * The format a file's extension names, if any.
 *
 * @param path the file
 * @returns `"jsonl"` for `.jsonl`/`.ndjson`, `"csv"`, `"tsv"`, `"parquet"`, else `undefined`
 * @example
 * ```ts
 * import { formatFromPath } from "./read.ts";
 * import assert from "node:assert/strict";
 * assert(formatFromPath("val.jsonl") === "jsonl");
 * assert(formatFromPath("x.txt") === undefined);
 * ```
 */
export function formatFromPath(path: string | URL): DataFormat | undefined {
  const name = pathText(path).toLowerCase();
  if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) return "jsonl";
  if (name.endsWith(".csv")) return "csv";
  if (name.endsWith(".tsv")) return "tsv";
  if (name.endsWith(".parquet")) return "parquet";
  return undefined;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return `a ${typeof v}`;
}

function checkOptions(o: ReadOptions, format: DataFormat, where: string): Problem | undefined {
  const bad = (m: string) => problem("Invalid", where, m);
  for (const [k, v] of [["maxBytes", o.maxBytes], ["maxLineChars", o.maxLineChars]] as const) {
    if (v !== undefined && !(Number.isSafeInteger(v) && v > 0)) {
      return bad(`${k} must be a positive integer, got ${v}`);
    }
  }
  if (o.limit !== undefined && !(Number.isSafeInteger(o.limit) && o.limit >= 0)) {
    return bad(`limit must be a non-negative integer, got ${o.limit}`);
  }
  if (format === "csv" || format === "tsv") {
    if (o.delimiter !== undefined && (o.delimiter.length !== 1 || '\r\n"'.includes(o.delimiter))) {
      return bad(
        `delimiter must be one character other than a quote or line break, got ${
          JSON.stringify(o.delimiter)
        }`,
      );
    }
    if (o.header === false && o.columns === undefined) {
      return bad("A file without a header needs column names; pass columns");
    }
    if (o.columns !== undefined) {
      const dup = o.columns.find((c, i) => o.columns?.indexOf(c) !== i);
      if (dup !== undefined) return bad(`Column name "${dup}" is given twice`);
    }
  } else if (o.header !== undefined || o.columns !== undefined || o.quoting !== undefined) {
    return bad(`header, columns and quoting apply to CSV and TSV only, not ${format}`);
  }
  return undefined;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Reads a data file record by record, handing each to `visitor`; nothing but the current record
 * is held in memory, so files larger than memory can be scanned.
 *
 * @param path the file
 * @param options format, CSV/TSV layout, size caps, record limit
 * @param visitor receives each record (and each malformed line, if it has `badLine`)
 * @returns the number of records handed over, or the problem that stopped the scan: `NotFound`,
 * `TooLarge`, `Unsupported` (unknown extension, Parquet codec), `Corrupt` (not UTF-8, a bad line,
 * an unterminated quote, a bad Parquet file), `Invalid` (options), or one the visitor returned
 * @example
 * ```ts
 * import { scanRecords } from "./read.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.jsonl`, '{"x": 1}\n\n{"x": 2}\n');
 * let sum = 0;
 * const r = await scanRecords(`${dir}/a.jsonl`, {}, { record: (rec) => void (sum += rec.fields.x as number) });
 * assert(r._tag === "Right" && r.right === 2 && sum === 3);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function scanRecords(
  path: string | URL,
  options: ReadOptions,
  visitor: RecordVisitor,
): Promise<E.Either<Problem, number>> {
  const where = pathText(path);
  const format = options.format ?? formatFromPath(path);
  if (format === undefined) {
    return E.left(
      problem(
        "Unsupported",
        where,
        "Unknown data format; expected a .jsonl, .csv, .tsv or .parquet file, or pass format",
      ),
    );
  }
  const bad = checkOptions(options, format, where);
  if (bad !== undefined) return E.left(bad);
  const maxBytes = options.maxBytes ?? DATA_DEFAULT_MAX_BYTES;
  const maxLine = options.maxLineChars ?? DATA_DEFAULT_MAX_LINE_CHARS;
  const limit = options.limit ?? Infinity;
  let file: Deno.FsFile;
  let size: number;
  try {
    const st = await Deno.stat(path);
    const kind = nonRegularKind(st);
    if (kind === "a directory") {
      return E.left(problem("Io", where, "Is a directory; expected a data file"));
    }
    if (kind !== undefined) {
      // Refused before opening: opening a FIFO waits for a writer, and a device never ends.
      return E.left(problem("Io", where, `Is ${kind}, not a regular file; expected a data file`));
    }
    if (st.size > maxBytes) {
      return E.left(
        problem(
          "TooLarge",
          where,
          `File is ${st.size} bytes, over the limit of ${maxBytes} bytes for a data file; raise maxBytes to read it`,
        ),
      );
    }
    size = st.size;
    file = await Deno.open(path, { read: true });
  } catch (e) {
    return E.left(fsProblem(e, where, "read the file"));
  }
  let count = 0;
  const onBad = (p: Problem): Problem | undefined => {
    if (visitor.badLine === undefined) return p;
    return visitor.badLine(p) ?? undefined;
  };
  const give = (r: DataRecord): Problem | undefined => {
    count++;
    return visitor.record(r) ?? undefined;
  };
  try {
    if (count >= limit) {
      file.close();
      return E.right(0);
    }
    if (format === "parquet") {
      for await (const row of parquetRows(file, size, where)) {
        const stop = give({ location: `${where}:row ${row.row}`, fields: row.fields });
        if (stop !== undefined) return E.left(stop);
        if (count >= limit) break;
      }
      return E.right(count);
    }
    const lines = readLines(file, where, maxLine, maxBytes);
    if (format === "jsonl") {
      for await (const l of lines) {
        if (l.text.trim() === "") continue;
        const location = `${where}:${l.number}`;
        let value: unknown;
        let stop: Problem | undefined;
        try {
          value = JSON.parse(l.text);
        } catch (e) {
          stop = onBad(problem("Corrupt", location, `Invalid JSON: ${errorText(e)}`));
          if (stop !== undefined) return E.left(stop);
          continue;
        }
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
          stop = onBad(
            problem(
              "Corrupt",
              location,
              `Expected a JSON object on each line, found ${typeName(value)}`,
            ),
          );
        } else stop = give({ location, fields: value as Record<string, unknown> });
        if (stop !== undefined) return E.left(stop);
        if (count >= limit) break;
      }
      return E.right(count);
    }
    const rows = delimitedRows(
      lines,
      options.delimiter ?? (format === "csv" ? "," : "\t"),
      options.quoting ?? (format === "csv" ? "rfc4180" : "none"),
      where,
      maxLine,
    );
    let columns: readonly string[] | undefined = options.header === false
      ? options.columns
      : undefined;
    for await (const row of rows) {
      const location = `${where}:${row.line}`;
      if (!row.ok) {
        const stop = onBad(row.problem);
        if (stop !== undefined) return E.left(stop);
        continue;
      }
      if (columns === undefined) {
        // The header row.
        if (options.columns !== undefined) {
          if (row.fields.length !== options.columns.length) {
            return E.left(
              problem(
                "Mismatch",
                location,
                `Header has ${row.fields.length} columns but ${options.columns.length} column names were given`,
              ),
            );
          }
          columns = options.columns;
        } else {
          const dup = row.fields.find((c, i) => row.fields.indexOf(c) !== i);
          if (dup !== undefined) {
            return E.left(problem("Corrupt", location, `Header names column "${dup}" twice`));
          }
          columns = row.fields;
        }
        continue;
      }
      if (row.fields.length !== columns.length) {
        const stop = onBad(
          problem(
            "Corrupt",
            location,
            `Expected ${columns.length} field${columns.length === 1 ? "" : "s"} (${
              columns.map(quoted).join(", ")
            }), found ${row.fields.length}`,
          ),
        );
        if (stop !== undefined) return E.left(stop);
        continue;
      }
      const cols = columns;
      // fromEntries defines own properties, so a column named "__proto__" is just a field.
      const fields = Object.fromEntries(row.fields.map((v, i) => [cols[i], v]));
      const stop = give({ location, fields });
      if (stop !== undefined) return E.left(stop);
      if (count >= limit) break;
    }
    return E.right(count);
  } catch (e) {
    if (e instanceof ProblemError) return E.left(e.problem);
    return E.left(fsProblem(e, where, "read the file"));
  } finally {
    try {
      file.close();
    } catch {
      // closed by the reader
    }
  }
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Reads all records of a data file (see {@link scanRecords} for the formats and problems).
 * Malformed lines are problems.
 *
 * @param path the file
 * @param options format, CSV/TSV layout, size caps, record limit
 * @returns the records in file order, or the first problem
 * @example
 * ```ts
 * import { readRecords } from "./read.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.csv`, 'text,label\n"a, b",1\n"say ""hi""",0\n');
 * const r = await readRecords(`${dir}/a.csv`);
 * assert(r._tag === "Right" && r.right.length === 2);
 * assert(r._tag === "Right" && r.right[1].fields.text === 'say "hi"');
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readRecords(
  path: string | URL,
  options: ReadOptions = {},
): Promise<E.Either<Problem, DataRecord[]>> {
  const out: DataRecord[] = [];
  const r = await scanRecords(path, options, { record: (rec) => void out.push(rec) });
  return E.isLeft(r) ? r : E.right(out);
}
