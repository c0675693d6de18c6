/**
 * Hugging Face tokenizers (a parsed `tokenizer.json`, with `tokenizer_config.json` and
 * `special_tokens_map.json` when present) behind the {@link Tokenizer} interface, through the
 * `@huggingface/tokenizers` library: Unigram (T5), byte-level BPE (GPT-2) and SentencePiece-style
 * BPE with byte fallback (LLaMA). SentencePiece's precompiled normalizer is swapped for an exact
 * one ({@link precompiledNormalizer}) so that ids equal the Rust `tokenizers` library's. Reading
 * the files from disk is `loadTokenizer`'s (load.ts).
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { Tokenizer as Library } from "@huggingface/tokenizers";
import type { Normalizer } from "@huggingface/tokenizers";
import { PrecompiledNormalizer, SequenceNormalizer } from "@huggingface/tokenizers";
import { type Problem, problem, ProblemError } from "../problem.ts";
import type { Tokenizer } from "./tokenizer.ts";
import { asRecord, checkTokenizerJson, settle } from "./_config.ts";
import { type BatchEncoding, batchIds, type EncodeBatchOptions } from "../data/batch.ts";
import { precompiledNormalizer } from "./precompiled.ts";
import { integerValued, parseStrictJson } from "./_json.ts";

/**
 * Options of {@link HfTokenizer.decode}.
 *
 * @example
 * ```ts
 * import type { DecodeOptions } from "./hf.ts";
 * import { loadTokenizer } from "./load.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const t5 = orThrow(await loadTokenizer(new URL("../tests/fixtures/tokenizers/t5", import.meta.url)));
 * const ids = t5.encodeWithSpecial("Hello"); // ends with EOS
 * const options: DecodeOptions = { skipSpecialTokens: true };
 * assert(t5.decode(ids, options) === "Hello");
 * assert(t5.decode(ids).endsWith("</s>"));
 * ```
 */
export interface DecodeOptions {
  /** Leave out special tokens (pad, EOS, BOS, sentinels, ...). Default false. */
  readonly skipSpecialTokens?: boolean;
}

/**
 * A Hugging Face tokenizer: the {@link Tokenizer} interface plus special tokens and batching.
 *
 * @example
 * ```ts
 * import type { HfTokenizer } from "./hf.ts";
 * import { loadTokenizer } from "./load.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const dir = new URL("../tests/fixtures/tokenizers/llama", import.meta.url);
 * const llama: HfTokenizer = orThrow(await loadTokenizer(dir));
 * assert(llama.bosId === 1 && llama.specialPrefix.join() === "1");
 * const ids = llama.encodeWithSpecial("hello world");
 * assert(ids[0] === llama.bosId && llama.decode(ids.slice(1)) === "hello world");
 * ```
 */
export interface HfTokenizer extends Tokenizer {
  /** The ids of `text`, without special tokens. */
  encode(text: string): readonly number[];
  /** The ids the model expects for `text`: T5 appends EOS, LLaMA prepends BOS, GPT-2 adds nothing. */
  encodeWithSpecial(text: string): readonly number[];
  /** `[B][T]` ids and attention mask of `texts`, with special tokens, truncation and padding. */
  encodeBatch(texts: readonly string[], options?: EncodeBatchOptions): BatchEncoding;
  /**
   * The text of `ids`.
   *
   * @throws ProblemError when an id is not an integer in [0, vocabSize)
   */
  decode(ids: readonly number[], options?: DecodeOptions): string;
  /** The number of ids: the largest id + 1 (T5: 32100 with its 100 sentinels). */
  readonly vocabSize: number;
  /** The padding token's id, where the tokenizer defines one (T5: 0). */
  readonly padId: number | undefined;
  /** The end-of-sequence token's id (T5: 1, LLaMA: 2, GPT-2: 50256). */
  readonly eosId: number | undefined;
  /** The beginning-of-sequence token's id (LLaMA: 1, GPT-2: 50256, T5: none). */
  readonly bosId: number | undefined;
  /** The unknown token's id (T5: 2, LLaMA: 0). */
  readonly unkId: number | undefined;
  /** Ids {@link HfTokenizer.encodeWithSpecial} puts before the text (LLaMA: `[1]`). */
  readonly specialPrefix: readonly number[];
  /** Ids {@link HfTokenizer.encodeWithSpecial} puts after the text (T5: `[1]`). */
  readonly specialSuffix: readonly number[];
  /** The id of sentinel `<extra_id_{n}>` (T5: n = 0 → 32099, n = 99 → 32000), or undefined. */
  sentinelId(n: number): number | undefined;
  /** The id of a token string (added tokens included), or undefined. */
  tokenToId(token: string): number | undefined;
  /** The token string of an id, or undefined. */
  idToToken(id: number): string | undefined;
}

