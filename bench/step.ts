/**
 * Benchmark of a prompt-tuning step: the training loop's step, `trainStep` (batch, forward,
 * backward to the prompt, Adafactor update), on
 *
 * - `fixture`: the tiny T5 1.1 checkpoint `tests/fixtures/models/t5_v1_1` (H 32, 2 + 2 layers);
 * - `t5-small`: a T5 1.1 of t5-small's size with deterministic hashed weights (d_model 512,
 *   8 + 8 layers, d_ff 1024 gated-GELU, 6 heads × 64, vocabulary 32128, untied head; 77M
 *   parameters), built in memory in under a second (`perf/t5_small.ts`).
 *
 * Each step is a batch of 8 examples of 128 input tokens (no padding) and 4 target tokens, with a
 * 20-token prompt in front of the encoder input; the batches take 32 examples in order. The first step(s) are warm-up and not counted.
 * Prints one JSON object on stdout (progress goes to stderr):
 *
 * ```text
 * deno run -A bench/step.ts [--only fixture|t5-small] [--steps N] [--warmup N]
 *                           [--backend wasm|cpu|webgpu] [--recompute none|layer]
 * ```
 *
 * `--backend webgpu` needs a WebGPU adapter (a GPU, or Mesa's lavapipe on CPU:
 * `mesa-vulkan-drivers`); without one the run stops with a one-line error instead of measuring
 * the WASM backend under WebGPU's name.
 *
 * `tokensPerSec` counts every position the model processes per example (prompt + input + target,
 * 152) times the batch; `targetTokensPerSec` only the 4 targets. `peakRssMB` is the largest
 * `Deno.memoryUsage().rss` sampled inside and after each step (the WASM heap only grows, so the
 * sample after the backward pass sees its peak); `peakLiveTensorMB` the largest `tf.memory()
 * .numBytes` at the same moments (after the forward pass: the tensors the backward pass keeps;
 * an upper bound, since tfjs counts a buffer once for each tensor sharing it);
 * `buildSec` the time to load or build the weights. `--recompute layer` recomputes each encoder
 * layer in the backward pass (less memory, more time). The whole run takes about a minute on 2
 * cores (t5-small: ~6 s a step).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { type BackendName, initBackend } from "../backend.ts";
import { type FrozenModel, loadModel } from "../model/load.ts";
import type { Recompute } from "../model/kernels/mod.ts";
import { orThrow } from "../problem.ts";
import { key, uniform } from "../random/mod.ts";
import { randomT5Small } from "../perf/t5_small.ts";
import { disposeTree } from "../tree/tree.ts";
import { disposeTensors } from "../training/evaluate.ts";
import { promptLoss } from "../training/objective.ts";
import type { Seq2SeqBatch } from "../model/prompted.ts";
import { adafactor, disposeState } from "../training/optim/mod.ts";
import { type StepState, trainStep } from "../training/step.ts";

const BATCH = 8, INPUT = 128, PROMPT = 20, TARGET = 4;

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    only: { type: "string" },
    steps: { type: "string" },
    warmup: { type: "string", default: "1" },
    backend: { type: "string", default: "wasm" },
    recompute: { type: "string", default: "none" },
  },
});

const log = (s: string) => console.error(s);
let peakRss = 0, peakTensorBytes = 0;
const sampleRss = () => {
  peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
  peakTensorBytes = Math.max(peakTensorBytes, tf.memory().numBytes);
};

/** Deterministic full-length examples: ids in [2, vocab). */
function examples(vocab: number, n: number): { input: Int32Array; target: Int32Array }[] {
  return Array.from({ length: n }, (_, e) => ({
    input: Int32Array.from(
      { length: INPUT },
      (_, j) => 2 + ((e * 7919 + j * 104729) % (vocab - 2)),
    ),
    target: Int32Array.from({ length: TARGET }, (_, j) => 2 + ((e * 31 + j * 17) % (vocab - 2))),
  }));
}

function collate(xs: readonly { input: Int32Array; target: Int32Array }[]): Seq2SeqBatch {
  const b = xs.length;
  const cat = (rows: Int32Array[], w: number) => {
    const out = new Int32Array(b * w);
    rows.forEach((r, i) => out.set(r, i * w));
    return out;
  };
  return {
    inputIds: tf.tensor2d(cat(xs.map((x) => x.input), INPUT), [b, INPUT], "int32"),
    inputMask: tf.ones([b, INPUT], "int32"),
    targetIds: tf.tensor2d(cat(xs.map((x) => x.target), TARGET), [b, TARGET], "int32"),
    targetMask: tf.ones([b, TARGET], "int32"),
  };
}

