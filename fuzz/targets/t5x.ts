/**
 * T5X checkpoints: the msgpack `checkpoint` tree (keys removed, renamed, values of the wrong
 * kind), each array's `.zarray` (shape, chunks, dtype, compressor, order, fill_value), and the
 * gzip chunk files (damaged, truncated, missing, extra). Read through `readT5xCheckpoint`
 * (a directory), every parameter read.
 *
 * @module
 */
import { decode, encode, ExtData } from "@msgpack/msgpack";
import { readT5xCheckpoint } from "../../model/t5x/checkpoint.ts";
import { mutateBytes } from "../bytes.ts";
import { type Json, mutateJson, parseSeed } from "../json.ts";
import type { Rng } from "../rng.ts";
import { type FuzzInput, type Seed, type Target, withFile, withoutFile } from "../target.ts";
import { readAll } from "./safetensors.ts";

const DIR = "tests/data/prompt-tuning/test_data/test_t5_1_1_tiny/checkpoint_3";

type Tree = { [k: string]: unknown };
const isMap = (x: unknown): x is Tree =>
  x !== null && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype;

function maps(v: unknown, out: Tree[] = []): Tree[] {
  if (isMap(v)) {
    out.push(v);
    for (const k of Object.keys(v)) maps(v[k], out);
  }
  return out;
}

function odd(rng: Rng, old: unknown): unknown {
  return rng.pick([
    () => null,
    () => rng.pick([0, -1, 1, 2 ** 31, 1.5, 2 ** 53]),
    () => rng.pick(["", "x", "__proto__", "zarr", "gs://bucket/x"]),
    () => [],
    () => ({}),
    () => new Uint8Array(rng.int(16)),
    () => new ExtData(rng.pick([0, 1, 2, 127, -1]), new Uint8Array(rng.int(32))),
    () =>
      old instanceof ExtData
        ? new ExtData(
          old.type,
          old.data instanceof Uint8Array ? mutateBytes(rng, old.data) : old.data,
        )
        : old,
    () => ({ value: old }),
  ])();
}

/** Mutates the msgpack tree of a checkpoint file (decoded without the library's codec). */
function mutateMsgpack(rng: Rng, b: Uint8Array): Uint8Array {
  if (rng.chance(0.2)) return mutateBytes(rng, b);
  const root = decode(b);
  const all = maps(root);
  const k = 1 + rng.int(2);
  for (let i = 0; i < k && all.length > 0; i++) {
    const m = rng.pick(all);
    const keys = Object.keys(m);
    if (keys.length === 0) continue;
    const key = rng.pick(keys);
    switch (rng.int(5)) {
      case 0:
        delete m[key];
        break;
      case 1: {
        const v = m[key];
        delete m[key];
        Object.defineProperty(
          m,
          rng.pick([key + "_", key.replace(/\d/, (d) => String(+d + 2)), "__proto__", ""]),
          {
            value: v,
            enumerable: true,
            writable: true,
            configurable: true,
          },
        );
        break;
      }
      case 2: {
        const other = rng.pick(all);
        const ok = Object.keys(other);
        if (ok.length > 0) m[key] = other[rng.pick(ok)];
        break;
      }
      default:
        m[key] = odd(rng, m[key]);
    }
  }
  return encode(root);
}

/** The T5X target. */
export const t5x: Target = {
  name: "t5x",
  weight: 0.05,
  usesFiles: true,
  seeds: async (root) => {
    const files = new Map<string, Uint8Array>();
    for await (const e of Deno.readDir(`${root}/${DIR}`)) {
      if (e.isFile) files.set(e.name, await Deno.readFile(`${root}/${DIR}/${e.name}`));
      else {
        for await (const f of Deno.readDir(`${root}/${DIR}/${e.name}`)) {
          files.set(
            `${e.name}/${f.name}`,
            await Deno.readFile(`${root}/${DIR}/${e.name}/${f.name}`),
          );
        }
      }
    }
    return [{ name: "test_t5_1_1_tiny/checkpoint_3", files: new Map([...files].sort()) }];
  },
  mutate: (rng, seeds): FuzzInput => {
    const s: Seed = seeds[0];
    const names = [...s.files.keys()];
    const zarrays = names.filter((n) => n.endsWith("/.zarray"));
    const chunks = names.filter((n) => !n.endsWith("/.zarray") && n.includes("/"));
    switch (rng.int(10)) {
      case 0:
      case 1:
      case 2:
        return withFile(s, "checkpoint", mutateMsgpack(rng, s.files.get("checkpoint")!));
      case 3:
      case 4:
      case 5: {
        const z = rng.pick(zarrays);
        const b = s.files.get(z)!;
        return withFile(s, z, mutateJson(rng, parseSeed(b) as Json, b));
      }
      case 6:
      case 7: {
        const c = rng.pick(chunks);
        return withFile(s, c, mutateBytes(rng, s.files.get(c)!));
      }
      case 8:
        return withoutFile(s, rng.pick(rng.chance(0.5) ? chunks : zarrays));
      default: {
        const c = rng.pick(chunks);
        const extra = c.replace(/\/[^/]*$/, `/${rng.pick(["9.0", "0.9", "0.0.0", "-1.0", "x"])}`);
        return withFile(s, extra, s.files.get(c)!);
      }
    }
  },
  run: async (_input, dir) => {
    const r = await readT5xCheckpoint(dir);
    return r._tag === "Left" ? r : await readAll(r.right);
  },
};
