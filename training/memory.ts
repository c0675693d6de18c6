/**
 * Memory before it runs out: an estimate of the peak heap of one training step or one
 * evaluation batch ({@link estimatePeakBytes}), checked against what the backend can hold
 * ({@link checkPeak}, the WASM heap: 4 GiB at most), and an engine failure from an exhausted heap
 * turned into one line that says so ({@link heapProblem}).
 *
 * The estimate counts the parameters (their bytes) and what one step keeps alive at its peak.
 * The backward pass (`leanGrads`) keeps only what gradients read and releases it as it goes, so
 * a training step's peak is at the end of its forward pass: per layer and token, the layer's
 * input and residual, the queries, keys and values, the MLP's projections and, when they are
 * small, the attention probabilities (or, with `recompute: "layer"`, each layer's input, plus
 * one layer's activations while it is recomputed); and the logits the loss reads. An
 * evaluation batch keeps each layer's output and cache, and one layer's intermediates. The
 * constants were measured with `perf/peak_memory.ts` on a random model of SmolLM2-135M's shape
 * (prompt 20, target 4), the WASM heap's size after one step in a fresh process (it grows in
 * steps of ~113 MiB here) against the estimate:
 *
 * | step | batch | input | heap | estimate |
 * | --- | --- | --- | --- | --- |
 * | train | 1 | 64 | 678 MiB | 693 MiB (×1.02) |
 * | train | 4 | 64 | 871 MiB | 1000 MiB (×1.15) |
 * | train | 8 | 64 | 1173 MiB | 1411 MiB (×1.20) |
 * | train | 8 | 144 | 1586 MiB | 1936 MiB (×1.22) |
 * | train, recompute | 8 | 64 | 678 MiB | 782 MiB (×1.15) |
 * | eval, 2 labels | 8 | 64 | 764 MiB | 776 MiB (×1.02) |
 *
 * On the fixture models (whose heap never grows past its first 16 MiB) the estimate is 0.7 to 1.6
 * times tfjs's own peak bytes, which count reshaped views again. The limit keeps
 * {@link HEAP_MARGIN} of the heap back for what the estimate leaves out.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { FrozenModel } from "../model/frozen.ts";
import type { Recompute } from "../model/kernels/recompute.ts";
import { treeBytes } from "../tree/tree.ts";
import { keepsProbabilities } from "../model/layers.ts";
import { type Problem, problem } from "../problem.ts";

/** The most a WASM heap can grow to: 4 GiB (32-bit addresses). */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;

/**
 * What is kept back from the WASM heap for what the estimate does not count (the tokenizer's
 * WASM, fragmentation of the allocator, the optimizer's state, host copies): 10%.
 */
export const HEAP_MARGIN = 0.1;

/** The environment variable that overrides the heap limit, in bytes (`0` turns the check off). */
export const HEAP_LIMIT_ENV = "SOFT_PROMPT_HEAP_LIMIT";

/**
 * The shapes of one step: rows, the longest input, target and prompt, and what the backward
 * pass keeps.
 *
 * @example
 * ```ts
 * import type { StepShape } from "./memory.ts";
 * import assert from "node:assert/strict";
 * const shape: StepShape = { batchSize: 8, inputLength: 64, targetLength: 4, promptLength: 20 };
 * assert.equal(shape.recompute, undefined); // "none"
 * ```
 */
export interface StepShape {
  /** Examples per batch. */
  readonly batchSize: number;
  /** Input tokens per example at most, the prompt not counted. */
  readonly inputLength: number;
  /** Target tokens per example at most (for decoder-only models, after the input). */
  readonly targetLength: number;
  /** Prompt tokens (0: none). */
  readonly promptLength: number;
  /** What the backward pass keeps of each layer (default `"none"`). */
  readonly recompute?: Recompute;
  /**
   * The labels of a rank loss or rank evaluation (default 1): T5 runs its decoder once per label,
   * a decoder-only model packs them after the input in one pass.
   */
  readonly labels?: number;
}

/**
 * An estimate in bytes: the parameters, what one step adds at its peak, and their sum.
 *
 * @example
 * ```ts
 * import type { PeakEstimate } from "./memory.ts";
 * import assert from "node:assert/strict";
 * const e: PeakEstimate = { parameters: 100, activations: 50, total: 150 };
 * assert.equal(e.total, e.parameters + e.activations);
 * ```
 */