/**
 * The optional files beside a tokenizer.json, already parsed.
 *
 * @example
 * ```ts
 * import { type TokenizerConfigFiles, tokenizerFromJson } from "./hf.ts";
 * import assert from "node:assert/strict";
 * const dir = new URL("../tests/fixtures/tokenizers/t5/", import.meta.url);
 * const json = JSON.parse(await Deno.readTextFile(new URL("tokenizer.json", dir)));
 * const config = JSON.parse(await Deno.readTextFile(new URL("tokenizer_config.json", dir)));
 * const files: TokenizerConfigFiles = { tokenizerConfig: { ...config, padding_side: "left" } };
 * const t5 = tokenizerFromJson(json, files);
 * assert(t5._tag === "Right" && t5.right.encodeBatch(["a", "a b c"]).attentionMask[0][0] === 0);
 * ```
 */
export interface TokenizerConfigFiles {
  /** tokenizer_config.json. */
  readonly tokenizerConfig?: unknown;
  /** special_tokens_map.json (older checkpoints). */
  readonly specialTokensMap?: unknown;
}

// deno-doc-ignore private-type-ref -- fp-ts Either is an npm type (denoland/deno#27364)
/**
 * Builds a tokenizer from an already parsed tokenizer.json value (and its config files).
 *
 * @param json the parsed tokenizer.json
 * @param files parsed tokenizer_config.json / special_tokens_map.json, when there are any
 * @param where the name used in problems (default "tokenizer.json")
 * @returns the tokenizer, or an Invalid / Unsupported / Corrupt problem
 * @example
 * ```ts
 * import { tokenizerFromJson } from "./hf.ts";
 * import assert from "node:assert/strict";
 * const json = {
 *   model: { type: "WordLevel", vocab: { "<unk>": 0, hi: 1 }, unk_token: "<unk>" },
 * };
 * assert(tokenizerFromJson(json)._tag === "Left"); // WordLevel is not supported
 * ```
 */
export function tokenizerFromJson(
  json: unknown,
  files: TokenizerConfigFiles = {},
  where = "tokenizer.json",
): E.Either<Problem, HfTokenizer> {
  return build(json, files, where, integerValued);
}

// deno-doc-ignore private-type-ref -- fp-ts Either is an npm type (denoland/deno#27364)
/**
 * Builds a tokenizer from the text of a tokenizer.json, read as strictly as the Rust `tokenizers`
 * library reads it: besides what {@link tokenizerFromJson} checks, an integer field written as a
 * float (`"unk_id": 2.0`), a key written twice in one object and a lone surrogate in a string are
 * refused.
 *
 * @param text the text of a tokenizer.json
 * @param files parsed tokenizer_config.json / special_tokens_map.json, when there are any
 * @param where the name used in problems (default "tokenizer.json")
 * @returns the tokenizer, or a Corrupt (not JSON) / Invalid / Unsupported problem
 * @example
 * ```ts
 * import { tokenizerFromJsonText } from "./hf.ts";
 * import assert from "node:assert/strict";
 * const model = '"model": {"type": "Unigram", "vocab": [["<unk>", 0], ["a", -1]], "unk_id": 0.0}';
 * const bad = tokenizerFromJsonText(`{${model}}`);
 * assert(bad._tag === "Left");
 * assert.equal(bad.left.message, "model.unk_id: Expected an integer in [0, 9007199254740991], got number 0");
 * const good = tokenizerFromJsonText(`{${model.replace("0.0", "0")}}`);
 * assert(good._tag === "Right" && good.right.encode("aa").join() === "1,1");
 * ```
 */
