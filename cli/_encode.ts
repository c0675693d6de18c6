/**
 * Task examples as token ids: a model input (the tokenizer's special tokens around the text,
 * truncated to fit) and a target (the text's ids, then EOS), as training, evaluation and inference
 * all encode them.
 *
 * @module
 */
import type { RunConfig } from "../config/mod.ts";
import type { Example } from "../data/mod.ts";
import type { HfTokenizer } from "../tokenizer/mod.ts";
import type { TokenExample } from "../data/batch.ts";

/**
 * The ids of a model input: the tokenizer's special tokens around the text (T5: EOS after it;
 * LLaMA: BOS before it), the text truncated so that the whole fits `max` ids.
 *
 * @param tokenizer the tokenizer
 * @param text the input text
 * @param max the most ids
 * @returns the ids
 * @example
 * ```ts
 * import { loadTokenizer } from "../tokenizer/mod.ts";
 * import { orThrow } from "../problem.ts";
 * import { encodeInput } from "./_encode.ts";
 * import assert from "node:assert/strict";
 * const t5 = orThrow(await loadTokenizer("tests/fixtures/cli/model"));
 * const ids = encodeInput(t5, "a b c d e f", 3);
 * assert(ids.length === 3 && ids[2] === t5.eosId);
 * ```
 */
export function encodeInput(tokenizer: HfTokenizer, text: string, max: number): number[] {
  const pre = tokenizer.specialPrefix, post = tokenizer.specialSuffix;
  const room = Math.max(0, max - pre.length - post.length);
  return [...pre, ...tokenizer.encode(text).slice(0, room), ...post];
}

/**
 * The ids of a target: the text's ids then EOS (seqio's `append_eos_after_trim`), at most `max`.
 *
 * @param tokenizer the tokenizer
 * @param text the target text
 * @param max the most ids
 * @returns the ids
 * @example
 * ```ts
 * import { loadTokenizer } from "../tokenizer/mod.ts";
 * import { orThrow } from "../problem.ts";
 * import { encodeTarget } from "./_encode.ts";
 * import assert from "node:assert/strict";
 * const t5 = orThrow(await loadTokenizer("tests/fixtures/cli/model"));
 * assert(encodeTarget(t5, "positive", 8).join() === "1465,1");
 * ```
 */
export function encodeTarget(tokenizer: HfTokenizer, text: string, max: number): number[] {
  const eos = tokenizer.eosId;
  const ids = tokenizer.encode(text);
  return eos === undefined ? ids.slice(0, max) : [...ids.slice(0, Math.max(0, max - 1)), eos];
}

/**
 * A labelled example as token ids for training: its input and target encoded as
 * {@link encodeInput} and {@link encodeTarget} do, cut to `train.max_input_length` and
 * `train.max_target_length`.
 *
 * @param tokenizer the tokenizer
 * @param example the example
 * @param lengths the configuration's `train` (the two maximum lengths are read)
 * @returns the token example
 * @example
 * ```ts
 * import { loadTokenizer } from "../tokenizer/mod.ts";
 * import { orThrow } from "../problem.ts";
 * import { encodeExample } from "./_encode.ts";
 * import assert from "node:assert/strict";
 * const t5 = orThrow(await loadTokenizer("tests/fixtures/cli/model"));
 * const example = { inputs: "a b c d e f", targets: "positive", meta: { location: "x:1" } };
 * const t = encodeExample(t5, example, { max_input_length: 3, max_target_length: 8 });
 * assert(t.inputIds.length === 3 && t.targetIds.join() === "1465,1");
 * ```
 */
export function encodeExample(
  tokenizer: HfTokenizer,
  example: Pick<Example, "inputs" | "targets">,
  lengths: Pick<RunConfig["train"], "max_input_length" | "max_target_length">,
): TokenExample {
  return {
    inputIds: encodeInput(tokenizer, example.inputs, lengths.max_input_length),
    targetIds: encodeTarget(tokenizer, example.targets, lengths.max_target_length),
  };
}
