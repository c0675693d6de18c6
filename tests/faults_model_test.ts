/**
 * A model directory changing under a run: `train --resume` refuses a checkpoint made against
 * other model files, in one line naming what changed, whether the files changed between the
 * runs or while the first one was training; the same files again resume.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli, showRun } from "./_cli.ts";
import { catchesSigint, oneLineError, spawnCli, TINY, waitFor } from "./_faults.ts";

const work = await Deno.makeTempDir({ prefix: "faults_model_" });
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

const perms = ["--allow-read", "--allow-env", `--allow-write=${work}`];
const FIXTURE = "tests/fixtures/cli/model";

/** A copy of the tiny model to change. */
async function modelCopy(name: string): Promise<string> {
  const dir = join(work, name);
  await Deno.mkdir(dir);
  for await (const e of Deno.readDir(FIXTURE)) {
    await Deno.copyFile(join(FIXTURE, e.name), join(dir, e.name));
  }
  return dir;
}

/** Flips the lowest bit of the last byte of `model.safetensors` (a weight's, not the header's). */
async function nudgeWeights(model: string): Promise<void> {
  const path = join(model, "model.safetensors");
  const bytes = await Deno.readFile(path);
  bytes[bytes.length - 1] ^= 1;
  await Deno.writeFile(path, bytes);
}

const train = (model: string, runDir: string, steps: number, ...more: string[]) => [
  "train",
  "--config",
  TINY,
  "--set",
  `model=${model}`,
  "--set",
  `train.steps=${steps}`,
  "--run-dir",
  runDir,
  ...more,
];

Deno.test("resuming against changed model files is refused in one line naming them; the same files resume", async () => {
  const model = await modelCopy("model_a");
  const runDir = join(work, "run_a");
  const first = await runCli(train(model, runDir, 2), perms);
  assert.equal(first.code, 0, showRun(first));
  const prompt = await Deno.readFile(join(runDir, "prompt.npy"));
  const original = await Deno.readFile(join(model, "model.safetensors"));
  await nudgeWeights(model);
  await Deno.writeTextFile(join(model, "notes.txt"), "a file added\n");
  const refused = await runCli(train(model, runDir, 2, "--resume"), perms);
  oneLineError(
    refused,
    /checkpoints\/step_2: The model changed since this checkpoint \(model\.safetensors changed, notes\.txt added\); resume with the model the run started with/,
  );
  assert.deepEqual(await Deno.readFile(join(runDir, "prompt.npy")), prompt, "nothing rewritten");
  // The same files again: the resume goes ahead.
  await Deno.writeFile(join(model, "model.safetensors"), original);
  await Deno.remove(join(model, "notes.txt"));
  const again = await runCli(train(model, runDir, 2, "--resume"), perms);
  assert.equal(again.code, 0, showRun(again));
  assert.deepEqual(await Deno.readFile(join(runDir, "prompt.npy")), prompt);
});

Deno.test("model files changed while a run trains: its resume is refused in one line", async () => {
  const model = await modelCopy("model_b");
  const runDir = join(work, "run_b");
  const child = spawnCli(train(model, runDir, 500), work);
  const output = child.output();
  const checkpointed = () =>
    Deno.stat(join(runDir, "checkpoints", "step_2")).then(() => true, () => false);
  assert.ok(
    await waitFor(async () => await checkpointed() && await catchesSigint(child.pid), 60_000),
  );
  await nudgeWeights(model); // under the running process
  await Deno.remove(join(model, "generation_config.json"));
  child.kill("SIGINT"); // it checkpoints and stops
  assert.equal((await output).code, 130);
  const refused = await runCli(train(model, runDir, 500, "--resume"), perms);
  oneLineError(
    refused,
    /The model changed since this checkpoint \(generation_config\.json removed, model\.safetensors changed\)/,
  );
});
