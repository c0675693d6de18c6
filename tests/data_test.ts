import assert from "node:assert/strict";
import * as E from "fp-ts/Either";
import { type DataRecord, type ReadOptions, readRecords, scanRecords } from "../data/mod.ts";
import { describeProblem, type Problem } from "../problem.ts";

const FIXTURES = new URL("./fixtures/data/", import.meta.url);
const GLUE = new URL("./data/glue/", import.meta.url);

const dir = await Deno.makeTempDir({ prefix: "data_test_" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(dir, { recursive: true });
  } catch {
    // already gone
  }
});

async function write(name: string, text: string | Uint8Array): Promise<string> {
  const path = `${dir}/${name}`;
  if (typeof text === "string") await Deno.writeTextFile(path, text);
  else await Deno.writeFile(path, text);
  return path;
}

async function records(path: string | URL, options: ReadOptions = {}): Promise<DataRecord[]> {
  const r = await readRecords(path, options);
  if (E.isLeft(r)) assert.fail(describeProblem(r.left));
  return r.right;
}

async function problemOf(path: string | URL, options: ReadOptions = {}): Promise<Problem> {
  const r = await readRecords(path, options);
  if (E.isRight(r)) assert.fail(`expected a problem, read ${r.right.length} records`);
  assert.ok(!describeProblem(r.left).includes("\n"), "a problem is one line");
  return r.left;
}

// ---- JSON Lines ----

Deno.test("readRecords() reads JSON Lines, skipping blank lines and naming each record's line", async () => {
  const path = await write(
    "a.jsonl",
    '{"x": 1, "s": "a"}\n\n   \n{"x": 2, "s": "b"}\r\n{"x": [3]}',
  );
  const rs = await records(path);
  assert.deepEqual(rs.map((r) => r.fields), [{ x: 1, s: "a" }, { x: 2, s: "b" }, { x: [3] }]);
  assert.deepEqual(rs.map((r) => r.location), [`${path}:1`, `${path}:4`, `${path}:5`]);
});

Deno.test("readRecords() reports a bad JSON line with file:line and stops", async () => {
  const path = await write("bad.jsonl", '{"x": 1}\n{"x": 2,}\n{"x": 3}\n');
  const p = await problemOf(path);
  assert.equal(p._tag, "Corrupt");
  assert.equal(p.where, `${path}:2`);
  assert.match(p.message, /^Invalid JSON: /);
});

Deno.test("readRecords() wants a JSON object on each line", async () => {
  const path = await write("arr.jsonl", '{"x": 1}\n[1, 2]\n');
  const p = await problemOf(path);
  assert.equal(p.where, `${path}:2`);
  assert.equal(p.message, "Expected a JSON object on each line, found an array");
});

Deno.test("scanRecords() hands malformed lines to badLine and goes on", async () => {
  const path = await write("mixed.jsonl", '{"x": 1}\nnot json\n"text"\n{"x": 4}\n');
  const seen: number[] = [];
  const bad: string[] = [];
  const r = await scanRecords(path, {}, {
    record: (rec) => void seen.push(rec.fields.x as number),
    badLine: (p) => void bad.push(p.where),
  });
  assert.deepEqual(r, E.right(2));
  assert.deepEqual(seen, [1, 4]);
  assert.deepEqual(bad, [`${path}:2`, `${path}:3`]);
});

Deno.test("scanRecords() stops with the problem a visitor returns", async () => {
  const path = await write("stop.jsonl", '{"x": 1}\n{"x": 2}\n{"x": 3}\n');
  const r = await scanRecords(path, {}, {
    record: (rec) =>
      rec.fields.x === 2 ? { _tag: "Invalid", where: rec.location, message: "Two" } : undefined,
  });
  assert.deepEqual(r, E.left({ _tag: "Invalid", where: `${path}:2`, message: "Two" }));
});

