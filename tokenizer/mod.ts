/**
 * Tokenizers: the {@link Tokenizer} interface the library codes against, and Hugging Face
 * tokenizers (`tokenizer.json`, or the metadata of a GGUF file) behind it, with special tokens,
 * batching and decoding.
 *
 * ```ts
 * import { loadTokenizer } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const t5 = await loadTokenizer(new URL("../tests/fixtures/tokenizers/t5", import.meta.url));
 * assert(t5._tag === "Right");
 * const ids = t5.right.encodeWithSpecial("Hello world");
 * assert.equal(ids.at(-1), t5.right.eosId);
 * assert.equal(t5.right.decode(ids, { skipSpecialTokens: true }), "Hello world");
 * ```
 *
 * @module
 */
export type { Tokenizer } from "./tokenizer.ts";
export {
  type DecodeOptions,
  type HfTokenizer,
  type TokenizerConfigFiles,
  tokenizerFromJson,
  tokenizerFromJsonText,
} from "./hf.ts";
export { loadTokenizer } from "./load.ts";
export { type GgufValue, tokenizerFromGguf } from "./gguf.ts";
export type { Problem, ProblemTag } from "../problem.ts";
export type { BatchEncoding, EncodeBatchOptions } from "../data/batch.ts";
