/**
 * The tokenizer a GGUF file describes in its metadata (llama.cpp's `tokenizer.ggml.*` keys), built
 * as transformers' GGUF loader builds it (`AutoTokenizer.from_pretrained(dir, gguf_file=name)`),
 * behind the same {@link HfTokenizer} interface as a tokenizer.json:
 *
 * - `tokenizer.ggml.model` = `gpt2`: byte-level BPE from `tokens` and `merges`; a token the file
 *   spells outside the byte alphabet is respelled by its UTF-8 bytes. `tokenizer.ggml.pre` picks
 *   the split regex for the names transformers knows (llama3, qwen2, tekken, gpt-4o, ...); any
 *   other name (`smollm`, `default`, ...) gets GPT-2's own, as in transformers.
 * - `tokenizer.ggml.model` = `llama`: SentencePiece-style BPE with byte fallback (`<0xNN>`
 *   tokens), `▁` prepended to the first piece of text; the merges are the file's, or derived from
 *   `tokenizer.ggml.scores` when it has none. As in transformers, `add_space_prefix` is not read.
 * - Tokens of type 3 (control) are added special tokens, type 4 (user-defined) added plain ones,
 *   so chat tokens like `<|im_start|>` encode as one id; BOS / EOS / UNK / PAD come from the
 *   `*_token_id` keys, and `add_bos_token` / `add_eos_token` (llama default: BOS only) decide what
 *   {@link HfTokenizer.encodeWithSpecial} adds.
 *
 * Every key is checked as untrusted input; a problem is one line naming the key.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { type Problem, problem } from "../problem.ts";
import { type HfTokenizer, tokenizerFromJson } from "./hf.ts";

/**
 * A GGUF metadata value: integers of up to 32 bits and floats as numbers, 64-bit integers as
 * bigints, and arrays of those.
 *
 * @example
 * ```ts
 * import type { GgufValue } from "./gguf.ts";
 * import assert from "node:assert/strict";
 * const tokens: GgufValue = ["<unk>", "<s>", "</s>"];
 * const bos: GgufValue = 1n;
 * assert.equal(Array.isArray(tokens) && tokens[Number(bos)], "<s>");
 * ```
 */
// TODO(lead): the same type as g1's io/gguf.ts; import it from there once that file is merged.
export type GgufValue = number | bigint | boolean | string | readonly GgufValue[];

type Metadata = ReadonlyMap<string, GgufValue>;
type Json = Record<string, unknown>;

const KEY = "tokenizer.ggml.";

// The token types of llama.cpp's vocabulary (llama_token_type): 0 undefined ... 6 byte.
const CONTROL = 3;
const USER_DEFINED = 4;
const LAST_TOKEN_TYPE = 6;

// Split regexes of the pre-tokenizers transformers' GGUF loader knows, by `tokenizer.ggml.pre`.
const LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}" +
  "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}" +
  "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN35 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}" +
  "| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const UPPER = "[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]";
const LOWER = "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]";
const TEKKEN = `[^\\r\\n\\p{L}\\p{N}]?${UPPER}*${LOWER}+|[^\\r\\n\\p{L}\\p{N}]?${UPPER}+${LOWER}*` +
  "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const CONTRACTION = "(?i:'s|'t|'re|'ve|'m|'ll|'d)?";
const GPT4O = `[^\\r\\n\\p{L}\\p{N}]?${UPPER}*${LOWER}+${CONTRACTION}` +
  `|[^\\r\\n\\p{L}\\p{N}]?${UPPER}+${LOWER}*${CONTRACTION}` +
  "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const SPLITS: ReadonlyMap<string, string> = new Map([
  ...[
    "llama3",
    "llama-v3",
    "llama-bpe",
    "falcon3",
    "falcon-h1",
    "pixtral",
    "midm-2.0",
    "lfm2",
    "jina-v5-nano",
    "dbrx",
    "smaug-bpe",
  ].map((n) => [n, LLAMA3] as const),
  ["tekken", TEKKEN],
  ...["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez"].map((n) => [n, QWEN2] as const),
  ["qwen35", QWEN35],
  ...["gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"].map((n) => [n, GPT4O] as const),
]);

// Architectures whose `llama` vocabulary transformers builds differently (Gemma respells spaces
// and orders merges by position, Phi-3 prepends through a normalizer): not supported here.
const OTHER_SENTENCEPIECE = new Set(["gemma", "gemma2", "gemma3", "phi3"]);