export interface PeakEstimate {
  /** Bytes of the model's parameters, with the copies a step makes of them. */
  readonly parameters: number;
  /** Bytes one step adds at its peak. */
  readonly activations: number;
  /** `parameters + activations`. */
  readonly total: number;
}

/** The dimensions the estimate reads, for any architecture. */
interface Dims {
  /** Layers that see the prompted sequence (decoder-only: all; T5: the encoder's). */
  readonly layers: number;
  /** T5's decoder layers (0 for decoder-only models). */
  readonly decoderLayers: number;
  readonly hidden: number;
  /** The MLP's inner width (gated: gate and up together). */
  readonly inner: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly vocab: number;
}

function dims(model: FrozenModel): Dims {
  if (model.architecture === "t5") {
    const c = model.config;
    return {
      layers: c.numLayers,
      decoderLayers: c.numDecoderLayers,
      hidden: c.dModel,
      inner: c.isGatedAct ? 2 * c.dFf : c.dFf,
      heads: c.numHeads,
      kvHeads: c.numHeads,
      headDim: c.dKv,
      vocab: c.vocabSize,
    };
  }
  if (model.architecture === "gpt2") {
    const c = model.config;
    return {
      layers: c.numLayers,
      decoderLayers: 0,
      hidden: c.hiddenSize,
      inner: c.innerSize,
      heads: c.numHeads,
      kvHeads: c.numHeads,
      headDim: c.headDim,
      vocab: c.vocabSize,
    };
  }
  const c = model.config;
  return {
    layers: c.numLayers,
    decoderLayers: 0,
    hidden: c.hiddenSize,
    inner: 2 * c.intermediateSize, // gate and up
    heads: c.numHeads,
    kvHeads: c.numKvHeads,
    headDim: c.headDim,
    vocab: c.vocabSize,
  };
}

const F32 = 4;

/**
 * What the estimate adds to the values it counts: the allocator's fragmentation and the
 * tensors of the layer in progress (measured: 1.25 to 1.3 times the count on SmolLM2's shape).
 */
const SLACK = 1.5;

/** The width of a layer's queries and of its keys and values together. */
const qkv = (d: Dims) => (d.heads + 2 * d.kvHeads) * d.headDim;

/**
 * Float32 values a layer keeps per token for the backward pass: its input and residual, the
 * queries, keys and values, the MLP's projections, and the attention probabilities when
 * `attention` keeps them (`keepsProbabilities`).
 */
const keptPerToken = (d: Dims, keys: number) =>
  2 * d.hidden + qkv(d) + d.inner +
  (keepsProbabilities(d.heads, d.kvHeads, d.headDim, keys) ? d.heads * keys : 0);

/**
 * Float32 values a forward pass without a backward one holds per token: every layer's output and
 * keys and values until the pass ends.
 */
const heldPerToken = (d: Dims) => d.hidden + 2 * d.kvHeads * d.headDim;

/** Float32 values one layer's intermediates take per token while it runs. */
const layerPerToken = (d: Dims, keys: number) =>
  4 * d.hidden + qkv(d) + 2 * d.inner + 2 * d.heads * keys;

/**
 * Parameters counted this many times: once, and the backend's own allocations besides (measured:
 * the heap before a step is 1.1 times the parameters on SmolLM2's shape).
 */
const PARAM_COPIES = 1.15;

/** Copies of the logits a loss holds at once (logits, softmax, one-hot product, gradients). */
const LOGIT_COPIES = 6;

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * The peak bytes of one training step (`"train"`: forward, backward, with the parameters) or of
 * one evaluation batch (`"eval"`: forward only, rank scoring or the first decoding step), for a
 * model and the shapes of its batches. An estimate meant to err high (see the module doc).
 *
 * @param model the loaded model (its parameters' bytes and its config's dimensions are read)
 * @param shape the batch size, the longest input, target and prompt, recompute, labels
 * @param phase `"train"` (default) or `"eval"`
 * @returns the parameters' bytes (as held: with the step's copies), the step's, and their sum
 * @example
 * ```ts
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "../model/load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { estimatePeakBytes } from "./memory.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/gpt2_tiny"));
 * const shape = { batchSize: 8, inputLength: 16, targetLength: 4, promptLength: 6 };
 * const train = estimatePeakBytes(model, shape);
 * assert.equal(train.total, train.parameters + train.activations);
 * assert(estimatePeakBytes(model, { ...shape, batchSize: 16 }).total > train.total);
 * assert(estimatePeakBytes(model, { ...shape, recompute: "layer" }).total < train.total);
 * assert(estimatePeakBytes(model, shape, "eval").total < train.total);
 * disposeTree(model.params);
 * ```
 */
