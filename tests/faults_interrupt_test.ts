/**
 * Ctrl-C (SIGINT) during `eval` and during `train`: one line, exit 130. Evaluation stops at once
 * and writes nothing; training finishes its step, writes a checkpoint, and says how to go on.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readCheckpoint } from "../training/checkpoint.ts";
import { readMetrics } from "../training/metrics_log.ts";
import {
  assertRunFilesValid,
  catchesSigint,
  spawnCli,
  TINY,
  waitFor,
  withoutDenoNotices,
} from "./_faults.ts";

const work = await Deno.makeTempDir({ prefix: "faults_interrupt_" });
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Sends SIGINT to a child once `ready` holds; gives its output and the seconds it took to end. */
async function interrupted(
  child: Deno.ChildProcess,
  ready: () => Promise<boolean>,
): Promise<{ code: number; stdout: string; stderr: string; seconds: number }> {
  const output = child.output();
  assert.ok(await waitFor(ready, 60_000), "the child never got ready");
  // SigCgt shows the handler before Deno's listener is live (a SIGINT then still kills): wait.
  await new Promise((r) => setTimeout(r, 1000));
  const t0 = performance.now();
  child.kill("SIGINT");
  const out = await output;
  const seconds = (performance.now() - t0) / 1000;
  return {
    code: out.code,
    stdout: text(out.stdout),
    stderr: withoutDenoNotices(text(out.stderr)),
    seconds,
  };
}

Deno.test("Ctrl-C during eval stops it at once in one line, exit 130, writing no report", async () => {
  // 800 validation rows: evaluation takes long enough to be interrupted in the middle.
  const data = join(work, "sst2");
  await Deno.mkdir(data);
  const fixture = "tests/fixtures/cli/sst2";
  for (const f of ["train.tsv", "test.tsv"]) await Deno.copyFile(`${fixture}/${f}`, `${data}/${f}`);
  const [header, ...rows] = (await Deno.readTextFile(`${fixture}/dev.tsv`)).trimEnd().split("\n");
  const many = Array.from({ length: 200 }, () => rows).flat();
  await Deno.writeTextFile(`${data}/dev.tsv`, [header, ...many].join("\n") + "\n");
  const out = join(work, "eval");
  const child = spawnCli([
    "eval",
    "--config",
    TINY,
    "--set",
    `task.data_dir=${data}`,
    "--no-prompt",
    "--out",
    out,
  ], work);
  // The listener goes in as the command starts: from then on a Ctrl-C is the command's to handle.
  const r = await interrupted(child, () => catchesSigint(child.pid));
  assert.equal(r.code, 130, r.stderr);
  assert.deepEqual(r.stderr.trimEnd().split("\n"), [
    "Error: Interrupted during evaluation; nothing was written",
  ]);
  assert.equal(r.stdout, "", "no report was printed");
  assert.ok(r.seconds < 10, `took ${r.seconds} s to stop`);
  assert.equal(await Deno.stat(out).then(() => true, () => false), false);
});

Deno.test("Ctrl-C during train finishes the step, checkpoints, and says so in one line, exit 130", async () => {
  const runDir = join(work, "train");
  const child = spawnCli([
    "train",
    "--config",
    TINY,
    "--run-dir",
    runDir,
    "--set",
    "train.steps=500",
    "--compare",
  ], work);
  const metrics = join(runDir, "metrics.jsonl");
  const r = await interrupted(
    child,
    async () => (await readMetrics(metrics).catch(() => [])).length >= 3,
  );
  assert.equal(r.code, 130, r.stderr);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  const m = /^Error: .*: Interrupted at step (\d+); continue with --resume$/.exec(lines[0]);
  assert.ok(m !== null, lines[0]);
  const step = Number(m[1]);
  assert.ok(step >= 3 && step < 500, lines[0]);
  assert.doesNotMatch(r.stdout, /Evaluating on the test split/, "no comparison after Ctrl-C");
  // The checkpoint of that step, and a log that ends there.
  const c = await readCheckpoint(join(runDir, "checkpoints", `step_${step}`));
  assert.ok(c._tag === "Right" && c.right.meta.step === step);
  const logged = await readMetrics(metrics);
  assert.equal(logged[logged.length - 1].step, step);
  await assertRunFilesValid(runDir, [5, 8]);
});