Deno.test("readRecords() stops after limit records", async () => {
  const path = await write("many.jsonl", '{"i": 0}\n{"i": 1}\n{"i": 2}\n');
  assert.deepEqual((await records(path, { limit: 2 })).map((r) => r.fields.i), [0, 1]);
  assert.deepEqual(await records(path, { limit: 0 }), []);
});

// ---- CSV and TSV ----

Deno.test("readRecords() reads RFC 4180 CSV: quoted delimiters, doubled quotes, line breaks in quotes, CRLF", async () => {
  const text = 'id,text,note\r\n1,"a, b",x\r\n2,"say ""hi""",\r\n3,"two\r\nlines",\r\n\r\n4,,"" \n';
  const path = await write("q.csv", text.replace(" \n", "\n"));
  const rs = await records(path);
  assert.deepEqual(rs.map((r) => r.fields), [
    { id: "1", text: "a, b", note: "x" },
    { id: "2", text: 'say "hi"', note: "" },
    { id: "3", text: "two\r\nlines", note: "" },
    { id: "4", text: "", note: "" },
  ]);
  // A record spanning lines is located at its first line; the blank line 6 is skipped.
  assert.deepEqual(rs.map((r) => r.location.slice(path.length)), [":2", ":3", ":4", ":7"]);
});

Deno.test("readRecords() drops a UTF-8 byte-order mark before the header", async () => {
  const path = await write(
    "bom.csv",
    new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode("a,b\n1,2\n")]),
  );
  assert.deepEqual((await records(path)).map((r) => r.fields), [{ a: "1", b: "2" }]);
});

Deno.test("readRecords() reads TSV without quoting: quotes are ordinary text", async () => {
  const path = await write("g.tsv", 'sentence\tlabel\nhe said "no\t0\n"quoted"\t1\n');
  assert.deepEqual((await records(path)).map((r) => r.fields), [
    { sentence: 'he said "no', label: "0" },
    { sentence: '"quoted"', label: "1" },
  ]);
});

Deno.test("readRecords() reads a file without a header given column names", async () => {
  const path = await write("nohead.tsv", "gj04\t1\t\tA sentence.\ngj04\t0\t*\tBad sentence.\n");
  const rs = await records(path, {
    header: false,
    columns: ["source", "label", "original_label", "sentence"],
  });
  assert.deepEqual(rs[1].fields, {
    source: "gj04",
    label: "0",
    original_label: "*",
    sentence: "Bad sentence.",
  });
  assert.equal(rs[0].location, `${path}:1`);
  const p = await problemOf(path, { header: false });
  assert.equal(p.message, "A file without a header needs column names; pass columns");
});

Deno.test("readRecords() lets column names replace a header of the same width", async () => {
  const path = await write("rename.csv", "#1 String,#2 String\na,b\n");
  assert.deepEqual((await records(path, { columns: ["s1", "s2"] }))[0].fields, {
    s1: "a",
    s2: "b",
  });
  const p = await problemOf(path, { columns: ["only"] });
  assert.equal(p.message, "Header has 2 columns but 1 column names were given");
});

Deno.test("readRecords() reads RFC 4180 quoting in TSV when asked", async () => {
  const path = await write("quoted.tsv", 'a\tb\n"x\ty"\t"1"\n');
  assert.deepEqual((await records(path, { quoting: "rfc4180" }))[0].fields, { a: "x\ty", b: "1" });
});

Deno.test("readRecords() reports malformed CSV with file:line", async () => {
  const cases: [string, string, string][] = [
    ["a,b\n1,2\n3\n", ":3", "Expected 2 fields ('a', 'b'), found 1"],
    ["a,b\n1,2,3\n", ":2", "Expected 2 fields ('a', 'b'), found 3"],
    ['a,b\n1,x"y"\n', ":2", "Quote inside unquoted field 2; quote the whole field"],
    ['a,b\n"1"x,2\n', ":2", "Text after the closing quote of field 1"],
    [
      'a,b\n1,2\n3,"open\nstill open\n',
      ":3",
      "Quoted field is never closed; expected a closing quote before the end of the file",
    ],
    ["a,a\n1,2\n", ":1", 'Header names column "a" twice'],
  ];
  for (const [i, [text, line, message]] of cases.entries()) {
    const path = await write(`bad${i}.csv`, text);
    const p = await problemOf(path);
    assert.equal(p.where, `${path}${line}`, text);
    assert.equal(p.message, message, text);
  }
});