export function estimatePeakBytes(
  model: FrozenModel,
  shape: StepShape,
  phase: "train" | "eval" = "train",
): PeakEstimate {
  const d = dims(model);
  const b = shape.batchSize, labels = shape.labels ?? 1;
  const seq2seq = model.architecture === "t5";
  const passes = seq2seq ? labels : 1;
  // Target tokens per pass: T5's decoder's; a decoder-only model's, every label's (at most).
  const targets = Math.max(1, shape.targetLength) * (seq2seq ? 1 : labels);
  // The prompted sequence: T5's encoder input; a decoder-only model's input and targets.
  const w = shape.promptLength + shape.inputLength + (seq2seq ? 0 : targets);
  const s = seq2seq ? targets : 0; // T5's decoder sequence
  const tokens = b * w; // tokens through the prompted layers, per pass
  // The logits: T5's over its targets, a decoder-only model's at the targets only.
  const logits = b * targets * d.vocab;
  let values: number;
  if (phase === "eval") {
    // A forward pass in one tidy: every layer's output and cache until the end, one layer's
    // intermediates at a time, the logits once.
    const decoder = d.decoderLayers * b * s * heldPerToken(d);
    values = passes *
      (d.layers * tokens * heldPerToken(d) + tokens * layerPerToken(d, w) + decoder + logits);
  } else {
    // T5's decoder keeps everything; the recompute mode is the encoder's (or every layer's).
    const decoder = d.decoderLayers * b * s * keptPerToken(d, s + w);
    const kept = shape.recompute === "layer"
      ? d.layers * tokens * d.hidden + tokens * (keptPerToken(d, w) + layerPerToken(d, w)) // inputs, one layer
      : d.layers * tokens * keptPerToken(d, w) + tokens * layerPerToken(d, w);
    values = passes * (kept + decoder + LOGIT_COPIES * logits);
  }
  const parameters = Math.ceil(PARAM_COPIES * treeBytes(model.params));
  const activations = Math.ceil(SLACK * values * F32);
  return { parameters, activations, total: parameters + activations };
}

/**
 * The heap limit a check uses: the environment's {@link HEAP_LIMIT_ENV} when it is set and
 * readable (bytes; `0`: no check), else the WASM heap less {@link HEAP_MARGIN}.
 *
 * @returns bytes, or `Infinity` for no limit
 * @example
 * ```ts
 * import { HEAP_MARGIN, heapLimit, WASM_HEAP_BYTES } from "./memory.ts";
 * import assert from "node:assert/strict";
 * Deno.env.delete("SOFT_PROMPT_HEAP_LIMIT");
 * assert.equal(heapLimit(), WASM_HEAP_BYTES * (1 - HEAP_MARGIN));
 * Deno.env.set("SOFT_PROMPT_HEAP_LIMIT", "1000000");
 * assert.equal(heapLimit(), 1e6);
 * Deno.env.delete("SOFT_PROMPT_HEAP_LIMIT");
 * ```
 */
export function heapLimit(): number {
  const fallback = WASM_HEAP_BYTES * (1 - HEAP_MARGIN);
  let set: string | undefined;
  try {
    // Ask first: reading an environment variable without permission would prompt or throw.
    const query = Deno.permissions.querySync({ name: "env", variable: HEAP_LIMIT_ENV });
    if (query.state === "granted") set = Deno.env.get(HEAP_LIMIT_ENV);
  } catch {
    set = undefined;
  }
  if (set === undefined || set.trim() === "") return fallback;
  const n = Number(set);
  if (!Number.isFinite(n) || n < 0) return fallback;
  return n === 0 ? Infinity : n;
}

/**
 * Bytes as the messages write them: GiB with two decimals, MiB below one GiB.
 *
 * @param n bytes
 * @returns for example `"3.52 GiB"`
 * @example
 * ```ts
 * import { formatBytes } from "./memory.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatBytes(3.5 * 2 ** 30), "3.50 GiB");
 * assert.equal(formatBytes(5 * 2 ** 20), "5.0 MiB");
 * ```
 */
