/**
 * Faults of the disk, for real: a full disk at each kind of write and a read-only directory at
 * each, on a small tmpfs in a mount namespace of the command's own (see tests/_faults.ts). Each
 * gives one line naming the path, exit 1, no half-written file under a final name, no temporary
 * file left behind, and the checkpoints written before intact.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readNpy } from "../io/npy.ts";
import { readPeftAdapter } from "../training/peft.ts";
import { readCheckpoint } from "../training/checkpoint.ts";
import type { Run } from "./_cli.ts";
import {
  assertRunFilesValid,
  cliUnderFault,
  type Fault,
  oneLineError,
  pooled,
  temporaryLeft,
  TINY,
} from "./_faults.ts";

const work = await Deno.makeTempDir({ prefix: "faults_disk_" });
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

const SHAPE = [5, 8]; // the tiny run's prompt: [P, H]
const ENOSPC = /No space left on device/;
const EROFS = /Read-only file system/;

let count = 0;
/** A fresh mount point under the test's directory. */
async function mountPoint(): Promise<string> {
  const dir = join(work, `m${count++}`);
  await Deno.mkdir(dir);
  return dir;
}

/** `train` of the tiny run into `dir/run`: `steps` steps, a checkpoint and an evaluation every 2. */
const train = (dir: string, steps: number, ...more: string[]) => [
  "train",
  "--config",
  TINY,
  "--run-dir",
  join(dir, "run"),
  "--set",
  `train.steps=${steps}`,
  ...more,
];

/** The path the error line names, relative to `base`. */
function namedPath(r: Run, base: string): string {
  const m = /^Error: (.+?): /.exec(r.stderr);
  assert.ok(m !== null, r.stderr);
  assert.ok(m[1].startsWith(`${base}/`), `${m[1]} is not under ${base}`);
  return m[1].slice(base.length + 1);
}

interface Level {
  readonly free: number;
  readonly dir: string;
  readonly run: Run;
}

/** `train` of `steps` steps with `free` pages free, on a fresh tmpfs. */
async function trainWithFree(free: number, steps: number): Promise<Level> {
  const dir = await mountPoint();
  return { free, dir, run: await cliUnderFault(dir, train(dir, steps), { freePages: free }) };
}

/** Checks a failed run: what it names, what it left. Returns the named path, relative. */
async function failedCleanly(l: Level, pattern: RegExp): Promise<string> {
  oneLineError(l.run, pattern);
  const runDir = join(l.dir, "run");
  const named = namedPath(l.run, runDir);
  await assertRunFilesValid(runDir, SHAPE);
  assert.deepEqual(await temporaryLeft(runDir), [], `free ${l.free}: ${l.run.stderr}`);
  if (named.startsWith("checkpoints/")) {
    assert.equal(await Deno.stat(join(runDir, named)).then(() => true, () => false), false);
  }
  return named;
}

let sweep: Promise<{ complete: string; exportLevel: number }> | undefined;
/**
 * Trains the tiny run (2 steps, one checkpoint, two evaluations) with 0, 1, 2, … pages free until
 * one succeeds; every other level must fail cleanly. Gives the level that failed at `prompt.npy`
 * (everything before the final exports fits) and the completed run's directory.
 */
function fullDiskSweep(): Promise<{ complete: string; exportLevel: number }> {
  sweep ??= (async () => {
    const named = new Map<string, number>();
    for (let from = 0; from < 24; from += 3) {
      const levels = await pooled([0, 1, 2].map((i) => () => trainWithFree(from + i, 2)));
      for (const l of levels) {
        if (l.run.code === 0) {
          assert.deepEqual(
            [...named.keys()].sort(),
            [
              "adapter",
              "best.json",
              "best.npy",
              "checkpoints/step_2",
              "config.json",
              "metrics.jsonl",
              "prompt.npy",
              "prompts/step_2.npy",
            ],
            "each kind of write met a full disk",
          );
          const found = await assertRunFilesValid(join(l.dir, "run"), SHAPE);
          assert.ok(
            found.includes("adapter") && found.includes("checkpoints/step_2"),
            found.join(),
          );
          return { complete: l.dir, exportLevel: named.get("prompt.npy")! };
        }
        const path = await failedCleanly(l, ENOSPC);
        if (!named.has(path)) named.set(path, l.free);
      }
    }
    throw new Error(`train never fit; it failed at ${[...named.keys()].join(", ")}`);
  })();
  return sweep;
}

