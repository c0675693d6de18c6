/**
 * `train` with no `--config`: the default run (embedded model, spam task, comparison table), end
 * to end in a subprocess, cut down to a few examples and steps so that it stays fast. The real
 * run's numbers are in the README.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { comparisonMarkdown } from "../cli/compare.ts";
import { modelDir } from "../cli/embedded.ts";
import { DEFAULT_RUN_CONFIG, defaultRunDir } from "../cli/train.ts";
import { type Run, runCli, showRun } from "./_cli.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const work = await Deno.makeTempDir({ prefix: "default_run_" });
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

/** Tiny overrides: 2 steps of batch 2 on 8 training examples, 8 examples per evaluated split. */
const TINY = [
  "--set",
  "train.steps=2",
  "--set",
  "train.batch_size=2",
  "--set",
  "train.max_examples=8",
  "--set",
  "eval.max_examples=8",
  "--set",
  "eval.batch_size=8",
];

const cli = (args: readonly string[]): Promise<Run> =>
  runCli(args, ["--allow-read", `--allow-write=${work}`]);

const show = (r: Run) => showRun(r);
const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

Deno.test("train without --config runs the default: trains, compares on test, saves the table", async () => {
  const dir = `${work}/default`;
  const r = await cli(["train", ...TINY, "--run-dir", dir]);
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, /No --config: the default run \(configs\/runs\/default\.json\)/);
  assert.match(r.stdout, /Stopped: done after 2 steps/);
  assert.match(r.stdout, /\| frozen model, no prompt \| \d+\.\d% \|/);
  assert.match(r.stdout, /\| prompt-tuned \(20 tokens, 2 steps\) \| \d+\.\d% \|/);
  assert.match(r.stdout, /\| bag-of-words logistic regression \| \d+\.\d% \|/);
  for (const f of ["prompt.npy", "adapter/adapter_config.json", "config.json", "metrics.jsonl"]) {
    assert.ok(await exists(`${dir}/${f}`), f);
  }
  const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
  assert.equal(config.model, "embedded:default");
  assert.equal(config.task.name, "spam_assassin");
  assert.equal(config.train.max_examples, 8);
  assert.equal(config.train.loss, "rank");
  const results = JSON.parse(await Deno.readTextFile(`${dir}/results.json`));
  assert.equal(results.task, "spam_assassin");
  assert.equal(results.split, "test");
  assert.equal(results.examples, 8);
  assert.equal(results.rows.length, 3);
  for (const row of results.rows) {
    assert.ok(row.accuracy >= 0 && row.accuracy <= 1, JSON.stringify(row));
    assert.ok(row.f1 >= 0 && row.f1 <= 1, JSON.stringify(row));
  }
  assert.equal(await Deno.readTextFile(`${dir}/results.md`), results.table);
  assert.ok(r.stdout.includes(results.table.trimEnd()), show(r));
});

Deno.test("train without --config refuses a run directory that is already used", async () => {
  const dir = `${work}/used`;
  await Deno.mkdir(dir);
  await Deno.writeTextFile(`${dir}/notes.txt`, "mine");
  const r = await cli(["train", ...TINY, "--run-dir", dir]);
  assert.equal(r.code, 1, show(r));
  assert.match(r.stderr.trim(), /^Error: .*used: Run directory exists and is not empty/);
  assert.equal(await Deno.readTextFile(`${dir}/notes.txt`), "mine");
});

Deno.test("train names an unknown embedded model with the known ones", async () => {
  const r = await cli(["train", ...TINY, "--set", "model=embedded:lm_adaptd", "--run-dir", work]);
  assert.equal(r.code, 1, show(r));
  assert.match(r.stderr, /model: Unknown embedded model "embedded:lm_adaptd"; did you mean/);
});

Deno.test("the default run's names resolve: config file, run directory, embedded models", async () => {
  assert.ok(await exists(DEFAULT_RUN_CONFIG));
  assert.equal(
    defaultRunDir(new Date(Date.UTC(2026, 0, 2, 3, 4, 5))),
    "runs/default-20260102-030405",
  );
  for (const name of ["default", "lm_adapted", "span_corruption"]) {
    const dir = modelDir(`embedded:${name}`) as string;
    assert.ok(await exists(`${dir}/model.safetensors`), dir);
    assert.ok(await exists(`${dir}/tokenizer.json`), dir);
  }
  assert.equal(modelDir("embedded:default"), modelDir("embedded:lm_adapted"));
  assert.equal(modelDir("embedded:nope"), undefined);
});

Deno.test("comparisonMarkdown() prints one row per model in percent", () => {
  const md = comparisonMarkdown({
    task: "spam_assassin",
    split: "test",
    examples: 2,
    rows: [
      { model: "a", accuracy: 0.5, f1: null, seconds: 1 },
      { model: "b", accuracy: 1, f1: 1, seconds: 1 },
    ],
  });
  assert.equal(
    md,
    "spam_assassin, test split (2 examples):\n\n| model | test accuracy | test F1 |\n| --- | ---: | ---: |\n| a | 50.0% | — |\n| b | 100.0% | 100.0% |\n",
  );
});

Deno.test("the README opens with the default run and the test suite, nothing else", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const first = readme.match(/```sh\n([\s\S]*?)```/)?.[1];
  assert.equal(first, "npx -y deno@2.9.6 run -A cli.ts train\nnpx -y deno@2.9.6 task test\n");
});
