/**
 * Our side of `bench/compare.ts`: one prompt-tuning step (`trainStep`: batch, forward, backward
 * to the prompt, Adafactor update) timed step by step on one model and one objective, with the
 * environment it ran in. `tools/peft_bench.py` is the PEFT side of the same step.
 *
 * Models:
 *
 * - `t5-small`: `perf/t5_small.ts` (77M, hashed weights); batch 8 × (20 prompt + 128 input)
 *   encoder positions and 4 target tokens, as `bench/step.ts`.
 * - `gpt2`: `perf/gpt2_small.ts` (124M, hashed weights); batch 8 × (20 prompt + 64 input + 1
 *   target) positions.
 * - `smollm2`: the real SmolLM2-135M-Instruct Q4_1 GGUF through `loadGguf` (dequantized to
 *   float32), the same shape as `gpt2`.
 *
 * `--recompute auto` (default) keeps every layer's activations for the backward pass when the
 * step's estimated peak (`training/memory.ts`) fits the WASM heap, as `cli.ts train` requires,
 * and otherwise recomputes each layer (`layer`; every model here fits without: SmolLM2 1.4 GiB).
 *
 * Objectives: `token` (`promptLoss`, the cross-entropy of the target tokens) and `rank`
 * (`promptRankLoss` over two one-token labels, ids 1000 and 2000; decoder-only models only).
 * Example `e`'s input id `j` is `2 + (7919e + 104729j) mod (V − 2)`; its token target is
 * `2 + 31e mod (V − 2)` (T5: `2 + (31e + 17j) mod (V − 2)`), its rank label `e mod 2`; steps take
 * the 32 examples in order, 8 at a time.
 *
 * ```text
 * deno run -A bench/compare_step.ts --model t5-small|gpt2|smollm2 [--objective token|rank]
 *     [--steps 6] [--warmup 2] [--backend wasm] [--recompute auto|none|layer] [--gguf .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf]
 * ```
 *
 * Prints one JSON object on stdout (progress on stderr): every step's seconds (warm-up steps
 * marked), the median of the timed ones, tokens/s (`positions` per example times the batch, over
 * the median), examples/s, the process's peak RSS (`VmHWM`, loading included, as Python's
 * `ru_maxrss`), and the environment (Deno, V8, tfjs, backend, WASM threads in use, SIMD, relaxed
 * SIMD, CPU).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { type BackendName, initBackend, wasmThreads } from "../backend.ts";
import { embeddingTable, type FrozenModel, vocabSize } from "../model/load.ts";
import { loadGguf } from "../model/gguf/load.ts";
import { orThrow } from "../problem.ts";
import { key, uniform } from "../random/mod.ts";
import { randomT5Small } from "../perf/t5_small.ts";
import { randomGpt2Small } from "../perf/gpt2_small.ts";
import { countParams, disposeTree } from "../tree/tree.ts";
import { disposeTensors } from "../training/evaluate.ts";
import { promptLoss } from "../training/objective.ts";
import { promptRankLoss } from "../training/rank_objective.ts";
import { collateExamples, collateRank, type TokenExample } from "../data/batch.ts";
import { adafactor, disposeState } from "../training/optim/mod.ts";
import { estimatePeakBytes, heapLimit } from "../training/memory.ts";
import type { Recompute } from "../model/kernels/recompute.ts";
import { type StepState, trainStep } from "../training/step.ts";
import { relaxedSimd as validatesRelaxedSimd } from "../model/kernels/wasm/gemm.ts";

const BATCH = 8, PROMPT = 20, EXAMPLES = 32;
const LABELS: readonly (readonly number[])[] = [[1000], [2000]];
const SHAPES = {
  "t5-small": { input: 128, target: 4 },
  gpt2: { input: 64, target: 1 },
  smollm2: { input: 64, target: 1 },
} as const;
type ModelName = keyof typeof SHAPES;

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    model: { type: "string", default: "t5-small" },
    objective: { type: "string", default: "token" },
    steps: { type: "string", default: "6" },
    warmup: { type: "string", default: "2" },
    backend: { type: "string", default: "wasm" },
    recompute: { type: "string", default: "auto" },
    gguf: {
      type: "string",
      default: new URL("../.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf", import.meta.url)
        .pathname,
    },
  },
});

const log = (s: string) => console.error(s);
const round = (x: number) => Number(x.toPrecision(4));

/** The process's peak resident set in bytes (`VmHWM`), or the current RSS off Linux. */
function peakRss(): number {
  try {
    const kb = /VmHWM:\s*(\d+)\s*kB/.exec(Deno.readTextFileSync("/proc/self/status"))?.[1];
    if (kb !== undefined) return Number(kb) * 1024;
  } catch { /* not Linux */ }
  return Deno.memoryUsage().rss;
}

/** The median of a non-empty list. */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Example `e` of the module doc's deterministic set. */
function example(name: ModelName, vocab: number, e: number, objective: string): TokenExample {
  const { input, target } = SHAPES[name];
  const inputIds = Array.from(
    { length: input },
    (_, j) => 2 + ((e * 7919 + j * 104729) % (vocab - 2)),
  );
  if (objective === "rank") return { inputIds, targetIds: LABELS[e % 2] };
  const targetIds = Array.from({ length: target }, (_, j) => 2 + ((e * 31 + j * 17) % (vocab - 2)));
  return { inputIds, targetIds };
}

async function build(name: ModelName): Promise<FrozenModel> {
  if (name === "t5-small") return randomT5Small();
  if (name === "gpt2") return randomGpt2Small();
  return orThrow(await loadGguf(args.gguf));
}