// deno-doc-ignore private-type-ref -- fp-ts Either is an npm type (denoland/deno#27364)
/**
 * Builds the tokenizer a GGUF file's metadata describes, as transformers does.
 *
 * @param metadata the file's metadata (the `tokenizer.ggml.*` keys; `general.architecture` too)
 * @param source the name used in problems (the file's path)
 * @returns the tokenizer, or a one-line Invalid / Unsupported problem naming the key
 * @example
 * ```ts
 * import { tokenizerFromGguf } from "./gguf.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const metadata = new Map<string, string | number | boolean | string[] | number[]>([
 *   ["tokenizer.ggml.model", "llama"],
 *   ["tokenizer.ggml.tokens", ["<unk>", "<s>", "</s>", "▁", "h", "i", "▁h", "▁hi"]],
 *   ["tokenizer.ggml.scores", [0, 0, 0, -3, -4, -5, -2, -1]], // the merges follow the scores
 *   ["tokenizer.ggml.token_type", [2, 3, 3, 1, 1, 1, 1, 1]],
 *   ["tokenizer.ggml.bos_token_id", 1],
 *   ["tokenizer.ggml.eos_token_id", 2],
 * ]);
 * const tok = orThrow(tokenizerFromGguf(metadata, "tiny.gguf"));
 * assert.deepEqual(tok.encode("hi"), [7]);
 * assert.deepEqual(tok.encodeWithSpecial("hi"), [1, 7]); // llama adds BOS unless told not to
 * assert.equal(tok.decode([1, 7], { skipSpecialTokens: true }), "hi");
 * const bad = tokenizerFromGguf(new Map([...metadata, ["tokenizer.ggml.bos_token_id", 8]]));
 * assert(bad._tag === "Left" && bad.left.message.startsWith("tokenizer.ggml.bos_token_id"));
 * ```
 */
export function tokenizerFromGguf(
  metadata: ReadonlyMap<string, GgufValue>,
  source = "GGUF metadata",
): E.Either<Problem, HfTokenizer> {
  const fields = readFields(metadata, source);
  if (E.isLeft(fields)) return fields;
  const f = fields.right;
  // A byte-level vocabulary may respell a token; the special tokens go by the vocabulary's spelling.
  const spelled = f.model === "gpt2" ? f.tokens.map(byteSpelling) : f.tokens;
  const built = f.model === "gpt2" ? byteLevel(f, spelled, source) : sentencePiece(f, source);
  if (E.isLeft(built)) return built;
  const named = (id: number | undefined) => id === undefined ? null : spelled[id];
  const tokenizerConfig = {
    bos_token: named(f.bos),
    eos_token: named(f.eos),
    unk_token: named(f.unk),
    pad_token: named(f.pad),
  };
  return tokenizerFromJson(built.right, { tokenizerConfig }, source);
}

/** The checked tokenizer keys of the metadata. */
interface Fields {
  readonly model: "gpt2" | "llama";
  readonly tokens: readonly string[];
  readonly types: readonly number[] | undefined;
  readonly scores: readonly number[] | undefined;
  readonly merges: readonly string[] | undefined;
  readonly pre: string | undefined;
  readonly bos: number | undefined;
  readonly eos: number | undefined;
  readonly unk: number | undefined;
  readonly pad: number | undefined;
  readonly addBos: boolean;
  readonly addEos: boolean;
}

