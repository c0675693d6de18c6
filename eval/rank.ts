/**
 * Rank classification: score each label's words as the continuation of the input (with the soft
 * prompt) and pick the most likely label, as T5's `rank_classification` evaluation does.
 *
 * Per batch of examples the input is read once ({@link prefill}: the encoder, or the decoder-only
 * prefix), its state repeated for every label ({@link selectRows}), and all labels' tokens are
 * fed at once with teacher forcing ({@link extend}): the label's first token is scored by the
 * prefill logits, the others by the logits after their predecessors.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { FrozenModel } from "../model/load.ts";
import {
  type DecodeState,
  disposeDecodeState,
  extend,
  prefill,
  selectRows,
  specialIds,
  vocabSize,
} from "../decode/mod.ts";
import type { Combine } from "../training/prompt.ts";
import { checkBatchSize, padRows } from "./_collate.ts";

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
   * Where the prompt goes in each input (default `prefix`). Decoder-only models see it in the
   * input alone; the label's tokens follow the input.
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

/**
 * The log-probability of every label token of every row: `[n·L, S]` values, row `i·L + l` for
 * example `i` and label `l` (positions past a label's end hold garbage).
 */
async function labelLogprobs(
  model: FrozenModel,
  prompt: tf.Tensor | undefined,
  inputs: readonly (readonly number[])[],
  labelWords: readonly (readonly number[])[],
  options: { combine?: Combine; pad: number; vocab: number; offset: number },
): Promise<Float32Array> {
  const n = inputs.length;
  const l = labelWords.length;
  const s = Math.max(...labelWords.map((w) => w.length));
  const { pad, vocab } = options;
  const batch = padRows(inputs, pad, vocab, "Rank classification: example", options.offset);
  // Each example's row once per label, example-major: [n] → [n·L].
  const repeat = Int32Array.from({ length: n * l }, (_, i) => Math.floor(i / l));
  const labels = new Int32Array(n * l * s).fill(pad); // [n·L, S]
  for (let i = 0; i < n; i++) {
    labelWords.forEach((words, k) => labels.set(words, (i * l + k) * s));
  }
  const owned: tf.Tensor[] = [batch.inputIds, batch.inputMask];
  const states: DecodeState[] = [];
  try {
    const first = prefill(model, prompt, batch, { combine: options.combine });
    owned.push(first.logits);
    states.push(first.state);
    const rows = selectRows(first.state, repeat);
    states.push(rows);
    let more: tf.Tensor | undefined;
    if (s > 1) {
      // Every label token but the last is fed: [n·L, S − 1].
      const fedIds = new Int32Array(n * l * (s - 1));
      for (let r = 0; r < n * l; r++) {
        fedIds.set(labels.subarray(r * s, r * s + s - 1), r * (s - 1));
      }
      const fed = tf.tensor2d(fedIds, [n * l, s - 1], "int32");
      owned.push(fed);
      const extended = extend(model, rows, fed);
      owned.push(extended.logits);
      states.push(extended.state);
      more = extended.logits; // [n·L, S − 1, V]
    }
    const picked = tf.tidy(() => {
      const head = tf.gather(first.logits, tf.tensor1d(repeat, "int32")).expandDims(1); // [n·L, 1, V]
      const logits = more === undefined ? head : tf.concat([head, more], 1); // [n·L, S, V]
      const logprobs = tf.reshape(tf.logSoftmax(logits), [n * l * s * vocab]); // [n·L·S·V]
      const at = Int32Array.from(labels, (id, j) => j * vocab + id); // flat index of each target
      return tf.gather(logprobs, tf.tensor1d(at, "int32")); // [n·L·S]
    });
    owned.push(picked);
    return await picked.data() as Float32Array;
  } finally {
    tf.dispose(owned);
    states.forEach(disposeDecodeState);
  }
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Rank classification: for every example, the log-likelihood of each label's tokens given the
 * input (and the prompt), and the label that scores highest. T5 scores the label as the decoder's
 * target (from `decoder_start_token_id`; give the label words with the EOS when the model was
 * tuned with it); decoder-only models score it as the continuation of the input.
 *
 * @param model a loaded frozen model
 * @param prompt `[P, H]` soft prompt, or undefined for the frozen model alone
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
  prompt: tf.Tensor | undefined,
  examples: readonly (readonly number[])[],
  labelWords: readonly (readonly number[])[],
  options: RankOptions = {},
): Promise<RankedExample[]> {
  const vocab = vocabSize(model);
  const batchSize = options.batchSize ?? 16;
  checkBatchSize(batchSize, "Rank classification");
  checkLabels(labelWords, vocab);
  const pad = options.padTokenId ?? specialIds(model).padTokenId;
  const l = labelWords.length;
  const s = Math.max(...labelWords.map((w) => w.length));
  const out: RankedExample[] = [];
  for (let start = 0; start < examples.length; start += batchSize) {
    const inputs = examples.slice(start, start + batchSize);
    const values = await labelLogprobs(model, prompt, inputs, labelWords, {
      combine: options.combine,
      pad,
      vocab,
      offset: start,
    });
    inputs.forEach((_, i) => {
      const scores = labelWords.map((words, k) => {
        let sum = 0;
        for (let j = 0; j < words.length; j++) sum += values[(i * l + k) * s + j];
        return options.lengthNormalize ? sum / words.length : sum;
      });
      let predicted = 0;
      scores.forEach((v, k) => {
        if (v > scores[predicted]) predicted = k;
      });
      out.push({ scores, predicted });
    });
  }
  return out;
}
