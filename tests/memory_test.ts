/**
 * Memory before it runs out: the peak-heap estimate stops `cli.ts train` and `cli.ts eval`
 * before their first step when the limit is set low, and an exhausted WASM heap (forced, in a
 * subprocess, with the estimate's limit off) reads as one line in the CLI and in `tunePrompt`.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import { loadModel } from "../model/load.ts";
import { orThrow } from "../problem.ts";
import { disposeTree } from "../tree/tree.ts";
import { estimatePeakBytes, HEAP_LIMIT_ENV } from "../training/memory.ts";

await initBackend("wasm");

const ROOT = new URL("../", import.meta.url);
const TINY = "tests/fixtures/cli/sst2_tiny.json";
const CONFIG = new URL("deno.json", ROOT).pathname; // the scripts below live outside the repository

const work = await Deno.makeTempDir({ prefix: "memory_" });
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `deno run PERMISSIONS ARGS` from the repository root with extra environment variables. */
async function run(
  args: readonly string[],
  env: Record<string, string>,
  permissions: readonly string[],
): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, ...args],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

const show = (r: Run) => `exit ${r.code}\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr}`;

/** Exit 1 and exactly one line on stderr, matching `pattern`, no stack. */
function oneLine(r: Run, pattern: RegExp): void {
  assert.equal(r.code, 1, show(r));
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, show(r));
  assert.match(lines[0], pattern, show(r));
  assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+|memory access out of bounds|Memory\.grow/);
}

const LOW = { [HEAP_LIMIT_ENV]: "1000000" }; // 1 MB: below any model's parameters
const envRead = `--allow-env=${HEAP_LIMIT_ENV}`;

Deno.test("cli train stops before its first step when one step would not fit the heap", async () => {
  const dir = `${work}/train`;
  const r = await run(
    ["cli.ts", "train", "--config", TINY, "--run-dir", dir],
    LOW,
    ["--allow-read", `--allow-write=${work}`, envRead],
  );
  oneLine(
    r,
    /^Error: One training step needs about \d+\.\d (MiB|GiB) of WASM heap \(.* of parameters\), over the 1\.0 MiB it can hold; lower train\.batch_size \(now 4\), train\.max_input_length \(now \d+\), train\.recompute \("layer"\)$/,
  );
  // Nothing was written: the check comes before the run directory is used.
  assert.equal(await Deno.stat(dir).then(() => true, () => false), false);
});

Deno.test("cli eval stops before its first batch when one batch would not fit the heap", async () => {
  const r = await run(
    ["cli.ts", "eval", "--config", TINY, "--no-prompt"],
    LOW,
    ["--allow-read", envRead],
  );
  oneLine(
    r,
    /^Error: One evaluation batch needs about .* of WASM heap .*; lower eval\.batch_size \(now 4\), train\.max_input_length/,
  );
});

Deno.test("estimatePeakBytes() of a SmolLM2-shaped step: batch 8 × (20 + 64) fits, × (20 + 512) only recomputing", () => {
  // Batch 8 × (20 + 64) once died with `memory access out of bounds`; it needs 1.2 GiB of heap
  // since the backward pass releases as it goes (perf/peak_memory.ts measures these shapes).
  const config = {
    architecture: "llama",
    config: {
      vocabSize: 49152,
      hiddenSize: 576,
      intermediateSize: 1536,
      numLayers: 30,
      numHeads: 9,
      numKvHeads: 3,
      headDim: 64,
    },
    params: {},
  } as unknown as Parameters<typeof estimatePeakBytes>[0];
  const params = 1.15 * 134_515_008 * 4; // SmolLM2-135M's float32 parameters, as counted
  const at = (inputLength: number, recompute: "none" | "layer") =>
    estimatePeakBytes(config, {
      batchSize: 8,
      inputLength,
      targetLength: 4,
      promptLength: 20,
      recompute,
    }).activations + params;
  const heap = 0.9 * 4 * 2 ** 30;
  assert(at(64, "none") < heap / 2, `${at(64, "none")}`);
  assert(at(512, "none") > heap, `${at(512, "none")}`);
  assert(at(512, "layer") < heap / 2, `${at(512, "layer")}`);
});

