/**
 * Reading what a Hugging Face tokenizer directory says besides tokenizer.json: the special tokens
 * (tokenizer_config.json, then special_tokens_map.json, then the tokenizer.json itself) and the
 * decoding and padding defaults.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { type Problem, problem } from "../problem.ts";

/** The special tokens a tokenizer names, as token strings. */
export interface SpecialTokenNames {
  readonly pad?: string;
  readonly eos?: string;
  readonly bos?: string;
  readonly unk?: string;
}

/** What the optional config files settle. */
export interface TokenizerSettings {
  readonly names: SpecialTokenNames;
  readonly cleanUpTokenizationSpaces: boolean;
  readonly paddingSide: "left" | "right";
}

type Json = Record<string, unknown>;

/** A plain JSON object, or undefined. */
export function asRecord(x: unknown): Json | undefined {
  return typeof x === "object" && x !== null && !Array.isArray(x) ? x as Json : undefined;
}

/** A special token field: a string, an AddedToken object `{content}`, or null/absent. */
function tokenName(x: unknown): string | undefined {
  if (typeof x === "string") return x;
  const r = asRecord(x);
  return r !== undefined && typeof r.content === "string" ? r.content : undefined;
}

const KINDS = ["pad", "eos", "bos", "unk"] as const;

// Names tried, in order, when no config file names a token; the GPT-2 family names
// <|endoftext|> as its BOS, EOS and UNK (its tokenizer_config.json does).
const GUESSES: Record<(typeof KINDS)[number], readonly string[]> = {
  pad: ["<pad>", "[PAD]"],
  eos: ["</s>", "<|endoftext|>", "<eos>", "<|end_of_text|>", "[SEP]"],
  bos: ["<s>", "<bos>", "<|begin_of_text|>", "<|endoftext|>", "[CLS]"],
  unk: ["<unk>", "<|endoftext|>", "[UNK]"],
};

/**
 * Checks the shape of a tokenizer.json value, and that its model is one the library implements
 * faithfully, before the library sees it.
 *
 * @returns the value as a record with absent optional parts filled in (null, no added tokens), or
 *   an Invalid or Unsupported problem naming the first wrong field
 */
export function checkTokenizerJson(json: unknown, where: string): E.Either<Problem, Json> {
  const root = asRecord(json);
  if (root === undefined) {
    return E.left(problem("Invalid", where, "Expected a tokenizer.json object at the top level"));
  }
  const model = asRecord(root.model);
  if (model === undefined || typeof model.type !== "string") {
    return E.left(
      problem(
        "Invalid",
        where,
        'Expected a "model" object with a "type" (BPE, Unigram, WordPiece)',
      ),
    );
  }
  if (!["BPE", "Unigram", "WordPiece"].includes(model.type)) {
    return E.left(
      problem(
        "Unsupported",
        where,
        `Model type "${model.type}" is not supported; expected BPE, Unigram or WordPiece`,
      ),
    );
  }
  if (model.type === "Unigram" && model.byte_fallback === true) {
    return E.left(problem("Unsupported", where, "Unigram with byte_fallback is not supported"));
  }
  const added = root.added_tokens ?? [];
  if (!Array.isArray(added)) {
    return E.left(problem("Invalid", where, '"added_tokens" is not an array'));
  }
  for (const [i, t] of added.entries()) {
    const r = asRecord(t);
    if (
      r === undefined || !Number.isInteger(r.id) || (r.id as number) < 0 ||
      typeof r.content !== "string"
    ) {
      return E.left(
        problem(
          "Invalid",
          where,
          `added_tokens[${i}] needs a non-negative integer "id" and a string "content"`,
        ),
      );
    }
  }
  // Optional in the format (the Rust reader takes them as absent); the JS library wants them all.
  return E.right({
    normalizer: null,
    pre_tokenizer: null,
    post_processor: null,
    decoder: null,
    ...root,
    added_tokens: added,
  });
}

/** The model's own unknown token: BPE/WordPiece `unk_token`, Unigram `vocab[unk_id]`. */
function modelUnk(root: Json): string | undefined {
  const model = asRecord(root.model);
  if (model === undefined) return undefined;
  if (typeof model.unk_token === "string") return model.unk_token;
  if (Number.isInteger(model.unk_id) && Array.isArray(model.vocab)) {
    const entry = model.vocab[model.unk_id as number];
    return Array.isArray(entry) && typeof entry[0] === "string" ? entry[0] : undefined;
  }
  return undefined;
}

/**
 * Settles special token names and defaults from tokenizer_config.json, special_tokens_map.json and
 * the tokenizer.json (each consulted only where the one before says nothing).
 */
export function settle(root: Json, config: Json, specialMap: Json): TokenizerSettings {
  const addedSpecial = new Set(
    ((root.added_tokens ?? []) as Json[]).filter((t) => t.special === true).map((t) =>
      t.content as string
    ),
  );
  const names: Record<string, string> = {};
  for (const kind of KINDS) {
    const key = `${kind}_token`;
    const named = key in config ? tokenName(config[key]) : tokenName(specialMap[key]);
    const explicitNull = key in config && config[key] === null;
    const found = named ??
      (explicitNull ? undefined : kind === "unk" ? modelUnk(root) : undefined) ??
      (explicitNull ? undefined : GUESSES[kind].find((g) => addedSpecial.has(g)));
    if (found !== undefined) names[kind] = found;
  }
  const side = config.padding_side;
  return {
    names,
    // transformers 5 defaults clean_up_tokenization_spaces to false.
    cleanUpTokenizationSpaces: config.clean_up_tokenization_spaces === true,
    paddingSide: side === "left" ? "left" : "right",
  };
}
