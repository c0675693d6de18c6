/**
 * `.safetensors`: the 8-byte header length, the JSON header (dtypes, shapes, data_offsets,
 * `__metadata__`, names), and the data section. Read through `parseSafetensors` (bytes) and, for
 * a quarter of the inputs, `openSafetensors` (a file, every tensor read); the two must agree.
 *
 * @module
 */
import { openSafetensors, parseSafetensors } from "../../io/safetensors.ts";
import { concat, getUint, mutateBytes, nearOrInteresting, putUint } from "../bytes.ts";
import { type Json, mutateJson } from "../json.ts";
import type { Rng } from "../rng.ts";
import { Disagreement, type FuzzInput, type Seed, type Target } from "../target.ts";

const dec = new TextDecoder();
const enc = new TextEncoder();

/** Header JSON and data of a valid file. */
function split(b: Uint8Array): { header: Uint8Array; data: Uint8Array } {
  const n = Number(getUint(b, 0, 8));
  return { header: b.subarray(8, 8 + n), data: b.subarray(8 + n) };
}

const DTYPES = [
  "F32",
  "F16",
  "BF16",
  "F64",
  "I8",
  "I16",
  "I32",
  "I64",
  "U8",
  "U16",
  "U32",
  "U64",
  "BOOL",
  "F8_E4M3",
  "f32",
  "",
  "C64",
];

/** Mutates a valid safetensors file with knowledge of its layout. */
export function mutateSafetensors(
  rng: Rng,
  b: Uint8Array,
  others: readonly Uint8Array[],
): Uint8Array {
  if (rng.chance(0.15)) return mutateBytes(rng, b, others);
  const { header, data } = split(b);
  let h: Uint8Array;
  let json: Json;
  try {
    json = JSON.parse(dec.decode(header));
  } catch {
    return mutateBytes(rng, b, others);
  }
  const k = rng.int(6);
  if (k <= 2) {
    h = mutateJson(rng, json, header);
  } else {
    // Targeted edits of one tensor's entry.
    const o = json as Record<string, Record<string, Json>>;
    const names = Object.keys(o).filter((n) => n !== "__metadata__");
    if (names.length > 0) {
      const t = o[rng.pick(names)];
      if (t !== null && typeof t === "object") {
        if (k === 3) t.dtype = rng.pick(DTYPES);
        else if (k === 4 && Array.isArray(t.shape)) {
          const s = t.shape as number[];
          if (s.length > 0 && rng.chance(0.7)) {
            s[rng.int(s.length)] = rng.pick([0, 1, 2, -1, 2 ** 31, 2 ** 53, 1.5, s[0] + 1]);
          } else s.push(rng.pick([1, 2, 0]));
        } else if (Array.isArray(t.data_offsets)) {
          const d = t.data_offsets as number[];
          d[rng.int(2)] = rng.pick([
            0,
            1,
            -1,
            d[0] + 1,
            d[1] - 1,
            d[1] + 1,
            2 ** 53,
            2 ** 64,
            data.length,
            data.length + 1,
            0.5,
          ]);
        }
      }
    }
    h = enc.encode(JSON.stringify(json));
  }
  if (rng.chance(0.2)) h = concat(h, enc.encode(" ".repeat(rng.int(16))));
  const head = new Uint8Array(8);
  putUint(head, 0, 8, BigInt(h.length));
  if (rng.chance(0.15)) putUint(head, 0, 8, nearOrInteresting(rng, BigInt(h.length), 8));
  let d = data;
  if (rng.chance(0.2)) {
    d = rng.pick([
      () => d.subarray(0, rng.int(d.length + 1)),
      () => concat(d, new Uint8Array(1 + rng.int(64))),
    ])();
  }
  return concat(head, h, d);
}

/** Reads every tensor of an opened file; the first problem, else Right. */
export async function readAll(
  f: {
    entries: readonly { name: string }[];
    read: (n: string) => Promise<{ _tag: string }>;
    close: () => void;
  },
): Promise<{ _tag: string }> {
  try {
    for (const e of f.entries) {
      const r = await f.read(e.name);
      if (r._tag === "Left") return r;
    }
    return { _tag: "Right" };
  } finally {
    f.close();
  }
}

/** Safetensors seeds: every small `.safetensors` under tests/fixtures. */
export async function safetensorsSeeds(root: string): Promise<Seed[]> {
  const out: Seed[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(`${root}/${d}`)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (
        e.name.endsWith(".safetensors") && (await Deno.stat(`${root}/${p}`)).size <= 64 * 1024
      ) {
        out.push({
          name: p,
          files: new Map([["x.safetensors", await Deno.readFile(`${root}/${p}`)]]),
        });
      }
    }
  };
  await walk("tests/fixtures");
  return out.sort((a, b) => a.name < b.name ? -1 : 1);
}

/** The safetensors target. */
export const safetensors: Target = {
  name: "safetensors",
  weight: 16,
  usesFiles: false,
  seeds: safetensorsSeeds,
  mutate: (rng, seeds): FuzzInput => {
    const s = rng.pick(seeds);
    const others = seeds.map((x) => x.files.get("x.safetensors")!);
    return {
      seed: s.name,
      files: new Map([[
        "x.safetensors",
        mutateSafetensors(rng, s.files.get("x.safetensors")!, others),
      ]]),
    };
  },
  run: async (input, dir) => {
    const bytes = input.files.get("x.safetensors")!;
    const r = parseSafetensors(bytes, "x.safetensors");
    if (bytes.length % 16 !== 0) return r;
    await Deno.writeFile(`${dir}/x.safetensors`, bytes);
    const opened = await openSafetensors(`${dir}/x.safetensors`);
    const f = opened._tag === "Left" ? opened : await readAll(opened.right);
    if (f._tag !== r._tag) {
      throw new Disagreement(`parseSafetensors gave ${r._tag}, openSafetensors ${f._tag}`);
    }
    return opened._tag === "Left" ? opened : f._tag === "Left" ? f : r;
  },
};