Deno.test("estimatePeakBytes() grows with the batch, the input, the prompt and the labels", async () => {
  const model = orThrow(await loadModel("tests/fixtures/models/llama_gqa"));
  try {
    const base = { batchSize: 4, inputLength: 16, targetLength: 4, promptLength: 6 };
    const at = (s: Partial<typeof base> & { labels?: number }) =>
      estimatePeakBytes(model, { ...base, ...s }).total;
    const t0 = at({});
    for (const s of [{ batchSize: 8 }, { inputLength: 32 }, { promptLength: 20 }, { labels: 2 }]) {
      assert(at(s) > t0, JSON.stringify(s));
    }
    assert.equal(estimatePeakBytes(model, base).parameters, Math.ceil(1.15 * 4 * countParams()));
  } finally {
    disposeTree(model.params);
  }

  function countParams(): number {
    let n = 0;
    const walk = (t: unknown): void => {
      if (t instanceof tf.Tensor) n += t.size;
      else if (t !== null && typeof t === "object") Object.values(t).forEach(walk);
    };
    walk(model.params);
    return n;
  }
});

/** A script that runs the WASM engine out of heap on purpose: 1 GiB tensors until it fails. */
const EXHAUST = `
const exhaust = () => {
  let x = tf.ones([256, 1024, 1024]);
  for (let i = 0; i < 8; i++) x = tf.add(x, 1);
  return x;
};`;

Deno.test("an exhausted WASM heap reads as one line in the CLI, never the engine's message", async () => {
  const script = `${work}/cli_heap.ts`;
  await Deno.writeTextFile(
    script,
    `import * as tf from "@tensorflow/tfjs";
import { initBackend } from "${new URL("backend.ts", ROOT).href}";
import { errorLines } from "${new URL("cli/args.ts", ROOT).href}";
await initBackend("wasm");
${EXHAUST}
try {
  exhaust();
  console.log("no failure");
} catch (e) {
  for (const line of errorLines(e, "train")) console.error("Error: " + line);
  Deno.exit(1);
}
`,
  );
  const r = await run([script], { [HEAP_LIMIT_ENV]: "0" }, ["-A", "--config", CONFIG]);
  oneLine(
    r,
    /^Error: The WASM heap \(4 GiB at most\) ran out, with \d+\.\d\d GiB in tensors; lower train\.batch_size, train\.max_input_length, train\.recompute \("layer"\)$/,
  );
});

Deno.test("an exhausted WASM heap in tunePrompt() is a problem, not a raw engine error", async () => {
  const script = `${work}/tune_heap.ts`;
  const href = (p: string) => new URL(p, ROOT).href;
  await Deno.writeTextFile(
    script,
    `import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { initBackend } from "${href("backend.ts")}";
import { loadModel } from "${href("model/load.ts")}";
import { orThrow, describeProblem } from "${href("problem.ts")}";
import { key } from "${href("random/mod.ts")}";
import { adafactor } from "${href("training/optim/mod.ts")}";
import { tunePrompt } from "${href("training/tune.ts")}";
await initBackend("wasm");
${EXHAUST}
const model = orThrow(await loadModel("${
      new URL("tests/fixtures/models/gpt2_tiny", ROOT).pathname
    }"));
const r = await tunePrompt({
  model, initializer: () => exhaust(), promptLength: 4, key: key(0), runDir: "${work}/tune",
  train: [{ inputIds: [5, 6], targetIds: [7, 2] }], optimizer: adafactor(), batchSize: 1,
  steps: 1, peft: false, progress: false, interrupts: false,
});
console.log(E.isLeft(r) ? describeProblem(r.left) : "no failure");
`,
  );
  const r = await run([script], { [HEAP_LIMIT_ENV]: "0" }, ["-A", "--config", CONFIG]);
  assert.equal(r.code, 0, show(r));
  assert.match(
    r.stdout.trim(),
    /^The WASM heap \(4 GiB at most\) ran out, with .* in tensors; lower batchSize, the inputs' length, objective\.recompute \("layer"\)$/,
    show(r),
  );
});
