/**
 * `cli.ts train` with a task mixture: two tasks trained in one run on the tiny model, metrics per
 * task, one prompt (and adapter, and run configuration) per task that `cli.ts eval` loads, a
 * resumed run equal to an uninterrupted one, and one-line errors for a bad mixture.
 */
import assert from "node:assert/strict";
import { type Run, runCli, showRun } from "./_cli.ts";

const MIXTURE = "tests/fixtures/cli/mixture_tiny.json";
const work = await Deno.makeTempDir({ prefix: "cli_mixture_" });
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

const cli = (args: readonly string[]): Promise<Run> =>
  runCli(args, ["--allow-read", `--allow-write=${work}`]);

function succeeded(r: Run): void {
  assert.equal(r.code, 0, showRun(r, 2000));
}

const json = async (path: string) => JSON.parse(await Deno.readTextFile(path));
const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

let whole: Promise<string> | undefined;
/** The mixture trained 4 steps into `work/whole` once. */
function wholeRun(): Promise<string> {
  whole ??= (async () => {
    const dir = `${work}/whole`;
    succeeded(await cli(["train", "--config", MIXTURE, "--run-dir", dir]));
    return dir;
  })();
  return whole;
}

Deno.test("cli train trains a two-task mixture in one run and reports each task's metrics", async () => {
  const dir = await wholeRun();
  const results = await json(`${dir}/results.json`);
  assert.deepEqual(Object.keys(results.tasks), ["sst2", "rte"]);
  for (const name of ["sst2", "rte"]) {
    const accuracy = results.tasks[name].accuracy;
    assert.ok(accuracy >= 0 && accuracy <= 1, `${name}: ${accuracy}`);
    assert.ok(await exists(`${dir}/tasks/${name}/prompt.npy`));
    assert.ok(await exists(`${dir}/tasks/${name}/adapter/adapter_config.json`));
  }
  assert.equal(results.tasks.sst2.examples, 4);
  assert.equal(results.tasks.rte.examples, 6);
  const lines = (await Deno.readTextFile(`${dir}/metrics.jsonl`)).trim().split("\n");
  assert.equal(lines.length, 4);
  // Each task's prompt: the shared row, then its own (3 and 2 rows).
  const own = await json(`${dir}/tasks/rte/config.json`);
  assert.equal(own.prompt.length, 3);
  assert.equal(own.task.name, "glue/rte");
  assert.equal(own.mixture, undefined);
});

Deno.test("cli eval loads each task's prompt of a mixture and gives the metrics the run reported", async () => {
  const dir = await wholeRun();
  const results = await json(`${dir}/results.json`);
  for (const name of ["sst2", "rte"]) {
    const r = await cli([
      "eval",
      "--config",
      `${dir}/tasks/${name}/config.json`,
      "--out",
      `${work}/eval_${name}`,
    ]);
    succeeded(r);
    const report = await json(`${work}/eval_${name}/report.json`);
    assert.equal(report.metrics.accuracy, results.tasks[name].accuracy, name);
  }
  // A prompt file also loads into a single-task configuration of its own.
  const r = await cli([
    "eval",
    "--config",
    "tests/fixtures/cli/sst2_tiny.json",
    "--prompt",
    `${dir}/tasks/sst2/prompt.npy`,
  ]);
  succeeded(r);
  assert.match(r.stdout, /glue_sst2\s+validation\s+4\s+0\.\d+/);
});

Deno.test("cli train --resume of a mixture ends with the prompts of the uninterrupted run", async () => {
  const dir = await wholeRun();
  const parts = `${work}/parts`;
  succeeded(
    await cli(["train", "--config", MIXTURE, "--run-dir", parts, "--set", "train.steps=2"]),
  );
  const resumed = await cli(["train", "--config", MIXTURE, "--run-dir", parts, "--resume"]);
  succeeded(resumed);
  assert.match(resumed.stdout, /resumed from step 2/);
  for (const name of ["sst2", "rte"]) {
    const a = await Deno.readFile(`${dir}/tasks/${name}/prompt.npy`);
    const b = await Deno.readFile(`${parts}/tasks/${name}/prompt.npy`);
    assert.deepEqual(b, a, name);
  }
});

Deno.test("cli train refuses a bad mixture in one line per problem", async () => {
  const one = await cli([
    "train",
    "--config",
    MIXTURE,
    "--set",
    'mixture.tasks=[{"name": "a", "task": "glue/sst2"}]',
    "--run-dir",
    `${work}/bad`,
  ]);
  assert.equal(one.code, 1, showRun(one));
  assert.match(one.stderr, /mixture\.tasks: Expected an array of at least 2 tasks/);
  const given = await cli([
    "train",
    "--config",
    MIXTURE,
    "--set",
    "mixture.rate=given",
    "--run-dir",
    `${work}/bad`,
  ]);
  assert.equal(given.code, 1, showRun(given));
  assert.match(given.stderr, /mixture\.tasks\[0\]\.rate: Required/);
  assert.match(given.stderr, /mixture\.tasks\[1\]\.rate: Required/);
  assert.doesNotMatch(given.stderr, /\bat .*\.ts:\d+/);
  assert.equal(await exists(`${work}/bad`), false);
});
