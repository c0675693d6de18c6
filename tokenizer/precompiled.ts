/**
 * SentencePiece's precompiled normalization (`precompiled_charsmap`), done the way the Rust
 * `tokenizers` library does it, so that T5-style tokenizers give the reference's ids exactly.
 *
 * The charsmap is a little-endian u32 byte count, a darts-clone double-array trie over UTF-8 keys
 * of that many bytes, then NUL-terminated replacement strings that the trie's values point into.
 * `tokenizers` walks extended grapheme clusters: a cluster shorter than 6 bytes is looked up whole,
 * and otherwise (or when it has no entry) each code point is looked up alone. A lookup takes the
 * shortest key that is a prefix of the chunk, as `spm_precompiled` does.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { type Problem, problem } from "../problem.ts";

/** Clusters of this many UTF-8 bytes or more are normalized code point by code point. */
const WHOLE_CLUSTER_BYTES = 6;

// deno-doc-ignore private-type-ref -- fp-ts Either is an npm type (denoland/deno#27364)
/**
 * Parses a base64 `precompiled_charsmap` (as in a tokenizer.json `Precompiled` normalizer) into a
 * function that normalizes text the way the Rust `tokenizers` library does.
 *
 * @param charsmapBase64 the `precompiled_charsmap` field, base64
 * @param where the file or field it came from, for errors
 * @returns the normalizing function, or a Corrupt problem when the charsmap cannot be read
 * @example
 * ```ts
 * import { precompiledNormalizer } from "./precompiled.ts";
 * import assert from "node:assert/strict";
 * const json = JSON.parse(Deno.readTextFileSync(
 *   new URL("../tests/fixtures/tokenizers/t5/tokenizer.json", import.meta.url),
 * ));
 * const normalize = precompiledNormalizer(json.normalizer.precompiled_charsmap);
 * assert(normalize._tag === "Right" && normalize.right("ｶﾀｶﾅ") === "カタカナ");
 * ```
 */
export function precompiledNormalizer(
  charsmapBase64: string,
  where = "precompiled_charsmap",
): E.Either<Problem, (text: string) => string> {
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(charsmapBase64), (c) => c.charCodeAt(0));
  } catch {
    return E.left(problem("Corrupt", where, "Invalid base64 in the precompiled charsmap"));
  }
  if (bytes.length < 4) {
    return E.left(
      problem("Corrupt", where, `Charsmap of ${bytes.length} bytes; expected at least 4`),
    );
  }
  const trieBytes = new DataView(bytes.buffer).getUint32(0, true);
  if (trieBytes % 4 !== 0 || trieBytes === 0 || 4 + trieBytes > bytes.length) {
    return E.left(
      problem(
        "Corrupt",
        where,
        `Charsmap trie of ${trieBytes} bytes does not fit in ${bytes.length - 4} bytes or is not ` +
          "a positive multiple of 4",
      ),
    );
  }
  const trie = new Uint32Array(trieBytes / 4);
  const view = new DataView(bytes.buffer, 4, trieBytes);
  for (let i = 0; i < trie.length; i++) trie[i] = view.getUint32(4 * i, true);
  const normalized = bytes.subarray(4 + trieBytes);
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(normalized);
  } catch {
    return E.left(problem("Corrupt", where, "Charsmap replacement strings are not valid UTF-8"));
  }
  const lookup = makeLookup(trie, normalized);
  const encoder = new TextEncoder();
  const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
  return E.right((text: string): string => {
    let out = "";
    for (const { segment } of segmenter.segment(text)) {
      const whole = encoder.encode(segment);
      if (whole.length < WHOLE_CLUSTER_BYTES) {
        const replaced = lookup(whole);
        if (replaced !== undefined) {
          out += replaced;
          continue;
        }
      }
      for (const ch of segment) out += lookup(encoder.encode(ch)) ?? ch;
    }
    return out;
  });
}

/** The replacement for the shortest trie key that prefixes `key`, or undefined. */
function makeLookup(
  trie: Uint32Array,
  normalized: Uint8Array,
): (key: Uint8Array) => string | undefined {
  const decoder = new TextDecoder();
  const strings = new Map<number, string>();
  const replacement = (index: number): string | undefined => {
    if (index >= normalized.length) return undefined;
    let s = strings.get(index);
    if (s === undefined) {
      let end = normalized.indexOf(0, index);
      if (end < 0) end = normalized.length;
      s = decoder.decode(normalized.subarray(index, end));
      strings.set(index, s);
    }
    return s;
  };
  // darts-clone unit layout: label in bits 0-7 (bit 31 marks a leaf value), has-leaf in bit 8,
  // offset in bits 10-31, scaled by 256 when bit 9 is set.
  const offset = (unit: number) => (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
  return (key) => {
    let pos = offset(trie[0]);
    for (const c of key) {
      if (c === 0) return undefined;
      pos ^= c;
      if (pos >= trie.length) return undefined;
      const unit = trie[pos];
      if (((unit & 0x800000ff) >>> 0) !== c) return undefined;
      pos ^= offset(unit);
      if (((unit >>> 8) & 1) === 1) {
        return pos < trie.length ? replacement(trie[pos] & 0x7fffffff) : undefined;
      }
    }
    return undefined;
  };
}
