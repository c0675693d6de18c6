/**
 * Checks a Parquet footer's metadata (as hyparquet parses it) before any data is read: that the
 * schema is a tree, that each row group has one column chunk per leaf column, in schema order,
 * lying inside the file and compressed with a codec that can be read, and that the row counts
 * add up. hyparquet trusts these; a file that breaks them would otherwise fail inside it
 * with a `TypeError`, or leave column reads running after it has given up.
 *
 * @module
 */
import { type FileMetaData, parquetSchema, type SchemaTree } from "hyparquet";
import { type Problem, problem } from "../problem.ts";

/**
 * The compression codecs the reader decompresses: hyparquet's own two and those of
 * hyparquet-compressors that the Parquet format still recommends (not LZO, nor the deprecated
 * Hadoop-framed LZ4).
 *
 * @example
 * ```ts
 * import { PARQUET_CODECS } from "./_parquet_meta.ts";
 * import assert from "node:assert/strict";
 * assert(PARQUET_CODECS.includes("ZSTD") && !PARQUET_CODECS.includes("LZO"));
 * ```
 */
export const PARQUET_CODECS: readonly string[] = [
  "UNCOMPRESSED",
  "SNAPPY",
  "GZIP",
  "BROTLI",
  "ZSTD",
  "LZ4_RAW",
];