Deno.test("readRecords() keeps a column named __proto__ as an ordinary field", async () => {
  const path = await write("proto.csv", "__proto__,b\n1,2\n");
  const [r] = await records(path);
  assert.ok(Object.hasOwn(r.fields, "__proto__"));
  assert.equal(Object.getPrototypeOf(r.fields), Object.prototype);
  assert.equal(Object.keys(r.fields).join(), "__proto__,b");
});

// ---- Problems with whole files ----

Deno.test("readRecords() refuses missing files, directories, unknown formats and bad options", async () => {
  assert.equal((await problemOf(`${dir}/nope.jsonl`))._tag, "NotFound");
  assert.equal(
    (await problemOf(dir, { format: "jsonl" })).message,
    "Is a directory; expected a data file",
  );
  const txt = await write("x.txt", "a\n");
  const p = await problemOf(txt);
  assert.equal(p._tag, "Unsupported");
  assert.equal(
    p.message,
    "Unknown data format; expected a .jsonl, .csv, .tsv or .parquet file, or pass format",
  );
  assert.equal(
    (await records(txt, { format: "tsv", header: false, columns: ["t"] }))[0].fields.t,
    "a",
  );
  assert.equal(
    (await problemOf(txt, { format: "jsonl", columns: ["t"] })).message,
    "header, columns and quoting apply to CSV and TSV only, not jsonl",
  );
  assert.equal((await problemOf(txt, { format: "csv", delimiter: '"' }))._tag, "Invalid");
  assert.equal(
    (await problemOf(txt, { format: "csv", columns: ["a", "a"] })).message,
    'Column name "a" is given twice',
  );
});

Deno.test("readRecords() enforces the size caps", async () => {
  const path = await write("big.jsonl", `{"x": "${"y".repeat(200)}"}\n`);
  const p = await problemOf(path, { maxBytes: 100 });
  assert.equal(p._tag, "TooLarge");
  assert.match(
    p.message,
    /^File is 210 bytes, over the limit of 100 bytes for a data file; raise maxBytes/,
  );
  const q = await problemOf(path, { maxLineChars: 50 });
  assert.equal(q._tag, "TooLarge");
  assert.equal(q.where, `${path}:1`);
  const csv = await write("bigrec.csv", `a\n"${"z\n".repeat(40)}"\n`);
  assert.equal((await problemOf(csv, { maxLineChars: 30 })).where, `${csv}:2`);
});

Deno.test("readRecords() reports invalid UTF-8 with the line it is on", async () => {
  const path = await write(
    "latin1.tsv",
    new Uint8Array([...new TextEncoder().encode("a\nok\ncaf"), 0xe9, 0x0a]),
  );
  const p = await problemOf(path);
  assert.equal(p._tag, "Corrupt");
  assert.equal(p.where, `${path}:3`);
  assert.equal(p.message, "Invalid UTF-8; expected a UTF-8 text file");
});

Deno.test("readRecords() decodes a character split across read chunks and finds a bad byte past them", async () => {
  const chunk = 1 << 20; // the reader's chunk size
  const enc = new TextEncoder();
  const head = enc.encode(`${"a".repeat(chunk - 2)}\n`); // "é" below starts at byte chunk - 1
  const good = await write("split.tsv", new Uint8Array([...head, ...enc.encode("é\nok\n")]));
  const rs = await records(good, { header: false, columns: ["t"] });
  assert.deepEqual(rs.slice(1).map((r) => r.fields.t), ["é", "ok"]);
  const bad = await write(
    "splitbad.tsv",
    new Uint8Array([...head, ...enc.encode("é\nx"), 0xff, 0x0a]),
  );
  assert.equal((await problemOf(bad, { header: false, columns: ["t"] })).where, `${bad}:3`);
});

