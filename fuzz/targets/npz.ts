/**
 * `.npz`: the zip's end record, central directory and local headers (counts, sizes, offsets,
 * methods, CRCs, names), and the `.npy` entries inside. Read through `parseNpz` (bytes).
 *
 * @module
 */
import { unzipSync, zipSync } from "fflate";
import { parseNpz } from "../../io/npz.ts";
import { getUint, mutateBytes, nearOrInteresting, putUint } from "../bytes.ts";
import type { Rng } from "../rng.ts";
import { type FuzzInput, seedOf, type Target } from "../target.ts";
import { mutateNpy } from "./npy.ts";

/** The offsets of a zip's records: end of central directory, central entries, local headers. */
function records(b: Uint8Array): { eocd: number[]; central: number[]; local: number[] } {
  const out = { eocd: [] as number[], central: [] as number[], local: [] as number[] };
  for (let i = 0; i + 4 <= b.length; i++) {
    if (b[i] !== 0x50 || b[i + 1] !== 0x4b) continue;
    const t = (b[i + 2] << 8) | b[i + 3];
    if (t === 0x0506) out.eocd.push(i);
    else if (t === 0x0102) out.central.push(i);
    else if (t === 0x0304) out.local.push(i);
  }
  return out;
}

const EOCD_FIELDS: [number, 2 | 4][] = [[4, 2], [6, 2], [8, 2], [10, 2], [12, 4], [16, 4], [20, 2]];
const CENTRAL_FIELDS: [number, 2 | 4][] = [
  [8, 2],
  [10, 2],
  [16, 4],
  [20, 4],
  [24, 4],
  [28, 2],
  [30, 2],
  [32, 2],
  [34, 2],
  [42, 4],
];
const LOCAL_FIELDS: [number, 2 | 4][] = [[6, 2], [8, 2], [14, 4], [18, 4], [22, 4], [26, 2], [
  28,
  2,
]];

function mutateZipField(rng: Rng, b: Uint8Array): Uint8Array {
  const r = records(b);
  const kinds = [
    ...(r.eocd.length ? [[r.eocd, EOCD_FIELDS] as const] : []),
    ...(r.central.length ? [[r.central, CENTRAL_FIELDS] as const] : []),
    ...(r.local.length ? [[r.local, LOCAL_FIELDS] as const] : []),
  ];
  if (kinds.length === 0) return mutateBytes(rng, b);
  const [offsets, fields] = rng.pick(kinds);
  const base = rng.pick(offsets);
  const [off, width] = rng.pick(fields);
  const out = b.slice();
  putUint(out, base + off, width, nearOrInteresting(rng, getUint(b, base + off, width), width));
  return out;
}

const NAMES = [
  "../x.npy",
  "/abs.npy",
  "a",
  "a.npy",
  "__proto__.npy",
  "constructor.npy",
  "",
  ".npy",
  "dir/b.npy",
  "x.NPY",
  "é.npy",
];

function rezip(rng: Rng, b: Uint8Array, others: readonly Uint8Array[]): Uint8Array {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(b);
  } catch {
    return mutateBytes(rng, b);
  }
  const names = Object.keys(entries);
  if (names.length > 0 && rng.chance(0.7)) {
    const n = rng.pick(names);
    entries[n] = mutateNpy(rng, entries[n], others);
  }
  if (rng.chance(0.3)) {
    const from = names.length > 0 ? entries[rng.pick(names)] : new Uint8Array(0);
    Object.defineProperty(entries, rng.pick(NAMES), {
      value: from,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  if (names.length > 0 && rng.chance(0.15)) delete entries[rng.pick(names)];
  return zipSync(entries, { level: rng.pick([0, 0, 1, 6, 9] as const) });
}

/** The `.npz` target. */
export const npz: Target = {
  name: "npz",
  weight: 10,
  usesFiles: false,
  seeds: async (root) => {
    const d = "tests/fixtures/io/npz";
    const npys = ["float32_le_c", "int64_be_f", "bool_le_c", "scalar_f8"].map((n) =>
      `tests/fixtures/io/npy/${n}.npy`
    );
    const out = await Promise.all(
      ["deflated", "positional", "stored"].map((n) =>
        seedOf(root, `${n}.npz`, { "x.npz": `${d}/${n}.npz` })
      ),
    );
    const inner = await Promise.all(npys.map((p) => Deno.readFile(`${root}/${p}`)));
    return [...out, {
      name: "inner-npy",
      files: new Map([["x.npz", zipSync({ "a.npy": inner[0], "b.npy": inner[1] })]]),
    }];
  },
  mutate: (rng, seeds): FuzzInput => {
    const s = rng.pick(seeds);
    const b = s.files.get("x.npz")!;
    const others = seeds.map((x) => x.files.get("x.npz")!);
    const k = rng.int(10);
    const out = k < 4
      ? mutateZipField(rng, b)
      : k < 8
      ? rezip(rng, b, others)
      : mutateBytes(rng, b, others);
    return {
      seed: s.name,
      files: new Map([["x.npz", rng.chance(0.1) ? mutateZipField(rng, out) : out]]),
    };
  },
  run: (input) => Promise.resolve(parseNpz(input.files.get("x.npz")!, "x.npz")),
};
