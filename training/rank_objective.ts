/**
 * The rank-classification loss of a soft prompt: each label's token sequence is scored by its
 * log-likelihood given the input and the prompt (`labelScores`, as `eval/rank.ts` scores it at
 * evaluation), and the loss is the cross-entropy of a softmax over those scores, i.e. over the
 * label words only.
 *
 * The usual loss (`promptLoss`) is the cross-entropy over the whole vocabulary at each target
 * token: most of its gradient first teaches the frozen model to say the label words at all. This
 * one only asks that the right label outscores the others, which is what rank classification
 * measures; on a small model it learns in far fewer steps. Neither the original T5X code nor PEFT
 * train this way (both use the token loss).
 *
 * Encoder-decoder models run the encoder once per batch and the decoder once per label;
 * decoder-only models run once, every label packed after the input as its continuation.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { FrozenModel } from "../model/frozen.ts";
import { checkBatch, checkPrompt, checkSame, shapeText } from "../model/prompted.ts";
import { labelScores } from "../model/label_scores.ts";
import { classCrossEntropy } from "../model/loss.ts";
import type { RankBatch } from "../data/batch.ts";
import type { ObjectiveOptions, OfPrompt } from "./objective.ts";

/**
 * Options of {@link promptRankLoss}: the objective's, and length normalization of the scores.
 *
 * @example
 * ```ts
 * import type { RankObjectiveOptions } from "./rank_objective.ts";
 * import assert from "node:assert/strict";
 * const options: RankObjectiveOptions = { lengthNormalize: true };
 * assert(options.lengthNormalize);
 * ```
 */
export interface RankObjectiveOptions extends ObjectiveOptions {
  /** Score a label by its mean token log-likelihood instead of the sum (default false). */
  readonly lengthNormalize?: boolean;
}

function checkRankBatch(model: FrozenModel, batch: RankBatch): void {
  if (batch.choices.length < 2) {
    throw new RangeError(
      `Rank batch has ${batch.choices.length} choices; expected one per label, at least 2`,
    );
  }
  const first = batch.choices[0];
  batch.choices.forEach((choice, c) => {
    checkBatch(model, choice, true);
    if (c > 0 && model.architecture === "t5") {
      checkSame(choice.inputIds, first.inputIds, `choices[${c}].inputIds`, "choices[0].inputIds");
    }
  });
  const rows = first.inputIds.shape[0];
  if (batch.labels.dtype !== "int32" || batch.labels.rank !== 1 || batch.labels.shape[0] !== rows) {
    throw new TypeError(
      `Rank batch labels are ${batch.labels.dtype} ${
        shapeText(batch.labels)
      }; expected int32 [${rows}] (a label index per example)`,
    );
  }
  const m = batch.labelMask, c = batch.choices.length;
  if (m !== undefined && (m.dtype !== "int32" || m.shape.join() !== `${rows},${c}`)) {
    throw new TypeError(
      `Rank batch labelMask is ${m.dtype} ${shapeText(m)}; expected int32 [${rows}, ${c}]`,
    );
  }
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * The rank-classification loss of a prompt on one batch, as a function of the prompt: the mean
 * over examples of `logsumexp_c s_c − s_y`, where `s_c` is the log-likelihood of label `c`'s
 * tokens (summed, or averaged with `lengthNormalize`) and `y` the example's label. Label
 * smoothing and z-loss do not apply. The batch is checked now.
 *
 * @param model a loaded frozen model (its tree is not copied or modified)
 * @param batch the inputs once per label, and each example's label
 * @param options the combine (default `prefix`), recompute, length normalization
 * @returns `(prompt [P, H]) => loss`, a new scalar each call
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "../model/load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { disposeTensors } from "./evaluate.ts";
 * import { collateRank } from "../data/batch.ts";
 * import { promptRankLoss } from "./rank_objective.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/t5_v1_1"));
 * const classes = [[30, 1], [31, 1]];
 * const batch = collateRank(model, [{ inputIds: [5, 6, 1], targetIds: [31, 1] }], classes);
 * const prompt = tf.zeros([2, 32]); // [P, H]: the fixture is 32 wide
 * const loss = promptRankLoss(model, batch)(prompt);
 * assert(loss.rank === 0 && loss.dataSync()[0] > 0);
 * tf.dispose([prompt, loss]);
 * disposeTensors(batch);
 * disposeTree(model.params);
 * ```
 */
export function promptRankLoss(
  model: FrozenModel,
  batch: RankBatch,
  options: RankObjectiveOptions = {},
): OfPrompt<tf.Scalar> {
  checkRankBatch(model, batch);
  const scoring = {
    combine: options.combine,
    lengthNormalize: options.lengthNormalize,
    ignoreIndex: options.lossOptions?.ignoreIndex,
    recompute: options.recompute,
  };
  return (prompt) => {
    checkPrompt(model, prompt);
    return tf.tidy(() => {
      const scores = labelScores(model, prompt, batch.choices, scoring); // [B, C]
      if (batch.labelMask === undefined) return classCrossEntropy(scores, batch.labels);
      // Another task's label is no choice of the row: its score drops out of the softmax.
      const own = tf.notEqual(batch.labelMask, 0); // [B, C]
      return classCrossEntropy(tf.where(own, scores, tf.fill(scores.shape, -1e9)), batch.labels);
    });
  };
}
