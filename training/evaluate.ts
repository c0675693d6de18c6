/**
 * Evaluation during training: the contract an evaluation function follows, a ready-made one
 * that averages the training loss over a validation split, and the comparison early stopping
 * uses.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Key } from "../random/mod.ts";

/**
 * What a loss or an evaluation is told about the moment it runs.
 *
 * @example
 * ```ts
 * import { key } from "../random/mod.ts";
 * import type { StepContext } from "./evaluate.ts";
 * import assert from "node:assert/strict";
 * const c: StepContext = { step: 1, key: key(1), training: true };
 * assert(c.training);
 * ```
 */
export interface StepContext {
  /** In training, the step being taken (1 for the first); in evaluation, the steps done. */
  readonly step: number;
  /**
   * A key for randomness inside the loss (dropout, sampling), derived from the run's key and the
   * step: the same on a resumed run. Unused by deterministic losses.
   */
  readonly key: Key;
  /** True for a training step, false in evaluation. */
  readonly training: boolean;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * An evaluation: metrics of a prompt on validation examples. It must not dispose the prompt and
 * must dispose every tensor it makes.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import type { Evaluate } from "./evaluate.ts";
 * import assert from "node:assert/strict";
 * // The share of examples equal to the prompt's rounded sum.
 * const accuracy: Evaluate<number> = async (prompt, examples) => {
 *   const sum = tf.sum(prompt);
 *   const guess = Math.round((await sum.data())[0]);
 *   sum.dispose();
 *   return { accuracy: examples.filter((x) => x === guess).length / examples.length };
 * };
 * const p = tf.ones([1, 2]);
 * const r = await accuracy(p, [2, 2, 3, 1], { step: 5, key: key(0), training: false });
 * assert(r.accuracy === 0.5);
 * p.dispose();
 * ```
 */
export type Evaluate<Ex> = (
  prompt: tf.Tensor,
  examples: readonly Ex[],
  context: StepContext,
) => Promise<Record<string, number>>;

/**
 * Options of {@link lossEvaluator}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import { lossEvaluator, type LossEvaluatorOptions } from "./evaluate.ts";
 * import assert from "node:assert/strict";
 * let freed = 0;
 * const options: LossEvaluatorOptions<number, tf.Tensor> = {
 *   loss: (p, b) => tf.mean(tf.abs(tf.sub(tf.sum(p), b))),
 *   collate: (xs) => tf.tensor1d([...xs]),
 *   disposeBatch: (b) => {
 *     b.dispose();
 *     freed++;
 *   },
 *   batchSize: 3,
 * };
 * const p = tf.zeros([1, 1]);
 * const context = { step: 0, key: key(0), training: false };
 * const r = await lossEvaluator(options)(p, [1, 2, 3, 4], context);
 * assert(freed === 2 && r.loss === 2.5); // batches [1, 2, 3] and [4]: (2·3 + 4·1) / 4
 * p.dispose();
 * ```
 */
export interface LossEvaluatorOptions<Ex, B> {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** The loss, as given to the training loop. */
  readonly loss: (prompt: tf.Tensor, batch: B, context: StepContext) => tf.Scalar;
  /** Makes a batch from examples. */
  readonly collate: (examples: readonly Ex[]) => B;
  /** Frees a batch (default: disposes every tensor found in it). */
  readonly disposeBatch?: (batch: B) => void;
  /** Examples per batch (a positive integer; the last batch may be smaller). */
  readonly batchSize: number;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * An evaluation that reports `{ loss }`: the loss over the validation examples in order, batch by
 * batch, averaged with each batch weighted by its number of examples.
 *
 * @param options the loss, how to batch, the batch size
 * @returns the evaluation
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import { lossEvaluator } from "./evaluate.ts";
 * import assert from "node:assert/strict";
 * const evaluate = lossEvaluator({
 *   loss: (p: tf.Tensor, b: tf.Tensor) => tf.mean(tf.square(tf.sub(tf.sum(p), b))),
 *   collate: (xs: readonly number[]) => tf.tensor1d([...xs]),
 *   batchSize: 2,
 * });
 * const p = tf.zeros([1, 1]);
 * const r = await evaluate(p, [1, 1, 4], { step: 0, key: key(0), training: false });
 * assert(r.loss === 6); // (1 + 1 + 16) / 3
 * p.dispose();
 * ```
 */
export function lossEvaluator<Ex, B>(options: LossEvaluatorOptions<Ex, B>): Evaluate<Ex> {
  const { batchSize } = options;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`Evaluation batch size is ${batchSize}; expected a positive integer`);
  }
  const dispose = options.disposeBatch ?? disposeTensors;
  return async (prompt, examples, context) => {
    let sum = 0;
    for (let i = 0; i < examples.length; i += batchSize) {
      const part = examples.slice(i, i + batchSize);
      const batch = options.collate(part);
      let value: tf.Scalar;
      try {
        value = tf.tidy(() => options.loss(prompt, batch, context));
      } finally {
        dispose(batch);
      }
      const v = (await value.data())[0];
      value.dispose();
      sum += v * part.length;
    }
    return { loss: examples.length > 0 ? sum / examples.length : NaN };
  };
}

/**
 * Disposes every tensor in a value (a tensor, or arrays and plain objects holding tensors); other
 * values are left alone. The default `disposeBatch`.
 *
 * @param value the batch
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { disposeTensors } from "./evaluate.ts";
 * import assert from "node:assert/strict";
 * const before = tf.memory().numTensors;
 * disposeTensors({ ids: tf.ones([2, 3], "int32"), tokens: 6, rows: [tf.zeros([1])] });
 * assert(tf.memory().numTensors === before);
 * ```
 */
export function disposeTensors(value: unknown): void {
  if (value instanceof tf.Tensor) value.dispose();
  else if (Array.isArray(value)) value.forEach(disposeTensors);
  else if (typeof value === "object" && value !== null) {
    Object.values(value).forEach(disposeTensors);
  }
}

/**
 * Whether a metric value improves on the best so far. NaN never improves; anything finite
 * improves on nothing.
 *
 * @param value the new value
 * @param best the best so far, or null
 * @param mode `"min"` (a loss) or `"max"` (an accuracy)
 * @returns true when strictly better
 * @example
 * ```ts
 * import { improves } from "./evaluate.ts";
 * import assert from "node:assert/strict";
 * assert(improves(0.5, 0.7, "min") && !improves(0.5, 0.7, "max"));
 * assert(improves(1, null, "min") && !improves(NaN, null, "min"));
 * ```
 */
export function improves(value: number, best: number | null, mode: "min" | "max"): boolean {
  if (Number.isNaN(value)) return false;
  if (best === null) return true;
  return mode === "min" ? value < best : value > best;
}
