/**
 * `.npy`: the header's dict (descr, fortran_order, shape), its length field and version, and the
 * data after it. Read through `parseNpy` (bytes) and, for some inputs, `readNpy` (a file).
 *
 * @module
 */
import { parseNpy, readNpy } from "../../io/npy.ts";
import { concat, mutateBytes, putUint } from "../bytes.ts";
import type { Rng } from "../rng.ts";
import { Disagreement, type FuzzInput, type Seed, type Target } from "../target.ts";

const DIR = "tests/fixtures/io/npy";
const dec = new TextDecoder("latin1");
const enc = new TextEncoder();

const DESCRS = [
  "<f4",
  ">f4",
  "<f8",
  ">f8",
  "<f2",
  "|i1",
  "<i2",
  "<i4",
  "<i8",
  "|u1",
  "|b1",
  "<u4",
  "<c8",
  "|O",
  "<U3",
  "|S2",
  "=f4",
  "f4",
  "<f",
  "<f16",
  "<i0",
  "<V8",
  "",
  "<f4 ",
  ">i8",
];

/** Splits a valid `.npy` into version, header text and data. */
export function splitNpy(b: Uint8Array): { major: number; header: string; data: Uint8Array } {
  const major = b[6];
  const wide = major >= 2;
  const len = wide ? b[8] | (b[9] << 8) | (b[10] << 16) | (b[11] << 24) : b[8] | (b[9] << 8);
  const start = wide ? 12 : 10;
  return {
    major,
    header: dec.decode(b.subarray(start, start + len)),
    data: b.subarray(start + len),
  };
}

/** Builds an `.npy` from its parts, padding the header to 64 bytes as numpy does. */
export function joinNpy(major: number, header: string, data: Uint8Array, pad = true): Uint8Array {
  const wide = major >= 2;
  const pre = wide ? 12 : 10;
  let h = header.replace(/\s+$/, "");
  if (pad) h = h + " ".repeat((64 - ((pre + h.length + 1) % 64)) % 64) + "\n";
  const hb = major >= 3 ? enc.encode(h) : Uint8Array.from(h, (c) => c.charCodeAt(0) & 0xff);
  const out = new Uint8Array(pre + hb.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  putUint(out, 8, wide ? 4 : 2, BigInt(hb.length));
  out.set(hb, pre);
  return concat(out, data);
}

function dim(rng: Rng): string {
  return String(rng.pick([
    0,
    1,
    2,
    3,
    4,
    5,
    8,
    100,
    65536,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 32,
    2 ** 53,
    -1,
    -2,
  ]));
}

function shapeText(rng: Rng, old: string): string {
  switch (rng.int(7)) {
    case 0:
      return "()";
    case 1:
      return `(${dim(rng)},)`;
    case 2:
      return `(${Array.from({ length: 1 + rng.int(4) }, () => dim(rng)).join(", ")})`;
    case 3:
      return rng.pick([
        "[2, 3]",
        "(2.0, 3)",
        "(True,)",
        "('a',)",
        "((2,),)",
        "(2,,)",
        "(,)",
        "(2",
        "None",
        "(1e3,)",
        "(0x10,)",
        "(1_0,)",
      ]);
    case 4:
      return `(${Array.from({ length: 33 + rng.int(40) }, () => "1").join(", ")})`;
    case 5: // the old shape with one dimension changed
      return old.replace(/\d+/, (d) => String(Number(d) + rng.pick([-1, 1, 1000, -Number(d)])));
    default:
      return old.replace(/\)/, ", 1)");
  }
}

