/**
 * The tokenizer interface the library codes against.
 *
 * @module
 */

/**
 * Turns text into token ids and back. Implementations must not add special tokens (BOS, EOS) in
 * {@link Tokenizer.encode}; callers add them where a model needs them.
 *
 * @example
 * ```ts
 * import type { Tokenizer } from "./tokenizer.ts";
 * import assert from "node:assert/strict";
 * const chars: Tokenizer = {
 *   encode: (text) => [...text].map((c) => c.charCodeAt(0) % 16),
 *   decode: (ids) => ids.map((i) => String.fromCharCode(97 + i)).join(""),
 *   vocabSize: 16,
 * };
 * assert(chars.encode("ab").length === 2);
 * ```
 */
export interface Tokenizer {
  /** The ids of `text`, without special tokens. */
  encode(text: string): readonly number[];
  /** The text of `ids`. */
  decode(ids: readonly number[]): string;
  /** The number of ids the tokenizer can produce. */
  readonly vocabSize: number;
}