export function tokenizerFromJsonText(
  text: string,
  files: TokenizerConfigFiles = {},
  where = "tokenizer.json",
): E.Either<Problem, HfTokenizer> {
  const parsed = parseStrictJson(text);
  if (E.isLeft(parsed)) {
    return E.left(
      problem("Corrupt", where, `Invalid JSON (${parsed.left}); expected a JSON object`),
    );
  }
  return build(parsed.right.value, files, where, parsed.right.isIntegerLiteral);
}

function build(
  json: unknown,
  files: TokenizerConfigFiles,
  where: string,
  isInteger: (holder: object, key: string | number) => boolean,
): E.Either<Problem, HfTokenizer> {
  const root = checkTokenizerJson(json, where, isInteger);
  if (E.isLeft(root)) return root;
  const config = files.tokenizerConfig === undefined ? {} : asRecord(files.tokenizerConfig);
  const specialMap = files.specialTokensMap === undefined ? {} : asRecord(files.specialTokensMap);
  if (config === undefined || specialMap === undefined) {
    const which = config === undefined ? "tokenizer_config.json" : "special_tokens_map.json";
    return E.left(
      problem("Invalid", besideFile(where, which), "Expected a JSON object at the top level"),
    );
  }
  const settings = settle(root.right, config, specialMap);
  let lib: Library;
  try {
    lib = new Library(root.right, {
      ...config,
      clean_up_tokenization_spaces: settings.cleanUpTokenizationSpaces,
    });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return E.left(problem("Unsupported", where, `Cannot build the tokenizer: ${msg}`));
  }
  const exact = exactNormalizer(lib.normalizer, where);
  if (E.isLeft(exact)) return exact;
  lib.normalizer = exact.right;
  modelPerWord(lib);
  return wrap(lib, settings, where);
}

/**
 * Makes the library's model treat words as the Rust library's does: one at a time (it otherwise
 * fuses unknown tokens across words: `["日本語", "☃"]` gives one `<unk>`, Rust two), and, for a BPE
 * model without an unknown token or byte fallback, without the characters it has no id for.
 */
function modelPerWord(lib: Library): void {
  const model = lib.model as unknown as { _call: (tokens: string[]) => string[] };
  const whole = model._call.bind(model);
  model._call = (tokens) => tokens.length <= 1 ? whole(tokens) : tokens.flatMap((t) => whole([t]));
  const bpe = lib.model as unknown as {
    bpe?: (token: string) => string[];
    tokens_to_ids: Map<string, number>;
    unk_token_id?: number;
    byte_fallback?: boolean;
    end_of_word_suffix?: string | null;
  };
  if (
    typeof bpe.bpe === "function" && bpe.unk_token_id === undefined && !bpe.byte_fallback &&
    !bpe.end_of_word_suffix
  ) {
    // With neither an unknown token nor byte fallback, the Rust library drops the characters it
    // has no id for before merging (so their neighbours may merge); the JS library merges around
    // them and drops them after.
    const merge = bpe.bpe.bind(bpe);
    bpe.bpe = (token) => merge([...token].filter((c) => bpe.tokens_to_ids.has(c)).join(""));
  }
}

/** Replaces the library's approximate Precompiled normalizers (NFKC) with exact ones. */
/** The path of `name` in the folder of `where` (a path or a URL), as `join(dirname(…))` gives. */
function besideFile(where: string, name: string): string {
  const folder = where.slice(0, where.lastIndexOf("/") + 1);
  return folder === "./" ? name : folder + name;
}