function cpuModel(): string {
  try {
    return /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? "unknown";
  } catch {
    return "unknown";
  }
}

const name = args.model as ModelName;
if (!(name in SHAPES)) {
  throw new RangeError(`--model is "${args.model}"; expected t5-small, gpt2 or smollm2`);
}
const objective = args.objective;
if (objective !== "token" && objective !== "rank") {
  throw new RangeError(`--objective is "${objective}"; expected token or rank`);
}
if (objective === "rank" && name === "t5-small") {
  throw new RangeError(`--objective rank is for decoder-only models; t5-small takes token`);
}
if (!["auto", "none", "layer"].includes(args.recompute)) {
  throw new RangeError(`--recompute is "${args.recompute}"; expected auto, none or layer`);
}
const steps = Number(args.steps), warmup = Number(args.warmup);
if (!(Number.isInteger(steps) && steps >= 1 && Number.isInteger(warmup) && warmup >= 0)) {
  throw new RangeError(
    `--steps ${args.steps} --warmup ${args.warmup}; expected integers, steps ≥ 1, warmup ≥ 0`,
  );
}

const backend = orThrow(await initBackend(args.backend as BackendName));
const relaxedSimd = validatesRelaxedSimd();
const tb = performance.now();
const model = await build(name);
const buildSec = (performance.now() - tb) / 1000;
const params = countParams(model.params);
log(`${name}: ${params} parameters in ${buildSec.toFixed(1)} s`);
const vocab = vocabSize(model);
const width = embeddingTable(model).shape[1] as number; // H
const { input, target } = SHAPES[name];
const stepShape = {
  batchSize: BATCH,
  inputLength: input,
  targetLength: target,
  promptLength: PROMPT,
  labels: objective === "rank" ? LABELS.length : 1,
};
// auto: keep every layer's activations when the step's estimated peak fits the WASM heap (as
// `cli.ts train` checks), else recompute each layer.
const estimate = (recompute: Recompute) =>
  estimatePeakBytes(model, { ...stepShape, recompute }).total;
const recompute: Recompute = args.recompute === "auto"
  ? (backend !== "wasm" || estimate("none") <= heapLimit() ? "none" : "layer")
  : args.recompute as Recompute;
log(
  `${name} ${objective}: recompute ${recompute} (estimated peak ${
    (estimate(recompute) / 2 ** 30).toFixed(2)
  } GiB)`,
);
const data = Array.from({ length: EXAMPLES }, (_, e) => example(name, vocab, e, objective));

type AnyBatch = ReturnType<typeof collateExamples> | ReturnType<typeof collateRank>;
const collate = (xs: TokenExample[]): AnyBatch =>
  objective === "rank" ? collateRank(model, xs, LABELS) : collateExamples(model, xs);
const dispose = (b: AnyBatch) => {
  if ("choices" in b) {
    b.choices.forEach((c) => disposeTensors(c));
    b.labels.dispose();
  } else disposeTensors(b);
};
const loss = (p: tf.Tensor, b: AnyBatch): tf.Scalar =>
  "choices" in b
    ? promptRankLoss(model, b, { recompute })(p)
    : promptLoss(model, b, { recompute })(p);

const optimizer = adafactor();
const prompt = uniform(key(1), [PROMPT, width], { minval: -0.5, maxval: 0.5 }); // [P, H]
let state: StepState = { prompt, opt: optimizer.init(prompt) };
const record: { step: number; sec: number; warmup: boolean; loss: number }[] = [];
for (let step = 1; step <= warmup + steps; step++) {
  const t0 = performance.now();
  const at = ((step - 1) * BATCH) % EXAMPLES;
  const batch = collate(data.slice(at, at + BATCH));
  const r = await trainStep(state, batch, { loss, optimizer });
  dispose(batch);
  state.prompt.dispose();
  disposeState(state.opt);
  state = r.state;
  const sec = (performance.now() - t0) / 1000;
  record.push({ step, sec: round(sec), warmup: step <= warmup, loss: round(r.loss) });
  log(
    `${name} ${objective}: step ${step}${step <= warmup ? " (warm-up)" : ""} ${sec.toFixed(2)} s`,
  );
}
state.prompt.dispose();
disposeState(state.opt);
disposeTree(model.params);

const positions = PROMPT + input + target;
const sec = median(record.filter((r) => !r.warmup).map((r) => r.sec));
console.log(JSON.stringify(
  {
    side: "ours",
    model: name,
    objective,
    batch: BATCH,
    promptTokens: PROMPT,
    inputTokens: input,
    targetTokens: target,
    positions,
    params,
    recompute,
    estimatedPeakGiB: round(estimate(recompute) / 2 ** 30),
    buildSec: round(buildSec),
    warmupSteps: warmup,
    steps: record,
    secPerStep: round(sec),
    tokensPerSec: round(BATCH * positions / sec),
    examplesPerSec: round(BATCH / sec),
    peakRssMB: Math.round(peakRss() / 2 ** 20),
    env: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      tfjs: tf.version.tfjs,
      backend,
      wasmThreads: wasmThreads(),
      wasmSimd: backend === "wasm" ? tf.env().getBool("WASM_HAS_SIMD_SUPPORT") : null,
      wasmMultithread: backend === "wasm" ? tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT") : null,
      relaxedSimdValidates: relaxedSimd,
      cpu: cpuModel(),
      cores: navigator.hardwareConcurrency,
      os: Deno.build.os,
    },
  },
  null,
  2,
));