Deno.test("a full disk at each kind of write of train fails in one line naming the file, leaving nothing half-written", async () => {
  const { exportLevel } = await fullDiskSweep();
  assert.ok(exportLevel > 0);
});

Deno.test("a full disk at a later checkpoint leaves the earlier one intact, and the run resumes from it", async () => {
  const { exportLevel } = await fullDiskSweep();
  // With 4 steps, what fitted 2 steps' writes runs out within step 4's checkpoint.
  const levels = await pooled(
    [exportLevel, exportLevel + 1, exportLevel + 2].map((f) => () => trainWithFree(f, 4)),
  );
  const atStep4 = [];
  for (const l of levels) {
    const named = await failedCleanly(l, ENOSPC);
    if (named === "checkpoints/step_4") atStep4.push(l);
  }
  assert.ok(atStep4.length > 0, levels.map((l) => l.run.stderr).join(""));
  const l = atStep4[0];
  const before = await readCheckpoint(join(l.dir, "run", "checkpoints", "step_2"));
  assert.ok(before._tag === "Right" && before.right.meta.step === 2);
  // Room again: the run resumes from step 2 and finishes.
  const resumed = await cliUnderFault(l.dir, train(l.dir, 4, "--resume"), {
    keep: true,
  });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(
    resumed.stdout,
    /Stopped: done after 4 steps \(2 in this run, resumed from step 2\)/,
  );
});

Deno.test("a full disk at eval's report, extract's .npy and convert's outputs fails in one line, leaving no file", async () => {
  const { complete } = await fullDiskSweep();
  const run = join(complete, "run");
  const cases: readonly { args: (dir: string) => string[]; free: number; named: string }[] = [
    { args: (d) => evalTo(run, d), free: 0, named: "eval/report.json" },
    { args: (d) => evalTo(run, d), free: 1, named: "eval/predictions.jsonl" },
    {
      args: (
        d,
      ) => ["extract", `${run}/checkpoints/step_2`, "--variable", "prompt", "--out", `${d}/p.npy`],
      free: 0,
      named: "p.npy",
    },
    { args: (d) => ["convert", `${run}/prompt.npy`, `${d}/p.npy`], free: 0, named: "p.npy" },
    {
      args: (d) => ["convert", `${run}/prompt.npy`, `${d}/p.safetensors`],
      free: 0,
      named: "p.safetensors",
    },
    ...[0, 1].map((free) => ({
      args: (d: string) => [
        "convert",
        `${run}/prompt.npy`,
        `${d}/adapter`,
        "--to",
        "peft",
        "--model",
        "tests/fixtures/cli/model",
      ],
      free,
      named: "adapter",
    })),
  ];
  await pooled(cases.map((c) => async () => {
    const dir = await mountPoint();
    const r = await cliUnderFault(dir, c.args(dir), { freePages: c.free });
    oneLineError(r, ENOSPC);
    assert.equal(namedPath(r, dir), c.named);
    await assertOutputsValid(dir);
  }));
});

