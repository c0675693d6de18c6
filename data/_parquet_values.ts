/**
 * Parquet values as records: text columns decoded strictly (invalid UTF-8 is a problem, as in the
 * text formats, not U+FFFD), int64 values as numbers where exact.
 *
 * hyparquet decodes every `BYTE_ARRAY` leaf through one `stringFromBytes`, whether the schema says
 * it is text or not, and does not say which column it is decoding. So the columns are read in two
 * sets: those whose byte-array leaves are all marked as text (or JSON) get {@link STRICT_PARSERS},
 * which mark invalid bytes with {@link INVALID_UTF8} for {@link plainRow} to report with its row
 * and column; those holding unmarked binary (an image's bytes, say) keep hyparquet's lenient
 * decoding, as before.
 *
 * @module
 */
import type { ParquetParsers, SchemaTree } from "hyparquet";
import { problem, ProblemError } from "../problem.ts";

/**
 * Stands for a string whose bytes are not UTF-8. A symbol, so that nothing decoded from a file
 * can be mistaken for it, and so that as a map key it stays a key of its own.
 *
 * @example
 * ```ts
 * import { INVALID_UTF8, STRICT_PARSERS } from "./_parquet_values.ts";
 * import assert from "node:assert/strict";
 * assert(STRICT_PARSERS.stringFromBytes(new Uint8Array([0xff])) === INVALID_UTF8);
 * ```
 */
export const INVALID_UTF8: unique symbol = Symbol("invalid UTF-8");

const UTF8 = new TextDecoder("utf-8", { fatal: true });

function text(bytes: Uint8Array): string | typeof INVALID_UTF8 {
  try {
    return UTF8.decode(bytes);
  } catch {
    return INVALID_UTF8;
  }
}

/**
 * hyparquet parsers that decode text strictly: invalid UTF-8 becomes {@link INVALID_UTF8}; a JSON
 * value that does not parse is an error naming it.
 *
 * @example
 * ```ts
 * import { STRICT_PARSERS } from "./_parquet_values.ts";
 * import assert from "node:assert/strict";
 * const bytes = new TextEncoder().encode('{"a": [1]}');
 * assert.deepEqual(STRICT_PARSERS.jsonFromBytes(bytes), { a: [1] });
 * assert.equal(STRICT_PARSERS.stringFromBytes(new TextEncoder().encode("é")), "é");
 * assert.throws(() => STRICT_PARSERS.jsonFromBytes(new TextEncoder().encode("{")), /invalid JSON/);
 * ```
 */
export const STRICT_PARSERS: Pick<ParquetParsers, "stringFromBytes" | "jsonFromBytes"> = {
  stringFromBytes(bytes: Uint8Array) {
    return bytes === undefined || bytes === null ? bytes : text(bytes);
  },
  jsonFromBytes(bytes: Uint8Array) {
    if (bytes === undefined || bytes === null) return bytes;
    const t = text(bytes);
    if (t === INVALID_UTF8) return t;
    try {
      return JSON.parse(t);
    } catch (e) {
      const msg = (e instanceof Error ? e.message : String(e)).split("\n")[0];
      throw new Error(`a JSON column holds invalid JSON: ${msg}`);
    }
  },
};

/** Whether a leaf is read as text only because hyparquet reads any byte array so. */
function unmarkedBinary(leaf: SchemaTree): boolean {
  const e = leaf.element;
  return e.type === "BYTE_ARRAY" && e.converted_type === undefined &&
    e.logical_type === undefined;
}

function hasUnmarkedBinary(tree: SchemaTree): boolean {
  return tree.children.length === 0 ? unmarkedBinary(tree) : tree.children.some(hasUnmarkedBinary);
}

/**
 * Splits a schema's top-level columns into those read strictly and those holding unmarked binary.
 *
 * @param tree the schema
 * @returns the names of both sets, in schema order
 * @example
 * ```ts
 * import { columnSets } from "./_parquet_values.ts";
 * import type { SchemaTree } from "hyparquet";
 * import assert from "node:assert/strict";
 * const leaf = (name: string, logical?: "STRING"): SchemaTree => ({
 *   children: [], count: 1, path: [name],
 *   element: { name, type: "BYTE_ARRAY", ...(logical ? { logical_type: { type: logical } } : {}) },
 * });
 * const tree: SchemaTree = {
 *   children: [leaf("text", "STRING"), leaf("image")], count: 3, path: [], element: { name: "root" },
 * };
 * assert.deepEqual(columnSets(tree), { strict: ["text"], lenient: ["image"] });
 * ```
 */
export function columnSets(tree: SchemaTree): { strict: string[]; lenient: string[] } {
  const names = (binary: boolean) =>
    tree.children.filter((c) => hasUnmarkedBinary(c) === binary).map((c) => c.element.name);
  return { strict: names(false), lenient: names(true) };
}

function plain(v: unknown, column: string, location: string): unknown {
  const bad = () =>
    new ProblemError(
      problem(
        "Corrupt",
        location,
        `Invalid UTF-8 in column ${JSON.stringify(column)}; expected UTF-8 text`,
      ),
    );
  if (v === INVALID_UTF8) throw bad();
  if (typeof v === "bigint") {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v.toString();
  }
  if (Array.isArray(v)) return v.map((x) => plain(x, column, location));
  if (v !== null && typeof v === "object" && !(v instanceof Date) && !ArrayBuffer.isView(v)) {
    if (Object.getOwnPropertySymbols(v).includes(INVALID_UTF8)) throw bad(); // a map's key
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k, plain(x, `${column}.${k}`, location)]),
    );
  }
  return v;
}

/**
 * Turns a row as hyparquet gives it into record fields: int64 values (bigint) become numbers
 * where exact, else decimal strings, through lists, structs and maps.
 *
 * @param row the row
 * @param location `file:row N`, for problems
 * @returns the fields
 * @throws {ProblemError} `Corrupt`, naming the column, for a string that was not UTF-8
 * @example
 * ```ts
 * import { INVALID_UTF8, plainRow } from "./_parquet_values.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(plainRow({ n: 2n ** 60n, m: [3n] }, "a.parquet:row 1"), {
 *   n: "1152921504606846976",
 *   m: [3],
 * });
 * assert.throws(
 *   () => plainRow({ s: { t: INVALID_UTF8 } }, "a.parquet:row 2"),
 *   /^ProblemError: a\.parquet:row 2: Invalid UTF-8 in column "s\.t"; expected UTF-8 text$/,
 * );
 * ```
 */
export function plainRow(row: Record<string, unknown>, location: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, plain(v, k, location)]));
}
