/**
 * Rank scoring: the log-likelihood of each label's tokens given the input (and the soft prompt),
 * the one computation behind both the rank-classification loss (`promptRankLoss`) and
 * rank-classification evaluation (`rankClassify`).
 *
 * Teacher forcing: T5 runs the encoder once and the decoder once per label (the label is the
 * decoder's target, from `decoder_start_token_id`); decoder-only models run once for all labels,
 * each label's tokens packed after the input as its continuation (`_packed_labels.ts`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { FrozenModel } from "./frozen.ts";
import type { Recompute } from "./kernels/recompute.ts";
import { type Combine, prefix, type PromptInput } from "./combine.ts";
import { sequenceLogLikelihood } from "./loss.ts";
import { packLayout, splitChoices } from "./_packed_labels.ts";
import {
  type CausalBatch,
  causalHead,
  causalHidden,
  embed,
  pickRows,
  type PromptBatch,
  promptedInputs,
  type Seq2SeqBatch,
  t5DecodeTargets,
  t5EncodeWithPrompt,
} from "./prompted.ts";

/**
 * Options of {@link labelScores}.
 *
 * @example
 * ```ts
 * import type { LabelScoreOptions } from "./label_scores.ts";
 * import { prefixAfterBos } from "./combine.ts";
 * import assert from "node:assert/strict";
 * const options: LabelScoreOptions = { combine: prefixAfterBos, lengthNormalize: true };
 * assert.equal(options.lengthNormalize, true);
 * ```
 */
export interface LabelScoreOptions {
  /** Where the prompt goes in each input; default {@link prefix}. */
  readonly combine?: Combine;
  /** Score a label by its mean token log-likelihood instead of the sum (default false). */
  readonly lengthNormalize?: boolean;
  /** The label of positions that are not the label's tokens; default -100. */
  readonly ignoreIndex?: number;
  /** What the backward pass keeps of T5's encoder (see `ObjectiveOptions`); default `"none"`. */
  readonly recompute?: Recompute;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Each label's score for each example: the sum (or, length-normalized, the mean) of the
 * log-probabilities of its tokens given the input and the prompt. Differentiable in the prompt;
 * call it inside a `tf.tidy`. The batches are not checked here (see `checkBatch`).
 *
 * @param model a loaded frozen model
 * @param prompt `[P, H]` float32, one per row (`MixedPrompts`), or undefined for the frozen model
 *   alone
 * @param choices one batch per label, in label order, with the same inputs (see `collateChoices`):
 *   T5 batches with the label as target, decoder-only ones with labels at the label's tokens
 * @param options the combine, length normalization, the ignored label, recompute
 * @returns `[B, C]` float32 scores, `C` the number of labels
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "./load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { collateChoices } from "../data/batch.ts";
 * import { labelScores } from "./label_scores.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/gpt2_tiny"));
 * const choices = collateChoices(model, [[5, 6], [7]], [[30], [31, 40]]);
 * const scores = tf.tidy(() => labelScores(model, undefined, choices));
 * const [a, b] = scores.arraySync() as number[][];
 * assert.equal(a.length, 2); // [B = 2, C = 2]
 * assert(a.every((s) => s < 0) && b.every((s) => s < 0)); // log-likelihoods
 * tf.dispose([scores, ...choices.flatMap((c) => Object.values(c))]);
 * disposeTree(model.params);
 * ```
 */
export function labelScores(
  model: FrozenModel,
  prompt: PromptInput | undefined,
  choices: readonly PromptBatch[],
  options: LabelScoreOptions = {},
): tf.Tensor {
  const combine = options.combine ?? prefix;
  const ignore = options.ignoreIndex ?? -100;
  const recompute = options.recompute ?? "none";
  const score = (logits: tf.Tensor, labels: tf.Tensor) =>
    sequenceLogLikelihood(logits, labels, {
      ignoreIndex: ignore,
      lengthNormalize: options.lengthNormalize,
    }); // [B]
  if (model.architecture === "t5") {
    const targets = choices as readonly Seq2SeqBatch[];
    const encoded = t5EncodeWithPrompt(model, targets[0], prompt, combine, recompute);
    return tf.stack(
      targets.map((choice) => {
        const out = t5DecodeTargets(model, encoded.states, encoded.mask, choice, ignore);
        return score(out.logits, out.labels);
      }),
      1,
    ); // [B, C]
  }
  return packedScores(model, prompt, choices as readonly CausalBatch[], combine, recompute, {
    ignore,
    score,
  });
}

/** A decoder-only model's scores: every label packed after the input, one pass. */
function packedScores(
  model: FrozenModel,
  prompt: PromptInput | undefined,
  choices: readonly CausalBatch[],
  combine: Combine,
  recompute: Recompute,
  how: { ignore: number; score: (logits: tf.Tensor, labels: tf.Tensor) => tf.Tensor },
): tf.Tensor {
  const host = choices.map((c) => {
    const [b, t] = c.inputIds.shape as number[];
    if (c.labels === undefined) throw new TypeError("labelScores: a choice batch has no labels");
    return {
      ids: c.inputIds.dataSync(),
      mask: c.inputMask.dataSync(),
      labels: c.labels.dataSync(),
      b,
      t,
    };
  });
  const split = splitChoices(host, how.ignore);
  const b = host[0].b, t = split.inputLength;
  const input = {
    inputIds: tf.tensor2d(split.inputIds, [b, t], "int32"),
    inputMask: tf.tensor2d(split.inputMask, [b, t], "int32"),
  };
  const prompted = promptedInputs(model, prompt, input, combine); // [B, W, H]
  const [, w, h] = prompted.embeds.shape as number[];
  const layout = packLayout(prompted.mask.dataSync(), b, w, split.labels, how.ignore);
  const s = layout.length, extra = s - w;
  const embeds = extra === 0 ? prompted.embeds : tf.concat([
    prompted.embeds,
    embed(model, tf.tensor2d(layout.blockIds, [b, extra], "int32")),
  ], 1); // [B, S, H]
  const { hidden } = causalHidden(model, {
    inputsEmbeds: embeds,
    positionIds: tf.tensor2d(layout.positions, [b, s], "int32"),
    attentionBias: (window) => tf.tensor4d(layout.bias(window), [b, 1, s, s]),
    recompute,
  }); // [B, S, H]
  const rows = Int32Array.from(layout.last, (j, i) => i * s + j);
  const lastHidden = pickRows(tf.reshape(hidden, [b * s, h]), rows); // [B, H]
  const read = extra === 0
    ? tf.reshape(lastHidden, [b, 1, h])
    : tf.concat([tf.reshape(lastHidden, [b, 1, h]), tf.slice(hidden, [0, w, 0], [b, extra, h])], 1); // [B, 1 + S − W, H]
  const logits = causalHead(model, read); // [B, 1 + S − W, V]
  const v = logits.shape[2] as number;
  const first = tf.slice(logits, [0, 0, 0], [b, 1, v]); // [B, 1, V]: every label's first token
  return tf.stack(
    layout.blocks.map(({ offset, width, targets }) => {
      const scored = width === 1
        ? first
        : tf.concat([first, tf.slice(logits, [0, 1 + offset, 0], [b, width - 1, v])], 1); // [B, L_c, V]
      return how.score(scored, tf.tensor2d(targets, [b, width], "int32"));
    }),
    1,
  ); // [B, C]
}