Deno.test("a read-only directory at each kind of write fails in one line naming the path", async () => {
  const { complete } = await fullDiskSweep();
  const run = join(complete, "run");
  // A run directory with its subdirectories made; --resume takes a directory that is not empty.
  const withSubdirs = async (dir: string) => {
    for (const sub of ["checkpoints", "prompts", "eval"]) {
      await Deno.mkdir(join(dir, "run", sub), { recursive: true });
    }
  };
  const cases: readonly {
    args: (dir: string) => string[];
    fault: Fault;
    named: string;
    prepare?: (dir: string) => Promise<void>;
  }[] = [
    { args: (d) => train(d, 2), fault: { readOnly: [""] }, named: "run" },
    {
      args: (d) => train(d, 2, "--resume"),
      fault: { readOnly: ["run"], keep: true },
      named: "run/config.json",
      prepare: withSubdirs,
    },
    {
      args: (d) => train(d, 2, "--resume"),
      fault: { readOnly: ["run/prompts"], keep: true },
      named: "run/prompts/step_2.npy",
      prepare: withSubdirs,
    },
    {
      args: (d) => train(d, 2, "--resume"),
      fault: { readOnly: ["run/checkpoints"], keep: true },
      named: "run/checkpoints/step_2",
      prepare: withSubdirs,
    },
    {
      // A finished run resumed: nothing to train, then the exports; the adapter's is read-only.
      args: (d) => train(d, 2, "--resume"),
      fault: { readOnly: ["run/adapter"], keep: true },
      named: "run/adapter/adapter_model.safetensors",
      prepare: (d) => copyDir(run, join(d, "run")),
    },
    {
      args: (d) => evalTo(run, d),
      fault: { readOnly: ["eval"], keep: true },
      named: "eval/report.json",
      prepare: async (d) => await Deno.mkdir(join(d, "eval")),
    },
    {
      args: (
        d,
      ) => ["extract", `${run}/checkpoints/step_2`, "--variable", "prompt", "--out", `${d}/p.npy`],
      fault: { readOnly: [""] },
      named: "p.npy",
    },
    {
      args: (d) => [
        "convert",
        `${run}/prompt.npy`,
        `${d}/adapter`,
        "--to",
        "peft",
        "--model",
        "tests/fixtures/cli/model",
      ],
      fault: { readOnly: [""] },
      named: "adapter",
    },
  ];
  await pooled(cases.map((c) => async () => {
    const dir = await mountPoint();
    await c.prepare?.(dir);
    const r = await cliUnderFault(dir, c.args(dir), c.fault);
    oneLineError(r, EROFS);
    assert.equal(namedPath(r, dir), c.named);
    if (await Deno.stat(join(dir, "run")).then(() => true, () => false)) {
      await assertRunFilesValid(join(dir, "run"), SHAPE);
    }
    await assertOutputsValid(dir);
  }));
});

/** `eval` of the run's prompt, writing its report to `dir/eval`. */
function evalTo(run: string, dir: string): string[] {
  return [
    "eval",
    "--config",
    `${run}/config.json`,
    "--prompt",
    `${run}/prompt.npy`,
    "--out",
    `${dir}/eval`,
  ];
}

async function copyDir(from: string, to: string): Promise<void> {
  const out = await new Deno.Command("cp", { args: ["-a", from, to] }).output();
  assert.equal(out.code, 0);
}

/**
 * Asserts that the outputs of eval, extract and convert under `dir` are absent or complete, and
 * that no temporary file is left.
 */
async function assertOutputsValid(dir: string): Promise<void> {
  const there = (p: string) => Deno.stat(join(dir, p)).then(() => true, () => false);
  if (await there("eval/report.json")) {
    JSON.parse(await Deno.readTextFile(join(dir, "eval/report.json")));
  }
  if (await there("eval/predictions.jsonl")) {
    const lines = (await Deno.readTextFile(join(dir, "eval/predictions.jsonl"))).trimEnd();
    assert.equal(lines.split("\n").map((l) => JSON.parse(l)).length, 4);
  }
  if (await there("p.npy")) assert.equal((await readNpy(join(dir, "p.npy")))._tag, "Right");
  if (await there("adapter")) {
    assert.equal((await readPeftAdapter(join(dir, "adapter")))._tag, "Right");
  }
  assert.deepEqual(await temporaryLeft(dir), []);
}
