/**
 * Batches of token ids, every way the library makes them, on one padding rule ({@link padTo}:
 * left or right, with a mask of ones at the tokens):
 *
 * - for tokenizing ({@link batchIds}): special tokens, truncation and padding, with the semantics
 *   of Hugging Face `tokenizers` (`enable_truncation` / `enable_padding`);
 * - for training ({@link collateExamples}, {@link collateRank}): token examples into the model's
 *   batch kind, with label masks (`-100` where nothing is predicted);
 * - for evaluation and decoding ({@link padRows}): checked rows of input ids into an
 *   `InputBatch`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { problem, ProblemError } from "../problem.ts";
import type { FrozenModel } from "../model/frozen.ts";
import type { InputBatch, PromptBatch } from "../model/prompted.ts";

/**
 * How {@link batchIds} (and `HfTokenizer.encodeBatch`) shapes a batch.
 *
 * @example
 * ```ts
 * import { batchIds, type EncodeBatchOptions } from "./batch.ts";
 * import assert from "node:assert/strict";
 * const specials = { prefix: [], suffix: [1], padId: 0, paddingSide: "right" as const };
 * const options: EncodeBatchOptions = { maxLength: 4, padding: "max_length" };
 * const b = batchIds([[5, 6, 7, 8, 9], [5]], specials, options);
 * assert(JSON.stringify(b.ids) === "[[5,6,7,1],[5,1,0,0]]"); // cut to 4, EOS kept, padded
 * ```
 */
export interface EncodeBatchOptions {
  /** Wrap each text in the model's special tokens (T5: EOS after, LLaMA: BOS before). Default true. */
  readonly addSpecialTokens?: boolean;
  /** The longest a sequence may be, special tokens included; needed by `padding: "max_length"`. */
  readonly maxLength?: number;
  /**
   * Cut sequences longer than `maxLength` (the text is cut at its end; the special tokens stay).
   * Default: true when `maxLength` is given.
   */
  readonly truncation?: boolean;
  /**
   * `"longest"` pads to the longest sequence of the batch (the default), `"max_length"` to
   * `maxLength` (a longer, untruncated sequence stays longer, as in `tokenizers`), false not at all.
   */
  readonly padding?: "longest" | "max_length" | false;
  /** Where padding goes. Default: the tokenizer's (tokenizer_config.json `padding_side`, else right). */
  readonly paddingSide?: "left" | "right";
}

/**
 * A batch of token ids with its attention mask (1 for a token, 0 for padding), as plain arrays.
 *
 * @example
 * ```ts
 * import { type BatchEncoding, batchIds } from "./batch.ts";
 * import assert from "node:assert/strict";
 * const specials = { prefix: [], suffix: [], padId: 0, paddingSide: "right" as const };
 * const b: BatchEncoding = batchIds([[7], [8, 9]], specials);
 * assert(JSON.stringify(b.ids) === "[[7,0],[8,9]]");
 * assert(JSON.stringify(b.attentionMask) === "[[1,0],[1,1]]");
 * ```
 */
export interface BatchEncoding {
  /** `[B][T]` token ids. */
  readonly ids: number[][];
  /** `[B][T]` 1 where `ids` holds a token, 0 where it holds padding. */
  readonly attentionMask: number[][];
}

/**
 * The special tokens around one sequence, and the id that pads.
 *
 * @example
 * ```ts
 * import { batchIds, type BatchSpecials } from "./batch.ts";
 * import assert from "node:assert/strict";
 * const llama: BatchSpecials = { prefix: [1], suffix: [], padId: 2, paddingSide: "left" };
 * const b = batchIds([[5, 6], [7]], llama);
 * assert(JSON.stringify(b.ids) === "[[1,5,6],[2,1,7]]"); // BOS first, padded on the left
 * ```
 */
export interface BatchSpecials {
  /** Ids put before each sequence when special tokens are added (LLaMA: `[bos]`). */
  readonly prefix: readonly number[];
  /** Ids put after each sequence when special tokens are added (T5: `[eos]`). */
  readonly suffix: readonly number[];
  /** The id padding positions hold. */
  readonly padId: number;
  /** The padding side used when the options name none. */
  readonly paddingSide: "left" | "right";
}

