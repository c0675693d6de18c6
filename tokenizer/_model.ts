/**
 * The `model` and `added_tokens` of a tokenizer.json, checked as the Rust `tokenizers` library
 * (0.23) reads them, plus what it checks when it builds the model: Unigram `[piece, score]` pairs
 * and `unk_id` inside the vocabulary; BPE ids, merges in either form (`"a b"` or `["a", "b"]`) with
 * both parts and their concatenation in the vocabulary; WordPiece's required fields. Added tokens
 * must carry the id the Rust library gives them (the id of their content in the vocabulary, else
 * the next free one), since the JS library takes the ids as written.
 *
 * @module
 */
import {
  arrayOf,
  bool,
  brief,
  child,
  dflt,
  f64,
  isObject,
  mapOf,
  opt,
  type Path,
  req,
  type SchemaError,
  type Spec,
  str,
  struct,
  tuple,
  u32,
  usize,
} from "./_schema.ts";

type Json = Readonly<Record<string, unknown>>;

const unigram: Spec = struct({
  vocab: req(arrayOf(tuple(str, f64))),
  unk_id: opt(usize),
  byte_fallback: dflt(bool),
}, (_c, h, k, p) => {
  const m = h[k] as Json;
  const vocab = m.vocab as readonly unknown[];
  if (vocab.length === 0) {
    return { path: child(p, "vocab"), message: "Expected a non-empty vocabulary" };
  }
  if (m.unk_id === undefined || m.unk_id === null) {
    // The Rust library fails on the first unknown character; the JS library would give no id.
    return {
      path: child(p, "unk_id"),
      message: "A Unigram model without unk_id is not supported",
      unsupported: true,
    };
  }
  if ((m.unk_id as number) >= vocab.length) {
    return {
      path: child(p, "unk_id"),
      message: `Expected an index into the vocabulary (< ${vocab.length}), got ${m.unk_id}`,
    };
  }
  if (m.byte_fallback === true) {
    return {
      path: child(p, "byte_fallback"),
      message: "Unigram with byte_fallback is not supported",
      unsupported: true,
    };
  }
  return undefined;
});

/** The pairs of a BPE model's merges, or what is wrong with them. */
function mergePairs(
  merges: readonly unknown[],
  path: Path,
): SchemaError | readonly (readonly [string, string])[] {
  if (merges.every((m) => typeof m === "string")) {
    const out: [string, string][] = [];
    let rank = 0;
    for (const [i, line] of (merges as string[]).entries()) {
      if (line.startsWith("#version")) continue; // skipped, as in merges.txt
      rank++;
      const parts = line.split(" ");
      if (parts.length !== 2) {
        return {
          path: child(path, i),
          message: `Expected "a b" (two tokens, one space), got ${brief(line)} (merge ${rank})`,
        };
      }
      out.push([parts[0], parts[1]]);
    }
    return out;
  }
  const pair = tuple(str, str);
  const holder = merges as unknown as Record<number, unknown>;
  for (let i = 0; i < merges.length; i++) {
    const e = pair({ isInteger: () => true }, holder, i, child(path, i));
    if (e !== undefined) {
      return {
        path: e.path,
        message: `${e.message}; merges are all "a b" strings or all ["a", "b"] pairs`,
      };
    }
  }
  return merges as readonly (readonly [string, string])[];
}

const bpe: Spec = struct({
  vocab: req(mapOf(u32)),
  merges: req(arrayOf((_c, _h, _k, _p) => undefined)),
  dropout: opt(f64),
  unk_token: opt(str),
  continuing_subword_prefix: opt(str),
  end_of_word_suffix: opt(str),
  fuse_unk: opt(bool),
  byte_fallback: opt(bool),
  ignore_merges: opt(bool),
}, (_c, h, k, p) => {
  const m = h[k] as Json;
  const vocab = m.vocab as Readonly<Record<string, number>>;
  const dropout = m.dropout as number | null | undefined;
  if (typeof dropout === "number" && !(dropout >= 0 && dropout <= 1)) {
    return { path: child(p, "dropout"), message: `Expected a number in [0, 1], got ${dropout}` };
  }
  if (typeof dropout === "number" && dropout > 0) {
    return {
      path: child(p, "dropout"),
      message: "BPE dropout is not supported",
      unsupported: true,
    };
  }
  if (typeof m.continuing_subword_prefix === "string" && m.continuing_subword_prefix !== "") {
    return {
      path: child(p, "continuing_subword_prefix"),
      message: "BPE with a continuing_subword_prefix is not supported",
      unsupported: true,
    };
  }
  const seen = new Map<number, string>();
  for (const [token, id] of Object.entries(vocab)) {
    const other = seen.get(id);
    if (other !== undefined) {
      return {
        path: child(child(p, "vocab"), token),
        message: `Id ${id} is also the id of ${JSON.stringify(other)}; expected one token per id`,
      };
    }
    seen.set(id, token);
  }
  if (typeof m.unk_token === "string" && !Object.hasOwn(vocab, m.unk_token)) {
    // The Rust library fails on the first unknown character; the JS library would drop it.
    return unkNotInVocab(p, m.unk_token);
  }
  const pairs = mergePairs(m.merges as readonly unknown[], child(p, "merges"));
  if (!Array.isArray(pairs)) return pairs as SchemaError;
  for (const [i, [a, b]] of pairs.entries()) {
    for (const t of [a, b, a + b]) {
      if (!Object.hasOwn(vocab, t)) {
        return {
          path: child(child(p, "merges"), i),
          message: `Merge ${JSON.stringify(`${a} ${b}`)} needs ${
            JSON.stringify(t)
          }, which is not in the vocabulary`,
        };
      }
    }
  }
  return undefined;
});

