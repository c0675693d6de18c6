/**
 * The normalizer, pre-tokenizer, post-processor and decoder of a tokenizer.json, checked as the
 * Rust `tokenizers` library (0.23) reads them: each variant's fields, their types and which may be
 * absent; types the Rust library knows and the JS library does not implement are Unsupported,
 * others unknown. {@link canonicalComponent} then writes out the defaults the Rust library applies
 * where the JS library would assume others (Metaspace's `add_prefix_space` and `str_rep`, ...).
 *
 * @module
 */
import {
  arrayOf,
  bool,
  char,
  child,
  dflt,
  externallyTagged,
  isObject,
  oneOf,
  opt,
  req,
  type Spec,
  str,
  struct,
  tagged,
  tuple,
  u32,
  unsupportedVariant,
  usize,
} from "./_schema.ts";

const unit = struct({});
const pattern = externallyTagged({ String: str, Regex: str });
const behavior = oneOf([
  "Removed",
  "Isolated",
  "MergedWithPrevious",
  "MergedWithNext",
  "Contiguous",
]);

const metaspace = struct({
  replacement: req(char),
  add_prefix_space: opt(bool),
  prepend_scheme: dflt(oneOf(["first", "never", "always"])),
  split: opt(bool),
  str_rep: opt(str),
}, (_c, h, k, p) => {
  const v = h[k] as Record<string, unknown>;
  return v.add_prefix_space === false && (v.prepend_scheme ?? "always") !== "never"
    ? { path: p, message: 'add_prefix_space false needs prepend_scheme "never"' }
    : undefined;
});

const byteLevel = struct({
  add_prefix_space: req(bool),
  trim_offsets: req(bool),
  use_regex: dflt(bool),
});

const replace = struct({ pattern: req(pattern), content: req(str) });

/** A tokenizer.json `normalizer` (not null). */
export const normalizerSpec: Spec = (c, h, k, p) => normalizerVariants(c, h, k, p);
const normalizerVariants: Spec = tagged("normalizer", {
  BertNormalizer: struct({
    clean_text: req(bool),
    handle_chinese_chars: req(bool),
    strip_accents: opt(bool),
    lowercase: req(bool),
  }),
  Strip: struct({ strip_left: req(bool), strip_right: req(bool) }),
  StripAccents: unit,
  NFC: unit,
  NFD: unit,
  NFKC: unit,
  NFKD: unit,
  Lowercase: unit,
  Sequence: struct({ normalizers: req(arrayOf(normalizerSpec)) }),
  Precompiled: struct({ precompiled_charsmap: req(str) }),
  Replace: replace,
  Prepend: struct({ prepend: req(str) }),
  Nmt: unsupportedVariant('Normalizer "Nmt"'),
  ByteLevel: unsupportedVariant('Normalizer "ByteLevel"'),
});

/** A tokenizer.json `pre_tokenizer` (not null). */
export const preTokenizerSpec: Spec = (c, h, k, p) => preTokenizerVariants(c, h, k, p);
const preTokenizerVariants: Spec = tagged("pre-tokenizer", {
  BertPreTokenizer: unit,
  ByteLevel: byteLevel,
  Metaspace: metaspace,
  Whitespace: unit,
  WhitespaceSplit: unit,
  Sequence: struct({ pretokenizers: req(arrayOf(preTokenizerSpec)) }),
  Split: struct({ pattern: req(pattern), behavior: req(behavior), invert: req(bool) }),
  Punctuation: struct({ behavior: dflt(behavior) }),
  Digits: struct({ individual_digits: req(bool) }),
  FixedLength: struct({ length: dflt(usize) }),
  CharDelimiterSplit: unsupportedVariant('Pre-tokenizer "CharDelimiterSplit"'),
  UnicodeScripts: unsupportedVariant('Pre-tokenizer "UnicodeScripts"'),
});

/** A tokenizer.json `decoder` (not null). */
export const decoderSpec: Spec = (c, h, k, p) => decoderVariants(c, h, k, p);
const decoderVariants: Spec = tagged("decoder", {
  BPEDecoder: struct({ suffix: req(str) }),
  ByteLevel: byteLevel,
  WordPiece: struct({ prefix: req(str), cleanup: req(bool) }),
  Metaspace: metaspace,
  CTC: struct({ pad_token: req(str), word_delimiter_token: req(str), cleanup: req(bool) }),
  Sequence: struct({ decoders: req(arrayOf(decoderSpec)) }),
  Replace: replace,
  Fuse: unit,
  Strip: struct({ content: req(char), start: req(usize), stop: req(usize) }),
  ByteFallback: unit,
});

