/**
 * Rank classification: score each label's words as the continuation of the input (with the soft
 * prompt) and pick the most likely label, as T5's `rank_classification` evaluation does.
 *
 * Per batch of examples the inputs are padded once per label, with that label as target
 * (`collateChoices`), and scored by `labelScores`, the computation the rank-classification loss
 * (`promptRankLoss`) trains: teacher forcing, T5's encoder once and its decoder once per label,
 * a decoder-only model once, every label packed after the input as its continuation.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type FrozenModel, vocabSize } from "../model/frozen.ts";
import type { Combine, PromptInput } from "../model/combine.ts";
import { checkPrompt } from "../model/prompted.ts";
import { checkPromptRows, slicePromptRows } from "../model/mixed.ts";
import { labelScores } from "../model/label_scores.ts";
import { specialIds } from "../decode/options.ts";
import { checkBatchSize, checkRows, collateChoices } from "../data/batch.ts";
import { yielder } from "./_yield.ts";

/**
 * Options of {@link rankClassify}.
 *
 * @example
 * ```ts
 * import type { RankOptions } from "./rank.ts";
 * import assert from "node:assert/strict";
 * const options: RankOptions = { lengthNormalize: true, batchSize: 8 };
 * assert(options.lengthNormalize);
 * ```
 */
export interface RankOptions {
  /** Divide each label's log-likelihood by its number of tokens (default false: the sum). */
  readonly lengthNormalize?: boolean;
  /** Examples per forward pass (each makes one row per label); default 16. */
  readonly batchSize?: number;
  /**
   * Where the prompt goes (default `prefix`). Decoder-only models read the input followed by the
   * label, and the combine places the prompt in that sequence as the rank loss does in training
   * (`prefix` and `prefixAfterBos` put it in the input).
   */
  readonly combine?: Combine;
  /** The padding id of batches; default the model's. */
  readonly padTokenId?: number;
}

/**
 * One example's ranking.
 *
 * @example
 * ```ts
 * import type { RankedExample } from "./rank.ts";
 * import assert from "node:assert/strict";
 * const r: RankedExample = { scores: [-3.2, -0.4], predicted: 1 };
 * assert(r.scores[r.predicted] === Math.max(...r.scores));
 * ```
 */
export interface RankedExample {
  /** Per label: the sum (or, length-normalized, the mean) of its tokens' log-probabilities. */
  readonly scores: readonly number[];
  /** The label with the highest score (the first one on ties). */
  readonly predicted: number;
}

function checkLabels(labelWords: readonly (readonly number[])[], vocab: number): void {
  if (labelWords.length === 0) {
    throw new RangeError("Rank classification: no labels; expected the token ids of each label");
  }
  labelWords.forEach((words, l) => {
    if (words.length === 0) {
      throw new RangeError(`Rank classification: label ${l} has no tokens; expected at least one`);
    }
    words.forEach((id, j) => {
      if (!Number.isInteger(id) || id < 0 || id >= vocab) {
        throw new RangeError(
          `Rank classification: label ${l}, token ${j} is ${id}; expected an integer in [0, ${vocab})`,
        );
      }
    });
  });
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Rank classification: for every example, the log-likelihood of each label's tokens given the
 * input (and the prompt), and the label that scores highest. T5 scores the label as the decoder's
 * target (from `decoder_start_token_id`; give the label words with the EOS when the model was
 * tuned with it); decoder-only models score it as the continuation of the input.
 *
 * @param model a loaded frozen model
 * @param prompt `[P, H]` soft prompt, one per example (`MixedPrompts`), or undefined for the
 *   frozen model alone
 * @param examples the inputs' token ids, one list per example (not empty)
 * @param labelWords the token ids of each label, in label order (not empty)
 * @param options length normalization, batch size, combine and padding id
 * @returns one {@link RankedExample} per example, in order
 * @throws {RangeError} or {TypeError} for empty or invalid ids, a bad batch size or prompt
 * @example
 * ```ts
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "../model/load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { rankClassify } from "./rank.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/t5_v1_1"));
 * const ranked = await rankClassify(model, undefined, [[5, 6, 1], [7, 1]], [[30, 1], [31, 1]]);
 * assert(ranked.length === 2 && ranked[0].scores.length === 2);
 * disposeTree(model.params);
 * ```
 */
export async function rankClassify(
  model: FrozenModel,
  prompt: PromptInput | undefined,
  examples: readonly (readonly number[])[],
  labelWords: readonly (readonly number[])[],
  options: RankOptions = {},
): Promise<RankedExample[]> {
  const vocab = vocabSize(model);
  const batchSize = options.batchSize ?? 16;
  checkBatchSize(batchSize, "Rank classification");
  checkLabels(labelWords, vocab);
  const pad = options.padTokenId ?? specialIds(model).padTokenId;
  checkPromptRows(prompt, examples.length, "Rank classification");
  const l = labelWords.length;
  const out: RankedExample[] = [];
  const pause = yielder();
  for (let start = 0; start < examples.length; start += batchSize) {
    await pause(); // lets a Ctrl-C listener run
    const inputs = examples.slice(start, start + batchSize);
    checkRows(inputs, vocab, "Rank classification: example", start);
    if (prompt !== undefined) checkPrompt(model, prompt, "decoding");
    const rowsPrompt = prompt && slicePromptRows(prompt, start, start + inputs.length);
    const choices = collateChoices(model, inputs, labelWords, { padId: pad });
    let values: Float32Array;
    try {
      const scores = tf.tidy(() =>
        labelScores(model, rowsPrompt, choices, {
          combine: options.combine,
          lengthNormalize: options.lengthNormalize,
        })
      ); // [n, L]
      values = await scores.data() as Float32Array;
      scores.dispose();
    } finally {
      tf.dispose(choices.flatMap((c) => Object.values(c)));
    }
    inputs.forEach((_, i) => {
      const scores = Array.from(values.subarray(i * l, i * l + l));
      let predicted = 0;
      scores.forEach((v, k) => {
        if (v > scores[predicted]) predicted = k;
      });
      out.push({ scores, predicted });
    });
  }
  return out;
}
