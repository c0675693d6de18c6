/**
 * The training objective of a prompt as the loop takes it: token examples collated into batches,
 * the loss of a prompt on a batch (the token loss or the rank-classification loss), and a
 * batch's token count. `tunePrompt` trains with it, and the command line's validation loss is it.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { FrozenModel } from "../model/frozen.ts";
import { collateExamples, collateRank, type RankBatch, type TokenExample } from "../data/batch.ts";
import type { PromptBatch } from "../model/prompted.ts";
import { type ObjectiveOptions, promptLoss } from "./objective.ts";
import { promptRankLoss } from "./rank_objective.ts";

/**
 * A batch `tunePrompt` trains on: token-loss batches, or rank batches when `rank` is given.
 *
 * @example
 * ```ts
 * import { collateRank } from "../data/batch.ts";
 * import { disposeTensors } from "./evaluate.ts";
 * import type { TuneBatch } from "./prompt_objective.ts";
 * import assert from "node:assert/strict";
 * const example = { inputIds: [5, 1], targetIds: [31, 1] };
 * const b: TuneBatch = collateRank({ architecture: "t5" }, [example], [[30, 1], [31, 1]]);
 * // A rank batch: the input once per label, and the index of the example's label.
 * assert("choices" in b && b.choices.length === 2 && b.labels.dataSync()[0] === 1);
 * disposeTensors(b);
 * ```
 */
export type TuneBatch = PromptBatch | RankBatch;

/**
 * What a training objective needs (and `tunePrompt` takes among its options): the loss options,
 * the rank loss's labels (absent: the token loss) and the padding id.
 *
 * @example
 * ```ts
 * import type { PromptObjectiveOptions } from "./prompt_objective.ts";
 * import assert from "node:assert/strict";
 * const options: PromptObjectiveOptions = { rank: { classes: [[30, 1], [31, 1]] }, padId: 0 };
 * assert(options.rank?.classes.length === 2);
 * ```
 */
export interface PromptObjectiveOptions {
  /** How the prompt meets the input, and loss options (label smoothing, z-loss). */
  readonly objective?: ObjectiveOptions;
  /**
   * Train with the rank-classification loss (`promptRankLoss`) instead of the token loss: the
   * token ids of each label, in order (every training target must be one of them), and whether
   * the label scores are length-normalized.
   */
  readonly rank?: {
    readonly classes: readonly (readonly number[])[];
    readonly lengthNormalize?: boolean;
  };
  /** Padding id for batches (default 0). */
  readonly padId?: number;
}

/** The sum of an int32 mask's entries, read on the host. */
const maskSum = (mask: tf.Tensor): number =>
  (mask.dataSync() as Int32Array).reduce((a, x) => a + x, 0);

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * The tokens of a batch: its input mask's ones, plus its target mask's for an encoder-decoder
 * batch. Counted on the host from the masks `collateExamples` made (a count on the device, then a
 * synchronous read, fails on WebGPU in Deno, which cannot read device memory synchronously), so
 * call it before the batch is used.
 *
 * @param batch a batch from `collateExamples` (or a rank batch's first choice)
 * @returns the number of real (unpadded) tokens
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { collateExamples } from "../data/batch.ts";
 * import { countBatchTokens } from "./prompt_objective.ts";
 * import assert from "node:assert/strict";
 * const batch = collateExamples({ architecture: "t5" }, [
 *   { inputIds: [5, 6, 1], targetIds: [7, 1] },
 *   { inputIds: [5, 1], targetIds: [1] },
 * ]);
 * assert.equal(countBatchTokens(batch), 8); // 3 + 2 inputs, 2 + 1 targets
 * tf.dispose(Object.values(batch));
 * ```
 */
export function countBatchTokens(batch: PromptBatch): number {
  return maskSum(batch.inputMask) + ("targetMask" in batch ? maskSum(batch.targetMask) : 0);
}

/**
 * The training objective as the loop takes it: how examples become a batch, the loss of a prompt
 * on a batch, and a batch's token count. With `rank`, `collateRank` and `promptRankLoss`;
 * else `collateExamples` and `promptLoss`. `tunePrompt` trains with it; a validation
 * loss made with it (`lossEvaluator`) is the training loss.
 *
 * @param model the frozen model
 * @param options loss options, the rank loss's labels, the padding id
 * @returns `{ collate, loss, countTokens }`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "../model/load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { disposeTensors } from "./evaluate.ts";
 * import { promptObjective } from "./prompt_objective.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/t5_v1_1"));
 * const { collate, loss, countTokens } = promptObjective(model, { rank: { classes: [[30, 1], [31, 1]] } });
 * const batch = collate([{ inputIds: [5, 6, 1], targetIds: [31, 1] }]);
 * const prompt = tf.zeros([2, 32]);
 * const value = loss(prompt, batch);
 * assert(value.dataSync()[0] > 0 && countTokens(batch) === 5);
 * tf.dispose([prompt, value]);
 * disposeTensors(batch);
 * disposeTree(model.params);
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
export function promptObjective(
  model: FrozenModel,
  options: PromptObjectiveOptions = {},
): {
  collate: (examples: readonly TokenExample[]) => TuneBatch;
  loss: (prompt: tf.Tensor, batch: TuneBatch) => tf.Scalar;
  countTokens: (batch: TuneBatch) => number;
} {
  const { objective, rank, padId } = options;
  const tokens = countBatchTokens;
  if (rank === undefined) {
    return {
      collate: (examples) => collateExamples(model, examples, { padId }),
      loss: (prompt, batch) => promptLoss(model, batch as PromptBatch, objective)(prompt),
      countTokens: (batch) => tokens(batch as PromptBatch),
    };
  }
  const rankOptions = { ...objective, lengthNormalize: rank.lengthNormalize };
  return {
    collate: (examples) => collateRank(model, examples, rank.classes, { padId }),
    loss: (prompt, batch) => promptRankLoss(model, batch as RankBatch, rankOptions)(prompt),
    countTokens: (batch) => tokens((batch as RankBatch).choices[0]),
  };
}
