/**
 * Batching token ids: special tokens, truncation and left or right padding, with the semantics of
 * Hugging Face `tokenizers` (`enable_truncation` / `enable_padding`).
 *
 * @module
 */
import { problem, ProblemError } from "../problem.ts";

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
  const ids: number[][] = [];
  const attentionMask: number[][] = [];
  for (const s of seqs) {
    const pad = Math.max(0, target - s.length);
    const fill = new Array<number>(pad).fill(specials.padId);
    const zeros = new Array<number>(pad).fill(0);
    const ones = new Array<number>(s.length).fill(1);
    ids.push(side === "left" ? [...fill, ...s] : [...s, ...fill]);
    attentionMask.push(side === "left" ? [...zeros, ...ones] : [...ones, ...zeros]);
  }
  return { ids, attentionMask };
}