const piece = externallyTagged({
  Sequence: struct({ id: req(oneOf(["A", "B"])), type_id: req(u32) }),
  SpecialToken: struct({ id: req(str), type_id: req(u32) }),
});

const template = struct({
  single: req(arrayOf(piece)),
  pair: req(arrayOf(piece)),
  special_tokens: req(
    (c, h, k, p) =>
      (isObject(h[k]) ? undefined : { path: p, message: "Expected an object" }) ??
        Object.keys(h[k] as object).reduce<ReturnType<Spec>>(
          (e, key) =>
            e ?? struct({ id: req(str), ids: req(arrayOf(u32)), tokens: req(arrayOf(str)) })(
              c,
              h[k] as Record<string, unknown>,
              key,
              child(p, key),
            ),
          undefined,
        ),
  ),
}, (_c, h, k, p) => {
  // The Rust library fails on encoding when a template names a token it does not list.
  const v = h[k] as { single: unknown[]; pair: unknown[]; special_tokens: object };
  for (const which of ["single", "pair"] as const) {
    for (const [i, x] of v[which].entries()) {
      // A single template has one sequence, A: the Rust library panics encoding with a B in it.
      const seq = (x as { Sequence?: { id: string } }).Sequence;
      if (which === "single" && seq !== undefined && seq.id !== "A") {
        return {
          path: child(child(child(child(p, which), i), "Sequence"), "id"),
          message: `A single-sequence template can only hold sequence "A", not ${
            JSON.stringify(seq.id)
          }`,
        };
      }
      const s = (x as { SpecialToken?: { id: string } }).SpecialToken;
      if (s !== undefined && !Object.hasOwn(v.special_tokens, s.id)) {
        return {
          path: child(child(child(child(p, which), i), "SpecialToken"), "id"),
          message: `Special token ${JSON.stringify(s.id)} is not in special_tokens`,
        };
      }
    }
  }
  return undefined;
});

/** A tokenizer.json `post_processor` (not null). */
export const postProcessorSpec: Spec = (c, h, k, p) => postProcessorVariants(c, h, k, p);
const postProcessorVariants: Spec = tagged("post-processor", {
  TemplateProcessing: template,
  BertProcessing: struct({ sep: req(tuple(str, u32)), cls: req(tuple(str, u32)) }),
  RobertaProcessing: struct({
    sep: req(tuple(str, u32)),
    cls: req(tuple(str, u32)),
    trim_offsets: req(bool),
    add_prefix_space: req(bool),
  }),
  ByteLevel: byteLevel,
  Sequence: struct({ processors: req(arrayOf(postProcessorSpec)) }),
});

type Json = Readonly<Record<string, unknown>>;

/**
 * A checked component with the Rust library's defaults written out, for the JS library: a new
 * object (the input is not changed).
 *
 * @param c a normalizer, pre-tokenizer, post-processor or decoder that passed its spec, or null
 */
export function canonicalComponent(c: unknown): unknown {
  if (!isObject(c)) return c;
  const out: Record<string, unknown> = { ...c };
  for (const key of ["normalizers", "pretokenizers", "decoders", "processors"]) {
    if (Array.isArray(c[key])) out[key] = (c[key] as unknown[]).map(canonicalComponent);
  }
  switch (c.type) {
    case "Metaspace": {
      // Rust: add_prefix_space false means "never"; str_rep is derived from replacement.
      delete out.str_rep;
      delete out.add_prefix_space;
      out.prepend_scheme = c.add_prefix_space === false ? "never" : c.prepend_scheme ?? "always";
      out.split = c.split ?? true;
      break;
    }
    case "ByteLevel":
      out.use_regex = c.use_regex ?? true;
      break;
    case "Punctuation":
      out.behavior = c.behavior ?? "Isolated";
      break;
    case "FixedLength":
      out.length = c.length ?? 5;
      break;
  }
  return out as Json;
}
