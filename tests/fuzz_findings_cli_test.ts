/**
 * Regression tests for what fuzzing the command line found (issue 14, `../shared/fuzz-findings/`
 * README): readers that blocked forever on a FIFO or a `/dev/zero` symlink, decoding options and
 * resumes that validation let through, engine failures shown raw, and messages that said too
 * little. Every subprocess runs under a time limit, so a regression fails instead of hanging.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { join } from "node:path";
import { readConfigFile } from "../config/mod.ts";
import { readRecords } from "../data/mod.ts";
import { loadModel } from "../model/load.ts";
import { loadTokenizer } from "../tokenizer/mod.ts";
import { hostTensor } from "../io/host_tensor.ts";
import { key } from "../random/mod.ts";
import { readCheckpoint, writeCheckpoint } from "../training/checkpoint.ts";
import { adam } from "../training/optim/mod.ts";
import { start } from "../training/resume.ts";
import { readMetrics } from "../training/metrics_log.ts";
import { describeProblem, type Problem } from "../problem.ts";
import { type Run, runCli, showRun } from "./_cli.ts";
import { mkfifo, withinTime } from "./_io_helpers.ts";

const unix = Deno.build.os !== "windows";
const TINY = "tests/fixtures/cli/sst2_tiny.json";
const MODEL = "tests/fixtures/cli/model";
/** Long enough for a cold start of the CLI on a loaded machine; a blocked reader never returns. */
const LIMIT_MS = 120_000;

const work = await Deno.makeTempDir({ prefix: "fuzz_cli_" });
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

/** Exit `code`, exactly one line on stderr matching `pattern`, no stack trace. */
function oneLine(r: Run, pattern: RegExp, code = 1): void {
  assert.equal(r.code, code, showRun(r));
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, showRun(r));
  assert.match(lines[0], pattern, showRun(r));
  assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+|memory access out of bounds|Aborted\(\)/);
}

/** A problem's one line, for a Left. */
function leftLine<A>(r: E.Either<Problem, A>): string {
  assert(E.isLeft(r), `expected a problem, got ${JSON.stringify(r)}`);
  const line = describeProblem(r.left);
  assert(!line.includes("\n"), line);
  return line;
}

// --- 1. Files that are not regular files -------------------------------------------------------

/** A FIFO and a symlink to /dev/zero, both named `name`, in fresh directories. */
async function specials(name: string): Promise<{ fifo: string; zero: string }> {
  const dir = await Deno.makeTempDir({ dir: work });
  const fifo = join(dir, "fifo", name), zero = join(dir, "zero", name);
  await Deno.mkdir(join(dir, "fifo"));
  await Deno.mkdir(join(dir, "zero"));
  await mkfifo(fifo);
  await Deno.symlink("/dev/zero", zero);
  return { fifo, zero };
}

const NOT_REGULAR = /Is (a FIFO \(named pipe\)|a character device), not a regular file; expected/;

for (
  const [command, args] of [
    ["inspect", (f: string) => ["inspect", f]],
    ["extract", (f: string) => ["extract", f, "--variable", "x", "--out", `${work}/out.npy`]],
    ["eval --prompt", (f: string) => ["eval", "--config", TINY, "--prompt", f]],
  ] as const
) {
  Deno.test(
    `cli ${command} refuses a FIFO and a /dev/zero symlink named x.npy in one line, without blocking`,
    { ignore: !unix },
    async () => {
      const { fifo, zero } = await specials("x.npy");
      for (
        const [path, kind] of [[fifo, "a FIFO \\(named pipe\\)"], [zero, "a character device"]]
      ) {
        const r = await runCli(args(path), ["--allow-read", `--allow-write=${work}`], {
          timeoutMs: LIMIT_MS,
        });
        oneLine(
          r,
          new RegExp(
            `^Error: ${
              path.replaceAll("/", "\\/")
            }: Is ${kind}, not a regular file; expected an \\.npy file$`,
          ),
        );
      }
    },
  );
}