export function formatBytes(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : `${(n / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * What a check names as the ways to need less memory, in the caller's words (a CLI names its
 * config fields, a library its options).
 *
 * @example
 * ```ts
 * import type { Lowerable } from "./memory.ts";
 * import assert from "node:assert/strict";
 * const lower: Lowerable = ["train.batch_size (now 8)", "train.max_input_length (now 64)"];
 * assert.equal(lower.length, 2);
 * ```
 */
export type Lowerable = readonly string[];

/**
 * Checks an estimate against a limit: the problem, in one line with the estimate, the limit and
 * what to lower, when it is over.
 *
 * @param what the step estimated, e.g. `"One training step"`
 * @param estimate from {@link estimatePeakBytes}
 * @param lower what to lower, in the caller's words
 * @param limit bytes (default {@link heapLimit}())
 * @returns the problem, or undefined when the estimate fits
 * @example
 * ```ts
 * import { checkPeak } from "./memory.ts";
 * import { describeProblem } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const estimate = { parameters: 2 ** 30, activations: 4 * 2 ** 30, total: 5 * 2 ** 30 };
 * const p = checkPeak("One training step", estimate, ["train.batch_size (now 8)"], 3 * 2 ** 30);
 * assert.equal(
 *   describeProblem(p!),
 *   "One training step needs about 5.00 GiB of WASM heap (1.00 GiB of parameters), over the 3.00 GiB it can hold; lower train.batch_size (now 8)",
 * );
 * assert.equal(checkPeak("One training step", estimate, [], 6 * 2 ** 30), undefined);
 * ```
 */
export function checkPeak(
  what: string,
  estimate: PeakEstimate,
  lower: Lowerable,
  limit: number = heapLimit(),
): Problem | undefined {
  if (estimate.total <= limit) return undefined;
  return problem(
    "TooLarge",
    "",
    `${what} needs about ${formatBytes(estimate.total)} of WASM heap (${
      formatBytes(estimate.parameters)
    } of parameters), over the ${formatBytes(limit)} it can hold; lower ${lower.join(", ")}`,
  );
}

/**
 * Whether an error is the WASM engine running out of heap: `WebAssembly.Memory.grow()` failing,
 * an access out of bounds after a failed allocation, or Emscripten's `Aborted()`.
 *
 * @param e anything thrown
 * @returns true for a heap failure
 * @example
 * ```ts
 * import { isHeapExhausted } from "./memory.ts";
 * import assert from "node:assert/strict";
 * assert(isHeapExhausted(new WebAssembly.RuntimeError("memory access out of bounds")));
 * assert(isHeapExhausted(new RangeError("WebAssembly.Memory.grow(): Maximum memory size exceeded")));
 * assert(!isHeapExhausted(new RangeError("Batch inputIds has shape [2, 3]")));
 * ```
 */
export function isHeapExhausted(e: unknown): boolean {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return /WebAssembly\.Memory|memory access out of bounds|Aborted\(|Cannot enlarge memory|out of memory/i
    .test(text);
}

/**
 * Bytes the engine's tensors hold now (`tf.memory().numBytes`), or undefined where an aborted
 * engine cannot say.
 *
 * @returns bytes, or undefined
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { engineBytes } from "./memory.ts";
 * import assert from "node:assert/strict";
 * const t = tf.zeros([256]);
 * assert(engineBytes()! >= 1024);
 * t.dispose();
 * ```
 */
export function engineBytes(): number | undefined {
  try {
    return tf.memory().numBytes;
  } catch {
    return undefined;
  }
}

/**
 * The one-line problem for an exhausted WASM heap: what ran out, the numbers known, what to lower.
 *
 * @param inUse bytes the engine's tensors held when it failed (`tf.memory().numBytes`), if known
 * @param lower what to lower, in the caller's words
 * @returns the problem
 * @example
 * ```ts
 * import { heapProblem } from "./memory.ts";
 * import { describeProblem } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const p = heapProblem(3.5 * 2 ** 30, ["train.batch_size", "train.max_input_length"]);
 * assert.equal(
 *   describeProblem(p),
 *   "The WASM heap (4 GiB at most) ran out, with 3.50 GiB in tensors; lower train.batch_size, train.max_input_length",
 * );
 * ```
 */
export function heapProblem(inUse: number | undefined, lower: Lowerable): Problem {
  const held = inUse === undefined ? "" : `, with ${formatBytes(inUse)} in tensors`;
  return problem(
    "TooLarge",
    "",
    `The WASM heap (4 GiB at most) ran out${held}; lower ${lower.join(", ")}`,
  );
}
