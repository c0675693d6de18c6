/**
 * Token examples padded into batches: for the token loss (`promptLoss`) and for the
 * rank-classification loss (`promptRankLoss`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { FrozenModel } from "../model/load.ts";
import type { PromptBatch } from "./objective.ts";
import type { RankBatch } from "./rank_objective.ts";

/**
 * One training example as token ids: the model's input and the target it should produce.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { collateExamples, type TokenExample } from "./collate.ts";
 * import assert from "node:assert/strict";
 * const example: TokenExample = { inputIds: [5, 6, 2], targetIds: [7, 2] };
 * const b = collateExamples({ architecture: "gpt2" }, [example]);
 * // Decoder-only: one sequence, trained only on the target tokens.
 * assert(b.inputIds.dataSync().join() === "5,6,2,7,2");
 * assert("labels" in b && b.labels?.dataSync().join() === "-100,-100,-100,7,2");
 * tf.dispose(Object.values(b));
 * ```
 */
export interface TokenExample {
  /** Input ids, special tokens included (T5: ending with EOS). */
  readonly inputIds: readonly number[];
  /** Target ids, special tokens included (T5: ending with EOS). */
  readonly targetIds: readonly number[];
}

/**
 * Options of {@link collateExamples}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { type CollateOptions, collateExamples } from "./collate.ts";
 * import assert from "node:assert/strict";
 * const options: CollateOptions = { padId: 9 };
 * const examples = [{ inputIds: [5, 1], targetIds: [1] }, { inputIds: [1], targetIds: [1] }];
 * const b = collateExamples({ architecture: "t5" }, examples, options);
 * // Padding uses id 9 and is masked out.
 * assert(b.inputIds.dataSync().join() === "5,1,1,9");
 * assert(b.inputMask.dataSync().join() === "1,1,1,0");
 * tf.dispose(Object.values(b));
 * ```
 */
export interface CollateOptions {
  /** The id used for padding (masked out either way); default 0. */
  readonly padId?: number;
}

function padRows(rows: readonly (readonly number[])[], width: number, pad: number): Int32Array {
  const out = new Int32Array(rows.length * width).fill(pad);
  rows.forEach((r, i) => out.set(r.slice(0, width), i * width));
  return out;
}

function maskRows(rows: readonly (readonly number[])[], width: number): Int32Array {
  const out = new Int32Array(rows.length * width);
  rows.forEach((r, i) => out.fill(1, i * width, i * width + Math.min(r.length, width)));
  return out;
}

/**
 * Pads token examples into a batch for {@link promptLoss}, right-padded. Encoder-decoder models get
 * `{inputIds, inputMask, targetIds, targetMask}`; decoder-only models get the input followed by the
 * target, with labels `-100` everywhere but the target tokens.
 *
 * @param model the frozen model (only its architecture is read)
 * @param examples the examples of one batch
 * @param options the padding id
 * @returns the batch; the caller disposes its tensors
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { collateExamples } from "./collate.ts";
 * import assert from "node:assert/strict";
 * const model = { architecture: "gpt2" } as Parameters<typeof collateExamples>[0];
 * const b = collateExamples(model, [{ inputIds: [5, 6], targetIds: [7] }, { inputIds: [5], targetIds: [8, 9] }]);
 * assert(b.inputIds.shape.join() === "2,3");
 * tf.dispose(Object.values(b));
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
export function collateExamples(
  model: Pick<FrozenModel, "architecture">,
  examples: readonly TokenExample[],
  options: CollateOptions = {},
): PromptBatch {
  const pad = options.padId ?? 0;
  const b = examples.length;
  if (model.architecture === "t5") {
    const inputs = examples.map((e) => e.inputIds), targets = examples.map((e) => e.targetIds);
    const t = Math.max(1, ...inputs.map((r) => r.length));
    const s = Math.max(1, ...targets.map((r) => r.length));
    return {
      inputIds: tf.tensor2d(padRows(inputs, t, pad), [b, t], "int32"), // [B, T]
      inputMask: tf.tensor2d(maskRows(inputs, t), [b, t], "int32"),
      targetIds: tf.tensor2d(padRows(targets, s, pad), [b, s], "int32"), // [B, S]
      targetMask: tf.tensor2d(maskRows(targets, s), [b, s], "int32"),
    };
  }
  const joined = examples.map((e) => [...e.inputIds, ...e.targetIds]);
  const t = Math.max(1, ...joined.map((r) => r.length));
  const labels = new Int32Array(b * t).fill(-100);
  examples.forEach((e, i) => labels.set(e.targetIds, i * t + e.inputIds.length));
  return {
    inputIds: tf.tensor2d(padRows(joined, t, pad), [b, t], "int32"), // [B, T]
    inputMask: tf.tensor2d(maskRows(joined, t), [b, t], "int32"),
    labels: tf.tensor2d(labels, [b, t], "int32"),
  };
}

const sameIds = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Pads token examples into a batch for `promptRankLoss`: the inputs once per label (each with
 * that label's tokens as target, as {@link collateExamples} pads them) and, for each example, the
 * index of the label its `targetIds` equal.
 *
 * @param model the frozen model (only its architecture is read)
 * @param examples the examples of one batch; each target must be one of `classes`
 * @param classes the token ids of each label (as the examples' targets are tokenized), in order
 * @param options the padding id
 * @returns the batch; the caller disposes its tensors
 * @throws {RangeError} when an example's target is none of the labels
 * @example
 * ```ts
 * import { disposeTensors } from "./evaluate.ts";
 * import { collateRank } from "./collate.ts";
 * import assert from "node:assert/strict";
 * const classes = [[30, 1], [31, 1]];
 * const examples = [{ inputIds: [5, 1], targetIds: [31, 1] }, { inputIds: [6, 1], targetIds: [30, 1] }];
 * const b = collateRank({ architecture: "t5" }, examples, classes);
 * assert(b.choices.length === 2 && b.labels.dataSync().join() === "1,0");
 * disposeTensors(b);
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
export function collateRank(
  model: Pick<FrozenModel, "architecture">,
  examples: readonly TokenExample[],
  classes: readonly (readonly number[])[],
  options: CollateOptions = {},
): RankBatch {
  const labels = examples.map((e, i) => {
    const k = classes.findIndex((c) => sameIds(c, e.targetIds));
    if (k < 0) {
      throw new RangeError(
        `Example ${i} of the batch has target ids [${
          e.targetIds.join(", ")
        }], none of the ${classes.length} labels'; rank-classification training needs label targets`,
      );
    }
    return k;
  });
  const choices = classes.map((c) =>
    collateExamples(model, examples.map((e) => ({ inputIds: e.inputIds, targetIds: c })), options)
  );
  return { choices, labels: tf.tensor1d(labels, "int32") }; // labels [B]
}