function exactNormalizer(
  n: Normalizer | null,
  where: string,
): E.Either<Problem, Normalizer | null> {
  if (n instanceof PrecompiledNormalizer && typeof n.charsmap === "string" && n.charsmap !== "") {
    const fn = precompiledNormalizer(n.charsmap, where);
    if (E.isLeft(fn)) return fn;
    const exact = new PrecompiledNormalizer({
      type: "Precompiled",
      precompiled_charsmap: n.charsmap,
    });
    exact.normalize = fn.right;
    return E.right(exact);
  }
  if (n instanceof SequenceNormalizer) {
    const inner: (Normalizer | null)[] = [];
    for (const m of n.normalizers) {
      const r = exactNormalizer(m, where);
      if (E.isLeft(r)) return r;
      inner.push(r.right);
    }
    n.normalizers = inner;
  }
  return E.right(n);
}

function wrap(
  lib: Library,
  settings: ReturnType<typeof settle>,
  where: string,
): E.Either<Problem, HfTokenizer> {
  let vocabSize = 0;
  for (const id of lib.get_vocab(true).values()) vocabSize = Math.max(vocabSize, id + 1);
  const idOf = (name: string | undefined) => name === undefined ? undefined : lib.token_to_id(name);
  const [padId, eosId, bosId, unkId] = (["pad", "eos", "bos", "unk"] as const).map((k) =>
    idOf(settings.names[k])
  );
  const encode = (text: string): number[] => lib.encode(text, { add_special_tokens: false }).ids;
  const encodeWithSpecial = (text: string): number[] =>
    lib.encode(text, { add_special_tokens: true }).ids;
  // The post-processor wraps a text in fixed ids; find them by encoding a probe both ways.
  let plain: number[];
  let full: number[];
  try {
    plain = encode("a");
    full = encodeWithSpecial("a");
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return E.left(problem("Unsupported", where, `Cannot encode with the tokenizer: ${msg}`));
  }
  const at = findRun(full, plain);
  if (at < 0) {
    return E.left(
      problem(
        "Unsupported",
        where,
        "The post-processor does not keep the text's ids in one run; expected a template",
      ),
    );
  }
  const specialPrefix = full.slice(0, at);
  const specialSuffix = full.slice(at + plain.length);
  const specials = {
    prefix: specialPrefix,
    suffix: specialSuffix,
    // GPT-2 and LLaMA define no padding token; EOS is the usual stand-in, and the mask hides it.
    padId: padId ?? eosId ?? 0,
    paddingSide: settings.paddingSide,
  };
  return E.right({
    vocabSize,
    padId,
    eosId,
    bosId,
    unkId,
    specialPrefix,
    specialSuffix,
    encode,
    encodeWithSpecial,
    encodeBatch: (texts, options = {}) => batchIds(texts.map(encode), specials, options),
    decode: (ids, options = {}) => {
      ids.forEach((id, i) => {
        if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
          throw new ProblemError(
            problem(
              "Invalid",
              "decode",
              `Token id ${id} at index ${i} is not an integer in [0, ${vocabSize})`,
            ),
          );
        }
      });
      if (ids.length === 0) return "";
      return lib.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false });
    },
    sentinelId: (n) =>
      Number.isInteger(n) && n >= 0 ? lib.token_to_id(`<extra_id_${n}>`) : undefined,
    tokenToId: (token) => lib.token_to_id(token),
    idToToken: (id) => Number.isInteger(id) ? lib.id_to_token(id) : undefined,
  });
}

/** The first index where `needle` occurs in `hay` as a contiguous run, or -1. */
function findRun(hay: readonly number[], needle: readonly number[]): number {
  for (let at = 0; at + needle.length <= hay.length; at++) {
    if (needle.every((x, i) => hay[at + i] === x)) return at;
  }
  return -1;
}
