/**
 * The heap check of an evaluation or decoding batch, before the first one runs: `eval`, `infer`
 * and `train`'s evaluations estimate one batch at `eval.batch_size` (with a beam search, every
 * beam is a row; with decoding, every new token a position of every row) and stop, in one line
 * with the estimate, the limit and what to lower, when it would not fit.
 *
 * @module
 */
import type { RunConfig } from "../config/mod.ts";
import type { FrozenModel } from "../model/load.ts";
import { checkPeak, estimatePeakBytes } from "../training/memory.ts";
import { Failure } from "./args.ts";

/**
 * What one evaluation batch is: rank scoring of `labels` label words, or decoding.
 *
 * @example
 * ```ts
 * import type { EvalBatch } from "./_memory.ts";
 * import assert from "node:assert/strict";
 * const b: EvalBatch = { method: "generate", promptLength: 20, inputLength: 64 };
 * assert.equal(b.labels, undefined);
 * ```
 */
export interface EvalBatch {
  /** `"rank"` (score the label words) or `"generate"` (decode as `decoding` says). */
  readonly method: "rank" | "generate";
  /** Prompt tokens (0: none). */
  readonly promptLength: number;
  /** Input tokens per example at most (default: `train.max_input_length`). */
  readonly inputLength?: number;
  /** Rank: the label words (default 1). */
  readonly labels?: number;
}

/**
 * Throws a one-line {@link Failure} when one evaluation or decoding batch would not fit the heap.
 *
 * @param model the loaded model
 * @param config the configuration (`eval.batch_size`, `train.max_input_length`,
 *   `train.max_target_length`, `decoding.*`)
 * @param batch what the batch does, and the prompt's and inputs' lengths
 * @param what the step named in the message (`"One evaluation batch"`, `"One decoding batch"`)
 * @returns when it fits; throws {@link Failure}
 * @example
 * ```ts
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "../model/load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { checkEvalMemory } from "./_memory.ts";
 * import { resolveRun } from "./_run_config.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/gpt2_tiny"));
 * const config = await resolveRun([], [
 *   "model=m", "task=glue/sst2", "prompt.length=4", "prompt.initializer.kind=sampled_vocab",
 *   "decoding.mode=beam", "decoding.num_beams=64", "decoding.max_length=8192", "eval.batch_size=4096",
 * ]);
 * checkEvalMemory(model, config, { method: "rank", promptLength: 4 }, "One evaluation batch", Infinity);
 * assert.throws(
 *   () => checkEvalMemory(model, config, { method: "generate", promptLength: 4 }, "One decoding batch"),
 *   /lower eval\.batch_size \(now 4096\), decoding\.num_beams \(now 64\), decoding\.max_length \(now 8192\)/,
 * );
 * disposeTree(model.params);
 * ```
 */
export function checkEvalMemory(
  model: FrozenModel,
  config: RunConfig,
  batch: EvalBatch,
  what: string,
  limit?: number,
): void {
  const beams = batch.method === "generate" && config.decoding.mode === "beam"
    ? config.decoding.num_beams
    : 1;
  const inputLength = batch.inputLength ?? config.train.max_input_length;
  const estimate = estimatePeakBytes(model, {
    batchSize: config.eval.batch_size * beams, // [B · K, …]: each beam is a row
    inputLength,
    targetLength: batch.method === "rank"
      ? config.train.max_target_length
      : config.decoding.max_length,
    promptLength: batch.promptLength,
    labels: batch.method === "rank" ? Math.max(1, batch.labels ?? 1) : 1,
  }, "eval");
  const lower = [
    `eval.batch_size (now ${config.eval.batch_size})`,
    ...(beams > 1 ? [`decoding.num_beams (now ${beams})`] : []),
    ...(batch.method === "generate"
      ? [`decoding.max_length (now ${config.decoding.max_length})`]
      : []),
    batch.inputLength === undefined
      ? `train.max_input_length (now ${config.train.max_input_length})`
      : `the inputs' length (the longest is ${inputLength} tokens; train.max_input_length cuts them)`,
  ];
  const tooLarge = limit === undefined
    ? checkPeak(what, estimate, lower)
    : checkPeak(what, estimate, lower, limit);
  if (tooLarge !== undefined) throw new Failure([tooLarge]);
}