function readFields(meta: Metadata, where: string): E.Either<Problem, Fields> {
  const bad = (key: string, what: string) => E.left(problem("Invalid", where, `${key} ${what}`));
  const modelKey = `${KEY}model`;
  const model = meta.get(modelKey);
  if (model === undefined) {
    return E.left(
      problem("Invalid", where, `${modelKey} is missing; the file describes no tokenizer`),
    );
  }
  if (typeof model !== "string") return bad(modelKey, `is ${kind(model)}; expected a string`);
  if (model !== "gpt2" && model !== "llama") {
    return E.left(
      problem(
        "Unsupported",
        where,
        `${modelKey} is ${JSON.stringify(model)}; supported: gpt2 (byte-level BPE), llama`,
      ),
    );
  }
  const arch = meta.get("general.architecture");
  if (model === "llama" && typeof arch === "string" && OTHER_SENTENCEPIECE.has(arch)) {
    return E.left(
      problem(
        "Unsupported",
        where,
        `general.architecture is ${JSON.stringify(arch)}; its llama tokenizer is not supported`,
      ),
    );
  }
  const tokens = stringArray(meta, `${KEY}tokens`, true, where);
  if (E.isLeft(tokens)) return tokens;
  const n = tokens.right!.length;
  if (n === 0) return bad(`${KEY}tokens`, "is empty; expected at least one token");
  const seen = new Map<string, number>();
  for (const [i, t] of tokens.right!.entries()) {
    const first = seen.get(t);
    if (first !== undefined) {
      return bad(`${KEY}tokens[${i}]`, `repeats token ${first} (${JSON.stringify(t)})`);
    }
    seen.set(t, i);
  }
  const types = numberArray(meta, `${KEY}token_type`, n, where, "integer");
  if (E.isLeft(types)) return types;
  const badType = types.right?.findIndex((t) => t < 0 || t > LAST_TOKEN_TYPE) ?? -1;
  if (badType >= 0) {
    return bad(
      `${KEY}token_type[${badType}]`,
      `is ${types.right![badType]}; expected a token type in [0, ${LAST_TOKEN_TYPE}]`,
    );
  }
  const scores = numberArray(meta, `${KEY}scores`, n, where, "finite");
  if (E.isLeft(scores)) return scores;
  const merges = stringArray(meta, `${KEY}merges`, false, where);
  if (E.isLeft(merges)) return merges;
  if (merges.right === undefined && (model === "gpt2" || scores.right === undefined)) {
    const need = model === "gpt2"
      ? "; a byte-level vocabulary needs its merges"
      : `, and so is ${KEY}scores; expected one of them`;
    return bad(`${KEY}merges`, `is missing${need}`);
  }
  const pre = meta.get(`${KEY}pre`);
  if (pre !== undefined && typeof pre !== "string") {
    return bad(`${KEY}pre`, `is ${kind(pre)}; expected a string`);
  }
  if (model === "llama" && pre !== undefined && SPLITS.has(pre)) {
    return E.left(
      problem(
        "Unsupported",
        where,
        `${KEY}pre is ${JSON.stringify(pre)}, a byte-level split, with ${modelKey} llama`,
      ),
    );
  }
  const ids: (number | undefined)[] = [];
  for (const name of ["bos", "eos", "unknown", "padding"]) {
    const id = tokenId(meta, `${KEY}${name}_token_id`, n, where);
    if (E.isLeft(id)) return id;
    ids.push(id.right);
  }
  const [bos, eos, unk, pad] = ids;
  const addBos = flag(meta, `${KEY}add_bos_token`, model === "llama", where);
  if (E.isLeft(addBos)) return addBos;
  const addEos = flag(meta, `${KEY}add_eos_token`, false, where);
  if (E.isLeft(addEos)) return addEos;
  for (const [on, id, name] of [[addBos.right, bos, "bos"], [addEos.right, eos, "eos"]] as const) {
    if (on && id === undefined) {
      return bad(`${KEY}${name}_token_id`, `is missing but ${KEY}add_${name}_token is true`);
    }
  }
  return E.right({
    model,
    tokens: tokens.right!,
    types: types.right,
    scores: scores.right,
    merges: merges.right,
    pre,
    bos,
    eos,
    unk,
    pad,
    addBos: addBos.right,
    addEos: addEos.right,
  });
}

/** What a metadata value is, for messages. */
function kind(v: GgufValue): string {
  return Array.isArray(v) ? "an array" : `a ${typeof v}`;
}

function stringArray(
  meta: Metadata,
  key: string,
  required: boolean,
  where: string,
): E.Either<Problem, readonly string[] | undefined> {
  const v = meta.get(key);
  if (v === undefined) {
    return required ? E.left(problem("Invalid", where, `${key} is missing`)) : E.right(undefined);
  }
  if (!Array.isArray(v)) {
    return E.left(problem("Invalid", where, `${key} is ${kind(v)}; expected an array of strings`));
  }
  const i = v.findIndex((x) => typeof x !== "string");
  if (i >= 0) {
    return E.left(problem("Invalid", where, `${key}[${i}] is ${kind(v[i])}; expected a string`));
  }
  return E.right(v as readonly string[]);
}

/** An optional array of `n` numbers: integers (bigints read as numbers) or finite floats. */
function numberArray(
  meta: Metadata,
  key: string,
  n: number,
  where: string,
  want: "integer" | "finite",
): E.Either<Problem, readonly number[] | undefined> {
  const v = meta.get(key);
  if (v === undefined) return E.right(undefined);
  if (!Array.isArray(v)) {
    return E.left(problem("Invalid", where, `${key} is ${kind(v)}; expected an array of numbers`));
  }
  if (v.length !== n) {
    return E.left(
      problem("Invalid", where, `${key} has ${v.length} entries; expected ${n}, one per token`),
    );
  }
  const out: number[] = [];
  for (const [i, x] of v.entries()) {
    const num = typeof x === "bigint" && want === "integer" ? safeNumber(x) : x;
    const ok = typeof num === "number" &&
      (want === "integer" ? Number.isInteger(num) : Number.isFinite(num));
    if (!ok) {
      const shown = typeof x === "number" || typeof x === "bigint" ? String(x) : kind(x);
      return E.left(
        problem(
          "Invalid",
          where,
          `${key}[${i}] is ${shown}; expected ${
            want === "integer" ? "an integer" : "a finite number"
          }`,
        ),
      );
    }
    out.push(num);
  }
  return E.right(out);
}

