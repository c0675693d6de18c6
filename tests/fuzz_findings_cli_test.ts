/**
 * Regression tests for what fuzzing the command line found (issue 14: its findings
 * list): readers that blocked forever on a FIFO or a `/dev/zero` symlink, decoding options and
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
import { encodeNpz } from "../io/mod.ts";
import { key } from "../random/mod.ts";
import { readCheckpoint, writeCheckpoint } from "../training/checkpoint.ts";
import { adam } from "../training/optim/mod.ts";
import { start } from "../training/resume.ts";
import { appendMetrics, readMetrics } from "../training/metrics_log.ts";
import { readT5xCheckpoint } from "../model/t5x/mod.ts";
import { describeProblem, type Problem, problem } from "../problem.ts";
import { errorLines, Failure } from "../cli/args.ts";
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

// --- 2. Decoding options past sane bounds, or past the heap --------------------------------------

const TEST_TSV = "tests/fixtures/cli/sst2/test.tsv";
const infer = ["infer", "--config", TINY, "--no-prompt", "--input", TEST_TSV];

Deno.test("cli infer refuses decoding.num_beams=1000000 (and other decoding options past their bounds) in one line, before any work", async () => {
  const cases: [string, RegExp][] = [
    [
      "decoding.num_beams=1000000",
      /^Error: decoding\.num_beams: Expected an integer ≥ 1 and ≤ 64, got 1000000/,
    ],
    [
      "decoding.max_length=100000",
      /^Error: decoding\.max_length: Expected an integer ≥ 1 and ≤ 8192, got 100000/,
    ],
    [
      "decoding.top_k=1e9",
      /^Error: decoding\.top_k: Expected an integer ≥ 0 and ≤ 1048576, got 1000000000/,
    ],
  ];
  for (const [set, pattern] of cases) {
    const started = Date.now();
    const r = await runCli([...infer, "--set", set], undefined, { timeoutMs: LIMIT_MS });
    oneLine(r, pattern);
    assert.equal(r.stdout, "", set);
    assert(Date.now() - started < LIMIT_MS, set);
  }
});

const LOW = { SOFT_PROMPT_HEAP_LIMIT: "1000000" }; // 1 MB: below any model's parameters

Deno.test("cli infer stops before its first batch when one decoding batch (every beam a row) would not fit the heap", async () => {
  const r = await runCli(
    [...infer, "--set", "decoding.mode=beam", "--set", "decoding.num_beams=64"],
    undefined,
    { timeoutMs: LIMIT_MS, env: LOW },
  );
  oneLine(
    r,
    /^Error: One decoding batch needs about \d+\.\d (MiB|GiB) of WASM heap \(.* of parameters\), over the 1\.0 MiB it can hold; lower eval\.batch_size \(now 4\), decoding\.num_beams \(now 64\), decoding\.max_length \(now 4\), the inputs' length \(the longest is \d+ tokens; train\.max_input_length cuts them\)$/,
  );
  assert.equal(r.stdout, "");
});

// --- 4. Evaluation memory, and the engine's own failures -----------------------------------------

Deno.test("cli train stops before anything is written when one evaluation batch would not fit the heap", async () => {
  const dir = `${work}/eval_heap`;
  const r = await runCli(
    ["train", "--config", TINY, "--run-dir", dir, "--set", "eval.batch_size=100000"],
    ["--allow-read", `--allow-write=${work}`, "--allow-env"],
    { timeoutMs: LIMIT_MS, env: { SOFT_PROMPT_HEAP_LIMIT: "" } }, // the default limit
  );
  oneLine(
    r,
    /^Error: One evaluation batch needs about \d+\.\d\d GiB of WASM heap \(.* of parameters\), over the 3\.60 GiB it can hold; lower eval\.batch_size \(now 100000\), train\.max_input_length \(now \d+\)$/,
  );
  assert.equal(await Deno.stat(dir).then(() => true, () => false), false, "nothing written");
});

Deno.test("errorLines() says the engine ran out of memory, in one line naming what to lower, for every command and however the failure arrives", () => {
  const raw = [
    new WebAssembly.RuntimeError("memory access out of bounds"),
    new WebAssembly.RuntimeError("Aborted(). Build with -sASSERTIONS for more info."),
    new RangeError("WebAssembly.Memory.grow(): Maximum memory size exceeded"),
  ];
  const lowered: Record<string, RegExp> = {
    train: /lower train\.batch_size, train\.max_input_length, train\.recompute \("layer"\)$/,
    eval: /lower eval\.batch_size, train\.max_input_length$/,
    infer:
      /lower eval\.batch_size, decoding\.num_beams, decoding\.max_length, train\.max_input_length$/,
    extract: /lower the checkpoint's size \(extract from one \.safetensors file of it\)$/,
  };
  for (const [command, lower] of Object.entries(lowered)) {
    for (const e of raw) {
      // Thrown as it is, or passed on in a reader's problem (model/t5/hf.ts and others do).
      const wrapped = new Failure([
        problem("Io", "models/big", `Could not load the checkpoint: ${e.message}`),
      ]);
      for (
        const [lines, where] of [[errorLines(e, command), ""], [
          errorLines(wrapped, command),
          "models/big: ",
        ]] as const
      ) {
        assert.equal(lines.length, 1);
        assert(lines[0].startsWith(`${where}The WASM heap (4 GiB at most) ran out`), lines[0]);
        assert.match(lines[0], lower, `${command}: ${lines[0]}`);
        assert.doesNotMatch(lines[0], /out of bounds|Aborted|Memory\.grow/);
      }
    }
  }
  // Other failures pass through as they were.
  assert.deepEqual(errorLines(new Failure([problem("Io", "a", "B")]), "eval"), ["a: B"]);
});

// --- 5. Messages that said too little ------------------------------------------------------------

Deno.test("a T5X .zarray without 'chunks' says the field is missing, naming the file and what was expected", async () => {
  const src = "tests/data/prompt-tuning/test_data/test_t5_1_1_tiny/checkpoint_3";
  const dir = await Deno.makeTempDir({ dir: work });
  assert((await new Deno.Command("cp", { args: ["-r", src, `${dir}/c`] }).output()).success);
  const param = "target.encoder.layers_0.mlp.wo.kernel";
  const meta = JSON.parse(await Deno.readTextFile(`${src}/${param}/.zarray`));
  delete meta.chunks;
  await Deno.writeTextFile(`${dir}/c/${param}/.zarray`, JSON.stringify(meta));
  const r = await readT5xCheckpoint(`${dir}/c`);
  const read = E.isLeft(r) ? r : await r.right.read(param.replaceAll(".", "/").slice(7));
  if (E.isRight(r)) r.right.close();
  assert.equal(
    leftLine(read),
    `${dir}/c/${param}/.zarray: 'chunks' is missing; expected a list of at most 32 integers >= 1`,
  );
});

Deno.test("cli train with --run-dir naming a file says so in one line, before printing the configuration", async () => {
  const file = `${work}/a_file`;
  await Deno.writeTextFile(file, "x");
  for (
    const [args, source] of [[["--run-dir", file], "--run-dir"], [
      ["--set", `run_dir=${file}`],
      "run_dir",
    ]]
  ) {
    const r = await runCli(["train", "--config", TINY, ...args], [
      "--allow-read",
      `--allow-write=${work}`,
    ], {
      timeoutMs: LIMIT_MS,
    });
    oneLine(
      r,
      new RegExp(
        `^Error: ${source} ${file.replaceAll("/", "\\/")} is a file, expected a directory$`,
      ),
    );
    assert.equal(r.stdout, "", "the configuration is not printed");
  }
  assert.equal(await Deno.readTextFile(file), "x");
});

Deno.test("a full disk while appending to the metrics log names the file", {
  ignore: Deno.build.os !== "linux",
}, async () => {
  // /dev/full fails every write with ENOSPC, as a full disk does.
  await assert.rejects(
    appendMetrics("/dev/full", { step: 1, loss: 2 }),
    /^Error: Cannot append to the metrics log \/dev\/full: No space left on device/,
  );
});

Deno.test("cli extract of an .npz holding no arrays says so, never an empty list", async () => {
  const path = `${work}/empty.npz`;
  await Deno.writeFile(path, encodeNpz({}));
  const r = await runCli(["extract", path, "--variable", "x", "--out", `${work}/x.npy`], [
    "--allow-read",
    `--allow-write=${work}`,
  ], { timeoutMs: LIMIT_MS });
  oneLine(r, /^Error: .*empty\.npz: No variable "x": the file holds no arrays$/);
});