/** Mutates a valid `.npy` with knowledge of its layout. */
export function mutateNpy(rng: Rng, seed: Uint8Array, others: readonly Uint8Array[]): Uint8Array {
  if (rng.chance(0.25)) return mutateBytes(rng, seed, others);
  const { major, header, data } = splitNpy(seed);
  let h = header;
  let v = major;
  let d: Uint8Array = data;
  let pad = true;
  const k = 1 + rng.int(3);
  for (let i = 0; i < k; i++) {
    switch (rng.int(9)) {
      case 0:
        h = h.replace(/'descr':\s*'[^']*'/, `'descr': '${rng.pick(DESCRS)}'`);
        break;
      case 1:
        h = h.replace(
          /'fortran_order':\s*\w+/,
          `'fortran_order': ${rng.pick(["True", "False", "1", "0", "'False'", "None", "true"])}`,
        );
        break;
      case 2: {
        const m = h.match(/'shape':\s*(\([^)]*\))/);
        h = h.replace(/'shape':\s*\([^)]*\)/, `'shape': ${shapeText(rng, m ? m[1] : "()")}`);
        break;
      }
      case 3: // keys added, removed, repeated
        h = rng.pick([
          () => h.replace(/\{/, "{'extra': 1, "),
          () => h.replace(/'fortran_order':\s*\w+,\s*/, ""),
          () => h.replace(/'shape':\s*\([^)]*\),?\s*/, ""),
          () => h.replace(/\{/, "{'shape': (2,), "),
          () => h.replace(/\{/, "{'__proto__': 1, "),
          () => h.replace(/'descr'/, "'descr ' "),
        ])();
        break;
      case 4: // the literal itself damaged
        h = rng.pick([
          () => h.slice(0, rng.int(h.length + 1)),
          () => h.replace("}", ""),
          () => h.replace(/'/, ""),
          () => h.replace(/'/, "\\'"),
          () => h.replace(/:/, "::"),
          () => "[" + h + "]",
          () => h.replace("{", "{" + "(".repeat(rng.pick([10, 1000, 100000]))),
          () => h.replace(/'shape'/, "'sh\u00e9pe'"),
        ])();
        break;
      case 5:
        v = rng.pick([0, 1, 2, 3, 4, 255]);
        break;
      case 6:
        d = rng.pick([
          () => d.subarray(0, rng.int(d.length + 1)),
          () => concat(d, d),
          () => d.subarray(0, Math.max(0, d.length - 1)),
          () => concat(d, new Uint8Array(1 + rng.int(16))),
          () => new Uint8Array(0),
        ])();
        break;
      case 7:
        pad = false;
        break;
      default:
        h = h.replace(/\d+/, () => dim(rng));
    }
  }
  const out = joinNpy(v, h, d, pad);
  return rng.chance(0.1) ? mutateBytes(rng, out, others, 2) : out;
}

/** The `.npy` target. */
export const npy: Target = {
  name: "npy",
  weight: 16,
  usesFiles: false,
  seeds: async (root) => {
    const out: Seed[] = [];
    for await (const e of Deno.readDir(`${root}/${DIR}`)) {
      if (e.isFile && e.name.endsWith(".npy")) {
        out.push({
          name: e.name,
          files: new Map([["x.npy", await Deno.readFile(`${root}/${DIR}/${e.name}`)]]),
        });
      }
    }
    const extra = "tests/data/prompt-tuning/test_data/prompt_5x256.npy";
    try {
      out.push({
        name: "prompt_5x256.npy",
        files: new Map([["x.npy", await Deno.readFile(`${root}/${extra}`)]]),
      });
    } catch { /* optional */ }
    return out.sort((a, b) => a.name < b.name ? -1 : 1);
  },
  mutate: (rng, seeds): FuzzInput => {
    const s = rng.pick(seeds);
    const others = seeds.map((x) => x.files.get("x.npy")!);
    return {
      seed: s.name,
      files: new Map([["x.npy", mutateNpy(rng, s.files.get("x.npy")!, others)]]),
    };
  },
  run: async (input, dir) => {
    const bytes = input.files.get("x.npy")!;
    const r = parseNpy(bytes, "x.npy");
    // The file reader too, now and then: same parser behind a size cap.
    if (bytes.length % 16 === 0) {
      await Deno.writeFile(`${dir}/x.npy`, bytes);
      const f = await readNpy(`${dir}/x.npy`, { maxBytes: 1 << 20 });
      if (f._tag !== r._tag && !(f._tag === "Left" && f.left._tag === "TooLarge")) {
        throw new Disagreement(`parseNpy gave ${r._tag}, readNpy ${f._tag}`);
      }
      if (f._tag === "Left") return f;
    }
    return r;
  },
};
