/**
 * Formats that are a directory of files: a sharded safetensors index (model.safetensors.index.json
 * and its shards), a PEFT prompt-tuning adapter (adapter_config.json, adapter_model.safetensors)
 * and our training checkpoints (checkpoint.json, state.safetensors). One file of the set is
 * mutated (or removed) per input. Read through `openSafetensorsIndex` (every tensor read),
 * `readPeftAdapter` and `readCheckpoint`.
 *
 * @module
 */
import { hostTensor } from "../../io/host_tensor.ts";
import { openSafetensorsIndex } from "../../io/safetensors.ts";
import { readCheckpoint, writeCheckpoint } from "../../training/checkpoint.ts";
import { readPeftAdapter } from "../../training/peft.ts";
import { mutateJson, parseSeed } from "../json.ts";
import type { Rng } from "../rng.ts";
import { type FuzzInput, type Seed, type Target, withFile, withoutFile } from "../target.ts";
import { mutateSafetensors, readAll } from "./safetensors.ts";

/** Mutates one file of a seed: JSON files as JSON, safetensors as safetensors. */
function mutateOne(rng: Rng, s: Seed): FuzzInput {
  const names = [...s.files.keys()];
  const name = rng.pick(names);
  if (rng.chance(0.03)) return withoutFile(s, name);
  const b = s.files.get(name)!;
  if (name.endsWith(".json")) return withFile(s, name, mutateJson(rng, parseSeed(b), b));
  return withFile(s, name, mutateSafetensors(rng, b, []));
}

async function dirSeed(root: string, d: string): Promise<Seed> {
  const files = new Map<string, Uint8Array>();
  for await (const e of Deno.readDir(`${root}/${d}`)) {
    if (e.isFile) files.set(e.name, await Deno.readFile(`${root}/${d}/${e.name}`));
  }
  return { name: d, files: new Map([...files].sort()) };
}

/** The sharded safetensors index target. */
export const safetensorsIndex: Target = {
  name: "safetensors_index",
  weight: 0.6,
  usesFiles: true,
  seeds: async (root) => [await dirSeed(root, "tests/fixtures/io/st/sharded")],
  mutate: (rng, seeds) => {
    const s = seeds[0];
    // The index more often than the shards: the shards are the safetensors target's.
    if (rng.chance(0.7)) {
      const b = s.files.get("model.safetensors.index.json")!;
      return withFile(s, "model.safetensors.index.json", mutateJson(rng, parseSeed(b), b));
    }
    return mutateOne(rng, s);
  },
  run: async (_input, dir) => {
    const r = await openSafetensorsIndex(`${dir}/model.safetensors.index.json`);
    return r._tag === "Left" ? r : await readAll(r.right);
  },
};

/** The PEFT adapter target. */
export const peft: Target = {
  name: "peft",
  weight: 0.8,
  usesFiles: true,
  seeds: async (root) => {
    const out: Seed[] = [];
    for await (const e of Deno.readDir(`${root}/tests/fixtures/peft`)) {
      if (e.isDirectory) out.push(await dirSeed(root, `tests/fixtures/peft/${e.name}`));
    }
    return out.sort((a, b) => a.name < b.name ? -1 : 1);
  },
  mutate: (rng, seeds) => mutateOne(rng, rng.pick(seeds)),
  run: async (_input, dir) => await readPeftAdapter(dir),
};

/** Checkpoint seeds, written by the library's own `writeCheckpoint` (the test suite has none on disk). */
async function checkpointSeeds(): Promise<Seed[]> {
  const out: Seed[] = [];
  const f32 = (shape: number[]) =>
    hostTensor(
      "float32",
      shape,
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i / 7),
    );
  const cases = [
    {
      name: "adam",
      slots: { m: f32([3, 4]), v: f32([3, 4]) },
      best: null,
      bestPrompt: undefined,
      optimizer: "adam",
    },
    {
      name: "adafactor+best",
      slots: { v_row: f32([3]), v_col: f32([4]) },
      best: { metric: "accuracy", value: 0.5, step: 2, metrics: { accuracy: 0.5 } },
      bestPrompt: f32([3, 4]),
      optimizer: "adafactor",
    },
  ];
  for (const c of cases) {
    const runDir = await Deno.makeTempDir({ prefix: "fuzz-seed-" });
    try {
      const r = await writeCheckpoint(runDir, {
        meta: {
          step: 2,
          key: [0, 42],
          data: { epoch: 0, offset: 8 },
          optimizer: { name: c.optimizer, step: 2 },
          best: c.best,
          badEvals: 1,
        },
        prompt: f32([3, 4]),
        optimizer: { step: 2, slots: c.slots },
        ...(c.bestPrompt ? { bestPrompt: c.bestPrompt } : {}),
      } as never);
      if (r._tag === "Left") throw new Error(`cannot write the checkpoint seed: ${r.left.message}`);
      out.push({ ...(await dirSeed("", r.right)), name: c.name });
    } finally {
      await Deno.remove(runDir, { recursive: true });
    }
  }
  return out;
}

/** Our checkpoints' target. */
export const checkpoint: Target = {
  name: "checkpoint",
  weight: 0.8,
  usesFiles: true,
  seeds: checkpointSeeds,
  mutate: (rng, seeds) => mutateOne(rng, rng.pick(seeds)),
  run: async (_input, dir) => await readCheckpoint(dir),
};