const unkNotInVocab = (p: Path, unk: string): SchemaError => ({
  path: child(p, "unk_token"),
  message: `Expected a token of the vocabulary, got ${JSON.stringify(unk)}`,
});

const wordPiece: Spec = struct({
  unk_token: req(str),
  continuing_subword_prefix: req(str),
  max_input_chars_per_word: req(usize),
  vocab: req(mapOf(u32)),
}, (_c, h, k, p) => {
  const m = h[k] as Json;
  return Object.hasOwn(m.vocab as object, m.unk_token as string)
    ? undefined
    : unkNotInVocab(p, m.unk_token as string);
});

/** A tokenizer.json `model`. */
export const modelSpec: Spec = (c, h, k, p) => {
  const m = h[k];
  if (!isObject(m)) return { path: p, message: `Expected a model object, got ${brief(m)}` };
  const types: Record<string, Spec> = { Unigram: unigram, BPE: bpe, WordPiece: wordPiece };
  if (m.type === "WordLevel") {
    return {
      path: child(p, "type"),
      message: 'Model type "WordLevel" is not supported; expected BPE, Unigram or WordPiece',
      unsupported: true,
    };
  }
  if (typeof m.type !== "string" || !Object.hasOwn(types, m.type)) {
    return {
      path: child(p, "type"),
      message: `Unknown model type ${brief(m.type)}; expected BPE, Unigram or WordPiece`,
    };
  }
  return types[m.type](c, h, k, p);
};

/** One entry of `added_tokens`. */
export const addedTokenSpec: Spec = struct(
  {
    id: req(u32),
    content: req(str),
    single_word: req(bool),
    lstrip: req(bool),
    rstrip: req(bool),
    normalized: req(bool),
    special: req(bool),
  },
  (_c, h, k, p) =>
    (h[k] as Json).content === ""
      ? { path: child(p, "content"), message: "Expected a non-empty string" }
      : undefined,
);

/** The model's own id of `token`, as the Rust library looks it up. */
function modelTokenId(model: Json): (token: string) => number | undefined {
  if (model.type === "Unigram") {
    const ids = new Map<string, number>();
    (model.vocab as readonly (readonly [string, number])[]).forEach(([t], i) => ids.set(t, i));
    return (t) => ids.get(t);
  }
  const vocab = model.vocab as Readonly<Record<string, number>>;
  return (t) => Object.hasOwn(vocab, t) ? vocab[t] : undefined;
}

/** The Rust library's vocabulary size of a model: Unigram entries, or BPE/WordPiece tokens. */
function modelVocabSize(model: Json): number {
  return Array.isArray(model.vocab)
    ? model.vocab.length
    : Object.keys(model.vocab as object).length;
}

/**
 * Checks that each added token's id is the one the Rust library gives it: its content's id (in the
 * model or among the added tokens before it), else the next id after the vocabulary.
 *
 * @param model a checked model
 * @param added checked added tokens
 * @returns the first wrong id, or undefined
 */
export function checkAddedIds(model: Json, added: readonly Json[]): SchemaError | undefined {
  const inModel = modelTokenId(model);
  const assigned = new Map<string, number>();
  let next = modelVocabSize(model);
  for (const [i, t] of added.entries()) {
    const content = t.content as string;
    let id = assigned.get(content) ?? inModel(content);
    if (id === undefined) id = next++;
    assigned.set(content, id);
    if (t.id !== id) {
      return {
        path: child(child(child(null, "added_tokens"), i), "id"),
        message: `Expected ${id} for ${JSON.stringify(content)} (${
          inModel(content) === id
            ? "its id in the model's vocabulary"
            : "the next id after the vocabulary"
        }), got ${t.id}`,
      };
    }
  }
  return undefined;
}

/** A checked model in the form the JS library reads as the Rust one does (`#version` merges dropped). */
export function canonicalModel(model: Json): Json {
  if (model.type !== "BPE") return model;
  const merges = model.merges as readonly unknown[];
  return merges.some((m) => typeof m === "string" && m.startsWith("#version"))
    ? { ...model, merges: merges.filter((m) => !(m as string).startsWith("#version")) }
    : model;
}
