import assert from "node:assert/strict";
import { readRecords } from "../data/mod.ts";
import { encodeNpz, hostTensor, parseNpz, readNpz } from "../io/mod.ts";
import { describeProblem } from "../problem.ts";
import { left, right } from "./_io_helpers.ts";

// Inputs the reference readers refuse and we used to accept (tools/reader_agreement.py, seed 1).
const FINDINGS = new URL("./data/fuzz-findings/", import.meta.url);
const FIXTURES = new URL("./fixtures/data/parquet/", import.meta.url);

const npzCases: [string, "Corrupt" | "Unsupported", RegExp][] = [
  [
    "local_name_differs.npz",
    "Corrupt",
    /^Local header of entry 'arr_0\.npy' names it 'arr\[0\.npy'; the central directory and the local header must name it alike$/,
  ],
  [
    "central_name_differs.npz",
    "Corrupt",
    /^Local header of entry '.rr_1\.npy' names it 'arr_1\.npy'; the central directory and the local header must name it alike$/,
  ],
  ["patched_flag.npz", "Unsupported", /^Entry 'mask\.npy' holds patched data \(flag bit 5\)$/],
];

for (const [name, tag, pattern] of npzCases) {
  Deno.test(`readNpz() refuses the fuzzed ${name}, which Python's zipfile refuses too`, async () => {
    const url = new URL(`npz_local_header/${name}`, FINDINGS);
    const p = left(await readNpz(url), tag, pattern);
    assert.ok(!describeProblem(p).includes("\n"), "one line");
    assert.ok(p.where.endsWith(name), p.where);
  });
}

Deno.test("parseNpz() still reads an archive whose local and central headers name each entry alike", () => {
  const zip = encodeNpz({ a: hostTensor("int8", [2], new Int8Array([1, -1])) });
  assert.deepEqual([...right(parseNpz(zip, "a.npz")).get("a")!.data], [1, -1]);
  const renamed = zip.slice();
  renamed[30] = "b".charCodeAt(0); // the local header's name: 'b.npy' against the directory's 'a.npy'
  left(parseNpz(renamed, "a.npz"), "Corrupt", /names it 'b\.npy'/);
});

Deno.test("readRecords() refuses a GZIP Parquet page whose bytes no longer match its CRC-32", async () => {
  const path = new URL("parquet_gzip_crc/damaged_page.parquet", FINDINGS).pathname;
  const p = left(
    await readRecords(path),
    "Corrupt",
    /^Not a readable Parquet file: the data of row group 2 \(rows 4-4\): a GZIP page fails its CRC-32 check$/,
  );
  assert.equal(p.where, `${path}:row 4`);
});

Deno.test("readRecords() still reads the undamaged GZIP Parquet file it was made from", async () => {
  const rows = right(await readRecords(new URL("codec_gzip.parquet", FIXTURES).pathname));
  assert.equal(rows.length, 4);
  assert.equal(rows[3].fields.label, -1099511627776);
});

Deno.test("readRecords() refuses a Parquet column whose dictionary is shorter than its indices need", async () => {
  const path = new URL("parquet_dictionary_short/short_dictionary.parquet", FINDINGS).pathname;
  const p = left(
    await readRecords(path),
    "Corrupt",
    /^Not a readable Parquet file: column "label" has no value in row 3 \(an index past its dictionary\?\); expected a value or null$/,
  );
  assert.equal(p.where, `${path}:row 3`);
  const seed = right(await readRecords(new URL("codec_zstd.parquet", FIXTURES).pathname));
  assert.equal(seed[2].fields.label, 2); // what the undamaged file holds there
});