/** A bigint as a number when it is exactly one, else undefined. */
function safeNumber(x: bigint): number | undefined {
  return x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(x)
    : undefined;
}

/** An optional token id in [0, n). */
function tokenId(
  meta: Metadata,
  key: string,
  n: number,
  where: string,
): E.Either<Problem, number | undefined> {
  const v = meta.get(key);
  if (v === undefined) return E.right(undefined);
  const id = typeof v === "bigint" ? safeNumber(v) : v;
  if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= n) {
    const shown = typeof v === "number" || typeof v === "bigint" ? String(v) : kind(v);
    return E.left(
      problem("Invalid", where, `${key} is ${shown}; expected a token id in [0, ${n})`),
    );
  }
  return E.right(id);
}

function flag(
  meta: Metadata,
  key: string,
  fallback: boolean,
  where: string,
): E.Either<Problem, boolean> {
  const v = meta.get(key);
  if (v === undefined) return E.right(fallback);
  if (typeof v !== "boolean") {
    return E.left(problem("Invalid", where, `${key} is ${kind(v)}; expected a boolean`));
  }
  return E.right(v);
}

// GPT-2's bytes_to_unicode: printable bytes stand for themselves, the others for 256 + n.
const BYTE_CHARS: readonly string[] = (() => {
  const printable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 256;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(printable(b) ? b : next++));
})();
const BYTE_ALPHABET = new Set(BYTE_CHARS);
const UTF8 = new TextEncoder();

/** Whether every character of `token` is one of the byte alphabet's. */
function inByteAlphabet(token: string): boolean {
  for (const c of token) if (!BYTE_ALPHABET.has(c)) return false;
  return true;
}

/** A token as a byte-level vocabulary spells it: its UTF-8 bytes' characters when not already. */
function byteSpelling(token: string): string {
  return inByteAlphabet(token)
    ? token
    : Array.from(UTF8.encode(token), (b) => BYTE_CHARS[b]).join("");
}

/** A `{token: id}` object with no prototype, so that a token named `__proto__` is a plain key. */
function vocabObject(tokens: readonly string[]): Record<string, number> {
  const vocab: Record<string, number> = Object.create(null);
  tokens.forEach((t, i) => vocab[t] = i);
  return vocab;
}

function byteLevel(
  f: Fields,
  spelled: readonly string[],
  where: string,
): E.Either<Problem, Json> {
  const vocab = vocabObject(spelled);
  if (Object.keys(vocab).length !== spelled.length) {
    const i = spelled.findIndex((t, i) => vocab[t] !== i);
    return E.left(
      problem(
        "Invalid",
        where,
        `${KEY}tokens[${i}] spells the same bytes as token ${vocab[spelled[i]]}`,
      ),
    );
  }
  const merges = checkMerges(f.merges!, vocab, where);
  if (E.isLeft(merges)) return merges;
  // Control tokens outside the byte alphabet are llama.cpp mislabels: transformers leaves them out.
  const added = addedTokens(f, spelled, inByteAlphabet, (t) => vocab[t]);
  const split = f.pre === undefined ? undefined : SPLITS.get(f.pre);
  const byteLevelPre = (useRegex: boolean) => ({
    type: "ByteLevel",
    add_prefix_space: false,
    trim_offsets: true,
    use_regex: useRegex,
  });
  return E.right({
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: split === undefined ? byteLevelPre(true) : {
      type: "Sequence",
      pretokenizers: [
        { type: "Split", pattern: { Regex: split }, behavior: "Isolated", invert: false },
        byteLevelPre(false),
      ],
    },
    post_processor: template(f, spelled),
    decoder: { ...byteLevelPre(true), add_prefix_space: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: merges.right,
    },
  });
}

function sentencePiece(f: Fields, where: string): E.Either<Problem, Json> {
  const vocab = vocabObject(f.tokens);
  const merges = f.merges === undefined
    ? E.right(mergesFromScores(f.tokens, f.scores!))
    : checkMerges(f.merges, vocab, where);
  if (E.isLeft(merges)) return merges;
  const added = addedTokens(f, f.tokens, () => true, (t) => vocab[t]);
  return E.right({
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: false },
    post_processor: template(f, f.tokens),
    decoder: {
      type: "Sequence",
      decoders: [
        { type: "Replace", pattern: { String: "▁" }, content: " " },
        { type: "ByteFallback" },
        { type: "Fuse" },
        { type: "Strip", content: " ", start: 1, stop: 0 },
      ],
    },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges: merges.right,
    },
  });
}

