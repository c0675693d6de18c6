/**
 * Data files: JSON Lines, CSV, TSV (lines, fields, quotes, separators, headers with duplicate or
 * `__proto__` names, invalid UTF-8, CRs, BOMs) and Parquet (footer length, footer bytes, pages,
 * truncations). Read through `readRecords` (a file) with options that vary per input (header,
 * columns, quoting, delimiter, limit, a small line cap); an options.json beside the data file
 * records them.
 *
 * @module
 */
import { type DataFormat, type ReadOptions, readRecords } from "../../data/read.ts";
import { concat, getUint, mutateBytes, nearOrInteresting, putUint } from "../bytes.ts";
import { mutateJson } from "../json.ts";
import type { Rng } from "../rng.ts";
import type { FuzzInput, Seed, Target } from "../target.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The first `n` lines of a text file. */
const head = (b: Uint8Array, n: number) =>
  enc.encode(dec.decode(b).split("\n").slice(0, n).join("\n") + "\n");

/** A TSV turned into CSV, quoting as RFC 4180 does. */
function tsvToCsv(b: Uint8Array): Uint8Array {
  const q = (f: string) => /[",\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f;
  return enc.encode(
    dec.decode(b).split("\n").map((l) => l === "" ? l : l.split("\t").map(q).join(",")).join("\n"),
  );
}

const PIECES = [
  '"',
  '""',
  ",",
  "\t",
  "\r",
  "\r\n",
  "\n",
  "\\",
  "\ufeff",
  "{",
  "}",
  "[",
  "\u0000",
  "__proto__",
  "constructor",
  '"a,b"',
  " ",
  "\u2028",
  "\ud800",
];

/** Line- and field-aware damage to a text data file. */
function mutateText(rng: Rng, b: Uint8Array, format: DataFormat): Uint8Array {
  if (rng.chance(0.15)) return mutateBytes(rng, b);
  const lines = dec.decode(b).split("\n");
  const k = 1 + rng.int(2);
  for (let n = 0; n < k; n++) {
    if (lines.length === 0) lines.push("");
    const i = rng.int(lines.length);
    switch (rng.int(9)) {
      case 0:
        lines.splice(i, 0, lines[rng.int(lines.length)]);
        break;
      case 1:
        lines.splice(i, 1);
        break;
      case 2: { // a piece inserted into a line
        const l = lines[i] ?? "";
        const at = rng.int(l.length + 1);
        lines[i] = l.slice(0, at) + rng.pick(PIECES) + l.slice(at);
        break;
      }
      case 3: // the header (first line) changed
        lines[0] = rng.pick([
          () => (lines[0] ?? "") + (format === "csv" ? ",label" : "\tlabel"),
          () => lines[0].replace(/\w+/, "__proto__"),
          () => lines[0].replace(/\w+/, ""),
          () => lines[0].replace(/\w+/, "constructor"),
          () => "",
          () => lines[0].split(format === "csv" ? "," : "\t")[0],
        ])();
        break;
      case 4: // a JSON line mutated as JSON
        if (format === "jsonl" && lines[i]) {
          try {
            lines[i] = dec.decode(mutateJson(rng, JSON.parse(lines[i]), enc.encode(lines[i])));
          } catch { /* already broken */ }
        }
        break;
      case 5: { // a line repeated, up to 4 MiB (repeating twice could pass V8's string limit)
        const l = lines[i] ?? "", times = rng.pick([2, 50, 2000]);
        lines[i] = l.length * times > 1 << 22 ? l : l.repeat(times);
        break;
      }
      case 6:
        lines.splice(
          i,
          0,
          rng.pick(["", " ", "\r", "null", "[]", "1", '"x"', "{}", '{"__proto__": {"label": 1}}']),
        );
        break;
      case 7: // a field emptied or split
        lines[i] = (lines[i] ?? "").replace(/[^\t,"]+/, rng.pick(["", '"', "a\tb", "a,b", 'x"y']));
        break;
      default:
        lines.length = rng.int(lines.length + 1);
    }
  }
  const out = enc.encode(lines.join(rng.chance(0.1) ? "\r\n" : "\n"));
  return rng.chance(0.1) ? mutateBytes(rng, out, [], 1) : out;
}

/** Damage to a Parquet file, most of it in the footer (thrift metadata) and its length. */
function mutateParquet(rng: Rng, b: Uint8Array, others: readonly Uint8Array[]): Uint8Array {
  const n = b.length;
  const footerLength = Number(getUint(b, n - 8, 4));
  const footerStart = Math.max(4, n - 8 - footerLength);
  switch (rng.int(6)) {
    case 0: { // the footer length
      const out = b.slice();
      putUint(out, n - 8, 4, nearOrInteresting(rng, BigInt(footerLength), 4));
      return out;
    }
    case 1:
    case 2: { // a few bytes of the footer
      const out = b.slice();
      const k = 1 + rng.int(3);
      for (let i = 0; i < k; i++) {
        const at = footerStart + rng.int(Math.max(1, n - 8 - footerStart));
        out[at] = rng.chance(0.5)
          ? out[at] ^ (1 << rng.int(8))
          : rng.pick([0, 0xff, 0x15, 0x16, 0x18, 0x19, 0x1c, 0x7f, 0x80]);
      }
      return out;
    }
    case 3: { // the pages: bytes before the footer
      const out = b.slice();
      const at = 4 + rng.int(Math.max(1, footerStart - 4));
      out[at] ^= 1 << rng.int(8);
      return out;
    }
    case 4: { // a piece of the footer cut out or doubled, the length kept consistent
      const f = b.subarray(footerStart, n - 8);
      const s = rng.int(f.length + 1), len = 1 + rng.int(8);
      const g = rng.chance(0.5)
        ? concat(f.subarray(0, s), f.subarray(s + len))
        : concat(f.subarray(0, s + len), f.subarray(s));
      const tail = new Uint8Array(8);
      putUint(tail, 0, 4, BigInt(g.length));
      tail.set([0x50, 0x41, 0x52, 0x31], 4);
      return concat(b.subarray(0, footerStart), g, tail);
    }
    default:
      return mutateBytes(rng, b, others);
  }
}

function options(rng: Rng, format: DataFormat): ReadOptions {
  const o: Record<string, unknown> = { maxLineChars: 1 << 16 };
  if (format === "csv" || format === "tsv") {
    if (rng.chance(0.2)) o.header = false;
    if (rng.chance(0.2)) {
      o.columns = rng.pick([["a"], ["a", "b"], ["sentence", "label"], ["a", "a"], [
        "__proto__",
        "b",
      ], []]);
    }
    if (rng.chance(0.2)) o.quoting = rng.pick(["rfc4180", "none"]);
    if (rng.chance(0.05)) o.delimiter = rng.pick([";", "", "\t\t", '"', "\n"]);
  }
  if (rng.chance(0.1)) o.limit = rng.pick([0, 1, 3, -1]);
  return o as ReadOptions;
}

function dataTarget(
  format: DataFormat,
  weight: number,
  seeds: (root: string) => Promise<Seed[]>,
): Target {
  const file = `x.${format}`;
  return {
    name: format,
    weight,
    usesFiles: true,
    seeds,
    mutate: (rng, all): FuzzInput => {
      const s = rng.pick(all);
      const b = s.files.get(file)!;
      const data = format === "parquet"
        ? mutateParquet(rng, b, all.map((x) => x.files.get(file)!))
        : mutateText(rng, b, format);
      return {
        seed: s.name,
        files: new Map([[file, data], [
          "options.json",
          enc.encode(JSON.stringify(options(rng, format))),
        ]]),
      };
    },
    run: async (input, dir) => {
      const o = JSON.parse(dec.decode(input.files.get("options.json") ?? enc.encode("{}")));
      return await readRecords(`${dir}/${file}`, o);
    },
  };
}

async function textSeeds(
  root: string,
  files: readonly string[],
  name: string,
  f: (b: Uint8Array) => Uint8Array,
): Promise<Seed[]> {
  return await Promise.all(
    files.map(async (p) => ({
      name: p,
      files: new Map([[name, f(await Deno.readFile(`${root}/${p}`))]]),
    })),
  );
}

const TSVS = [
  "tests/fixtures/cli/sst2/train.tsv",
  "tests/fixtures/data/glue/MNLI/train.tsv",
  "tests/fixtures/data/glue/MRPC/train.tsv",
  "tests/fixtures/data/glue/QNLI/dev.tsv",
  "tests/fixtures/data/glue/STS-B/dev.tsv",
  "tests/data/glue/CoLA/dev.tsv",
];

async function filesUnder(root: string, d: string, ext: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${root}/${d}`)) {
    if (e.isDirectory) out.push(...await filesUnder(root, `${d}/${e.name}`, ext));
    else if (e.name.endsWith(ext)) out.push(`${d}/${e.name}`);
  }
  return out.sort();
}

/** The JSON Lines target. */
export const jsonl = dataTarget(
  "jsonl",
  1.5,
  async (root) =>
    await textSeeds(
      root,
      await filesUnder(root, "tests/fixtures/data/super_glue", ".jsonl"),
      "x.jsonl",
      (b) => head(b, 6),
    ),
);
/** The TSV target. */
export const tsv = dataTarget(
  "tsv",
  1.5,
  (root) => textSeeds(root, TSVS, "x.tsv", (b) => head(b, 10)),
);
/** The CSV target: the TSV seeds written as CSV, plus one with quoted newlines. */
export const csv = dataTarget("csv", 0.5, async (root) => [
  ...await textSeeds(root, TSVS, "x.csv", (b) => tsvToCsv(head(b, 10))),
  {
    name: "quoted",
    files: new Map([[
      "x.csv",
      enc.encode('text,label\n"a, b",1\n"say ""hi""",0\n"two\nlines",1\n'),
    ]]),
  },
]);
/** The Parquet target. */
export const parquet = dataTarget(
  "parquet",
  1.5,
  async (root) =>
    await textSeeds(
      root,
      await filesUnder(root, "tests/fixtures/data", ".parquet"),
      "x.parquet",
      (b) => b,
    ),
);
