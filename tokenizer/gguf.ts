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
import type { GgufValue } from "../io/gguf.ts";
import { CONTROL, type Fields, KEY, readFields, SPLITS, USER_DEFINED } from "./_gguf_fields.ts";

export type { GgufValue } from "../io/gguf.ts";

type Json = Record<string, unknown>;

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
  const parts = f.model === "gpt2" ? byteLevel(f, spelled, source) : sentencePiece(f, source);
  if (E.isLeft(parts)) return parts;
  const p = parts.right;
  const json = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: addedTokens(f, spelled, p.control, (t) => p.vocab[t]),
    normalizer: null,
    pre_tokenizer: p.preTokenizer,
    post_processor: template(f, spelled),
    decoder: p.decoder,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      ignore_merges: false,
      ...p.model,
      vocab: p.vocab,
      merges: p.merges,
    },
  };
  const named = (id: number | undefined) => id === undefined ? null : spelled[id];
  const tokenizerConfig = {
    bos_token: named(f.bos),
    eos_token: named(f.eos),
    unk_token: named(f.unk),
    pad_token: named(f.pad),
  };
  return tokenizerFromJson(json, { tokenizerConfig }, source);
}

/** What a byte-level and a SentencePiece-style vocabulary build differently. */
interface Parts {
  readonly vocab: Record<string, number>;
  readonly merges: [string, string][];
  /** Whether a control token becomes an added special token. */
  readonly control: (token: string) => boolean;
  readonly preTokenizer: Json;
  readonly decoder: Json;
  /** The BPE model's settings besides the vocabulary and merges. */
  readonly model: Json;
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
): E.Either<Problem, Parts> {
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
  const split = f.pre === undefined ? undefined : SPLITS.get(f.pre);
  const byteLevelPre = (useRegex: boolean) => ({
    type: "ByteLevel",
    add_prefix_space: false,
    trim_offsets: true,
    use_regex: useRegex,
  });
  return E.right({
    vocab,
    merges: merges.right,
    // Control tokens outside the byte alphabet are llama.cpp mislabels: transformers leaves them out.
    control: inByteAlphabet,
    preTokenizer: split === undefined ? byteLevelPre(true) : {
      type: "Sequence",
      pretokenizers: [
        { type: "Split", pattern: { Regex: split }, behavior: "Isolated", invert: false },
        byteLevelPre(false),
      ],
    },
    decoder: { ...byteLevelPre(true), add_prefix_space: true },
    model: {
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
    },
  });
}

function sentencePiece(f: Fields, where: string): E.Either<Problem, Parts> {
  const vocab = vocabObject(f.tokens);
  const merges = f.merges === undefined
    ? E.right(mergesFromScores(f.tokens, f.scores!))
    : checkMerges(f.merges, vocab, where);
  if (E.isLeft(merges)) return merges;
  return E.right({
    vocab,
    merges: merges.right,
    control: () => true,
    preTokenizer: { type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: false },
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
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
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