/** A thrift integer (a number, or a bigint for i64 fields) as a number, if it is a safe one. */
function int(v: unknown): number | undefined {
  if (typeof v === "bigint") {
    return v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
  }
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/** A name from the file, quoted (and escaped, so that it cannot break the line). */
const q = (name: unknown): string => JSON.stringify(String(name));

/** A footer value for a message: itself if a number, else what kind of thing it is. */
function shown(v: unknown): string {
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  return v === undefined || v === null ? "missing" : `a ${typeof v}`;
}

function leaves(tree: SchemaTree): SchemaTree[] {
  return tree.children.length === 0 ? [tree] : tree.children.flatMap(leaves);
}

/** The first name given to two children of one group, if any. */
function repeatedName(tree: SchemaTree): string | undefined {
  const names = tree.children.map((c) => c.element.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) return [...tree.path, dup].join(".");
  for (const c of tree.children) {
    const d = repeatedName(c);
    if (d !== undefined) return d;
  }
  return undefined;
}

/**
 * The schema of a footer as a tree, if its elements form one.
 *
 * @param metadata the parsed footer
 * @returns the tree, or what is wrong with the schema
 * @example
 * ```ts
 * import { schemaTree } from "./_parquet_meta.ts";
 * import type { FileMetaData } from "hyparquet";
 * import assert from "node:assert/strict";
 * const schema = [{ name: "root", num_children: 1 }, { name: "x", type: "INT32" as const }];
 * const meta = { version: 2, schema, num_rows: 0n, row_groups: [], metadata_length: 0 };
 * const tree = schemaTree(meta as FileMetaData);
 * assert(typeof tree !== "string" && tree.children[0].element.name === "x");
 * const cut = schemaTree({ ...meta, schema: schema.slice(0, 1) } as FileMetaData);
 * assert(cut === "its schema is not a tree: a group has more children than there are elements");
 * ```
 */
export function schemaTree(metadata: FileMetaData): SchemaTree | string {
  const schema: unknown = metadata.schema;
  if (!Array.isArray(schema) || schema.length === 0) return "it has no schema";
  for (const [i, e] of schema.entries()) {
    if (e === null || typeof e !== "object" || typeof e.name !== "string") {
      return `its schema element ${i} has no name`;
    }
    if (e.num_children !== undefined && int(e.num_children) === undefined) {
      return `its schema element ${q(e.name)} has ${shown(e.num_children)} children`;
    }
  }
  // Each element's children follow it; a count that runs past the end would read beyond the list.
  const end = (i: number): number | undefined => {
    let next = i + 1;
    for (let k = 0; k < (schema[i].num_children ?? 0); k++) {
      if (next >= schema.length) return undefined;
      const after = end(next);
      if (after === undefined) return undefined;
      next = after;
    }
    return next;
  };
  let stop: number | undefined;
  try {
    stop = end(0);
  } catch {
    return "its schema is not a tree: it nests too deep";
  }
  if (stop === undefined) {
    return "its schema is not a tree: a group has more children than there are elements";
  }
  if (stop !== schema.length) {
    return `its schema is not a tree: ${schema.length - stop} elements follow the last column`;
  }
  const tree = parquetSchema(metadata);
  const dup = repeatedName(tree);
  return dup === undefined ? tree : `its schema names the column ${q(dup)} twice`;
}

/**
 * Checks a parsed footer against the file it came from.
 *
 * @param metadata the footer, from hyparquet's `parquetMetadataAsync`
 * @param tree its schema, from {@link schemaTree}
 * @param size the file's size in bytes
 * @param where the file, for problems
 * @returns `undefined` when it can be read; else `Unsupported` (a codec, a chunk in another
 * file) or `Corrupt`, saying which row group and column
 * @example
 * ```ts
 * import { checkParquetMetadata, schemaTree } from "./_parquet_meta.ts";
 * import type { FileMetaData, SchemaTree } from "hyparquet";
 * import assert from "node:assert/strict";
 * const schema = [{ name: "root", num_children: 1 }, { name: "x", type: "INT32" as const }];
 * const chunk = {
 *   file_offset: 0n,
 *   meta_data: {
 *     type: "INT32", encodings: [], path_in_schema: ["x"], codec: "LZO", num_values: 2n,
 *     total_uncompressed_size: 20n, total_compressed_size: 20n, data_page_offset: 4n,
 *   },
 * };
 * const meta = {
 *   version: 2, schema, num_rows: 2n, metadata_length: 0,
 *   row_groups: [{ columns: [chunk], total_byte_size: 20n, num_rows: 2n }],
 * } as FileMetaData;
 * const p = checkParquetMetadata(meta, schemaTree(meta) as SchemaTree, 100, "a.parquet");
 * assert.equal(
 *   p?.message,
 *   'Column "x" of row group 1 is compressed with LZO; expected one of UNCOMPRESSED, SNAPPY, GZIP, BROTLI, ZSTD, LZ4_RAW',
 * );
 * ```
 */
export function checkParquetMetadata(
  metadata: FileMetaData,
  tree: SchemaTree,
  size: number,
  where: string,
): Problem | undefined {
  const corrupt = (m: string) => problem("Corrupt", where, `Not a readable Parquet file: ${m}`);
  const groups: unknown = metadata.row_groups;
  if (!Array.isArray(groups)) return corrupt("its footer lists no row groups");
  const columns = leaves(tree).map((l) => l.path);
  if (columns.length === 0 || tree.children.length === 0) {
    return corrupt("its schema has no columns");
  }
  const untyped = leaves(tree).find((l) => l.element.type === undefined);
  if (untyped !== undefined) {
    return corrupt(`its column ${q(untyped.path.join("."))} has no physical type`);
  }
  let rows = 0;
  for (const [g, group] of groups.entries()) {
    const at = `row group ${g + 1}`;
    const n = int(group?.num_rows);
    if (n === undefined) {
      return corrupt(`the row count of ${at} is ${shown(group?.num_rows)}; expected a count`);
    }
    rows += n;
    const chunks: unknown = group.columns;
    if (!Array.isArray(chunks) || chunks.length !== columns.length) {
      return corrupt(
        `${at} has ${
          Array.isArray(chunks) ? chunks.length : "no"
        } column chunks; expected ${columns.length}, one per column`,
      );
    }
    for (const [c, chunk] of chunks.entries()) {
      const name = columns[c].join(".");
      const col = `column ${q(name)} of ${at}`;
      if (chunk?.file_path !== undefined) {
        return problem(
          "Unsupported",
          where,
          `The ${col} is in another file, ${
            q(chunk.file_path)
          }; expected a single-file Parquet table`,
        );
      }
      const meta = chunk?.meta_data;
      if (meta === undefined || meta === null) {
        return corrupt(`the ${col} has no metadata (an encrypted file?)`);
      }
      const path: unknown = meta.path_in_schema;
      const named = Array.isArray(path) ? path.join(".") : undefined;
      if (
        !Array.isArray(path) || path.length !== columns[c].length ||
        path.some((p, i) => p !== columns[c][i])
      ) {
        return corrupt(
          `column chunk ${c + 1} of ${at} is for ${
            named === undefined ? "no column" : q(named)
          }; expected ${q(name)}, the schema's column ${c + 1}`,
        );
      }
      if (!PARQUET_CODECS.includes(meta.codec)) {
        return problem(
          "Unsupported",
          where,
          `Column ${q(name)} of ${at} is compressed with ${
            meta.codec ?? "an unknown codec"
          }; expected one of ${PARQUET_CODECS.join(", ")}`,
        );
      }
      const values = int(meta.num_values);
      if (values === undefined || values < n) {
        return corrupt(
          `the value count of the ${col} is ${
            shown(meta.num_values)
          }; expected at least its ${n} rows`,
        );
      }
      const start = int(meta.dictionary_page_offset || meta.data_page_offset);
      const length = int(meta.total_compressed_size);
      if (start === undefined || length === undefined) {
        return corrupt(
          `the ${col} has offset ${
            shown(meta.dictionary_page_offset || meta.data_page_offset)
          } and length ${shown(meta.total_compressed_size)}; expected two counts of bytes`,
        );
      }
      if (start + length > size) {
        return corrupt(
          `the ${col} (${length} bytes at byte ${start}) runs past the end of the file (${size} bytes)`,
        );
      }
    }
  }
  const total = int(metadata.num_rows);
  if (total !== rows) {
    return corrupt(
      `its footer says ${shown(metadata.num_rows)} rows but its row groups hold ${rows}`,
    );
  }
  return undefined;
}
