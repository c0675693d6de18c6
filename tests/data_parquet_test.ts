import assert from "node:assert/strict";
import * as E from "fp-ts/Either";
import { type DataRecord, readRecords } from "../data/mod.ts";
import { describeProblem, type Problem } from "../problem.ts";

// Written by pyarrow (tools/make_parquet_fixtures.py).
const PARQUET = new URL("./fixtures/data/parquet/", import.meta.url);
const at = (name: string) => new URL(name, PARQUET).pathname;

async function records(path: string): Promise<DataRecord[]> {
  const r = await readRecords(path);
  if (E.isLeft(r)) assert.fail(describeProblem(r.left));
  return r.right;
}

async function problemOf(path: string): Promise<Problem> {
  const r = await readRecords(path);
  if (E.isRight(r)) assert.fail(`expected a problem, read ${r.right.length} records`);
  assert.ok(!describeProblem(r.left).includes("\n"), "a problem is one line");
  return r.left;
}

const TABLE = [
  { text: "alpha", label: 0, tags: ["x"] },
  { text: "βeta ☃", label: 1, tags: [] },
  { text: null, label: 2, tags: ["y", "z"] },
  { text: "delta", label: -(2 ** 40), tags: undefined }, // hyparquet reads a null list as undefined
];

for (const codec of ["none", "snappy", "gzip", "brotli", "zstd", "lz4"]) {
  Deno.test(`readRecords() reads the Parquet table pyarrow wrote with compression="${codec}"`, async () => {
    const path = at(`codec_${codec}.parquet`);
    const rs = await records(path);
    assert.deepEqual(rs.map((r) => r.fields), TABLE);
    assert.deepEqual(rs.map((r) => r.location), [1, 2, 3, 4].map((n) => `${path}:row ${n}`));
  });
}

Deno.test("readRecords() names the file, the column and the codec of a Parquet file it cannot decompress", async () => {
  const path = at("codec_lzo.parquet");
  const p = await problemOf(path);
  assert.equal(p._tag, "Unsupported");
  assert.equal(
    describeProblem(p),
    `${path}: Column "text" of row group 1 is compressed with LZO; expected one of UNCOMPRESSED, SNAPPY, GZIP, BROTLI, ZSTD, LZ4_RAW`,
  );
});

Deno.test("readRecords() refuses invalid UTF-8 in a Parquet string column, naming the row and column", async () => {
  const path = at("invalid_utf8_text.parquet");
  const p = await problemOf(path);
  assert.equal(p._tag, "Corrupt");
  assert.equal(p.where, `${path}:row 2`);
  assert.equal(p.message, 'Invalid UTF-8 in column "text"; expected UTF-8 text');
});

Deno.test("readRecords() refuses invalid UTF-8 in a Parquet map's string key", async () => {
  const path = at("invalid_utf8_map_key.parquet");
  const p = await problemOf(path);
  assert.equal(
    describeProblem(p),
    `${path}:row 1: Invalid UTF-8 in column "counts"; expected UTF-8 text`,
  );
});

Deno.test("readRecords() still reads an unannotated Parquet binary column leniently beside a strict text column", async () => {
  const rs = await records(at("binary_not_utf8.parquet"));
  // The binary bytes ff 61 decode as before, to U+FFFD and "a"; only text columns are strict.
  assert.deepEqual(rs.map((r) => r.fields), [{ text: "a caption", image: "\ufffda" }]);
});
