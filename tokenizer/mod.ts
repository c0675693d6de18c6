/**
 * Tokenizers: the {@link Tokenizer} interface the library codes against, and Hugging Face
 * tokenizers (`tokenizer.json`) behind it, with special tokens, batching and decoding.
 *
 * @example
 * ```ts
 * import { loadTokenizer } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const t5 = await loadTokenizer(new URL("../tests/fixtures/tokenizers/t5", import.meta.url));
 * if (t5._tag === "Right") {
 *   const ids = t5.right.encodeWithSpecial("Hello world");
 *   assert(ids.at(-1) === t5.right.eosId);
 *   assert(t5.right.decode(ids, { skipSpecialTokens: true }) === "Hello world");
 * }
 * ```
 *
 * @module
 */
export type { Tokenizer } from "./tokenizer.ts";
export {
  type DecodeOptions,
  type HfTokenizer,
  loadTokenizer,
  TOKENIZER_MAX_BYTES,
  type TokenizerConfigFiles,
  tokenizerFromJson,
} from "./hf.ts";
export { precompiledNormalizer } from "./precompiled.ts";