// ---- Parquet ----

Deno.test("readRecords() reads a Hugging Face datasets Parquet file across row groups", async () => {
  const path = new URL("sst2_hf.parquet", FIXTURES);
  const rs = await records(path);
  assert.equal(rs.length, 5);
  assert.deepEqual(rs[0].fields, {
    sentence: "a gripping , funny film ",
    label: 1,
    idx: 0,
    tags: ["a"],
    // An int64 past 2**53 cannot be a number exactly, so it is kept as its decimal text.
    extra: { big: "9007199254740993", note: "past 2**53" },
  });
  assert.deepEqual(rs[1].fields.extra, { big: -7, note: null });
  assert.deepEqual(rs.map((r) => r.fields.label), [1, 0, 1, 0, 1]);
  assert.deepEqual(rs[4].fields.tags, ["é"]);
  assert.ok(rs[3].location.endsWith("sst2_hf.parquet:row 4")); // the second row group's first row
  assert.deepEqual((await records(path, { limit: 4 })).map((r) => r.fields.idx), [0, 1, 2, 3]);
});

Deno.test("readRecords() reads the ZSTD-compressed copy of that file to the same records", async () => {
  const snappy = await records(new URL("sst2_hf.parquet", FIXTURES));
  const zstd = await records(new URL("sst2_zstd.parquet", FIXTURES));
  assert.deepEqual(zstd.map((r) => r.fields), snappy.map((r) => r.fields));
});

Deno.test("readRecords() reports a corrupt Parquet file", async () => {
  const bytes = await Deno.readFile(new URL("sst2_hf.parquet", FIXTURES));
  const truncated = await write("cut.parquet", bytes.subarray(0, bytes.length - 100));
  const p = await problemOf(truncated);
  assert.equal(p._tag, "Corrupt");
  assert.equal(p.where, truncated);
  assert.match(p.message, /^Not a readable Parquet file: /);
  const empty = await write("empty.parquet", new Uint8Array());
  assert.equal((await problemOf(empty))._tag, "Corrupt");
});

// ---- The real GLUE files ----

const COLA = ["source", "label", "original_label", "sentence"];

Deno.test({
  name:
    "readRecords() reads GLUE's SST-2, RTE and CoLA files (trimmed train splits) with their exact record counts",
  fn: async () => {
    const cases: [string, ReadOptions, number][] = [
      ["SST-2/train.tsv", {}, 3_000],
      ["SST-2/dev.tsv", {}, 872],
      ["RTE/train.tsv", {}, 500],
      ["RTE/dev.tsv", {}, 277],
      ["CoLA/train.tsv", { header: false, columns: COLA }, 3_100],
      ["CoLA/dev.tsv", { header: false, columns: COLA }, 1_043],
    ];
    for (const [file, options, n] of cases) {
      const r = await scanRecords(new URL(file, GLUE), options, { record: () => {} });
      assert.deepEqual(r, E.right(n), file);
    }
    const [cola] = await records(new URL("CoLA/dev.tsv", GLUE), {
      header: false,
      columns: COLA,
      limit: 1,
    });
    assert.deepEqual(cola.fields, {
      source: "gj04",
      label: "1",
      original_label: "",
      sentence: "The sailors rode the breeze clear of the rocks.",
    });
    // CoLA's training set holds literal quotes, which must stay text.
    const quoted = await records(new URL("CoLA/train.tsv", GLUE), { header: false, columns: COLA });
    assert.ok(quoted.some((r) => r.fields.sentence === 'Susan whispered "Shut up".'));
  },
});