/**
 * Builds a batch from token ids without special tokens: adds the special tokens, truncates the text
 * part so that a sequence with its special tokens fits `maxLength`, then pads.
 *
 * @param contents `[B][*]` ids of each text, without special tokens
 * @param specials the special tokens around a sequence and the padding id
 * @param options special tokens, truncation and padding; see {@link EncodeBatchOptions}
 * @returns the padded ids and attention mask
 * @throws ProblemError when `maxLength` is not a positive integer or `padding: "max_length"` lacks it
 * @example
 * ```ts
 * import { batchIds } from "./batch.ts";
 * import assert from "node:assert/strict";
 * const specials = { prefix: [], suffix: [1], padId: 0, paddingSide: "right" as const };
 * const b = batchIds([[5, 6, 7], [8]], specials, { maxLength: 3, paddingSide: "left" });
 * assert(JSON.stringify(b.ids) === "[[5,6,1],[0,8,1]]");
 * assert(JSON.stringify(b.attentionMask) === "[[1,1,1],[0,1,1]]");
 * ```
 */
export function batchIds(
  contents: readonly (readonly number[])[],
  specials: BatchSpecials,
  options: EncodeBatchOptions = {},
): BatchEncoding {
  const { maxLength } = options;
  if (maxLength !== undefined && (!Number.isInteger(maxLength) || maxLength < 1)) {
    throw new ProblemError(
      problem("Invalid", "encodeBatch", `maxLength is ${maxLength}; expected a positive integer`),
    );
  }
  const padding = options.padding ?? "longest";
  if (padding === "max_length" && maxLength === undefined) {
    throw new ProblemError(
      problem(
        "Invalid",
        "encodeBatch",
        'padding "max_length" needs maxLength; pass maxLength or use "longest"',
      ),
    );
  }
  const addSpecial = options.addSpecialTokens ?? true;
  const truncate = (options.truncation ?? maxLength !== undefined) && maxLength !== undefined;
  const side = options.paddingSide ?? specials.paddingSide;
  const before = addSpecial ? specials.prefix : [];
  const after = addSpecial ? specials.suffix : [];
  // As in `tokenizers`, the text gives way to the special tokens (never fewer than 0 text tokens).
  const room = truncate ? Math.max(0, maxLength - before.length - after.length) : Infinity;
  const seqs = contents.map((ids) => [...before, ...ids.slice(0, room), ...after]);
  const target = padding === "longest"
    ? seqs.reduce((m, s) => Math.max(m, s.length), 0)
    : padding === "max_length"
    ? maxLength as number
    : 0;
  return padTo(seqs, target, specials.padId, side);
}

/**
 * Pads rows of ids to a width, on the left or the right; the mask is 1 at the ids, 0 at the
 * padding. A row longer than the width stays as it is.
 *
 * @param rows `[B][*]` ids
 * @param width the length to pad to
 * @param padId the id padding positions hold
 * @param side where padding goes
 * @returns the padded ids and their mask
 * @example
 * ```ts
 * import { padTo } from "./batch.ts";
 * import assert from "node:assert/strict";
 * const b = padTo([[5, 6], [7]], 3, 0, "left");
 * assert.deepEqual(b.ids, [[0, 5, 6], [0, 0, 7]]);
 * assert.deepEqual(b.attentionMask, [[0, 1, 1], [0, 0, 1]]);
 * ```
 */
export function padTo(
  rows: readonly (readonly number[])[],
  width: number,
  padId: number,
  side: "left" | "right",
): BatchEncoding {
  const ids: number[][] = [];
  const attentionMask: number[][] = [];
  for (const s of rows) {
    const pad = Math.max(0, width - s.length);
    const fill = new Array<number>(pad).fill(padId);
    const zeros = new Array<number>(pad).fill(0);
    const ones = new Array<number>(s.length).fill(1);
    ids.push(side === "left" ? [...fill, ...s] : [...s, ...fill]);
    attentionMask.push(side === "left" ? [...zeros, ...ones] : [...ones, ...zeros]);
  }
  return { ids, attentionMask };
}

/** `[B, T]` int32 from `B` rows of `T` ids. */
const int2d = (rows: number[][], b: number, t: number) =>
  tf.tensor2d(Int32Array.from(rows.flat()), [b, t], "int32");

/**
 * One training example as token ids: the model's input and the target it should produce.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { collateExamples, type TokenExample } from "./batch.ts";
 * import assert from "node:assert/strict";
 * const example: TokenExample = { inputIds: [5, 6, 2], targetIds: [7, 2] };
 * const b = collateExamples({ architecture: "gpt2" }, [example]);
 * // Decoder-only: one sequence, trained only on the target tokens.
 * assert.deepEqual(b.inputIds.dataSync(), Int32Array.from([5, 6, 2, 7, 2]));
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
 * Options of {@link collateExamples} and {@link collateRank}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { type CollateOptions, collateExamples } from "./batch.ts";
 * import assert from "node:assert/strict";
 * const options: CollateOptions = { padId: 9 };
 * const examples = [{ inputIds: [5, 1], targetIds: [1] }, { inputIds: [1], targetIds: [1] }];
 * const b = collateExamples({ architecture: "t5" }, examples, options);
 * // Padding uses id 9 and is masked out.
 * assert.deepEqual(b.inputIds.dataSync(), Int32Array.from([5, 1, 1, 9]));
 * assert.deepEqual(b.inputMask.dataSync(), Int32Array.from([1, 1, 1, 0]));
 * tf.dispose(Object.values(b));
 * ```
 */
