import assert from "node:assert/strict";
import * as E from "fp-ts/Either";
import { readRecords } from "../data/mod.ts";
import { describeProblem } from "../problem.ts";

const FINDINGS = new URL("./data/fuzz-findings/", import.meta.url);
const FIXTURES = new URL("./fixtures/data/", import.meta.url);

/** Long enough for a read left running when the reader returned to finish, and reject. */
const settle = () => new Promise((r) => setTimeout(r, 200));

/** Runs `body`, then waits, counting the rejections nobody handled meanwhile. */
async function unhandledDuring(body: () => Promise<void>): Promise<string[]> {
  const stray: string[] = [];
  const listener = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    stray.push(String(e.reason));
  };
  globalThis.addEventListener("unhandledrejection", listener);
  try {
    await body();
    await settle();
  } finally {
    globalThis.removeEventListener("unhandledrejection", listener);
  }
  return stray;
}

const cases: [string, RegExp][] = [
  // A column chunk's path_in_schema mutated: found before any column is read.
  [
    "parquet_98_crash/x.parquet",
    /^Not a readable Parquet file: column chunk 5 of row group 2 is for "e:tra\.big"; expected "extra\.big", the schema's column 5$/,
  ],
  [
    "parquet_stray_rejection/page_length.parquet",
    /^Not a readable Parquet file: column chunk 3 of row group 1 is for "iex"; expected "idx"/,
  ],
  [
    "parquet_stray_rejection/zstd_codec.parquet",
    /^Not a readable Parquet file: column chunk 4 of row group 1 is for "tags\.list\.element"; expected "tags\.last\.element"/,
  ],
  ["parquet_1086_crash/x.parquet", /^Not a readable Parquet file: its footer: /],
  // These two hung the reader.
  [
    "parquet_hangs/negative_children.parquet",
    /^Not a readable Parquet file: its schema element "extra" has -3 children$/,
  ],
  [
    "parquet_hangs/page_size_missing.parquet",
    /^Not a readable Parquet file: page 1 of the column "label" of row group 1 \(byte 98\) has compressed size missing; expected 0 to 93, the bytes left in the chunk$/,
  ],
];

for (const [name, pattern] of cases) {
  Deno.test(`readRecords() reports the fuzzed ${name} in one line and leaves nothing reading the file`, async () => {
    const path = new URL(name, FINDINGS).pathname;
    const stray = await unhandledDuring(async () => {
      const r = await readRecords(path);
      assert.ok(E.isLeft(r), "a problem");
      assert.equal(r.left._tag, "Corrupt");
      assert.ok(r.left.where.startsWith(path), r.left.where);
      assert.match(r.left.message, pattern);
      assert.ok(!describeProblem(r.left).includes("\n"), "one line");
    });
    assert.deepEqual(stray, []);
  });
}

/** A small deterministic generator (an LCG), so the mutations are the same on every run. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    return s / 0x80000000;
  };
}

/** The `i`th mutation of `bytes`: a truncation, a flipped bit, four random bytes, or a footer byte. */
function mutate(bytes: Uint8Array, i: number, rand: () => number): Uint8Array {
  const m = new Uint8Array(bytes);
  const at = (n: number) => Math.floor(rand() * n);
  switch (i % 4) {
    case 0:
      return m.slice(0, at(m.length));
    case 1:
      m[at(m.length)] ^= 1 << at(8);
      return m;
    case 2:
      for (let k = 0; k < 4; k++) m[at(m.length)] = at(256);
      return m;
    default: // within the footer's last 600 bytes, where the metadata is
      m[Math.max(0, m.length - 9 - at(600))] = at(256);
      return m;
  }
}

for (
  const [base, count] of [["sst2_hf.parquet", 300], ["parquet/codec_zstd.parquet", 200]] as const
) {
  Deno.test(`readRecords() reads each of ${count} mutations of ${base} or reports it in one line naming the file, and nothing rejects afterwards`, async () => {
    const bytes = await Deno.readFile(new URL(base, FIXTURES));
    const rand = lcg(count);
    const dir = await Deno.makeTempDir({ prefix: "parquet_mutations_" });
    const outcome = { read: 0, refused: 0 };
    try {
      const stray = await unhandledDuring(async () => {
        for (let i = 0; i < count; i++) {
          const path = `${dir}/m${i}.parquet`;
          await Deno.writeFile(path, mutate(bytes, i, rand));
          const r = await readRecords(path);
          if (E.isRight(r)) {
            outcome.read++;
            continue;
          }
          outcome.refused++;
          const line = describeProblem(r.left);
          assert.ok(r.left.where.startsWith(path), `mutation ${i}: ${line}`);
          assert.ok(!line.includes("\n"), `mutation ${i}: ${line}`);
          assert.doesNotMatch(
            line,
            /TypeError|Cannot read properties|is not a function|undefined \(/,
          );
        }
      });
      assert.deepEqual(stray, []);
      // Both outcomes occur: the mutations reach the data as well as the footer.
      assert.ok(outcome.read > 0 && outcome.refused > 0, JSON.stringify(outcome));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