async function bench(
  name: string,
  model: FrozenModel,
  steps: number,
  warmup: number,
  buildSec: number,
) {
  if (model.architecture !== "t5") throw new Error("Benchmark expects a T5 model");
  const h = model.config.dModel;
  const times: number[] = [];
  const losses: number[] = [];
  peakRss = 0;
  peakTensorBytes = 0;
  sampleRss();
  const data = examples(model.config.vocabSize, BATCH * 4);
  const optimizer = adafactor();
  const loss = (p: tf.Tensor, b: Seq2SeqBatch) => {
    const l = promptLoss(model, b, { recompute })(p);
    sampleRss(); // after the forward pass
    return l;
  };
  const prompt = uniform(key(1), [PROMPT, h], { minval: -0.5, maxval: 0.5 });
  let state: StepState = { prompt, opt: optimizer.init(prompt) };
  for (let step = 1; step <= warmup + steps; step++) {
    const t0 = performance.now();
    const at = ((step - 1) * BATCH) % data.length; // the examples in order, a batch at a time
    const batch = collate(data.slice(at, at + BATCH));
    const r = await trainStep(state, batch, { loss, optimizer });
    disposeTensors(batch);
    state.prompt.dispose();
    disposeState(state.opt);
    state = r.state;
    const sec = (performance.now() - t0) / 1000;
    sampleRss();
    times.push(sec);
    losses.push(r.loss);
    log(`${name}: step ${step} ${sec.toFixed(2)} s, loss ${r.loss.toFixed(4)}`);
  }
  state.prompt.dispose();
  disposeState(state.opt);
  const measured = times.slice(warmup);
  const sec = measured.reduce((a, b) => a + b, 0) / measured.length;
  const perStep = BATCH * (PROMPT + INPUT + TARGET);
  return {
    name,
    params: countParams(model),
    steps: measured.length,
    warmupSteps: warmup,
    secPerStep: round(sec),
    stepsPerSec: round(1 / sec),
    tokensPerSec: round(perStep / sec),
    targetTokensPerSec: round(BATCH * TARGET / sec),
    peakRssMB: Math.round(peakRss / 2 ** 20),
    peakLiveTensorMB: Math.round(peakTensorBytes / 2 ** 20),
    buildSec: round(buildSec),
    warmupSec: round(times.slice(0, warmup).reduce((a, b) => a + b, 0)),
    stepSec: times.map(round), // every step, the first `warmupSteps` of them warm-up
    medianSecPerStep: round([...measured].sort((a, b) => a - b)[measured.length >> 1]),
    losses: losses.map(round),
  };
}

const round = (x: number) => Number(x.toPrecision(4));

function countParams(model: FrozenModel): number {
  let n = 0;
  const walk = (t: unknown): void => {
    if (t instanceof tf.Tensor) n += t.size;
    else if (Array.isArray(t)) t.forEach(walk);
    else if (typeof t === "object" && t !== null) Object.values(t).forEach(walk);
  };
  walk(model.params);
  return n;
}

function machine() {
  let cpu = "unknown";
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    cpu = /model name\s*:\s*(.*)/.exec(info)?.[1] ?? cpu;
  } catch { /* not Linux */ }
  return { cpu, cores: navigator.hardwareConcurrency, os: Deno.build.os, deno: Deno.version.deno };
}

/** The WebGPU adapter's description (e.g. lavapipe's `llvmpipe (LLVM 15.0.6, 256 bits)`). */
async function adapter(): Promise<string | undefined> {
  const gpu = (navigator as unknown as { gpu?: GPU }).gpu;
  const a = await gpu?.requestAdapter();
  return a ? a.info.description || a.info.vendor : undefined;
}

if (args.recompute !== "none" && args.recompute !== "layer") {
  throw new RangeError(`--recompute is "${args.recompute}"; expected none or layer`);
}
const recompute: Recompute = args.recompute;
const BACKENDS: readonly string[] = ["wasm", "cpu", "webgpu"];
if (!BACKENDS.includes(args.backend)) {
  throw new RangeError(`--backend is "${args.backend}"; expected wasm, cpu or webgpu`);
}
const notices: string[] = [];
const backend = orThrow(
  await initBackend(args.backend as BackendName, { onNotice: (m) => notices.push(m) }),
);
if (backend !== args.backend) {
  const why = notices[0]?.replace(/; using the WASM backend$/, "") ?? `${backend} started instead`;
  console.error(`--backend ${args.backend}: ${why}`);
  Deno.exit(1);
}
const results = [];
const t0 = performance.now();
if (args.only === undefined || args.only === "fixture") {
  const tb = performance.now();
  const model = orThrow(
    await loadModel(new URL("../tests/fixtures/models/t5_v1_1", import.meta.url).pathname),
  );
  const built = (performance.now() - tb) / 1000;
  results.push(
    await bench("fixture t5_v1_1", model, Number(args.steps ?? 10), Number(args.warmup), built),
  );
  disposeTree(model.params);
}
if (args.only === undefined || args.only === "t5-small") {
  const tb = performance.now();
  const model = randomT5Small();
  const built = (performance.now() - tb) / 1000;
  log(`t5-small: built ${countParams(model)} random parameters in ${built.toFixed(1)} s`);
  results.push(
    await bench("t5-small random", model, Number(args.steps ?? 2), Number(args.warmup), built),
  );
  disposeTree(model.params);
}
console.log(JSON.stringify(
  {
    backend,
    recompute,
    batch: BATCH,
    inputTokens: INPUT,
    promptTokens: PROMPT,
    targetTokens: TARGET,
    machine: machine(),
    ...(backend === "webgpu" ? { adapter: await adapter() } : {}),
    results,
    totalSec: round((performance.now() - t0) / 1000),
  },
  null,
  2,
));
