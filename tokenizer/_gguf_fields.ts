/**
 * The `tokenizer.ggml.*` keys of GGUF metadata, checked as untrusted input: types, lengths, ids in
 * range, one-line problems naming the key. Private to tokenizer/gguf.ts.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { type Problem, problem } from "../problem.ts";

type Metadata = ReadonlyMap<string, unknown>;

/** The prefix of llama.cpp's tokenizer keys. */
export const KEY = "tokenizer.ggml.";

// The token types of llama.cpp's vocabulary (llama_token_type): 0 undefined ... 6 byte.
export const CONTROL = 3;
export const USER_DEFINED = 4;
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
export const SPLITS: ReadonlyMap<string, string> = new Map([
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

/** The checked tokenizer keys of the metadata. */
export interface Fields {
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

/**
 * Checks the tokenizer keys: the model (gpt2 or llama), tokens (unique strings), token types and
 * scores (one per token), merges (strings; required for gpt2, or scores for llama), the
 * pre-tokenizer name, the special token ids (in range) and the add_bos / add_eos flags (llama
 * adds BOS unless told not to).
 */
export function readFields(meta: Metadata, where: string): E.Either<Problem, Fields> {
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
function kind(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (v === null) return "null";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
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
