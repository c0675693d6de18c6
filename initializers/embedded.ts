/**
 * Initialization from embedded text: class labels (a list of words) or a string.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Tokenizer } from "../tokenizer/tokenizer.ts";
import { fromSampleOfEmbeddings } from "./sampled.ts";
import {
  checkEmbeddings,
  checkPromptShape,
  type Initializer,
  type WarningSink,
  warnToStderr,
} from "./types.ts";

/**
 * How the sub-token embeddings of one text become one row.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import { type Aggregate, fromEmbeddedList } from "./embedded.ts";
 * import assert from "node:assert/strict";
 * const table = tf.tidy(() => tf.range(0, 40).reshape([10, 4])); // row i holds 4i … 4i+3
 * const tok = {
 *   encode: (t: string) => [...t].map((c) => c.charCodeAt(0) - 97), // "a" → 0, "b" → 1, …
 *   decode: () => "",
 *   vocabSize: 10,
 * };
 * const firstValue = (aggregate: Aggregate) => {
 *   const p = fromEmbeddedList(table, tok, ["bd"], { aggregate })(key(0), [1, 4]);
 *   const v = p.dataSync()[0];
 *   p.dispose();
 *   return v;
 * };
 * // "bd" is tokens 1 and 3, whose rows start with 4 and 12.
 * assert(firstValue("mean") === 8 && firstValue("sum") === 16);
 * assert(firstValue("first") === 4 && firstValue("last") === 12);
 * table.dispose();
 * ```
 */
export type Aggregate = "mean" | "first" | "last" | "sum";

/**
 * Options of {@link fromEmbeddedList}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import { type EmbeddedListOptions, fromEmbeddedList } from "./embedded.ts";
 * import assert from "node:assert/strict";
 * const table = tf.tidy(() => tf.range(0, 40).reshape([10, 4])); // row i holds 4i … 4i+3
 * const tok = {
 *   encode: (t: string) => [...t].map((c) => c.charCodeAt(0) - 97), // "a" → 0, "b" → 1, …
 *   decode: () => "",
 *   vocabSize: 10,
 * };
 * const warnings: string[] = [];
 * const options: EmbeddedListOptions = {
 *   aggregate: "last",
 *   onWarning: (m) => {
 *     warnings.push(m);
 *   },
 * };
 * const p = fromEmbeddedList(table, tok, ["ab", "cd", "e"], options)(key(0), [2, 4]);
 * assert((p.arraySync() as number[][]).map((r) => r[0]).join() === "4,12"); // "b", "d"
 * assert(warnings.length === 1); // "e" did not fit in 2 rows
 * tf.dispose([table, p]);
 * ```
 */
export interface EmbeddedListOptions {
  /** How sub-tokens are combined (default `"mean"`, as the original). */
  readonly aggregate?: Aggregate;
  /**
   * Fills the prompt first; the texts then overwrite its first rows (as the original does, so the
   * same key gives the same rows). Default: sampled vocabulary with population 5000 (the paper's
   * class-label setup). The original's own default was `flax.linen.initializers.uniform()`.
   */
  readonly fallback?: Initializer;
  /** Where warnings go (default: stderr). */
  readonly onWarning?: WarningSink;
}

