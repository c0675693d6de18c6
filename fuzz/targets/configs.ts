/**
 * Model configs (config.json, generation_config.json) and run configs (the `--config` files and
 * `--set` overrides). Model configs go through `loadModel` on a directory without weights: it
 * parses both files before it looks for weights, so a valid pair ends in "No model.safetensors"
 * (counted as accepted). Run configs go through `readConfigFile` and `resolveLayers`, merged with
 * layers from configs/ and with mutated `--set` arguments.
 *
 * @module
 */
import { readConfigFile, resolveLayers } from "../../config/load.ts";
import { taskNames } from "../../data/tasks.ts";
import { SPAM_ASSASSIN } from "../../data/spam.ts";
import { loadModel } from "../../model/load.ts";
import { mutateJson, parseSeed } from "../json.ts";
import type { Rng } from "../rng.ts";
import { type FuzzInput, type Seed, type Target, withFile, withoutFile } from "../target.ts";

async function dirsWith(root: string, under: string, file: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${root}/${under}`)) {
    try {
      await Deno.stat(`${root}/${under}/${e.name}/${file}`);
      out.push(`${under}/${e.name}`);
    } catch { /* not a model directory */ }
  }
  return out.sort();
}

/** The model config target. */
export const modelConfig: Target = {
  name: "model_config",
  weight: 1,
  usesFiles: true,
  seeds: async (root) => {
    const dirs = [
      ...await dirsWith(root, "tests/fixtures/models", "config.json"),
      ...await dirsWith(root, "tests/fixtures/gguf", "config.json"),
      "tests/fixtures/cli/model",
    ];
    const out: Seed[] = [];
    for (const d of dirs) {
      const files = new Map<string, Uint8Array>();
      for (const f of ["config.json", "generation_config.json"]) {
        try {
          files.set(f, await Deno.readFile(`${root}/${d}/${f}`));
        } catch { /* optional */ }
      }
      out.push({ name: d, files });
    }
    return out;
  },
  mutate: (rng, seeds): FuzzInput => {
    const s = rng.pick(seeds);
    const f = s.files.has("generation_config.json") && rng.chance(0.3)
      ? "generation_config.json"
      : "config.json";
    if (rng.chance(0.02)) return withoutFile(s, f);
    const b = s.files.get(f)!;
    return withFile(s, f, mutateJson(rng, parseSeed(b), b));
  },
  run: async (_input, dir) => {
    const r = await loadModel(dir);
    // Both files read and valid: the weights are all that is missing.
    if (r._tag === "Left" && r.left._tag === "NotFound" && r.left.where === dir) {
      return { _tag: "Right" };
    }
    return r;
  },
};

const SETS: readonly string[] = [
  "prompt.length=7",
  "prompt.length=0",
  "prompt.length=-1",
  "prompt.length=1e9",
  'prompt.length="5"',
  "train.steps=10",
  "train.steps=1.5",
  "train.batch_size=0",
  "optimizer.learning_rate=NaN",
  "optimizer.kind=adam",
  "optimizer.kind=sgd",
  "task=glue/sst2",
  "task=nope",
  "model=embedded:nope",
  "__proto__.polluted=1",
  "constructor.prototype.x=1",
  "prompt.__proto__=1",
  "a.b.c=1",
  "=1",
  "x",
  'prompt.initializer={"kind": "random_uniform"}',
  "prompt.initializer={bad",
  "prompt=null",
  "eval.batch_size=99999999999999999999",
  "decoding.num_beams=2",
  "train.loss=token",
  "prompt.initializer.kind=from_file",
  "prompt.initializer.path=/dev/null",
  "train.steps=",
  "task.name=glue/sst2",
  "task={}",
  "prompt.length=5=5",
  "..=1",
  "prompt..length=1",
  "prompt.length[0]=1",
];

/** Run configs as the CLI layers them (README, "Commands"), each file a layer. */
const RUNS: readonly (readonly string[])[] = [
  ["configs/runs/default.json"],
  [
    "configs/prompts/from_class_labels.json",
    "configs/runs/prompt_finetune.json",
    "tests/fixtures/cli/sst2_tiny.json",
  ],
  ["tests/fixtures/cli/sst2_tiny.json", "configs/runs/prompt_eval.json"],
  [
    "tests/fixtures/cli/sst2_tiny.json",
    "configs/decoding/beam_search.json",
    "configs/runs/prompt_infer.json",
  ],
  [
    "configs/runs/default.json",
    "configs/models/t5_1_1_lm100k_small.json",
    "configs/prompts/from_sampled_vocab.json",
    "configs/decoding/nucleus_sampling.json",
  ],
  ["tests/fixtures/cli/sst2_tiny.json", "configs/prompts/from_random_uniform.json"],
];

/** The task names the CLI knows: the registry's, their benchmark/task spellings, spam_assassin. */
function knownTasks(): string[] {
  const names = taskNames();
  const slash = names.flatMap((n) => {
    const m = /^(taskless_)?(super_glue|glue)_(.*)$/.exec(n);
    return m ? [`${m[1] ?? ""}${m[2]}/${m[3]}`] : [];
  });
  return [...names, ...slash, SPAM_ASSASSIN.name];
}

function sets(rng: Rng): string[] {
  const n = rng.chance(0.5) ? 0 : 1 + rng.int(3);
  return Array.from({ length: n }, () => rng.pick(SETS));
}

/** The run config target. */
export const runConfig: Target = {
  name: "run_config",
  weight: 3,
  usesFiles: true,
  seeds: async (root) =>
    await Promise.all(RUNS.map(async (files) => ({
      name: files.join(" + "),
      files: new Map(
        await Promise.all(
          files.map(async (f, i) =>
            [`layer${i}.json`, await Deno.readFile(`${root}/${f}`)] as const
          ),
        ),
      ),
    }))),
  mutate: (rng, seeds): FuzzInput => {
    const s = rng.pick(seeds);
    const name = `layer${rng.int(s.files.size)}.json`;
    const b = s.files.get(name)!;
    const out = rng.chance(0.85) ? withFile(s, name, mutateJson(rng, parseSeed(b), b)) : s;
    const files = new Map(out.files);
    files.set("sets.json", new TextEncoder().encode(JSON.stringify(sets(rng))));
    return { seed: s.name, files };
  },
  run: async (input, dir) => {
    const layers = [];
    for (const name of [...input.files.keys()].filter((n) => n.startsWith("layer")).sort()) {
      const r = await readConfigFile(`${dir}/${name}`);
      if (r._tag === "Left") return r;
      layers.push({ source: `${dir}/${name}`, value: r.right });
    }
    const given = input.files.get("sets.json");
    const overrides = given ? JSON.parse(new TextDecoder().decode(given)) as string[] : [];
    return resolveLayers(layers, overrides, { knownTasks: knownTasks() });
  },
};