/** The file's merges ("a b") as pairs, each side and their join in the vocabulary. */
function checkMerges(
  merges: readonly string[],
  vocab: Record<string, number>,
  where: string,
): E.Either<Problem, [string, string][]> {
  const out: [string, string][] = [];
  for (const [i, m] of merges.entries()) {
    const parts = m.split(" ");
    const [a, b] = parts;
    if (parts.length !== 2 || a === "" || b === "") {
      return E.left(
        problem(
          "Invalid",
          where,
          `${KEY}merges[${i}] is ${JSON.stringify(m)}; expected two tokens and one space`,
        ),
      );
    }
    const missing = [a, b, a + b].find((t) => !(t in vocab));
    if (missing !== undefined) {
      return E.left(
        problem(
          "Invalid",
          where,
          `${KEY}merges[${i}] (${JSON.stringify(m)}) names ${JSON.stringify(missing)}, not a token`,
        ),
      );
    }
    out.push([a, b]);
  }
  return E.right(out);
}

/**
 * The merges a SentencePiece vocabulary implies (transformers' generate_merges): every split of a
 * token into two tokens, best score first, then the shorter left and right side; equal keys keep
 * the order of the tokens, and within a token the order of the sides' ids.
 */
function mergesFromScores(
  tokens: readonly string[],
  scores: readonly number[],
): [string, string][] {
  const ids = new Map(tokens.map((t, i) => [t, i]));
  const all: { l: string; r: string; score: number; ll: number; rl: number }[] = [];
  tokens.forEach((token, i) => {
    const chars = [...token]; // code points, as Python's len and slices count
    const local: { l: string; r: string; score: number; ll: number; rl: number }[] = [];
    for (let at = 1; at < chars.length; at++) {
      const l = chars.slice(0, at).join(""), r = chars.slice(at).join("");
      if (ids.has(l) && ids.has(r)) {
        local.push({ l, r, score: scores[i], ll: at, rl: chars.length - at });
      }
    }
    local.sort((x, y) => ids.get(x.l)! - ids.get(y.l)! || ids.get(x.r)! - ids.get(y.r)!);
    all.push(...local);
  });
  all.sort((x, y) => y.score - x.score || y.ll - x.ll || y.rl - x.rl);
  return all.map((m) => [m.l, m.r]);
}

/**
 * The added tokens: control tokens (where `control` allows them) as special, user-defined ones in
 * the vocabulary as plain, then the named BOS / EOS / UNK / PAD (by their vocabulary spelling) as
 * special where not yet added.
 */
function addedTokens(
  f: Fields,
  spelled: readonly string[],
  control: (token: string) => boolean,
  idOf: (token: string) => number | undefined,
): Json[] {
  const out = new Map<string, Json>();
  const add = (content: string, id: number, special: boolean) => {
    if (out.has(content)) return;
    out.set(content, {
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special,
    });
  };
  f.types?.forEach((type, i) => {
    if (type === CONTROL && control(f.tokens[i])) add(f.tokens[i], i, true);
  });
  f.types?.forEach((type, i) => {
    const id = idOf(f.tokens[i]);
    if (type === USER_DEFINED && id !== undefined) add(f.tokens[i], id, false);
  });
  for (const id of [f.bos, f.eos, f.unk, f.pad]) {
    if (id !== undefined) add(spelled[id], id, true);
  }
  return [...out.values()];
}

/** The post-processor: BOS before and EOS after each text, as the add_* flags say. */
function template(f: Fields, spelled: readonly string[]): Json {
  const special: Record<string, Json> = Object.create(null);
  const around = (sequence: "A" | "B", typeId: number): Json[] => {
    const mark = (id: number) => {
      special[spelled[id]] = { id: spelled[id], ids: [id], tokens: [spelled[id]] };
      return [{ SpecialToken: { id: spelled[id], type_id: typeId } }];
    };
    return [
      ...(f.addBos ? mark(f.bos!) : []),
      { Sequence: { id: sequence, type_id: typeId } },
      ...(f.addEos ? mark(f.eos!) : []),
    ];
  };
  return {
    type: "TemplateProcessing",
    single: around("A", 0),
    pair: [...around("A", 0), ...around("B", 1)],
    special_tokens: special,
  };
}