Deno.test(
  "every reader of the library refuses a FIFO (configs, data, tokenizers, model configs, checkpoints, logs) without blocking",
  { ignore: !unix },
  async () => {
    const config = await specials("run.json");
    assert.match(
      leftLine(await withinTime(config.fifo, () => readConfigFile(config.fifo))),
      NOT_REGULAR,
    );
    assert.match(leftLine(await readConfigFile(config.zero)), NOT_REGULAR);

    for (const name of ["train.jsonl", "train.tsv", "train.csv", "train.parquet"]) {
      const data = await specials(name);
      for (const path of [data.fifo, data.zero]) {
        const r = await withinTime(data.fifo, () => readRecords(path));
        assert.match(leftLine(r), /not a regular file; expected a data file$/, name);
      }
    }

    // A model directory whose tokenizer.json, or config.json, is a FIFO.
    for (const file of ["tokenizer.json", "config.json"]) {
      const dir = await Deno.makeTempDir({ dir: work });
      for await (const e of Deno.readDir(MODEL)) {
        if (e.name !== file) await Deno.copyFile(join(MODEL, e.name), join(dir, e.name));
      }
      await mkfifo(join(dir, file));
      const fifo = join(dir, file);
      const line = file === "tokenizer.json"
        ? leftLine(await withinTime(fifo, () => loadTokenizer(dir)))
        : leftLine(await withinTime(fifo, () => loadModel(dir)));
      assert.match(line, NOT_REGULAR, file);
      assert(line.includes(fifo), line);
    }

    // A checkpoint whose checkpoint.json is a FIFO, and a metrics log that is one.
    const ckpt = await Deno.makeTempDir({ dir: work });
    await mkfifo(join(ckpt, "checkpoint.json"));
    const c = await withinTime(join(ckpt, "checkpoint.json"), () => readCheckpoint(ckpt));
    assert.match(leftLine(c), NOT_REGULAR);
    await mkfifo(join(ckpt, "metrics.jsonl"));
    await assert.rejects(
      withinTime(join(ckpt, "metrics.jsonl"), () => readMetrics(join(ckpt, "metrics.jsonl"))),
      NOT_REGULAR,
    );
  },
);

// --- 3. A resume that would change the run -----------------------------------------------------

Deno.test("cli train --resume refuses a configuration that changes the run, naming the field, and leaves config.json as it was", async () => {
  const dir = `${work}/resume`;
  const base = ["train", "--config", TINY, "--run-dir", dir];
  const write = ["--allow-read", `--allow-write=${work}`];
  const first = await runCli(base, write, { timeoutMs: LIMIT_MS });
  assert.equal(first.code, 0, showRun(first));
  const saved = await Deno.readFile(join(dir, "config.json"));
  const prompt = await Deno.readFile(join(dir, "prompt.npy"));

  const longer = await runCli([...base, "--resume", "--set", "prompt.length=7"], write, {
    timeoutMs: LIMIT_MS,
  });
  oneLine(
    longer,
    /^Error: prompt\.length: Is 7 here but 5 in .*config\.json, the run being resumed; a resume may change only run_dir, train\.steps, .* \(set it back, or train in a new run directory\)$/,
  );
  assert.equal(longer.stdout, "", "refused before the configuration is printed");
  assert.deepEqual(await Deno.readFile(join(dir, "config.json")), saved, "config.json unchanged");
  assert.deepEqual(await Deno.readFile(join(dir, "prompt.npy")), prompt, "prompt unchanged");

  // Two fields: one line each.
  const two = await runCli(
    [...base, "--resume", "--set", "train.seed=3", "--set", "optimizer.learning_rate=0.5"],
    write,
    { timeoutMs: LIMIT_MS },
  );
  assert.equal(two.code, 1, showRun(two));
  const lines = two.stderr.trimEnd().split("\n");
  assert.deepEqual(lines.map((l) => l.split(":")[1].trim()), [
    "optimizer.learning_rate",
    "train.seed",
  ]);
  assert.deepEqual(await Deno.readFile(join(dir, "config.json")), saved);

  // What a resume may change: more steps (the schedule is constant here), evaluation frequency.
  const more = await runCli(
    [...base, "--resume", "--set", "train.steps=6", "--set", "train.eval_every=3"],
    write,
    { timeoutMs: LIMIT_MS },
  );
  assert.equal(more.code, 0, showRun(more));
  assert.match(more.stdout, /Stopped: done after 6 steps \(2 in this run, resumed from step 4\)/);
  const now = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
  assert.deepEqual([now.train.steps, now.train.eval_every, now.prompt.length], [6, 3, 5]);
});

Deno.test("start() refuses to resume a checkpoint whose prompt shape differs from promptShape", async () => {
  const runDir = await Deno.makeTempDir({ dir: work });
  const meta = {
    step: 2,
    key: [0, 1] as const,
    data: { epoch: 0, offset: 4 },
    optimizer: { name: "adam", step: 2 },
    best: null,
    badEvals: 0,
  };
  const host = hostTensor("float32", [5, 8], new Float32Array(40));
  const slots = { m: host, v: host };
  assert(
    E.isRight(await writeCheckpoint(runDir, { meta, prompt: host, optimizer: { step: 2, slots } })),
  );
  const before = tf.memory().numTensors;
  const made: tf.Tensor[] = [];
  const r = await start({
    runDir,
    optimizer: adam(),
    prompt: () => {
      const t = tf.zeros([7, 8]);
      made.push(t);
      return t;
    },
    promptShape: [7, 8],
    key: key(0),
    resume: true,
  });
  assert.equal(
    leftLine(r),
    `${
      join(runDir, "checkpoints", "step_2")
    }: Checkpoint prompt is [5, 8]; the given prompt is [7, 8]: resume with the same prompt length, or use a new run directory`,
  );
  assert.equal(made.length, 0, "the initializer is not called");
  assert.equal(tf.memory().numTensors, before);
});
