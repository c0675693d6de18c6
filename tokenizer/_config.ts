/**
 * Reading what a Hugging Face tokenizer directory says besides tokenizer.json: the special tokens
 * (tokenizer_config.json, then special_tokens_map.json, then the tokenizer.json itself) and the
 * decoding and padding defaults.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { type Problem, problem } from "../problem.ts";
import { integerValued } from "./_json.ts";
import {
  arrayOf,
  checkRoot,
  dflt,
  externallyTagged,
  oneOf,
  opt,
  pathText,
  req,
  type SchemaContext,
  str,
  struct,
  u32,
  usize,
} from "./_schema.ts";
import {
  canonicalComponent,
  decoderSpec,
  normalizerSpec,
  postProcessorSpec,
  preTokenizerSpec,
} from "./_components.ts";
import { addedTokenSpec, canonicalModel, checkAddedIds, modelSpec } from "./_model.ts";

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

const truncationSpec = struct({
  direction: dflt(oneOf(["Left", "Right"])),
  max_length: req(usize),
  strategy: req(oneOf(["LongestFirst", "OnlyFirst", "OnlySecond"])),
  stride: req(usize),
});

const paddingSpec = struct({
  strategy: req((c, h, k, p) =>
    h[k] === "BatchLongest" ? undefined : externallyTagged({ Fixed: usize })(c, h, k, p)
  ),
  direction: req(oneOf(["Left", "Right"])),
  pad_to_multiple_of: opt(usize),
  pad_id: req(u32),
  pad_type_id: req(u32),
  pad_token: req(str),
});

const tokenizerSpec = struct({
  version: dflt((c, h, k, p) =>
    str(c, h, k, p) ??
      (h[k] === "1.0"
        ? undefined
        : { path: p, message: `Unknown tokenizer version ${JSON.stringify(h[k])}; expected "1.0"` })
  ),
  truncation: opt(truncationSpec),
  padding: opt(paddingSpec),
  added_tokens: dflt(arrayOf(addedTokenSpec)),
  normalizer: opt(normalizerSpec),
  pre_tokenizer: opt(preTokenizerSpec),
  post_processor: opt(postProcessorSpec),
  decoder: opt(decoderSpec),
  model: req(modelSpec),
});

/**
 * Checks a tokenizer.json value as the Rust `tokenizers` library reads it (types of ids, scores,
 * merges, added tokens, the variants of each component and their fields), and that it asks only
 * for what the JS library implements as the Rust one does.
 *
 * @param json the parsed tokenizer.json
 * @param where the file, for problems
 * @param isInteger whether `holder[key]` was written as an integer (JSON.parse forgets `2.0`)
 * @returns the value for the JS library (Rust's defaults written out, absent parts null), or an
 *   Invalid or Unsupported problem naming the JSON path of the first wrong field
 */
export function checkTokenizerJson(
  json: unknown,
  where: string,
  isInteger: SchemaContext["isInteger"] = integerValued,
): E.Either<Problem, Json> {
  if (asRecord(json) === undefined) {
    return E.left(problem("Invalid", where, "Expected a tokenizer.json object at the top level"));
  }
  const root = json as Json;
  const found = checkRoot(tokenizerSpec, { isInteger }, root) ??
    checkAddedIds(root.model as Json, (root.added_tokens ?? []) as Json[]);
  if (found !== undefined) {
    return E.left(
      problem(
        found.unsupported ? "Unsupported" : "Invalid",
        where,
        `${pathText(found.path)}: ${found.message}`,
      ),
    );
  }
  return E.right({
    ...root,
    normalizer: canonicalComponent(root.normalizer ?? null),
    pre_tokenizer: canonicalComponent(root.pre_tokenizer ?? null),
    post_processor: canonicalComponent(root.post_processor ?? null),
    decoder: canonicalComponent(root.decoder ?? null),
    model: canonicalModel(root.model as Json),
    added_tokens: root.added_tokens ?? [],
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
