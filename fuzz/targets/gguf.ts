/**
 * GGUF: the version, counts, key strings, value types, array lengths, tensor dimensions, types
 * and offsets, found by walking the header. Read through `openGguf` (a file; every tensor read),
 * then `ggufModelConfig` and `tokenizerFromGguf` on what it gave.
 *
 * @module
 */
import { openGguf } from "../../io/gguf.ts";
import { ggufModelConfig } from "../../model/gguf/config.ts";
import { tokenizerFromGguf } from "../../tokenizer/gguf.ts";
import { getUint, mutateBytes, nearOrInteresting, putUint } from "../bytes.ts";
import type { Rng } from "../rng.ts";
import { type FuzzInput, type Seed, type Target, withFile } from "../target.ts";

interface Field {
  readonly at: number;
  readonly width: 4 | 8;
  readonly kind: "version" | "count" | "length" | "type" | "dims" | "dim" | "ggml" | "offset";
}

const SCALAR_SIZE: Record<number, number> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  10: 8,
  11: 8,
  12: 8,
};

/** The integer fields of a valid GGUF header, with what each one is. */
export function ggufFields(b: Uint8Array): Field[] {
  const out: Field[] = [{ at: 4, width: 4, kind: "version" }, { at: 8, width: 8, kind: "count" }, {
    at: 16,
    width: 8,
    kind: "count",
  }];
  const nTensors = Number(getUint(b, 8, 8)), nKv = Number(getUint(b, 16, 8));
  let o = 24;
  const str = () => {
    out.push({ at: o, width: 8, kind: "length" });
    o += 8 + Number(getUint(b, o, 8));
  };
  const value = (t: number): void => {
    if (t === 8) return str();
    if (t === 9) {
      out.push({ at: o, width: 4, kind: "type" });
      const et = Number(getUint(b, o, 4));
      out.push({ at: o + 4, width: 8, kind: "count" });
      const n = Number(getUint(b, o + 4, 8));
      o += 12;
      if (et === 8) {
        for (let i = 0; i < n && o < b.length; i++) {
          (i < 8 || i % 97 === 0) ? str() : (o += 8 + Number(getUint(b, o, 8)));
        }
      } else o += n * (SCALAR_SIZE[et] ?? 0);
      return;
    }
    o += SCALAR_SIZE[t] ?? 0;
  };
  for (let k = 0; k < nKv && o < b.length; k++) {
    str();
    out.push({ at: o, width: 4, kind: "type" });
    const t = Number(getUint(b, o, 4));
    o += 4;
    value(t);
  }
  for (let k = 0; k < nTensors && o < b.length; k++) {
    str();
    out.push({ at: o, width: 4, kind: "dims" });
    const nd = Number(getUint(b, o, 4));
    o += 4;
    for (let d = 0; d < nd; d++, o += 8) out.push({ at: o, width: 8, kind: "dim" });
    out.push({ at: o, width: 4, kind: "ggml" });
    out.push({ at: o + 4, width: 8, kind: "offset" });
    o += 12;
  }
  return out.filter((f) => f.at + f.width <= b.length);
}

/** Mutates a valid GGUF file with knowledge of its header. */
export function mutateGguf(
  rng: Rng,
  b: Uint8Array,
  fields: readonly Field[],
  others: readonly Uint8Array[],
): Uint8Array {
  if (rng.chance(0.25) || fields.length === 0) return mutateBytes(rng, b, others);
  const out = b.slice();
  const k = 1 + rng.int(2);
  for (let i = 0; i < k; i++) {
    const f = rng.pick(fields);
    const old = getUint(b, f.at, f.width);
    const v = f.kind === "type"
      ? BigInt(rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 255, 0xffffffff]))
      : f.kind === "ggml"
      ? BigInt(
        rng.pick([0, 1, 2, 3, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 20, 28, 30, 39, 40, 1000]),
      )
      : f.kind === "version"
      ? BigInt(rng.pick([0, 1, 2, 3, 4, 0x03000000]))
      : nearOrInteresting(rng, old, f.width);
    putUint(out, f.at, f.width, v);
  }
  return rng.chance(0.1) ? mutateBytes(rng, out, others, 2) : out;
}

interface GgufSeed extends Seed {
  readonly fields: readonly Field[];
}

/** The GGUF target. */
export const gguf: Target = {
  name: "gguf",
  weight: 1,
  usesFiles: true,
  seeds: async (root) => {
    const d = "tests/fixtures/gguf";
    const out: GgufSeed[] = [];
    for (const n of ["aligned64", "gpt2", "llama", "qwen2", "types"]) {
      const b = await Deno.readFile(`${root}/${d}/${n}.gguf`);
      out.push({ name: `${n}.gguf`, files: new Map([["x.gguf", b]]), fields: ggufFields(b) });
    }
    return out;
  },
  mutate: (rng, seeds): FuzzInput => {
    const s = rng.pick(seeds) as GgufSeed;
    const others = seeds.map((x) => x.files.get("x.gguf")!);
    return withFile(s, "x.gguf", mutateGguf(rng, s.files.get("x.gguf")!, s.fields, others));
  },
  run: async (_input, dir) => {
    const path = `${dir}/x.gguf`;
    const opened = await openGguf(path);
    if (opened._tag === "Left") return opened;
    const g = opened.right;
    try {
      for (const t of g.tensors) {
        const r = await g.read(t.name);
        // A type the reader does not dequantize is a clean answer; the others are read on.
        if (r._tag === "Left" && r.left._tag !== "Unsupported") return r;
      }
    } finally {
      g.close();
    }
    const names = g.tensors.map((t) => t.name);
    const config = ggufModelConfig(g.metadata, names, path);
    if (config._tag === "Left") return config;
    // The fixtures' vocabularies lack merges: the tokenizer only where they are present.
    const model = g.metadata.get("tokenizer.ggml.model");
    if (model === undefined || (model === "gpt2" && !g.metadata.has("tokenizer.ggml.merges"))) {
      return config;
    }
    const tok = tokenizerFromGguf(g.metadata, path);
    if (tok._tag === "Right") tok.right.decode(tok.right.encodeWithSpecial("Hello world, héllo!"));
    return tok;
  },
};
