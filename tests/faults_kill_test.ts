/**
 * SIGKILL at seeded random moments of `train`, `eval`, `extract` and `convert`: whatever the
 * moment, each file under its final name is absent or complete (byte for byte what an
 * uninterrupted run writes), and a killed training run resumes to the uninterrupted run's prompt,
 * bit for bit, with the same losses logged once per step.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readMetrics } from "../training/metrics_log.ts";
import { runCli, showRun } from "./_cli.ts";
import { assertRunFilesValid, moments, pooled, spawnCli, TINY } from "./_faults.ts";

const work = await Deno.makeTempDir({ prefix: "faults_kill_" });
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

const SEED = 14; // issue 14
const SHAPE = [5, 8];
const MODEL = "tests/fixtures/cli/model";
const perms = ["--allow-read", "--allow-env", `--allow-write=${work}`];

/** 6 steps, a checkpoint and an evaluation every 2. */
const train = (runDir: string, ...more: string[]) => [
  "train",
  "--config",
  TINY,
  "--run-dir",
  runDir,
  "--set",
  "train.steps=6",
  ...more,
];

/** Runs the command to the end; gives its wall time in milliseconds. */
async function timed(args: readonly string[]): Promise<number> {
  const t0 = performance.now();
  const r = await runCli(args, perms);
  assert.equal(r.code, 0, showRun(r));
  return performance.now() - t0;
}

/**
 * Runs the command to the end; gives when `mark` appeared and when it ended, in milliseconds
 * from its start.
 */
async function timedMark(args: readonly string[], mark: string): Promise<[number, number]> {
  const t0 = performance.now();
  const child = spawnCli(args, work);
  let seen: number | undefined;
  const poll = setInterval(async () => {
    if (seen === undefined && await there(mark)) seen = performance.now() - t0;
  }, 20);
  const out = await child.output();
  clearInterval(poll);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const end = performance.now() - t0;
  return [seen ?? 0, end];
}

/** Starts the command, kills it (SIGKILL) after `ms` milliseconds unless it ended first. */
async function killedAfter(args: readonly string[], ms: number): Promise<void> {
  const child = spawnCli(args, work);
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // It had already ended.
    }
  }, ms);
  await child.output();
  clearTimeout(timer);
}

const there = (path: string) => Deno.stat(path).then(() => true, () => false);

/** Asserts that `path` is absent, or holds exactly what `reference` holds. */
async function absentOrEqual(path: string, reference: string): Promise<void> {
  if (!(await there(path))) return;
  assert.deepEqual(await Deno.readFile(path), await Deno.readFile(reference), path);
}

/** Step → loss, from a metrics log (each step exactly once). */
async function losses(runDir: string): Promise<Map<number, unknown>> {
  const rows = await readMetrics(join(runDir, "metrics.jsonl"));
  const byStep = new Map(rows.map((r) => [r.step, r.loss]));
  assert.equal(byStep.size, rows.length, "a step logged twice");
  return byStep;
}

Deno.test("train killed (SIGKILL) at random moments leaves valid files and resumes to the uninterrupted prompt, bit for bit", async () => {
  const ref = join(work, "train_ref");
  // Moments between the run's start proper (its config.json written) and its end.
  const [begun, end] = await timedMark(train(ref), join(ref, "config.json"));
  const kills = moments(SEED, 3, end - begun).map((ms) => begun + ms);
  await pooled(kills.map((ms, i) => async () => {
    const runDir = join(work, `train_${i}`);
    await killedAfter(train(runDir), ms);
    if (await there(runDir)) await assertRunFilesValid(runDir, SHAPE);
    const resumed = await runCli(train(runDir, "--resume"), perms);
    assert.equal(resumed.code, 0, `killed at ${ms.toFixed(0)} ms: ${showRun(resumed)}`);
    for (const f of ["prompt.npy", "best.npy", "best.json", "adapter/adapter_model.safetensors"]) {
      assert.deepEqual(
        await Deno.readFile(join(runDir, f)),
        await Deno.readFile(join(ref, f)),
        `${f}, killed at ${ms.toFixed(0)} ms`,
      );
    }
    assert.deepEqual(await losses(runDir), await losses(ref));
  }));
});

Deno.test("eval killed (SIGKILL) at random moments leaves its report absent or complete", async () => {
  const run = join(work, "eval_run");
  await timed(["train", "--config", TINY, "--run-dir", run, "--set", "train.steps=2"]);
  const evalTo = (out: string) => [
    "eval",
    "--config",
    `${run}/config.json`,
    "--prompt",
    `${run}/prompt.npy`,
    "--out",
    out,
  ];
  const ref = join(work, "eval_ref");
  const span = await timed(evalTo(ref));
  await pooled(
    moments(SEED + 1, 3, span).map((ms, i) => async () => {
      const out = join(work, `eval_${i}`);
      await killedAfter(evalTo(out), ms);
      for (const f of ["report.json", "predictions.jsonl"]) {
        await absentOrEqual(join(out, f), join(ref, f));
      }
    }),
  );
});

Deno.test("extract and convert killed (SIGKILL) at random moments leave their outputs absent or complete", async () => {
  const run = join(work, "export_run");
  await timed(["train", "--config", TINY, "--run-dir", run, "--set", "train.steps=2"]);
  const extract = (out: string) => [
    "extract",
    `${run}/checkpoints/step_2`,
    "--variable",
    "prompt",
    "--out",
    `${out}/p.npy`,
  ];
  const convert = (out: string) => [
    "convert",
    `${run}/prompt.npy`,
    `${out}/adapter`,
    "--to",
    "peft",
    "--model",
    MODEL,
  ];
  const outputs = ["p.npy", "adapter/adapter_model.safetensors", "adapter/adapter_config.json"];
  for (const [name, command] of [["extract", extract], ["convert", convert]] as const) {
    const ref = join(work, `${name}_ref`);
    await Deno.mkdir(ref);
    const span = await timed(command(ref));
    await pooled(
      moments(SEED + 2, 2, span).map((ms, i) => async () => {
        const out = join(work, `${name}_${i}`);
        await Deno.mkdir(out);
        await killedAfter(command(out), ms);
        for (const f of outputs) await absentOrEqual(join(out, f), join(ref, f));
        // An adapter directory appears whole or not at all.
        if (await there(join(out, "adapter"))) {
          for (const f of outputs.slice(1)) assert.ok(await there(join(out, f)), f);
        }
      }),
    );
  }
});
