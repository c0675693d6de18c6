/**
 * Parquet values as records: int64 values as numbers where exact.
 *
 * @module
 */

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

/**
 * Turns a row as hyparquet gives it into record fields: int64 values (bigint) become numbers
 * where exact, else decimal strings, through lists, structs and maps.
 *
 * @param row the row
 * @returns the fields
 * @example
 * ```ts
 * import { plainRow } from "./_parquet_values.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(plainRow({ n: 2n ** 60n, m: [3n] }), {
 *   n: "1152921504606846976",
 *   m: [3],
 * });
 * ```
 */
export function plainRow(row: Record<string, unknown>): Record<string, unknown> {
  return plain(row) as Record<string, unknown>;
}