function encodeChecked(tokenizer: Tokenizer, text: string, vocab: number, who: string): number[] {
  const ids = [...tokenizer.encode(text)];
  if (ids.length === 0) {
    throw new RangeError(`${who}: the text ${JSON.stringify(text)} tokenizes to no tokens`);
  }
  const bad = ids.find((i) => !Number.isInteger(i) || i < 0 || i >= vocab);
  if (bad !== undefined) {
    throw new RangeError(
      `${who}: the text ${
        JSON.stringify(text)
      } gives token id ${bad}, outside the embedding table [0, ${vocab})`,
    );
  }
  return ids;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Row i is the aggregate (mean by default) of the embeddings of the sub-tokens of `texts[i]`; the
 * other rows come from `fallback`. The paper's "class label" initialization. Texts beyond the
 * prompt length are dropped with a warning; a text that tokenizes to nothing is an error.
 *
 * Texts are tokenized eagerly, so an empty or out-of-vocabulary text fails here, not at training.
 *
 * @param embeddings `[V, H]` the frozen model's token embeddings (the caller keeps ownership)
 * @param tokenizer the model's tokenizer
 * @param texts one text per row, for example the label words
 * @param options aggregation, fallback and warning sink
 * @returns an initializer of `[P, H]` prompts
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import { fromEmbeddedList } from "./embedded.ts";
 * import assert from "node:assert/strict";
 * const table = tf.range(0, 40).reshape([10, 4]).toFloat();
 * const tok = { encode: (t: string) => [...t].map((c) => c.charCodeAt(0) - 97), decode: () => "", vocabSize: 10 };
 * const p = fromEmbeddedList(table, tok, ["ab"])(key(0), [2, 4]); // row 0: mean of rows 0, 1
 * assert((p.arraySync() as number[][])[0][0] === 2);
 * tf.dispose([table, p]);
 * ```
 */
export function fromEmbeddedList(
  embeddings: tf.Tensor,
  tokenizer: Tokenizer,
  texts: readonly string[],
  options: EmbeddedListOptions = {},
): Initializer {
  const who = "fromEmbeddedList()";
  checkEmbeddings(embeddings, who);
  const width = embeddings.shape[1] as number;
  const aggregate = options.aggregate ?? "mean";
  if (!["mean", "first", "last", "sum"].includes(aggregate)) {
    throw new RangeError(
      `${who}: aggregate must be one of mean, first, last, sum, got ${String(aggregate)}`,
    );
  }
  const warn = options.onWarning ?? warnToStderr;
  const fallback = options.fallback ?? fromSampleOfEmbeddings(embeddings, { onWarning: warn });
  const vocab = embeddings.shape[0];
  const encoded = texts.map((t) => encodeChecked(tokenizer, t, vocab, who));
  return (key, shape) => {
    checkPromptShape(shape, width, who);
    const used = Math.min(texts.length, shape[0]);
    if (texts.length > shape[0]) {
      warn(
        `${who}: ${texts.length} texts for a prompt of length ${shape[0]}; dropping ${
          JSON.stringify(texts.slice(shape[0]))
        }`,
      );
    }
    return tf.tidy(() => {
      const base = fallback(key, shape); // [P, H]
      if (used === 0) return base;
      const rows = encoded.slice(0, used).map((ids) => {
        const sub = tf.gather(embeddings, tf.tensor1d(ids, "int32")); // [T_i, H]
        switch (aggregate) {
          case "first":
            return sub.slice([0, 0], [1, -1]).squeeze([0]);
          case "last":
            return sub.slice([ids.length - 1, 0], [1, -1]).squeeze([0]);
          case "sum":
            return sub.sum(0);
          default:
            return sub.mean(0);
        }
      });
      const head = tf.stack(rows); // [used, H]
      return used === shape[0] ? head : tf.concat([head, base.slice([used, 0], [-1, -1])], 0);
    });
  };
}

/**
 * Options of {@link fromEmbeddedString}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import { type EmbeddedStringOptions, fromEmbeddedString } from "./embedded.ts";
 * import assert from "node:assert/strict";
 * const table = tf.tidy(() => tf.range(0, 40).reshape([10, 4])); // row i holds 4i … 4i+3
 * const tok = {
 *   encode: (t: string) => [...t].map((c) => c.charCodeAt(0) - 97), // "a" → 0, "b" → 1, …
 *   decode: () => "",
 *   vocabSize: 10,
 * };
 * const options: EmbeddedStringOptions = { fallback: (_key, shape) => tf.fill([...shape], -1) };
 * const p = fromEmbeddedString(table, tok, "cab", options)(key(0), [4, 4]);
 * assert((p.arraySync() as number[][]).map((r) => r[0]).join() === "8,0,4,-1");
 * tf.dispose([table, p]);
 * ```
 */
export interface EmbeddedStringOptions {
  /** Fills the rows after the text's tokens (default: sampled vocabulary, population 5000). */
  readonly fallback?: Initializer;
  /** Where warnings go (default: stderr). */
  readonly onWarning?: WarningSink;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * One row per token of `text` (truncated to the prompt length, with a warning); the rest from
 * `fallback`. The original's `from_embedded_string`.
 *
 * @param embeddings `[V, H]` the frozen model's token embeddings (the caller keeps ownership)
 * @param tokenizer the model's tokenizer
 * @param text the text to embed, for example a task description
 * @param options fallback and warning sink
 * @returns an initializer of `[P, H]` prompts
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import { fromEmbeddedString } from "./embedded.ts";
 * import assert from "node:assert/strict";
 * const table = tf.range(0, 40).reshape([10, 4]).toFloat();
 * const tok = { encode: (t: string) => [...t].map((c) => c.charCodeAt(0) - 97), decode: () => "", vocabSize: 10 };
 * const p = fromEmbeddedString(table, tok, "cab")(key(0), [3, 4]); // rows 2, 0, 1
 * assert((p.arraySync() as number[][])[0][0] === 8);
 * tf.dispose([table, p]);
 * ```
 */
export function fromEmbeddedString(
  embeddings: tf.Tensor,
  tokenizer: Tokenizer,
  text: string,
  options: EmbeddedStringOptions = {},
): Initializer {
  const who = "fromEmbeddedString()";
  checkEmbeddings(embeddings, who);
  const width = embeddings.shape[1] as number;
  const warn = options.onWarning ?? warnToStderr;
  const fallback = options.fallback ?? fromSampleOfEmbeddings(embeddings, { onWarning: warn });
  const ids = encodeChecked(tokenizer, text, embeddings.shape[0], who);
  return (key, shape) => {
    checkPromptShape(shape, width, who);
    if (ids.length > shape[0]) {
      warn(
        `${who}: the text has ${ids.length} tokens for a prompt of length ${
          shape[0]
        }; keeping the first ${shape[0]}`,
      );
    }
    const used = Math.min(ids.length, shape[0]);
    return tf.tidy(() => {
      const base = fallback(key, shape); // [P, H]
      if (used === 0) return base;
      const head = tf.gather(embeddings, tf.tensor1d(ids.slice(0, used), "int32")); // [used, H]
      return used === shape[0] ? head : tf.concat([head, base.slice([used, 0], [-1, -1])], 0);
    });
  };
}