export interface CollateOptions {
  /** The id used for padding (masked out either way); default 0. */
  readonly padId?: number;
}

/** Right-pads rows into ids and mask tensors `[B, T]`, `T` the longest row (at least 1). */
function rightPadded(rows: readonly (readonly number[])[], pad: number): InputBatch {
  const t = Math.max(1, ...rows.map((r) => r.length));
  const { ids, attentionMask } = padTo(rows, t, pad, "right");
  return {
    inputIds: int2d(ids, rows.length, t), // [B, T]
    inputMask: int2d(attentionMask, rows.length, t), // [B, T]
  };
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Pads token examples into a batch for `promptLoss`, right-padded. Encoder-decoder models get
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
 * import { collateExamples } from "./batch.ts";
 * import assert from "node:assert/strict";
 * const b = collateExamples({ architecture: "gpt2" }, [{ inputIds: [5, 6], targetIds: [7] }, { inputIds: [5], targetIds: [8, 9] }]);
 * assert.equal(b.inputIds.shape.join(), "2,3");
 * assert.deepEqual(b.inputMask.dataSync(), Int32Array.from([1, 1, 1, 1, 1, 1]));
 * tf.dispose(Object.values(b));
 * ```
 */
export function collateExamples(
  model: Pick<FrozenModel, "architecture">,
  examples: readonly TokenExample[],
  options: CollateOptions = {},
): PromptBatch {
  const pad = options.padId ?? 0;
  if (model.architecture === "t5") {
    const inputs = rightPadded(examples.map((e) => e.inputIds), pad); // [B, T]
    const targets = rightPadded(examples.map((e) => e.targetIds), pad); // [B, S]
    return { ...inputs, targetIds: targets.inputIds, targetMask: targets.inputMask };
  }
  const joined = rightPadded(examples.map((e) => [...e.inputIds, ...e.targetIds]), pad); // [B, T]
  // Labels: -100 at the input and the padding, the target's ids at the target.
  const labelRows = examples.map((e) => [...e.inputIds.map(() => -100), ...e.targetIds]);
  const [b, t] = joined.inputIds.shape;
  const labels = int2d(padTo(labelRows, t, -100, "right").ids, b, t); // [B, T]
  return { ...joined, labels };
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * A batch for `promptRankLoss`: the same inputs once per label, each with that label's tokens as
 * its target, and which label is right for each example.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { RankBatch } from "./batch.ts";
 * import assert from "node:assert/strict";
 * const inputIds = tf.tensor2d([[5, 6, 1]], [1, 3], "int32");
 * const inputMask = tf.ones([1, 3], "int32");
 * const mask = tf.ones([1, 2], "int32");
 * const targets = [tf.tensor2d([[30, 1]], [1, 2], "int32"), tf.tensor2d([[31, 1]], [1, 2], "int32")];
 * const batch: RankBatch = {
 *   choices: targets.map((targetIds) => ({ inputIds, inputMask, targetIds, targetMask: mask })),
 *   labels: tf.tensor1d([1], "int32"), // the second label is right
 * };
 * assert.equal(batch.choices.length, 2);
 * tf.dispose([inputIds, inputMask, mask, ...targets, batch.labels]);
 * ```
 */
export interface RankBatch {
  /** One batch per label, in label order; all have the same inputs. */
  readonly choices: readonly PromptBatch[];
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B]` int32: the index in `choices` of each example's label. */
  readonly labels: tf.Tensor;
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /**
   * `[B, C]` int32, 1 where a label is one of the row's own (a task mixture's rows rank their own
   * task's labels among the union of every task's); default: every label is every row's.
   */
  readonly labelMask?: tf.Tensor;
}

/**
 * Pads inputs once per label, each with that label's tokens as its target (as
 * {@link collateExamples} pads an example): what rank scoring reads.
 *
 * @param model the frozen model (only its architecture is read)
 * @param inputs the input ids of each example
 * @param classes the token ids of each label, in order
 * @param options the padding id
 * @returns one batch per label; the caller disposes their tensors
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { collateChoices } from "./batch.ts";
 * import assert from "node:assert/strict";
 * const choices = collateChoices({ architecture: "t5" }, [[5, 1]], [[30, 1], [31, 40, 1]]);
 * assert.equal(choices.length, 2);
 * assert("targetIds" in choices[1] && choices[1].targetIds.dataSync().join() === "31,40,1");
 * choices.forEach((c) => tf.dispose(Object.values(c)));
 * ```
 */
export function collateChoices(
  model: Pick<FrozenModel, "architecture">,
  inputs: readonly (readonly number[])[],
  classes: readonly (readonly number[])[],
  options: CollateOptions = {},
): PromptBatch[] {
  return classes.map((c) =>
    collateExamples(model, inputs.map((inputIds) => ({ inputIds, targetIds: c })), options)
  );
}

const sameIds = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Pads token examples into a batch for `promptRankLoss`: the inputs once per label (see
 * {@link collateChoices}) and, for each example, the index of the label its `targetIds` equal.
 *
 * @param model the frozen model (only its architecture is read)
 * @param examples the examples of one batch; each target must be one of `classes`
 * @param classes the token ids of each label (as the examples' targets are tokenized), in order
 * @param options the padding id
 * @returns the batch; the caller disposes its tensors
 * @throws {RangeError} when an example's target is none of the labels
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { collateRank } from "./batch.ts";
 * import assert from "node:assert/strict";
 * const classes = [[30, 1], [31, 1]];
 * const examples = [{ inputIds: [5, 1], targetIds: [31, 1] }, { inputIds: [6, 1], targetIds: [30, 1] }];
 * const b = collateRank({ architecture: "t5" }, examples, classes);
 * assert(b.choices.length === 2 && b.labels.dataSync().join() === "1,0");
 * tf.dispose([...b.choices.flatMap((c) => Object.values(c)), b.labels]);
 * ```
 */
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
  const choices = collateChoices(model, examples.map((e) => e.inputIds), classes, options);
  return { choices, labels: tf.tensor1d(labels, "int32") }; // labels [B]
}

/**
 * Checks rows of ids: none empty, every id an integer in `[0, vocab)`.
 *
 * @param rows the rows
 * @param vocab the vocabulary size
 * @param what how a row is named in errors (`"Rank classification: example"`)
 * @param offset the index of the first row in errors
 * @throws {RangeError} naming the first bad row
 * @example
 * ```ts
 * import { checkRows } from "./batch.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => checkRows([[1], [7]], 5, "Example", 10), /^RangeError: Example 11: token 0 is 7; expected an integer in \[0, 5\)$/);
 * ```
 */
export function checkRows(
  rows: readonly (readonly number[])[],
  vocab: number,
  what: string,
  offset = 0,
): void {
  rows.forEach((row, i) => {
    if (row.length === 0) {
      throw new RangeError(`${what} ${offset + i} has no tokens; expected at least one`);
    }
    row.forEach((id, j) => {
      if (!Number.isInteger(id) || id < 0 || id >= vocab) {
        throw new RangeError(
          `${what} ${offset + i}: token ${j} is ${id}; expected an integer in [0, ${vocab})`,
        );
      }
    });
  });
}

/**
 * Checks rows of ids (see {@link checkRows}) and right-pads them into `inputIds` and `inputMask`
 * tensors `[B, T]` (T the longest row). The caller disposes both.
 *
 * @param rows the rows, not empty
 * @param pad the padding id
 * @param vocab the vocabulary size
 * @param what how a row is named in errors
 * @param offset the index of the first row in errors
 * @returns the batch
 * @throws {RangeError} when a row is empty or holds something that is not a token id
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { padRows } from "./batch.ts";
 * import assert from "node:assert/strict";
 * const b = padRows([[5, 6], [7]], 0, 10, "Example");
 * assert.deepEqual(b.inputIds.arraySync(), [[5, 6], [7, 0]]);
 * assert.deepEqual(b.inputMask.arraySync(), [[1, 1], [1, 0]]);
 * tf.dispose([b.inputIds, b.inputMask]);
 * ```
 */
export function padRows(
  rows: readonly (readonly number[])[],
  pad: number,
  vocab: number,
  what: string,
  offset = 0,
): InputBatch {
  checkRows(rows, vocab, what, offset);
  const t = Math.max(...rows.map((r) => r.length));
  const { ids, attentionMask } = padTo(rows, t, pad, "right");
  return { inputIds: int2d(ids, rows.length, t), inputMask: int2d(attentionMask, rows.length, t) };
}

/**
 * Checks a batch size option.
 *
 * @param batchSize the option's value
 * @param who who asks, for the error (`"Rank classification"`)
 * @throws {RangeError} unless a positive integer
 * @example
 * ```ts
 * import { checkBatchSize } from "./batch.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => checkBatchSize(0, "Generation"), /^RangeError: Generation: batchSize is 0; expected a positive integer$/);
 * checkBatchSize(8, "Generation");
 * ```
 */
export function checkBatchSize(batchSize: number, who: string): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`${who}: batchSize is ${batchSize}; expected a positive integer`);
  }
}
