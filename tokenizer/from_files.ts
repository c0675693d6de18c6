/**
 * Reading a Hugging Face tokenizer from a {@link FileSet}: `tokenizer.json`, with
 * `tokenizer_config.json` and `special_tokens_map.json` when the folder holds them, wherever the
 * files are (in memory, behind a URL, on disk: `loadTokenizer` in `load.ts` reads a directory
 * through this). No Deno API is used.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import type { FileSet } from "../io/file_set.ts";
import { type Problem, problem } from "../problem.ts";
import { type HfTokenizer, tokenizerFromJsonText } from "./hf.ts";

/**
 * The largest tokenizer.json read by default (real ones are a few MB).
 *
 * @example
 * ```ts
 * import { TOKENIZER_MAX_BYTES } from "./from_files.ts";
 * import assert from "node:assert/strict";
 * assert(TOKENIZER_MAX_BYTES === 64 * 1024 * 1024);
 * ```
 */
export const TOKENIZER_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Options of {@link tokenizerFromFiles}.
 *
 * @example
 * ```ts
 * import type { TokenizerFilesOptions } from "./from_files.ts";
 * import assert from "node:assert/strict";
 * const o: TokenizerFilesOptions = { name: "tokenizer.json", maxBytes: 1 << 20 };
 * assert.equal(o.maxBytes, 1048576);
 * ```
 */
export interface TokenizerFilesOptions {
  /** The tokenizer file's name in the folder (default `tokenizer.json`). */
  readonly name?: string;
  /** The largest file read (default {@link TOKENIZER_MAX_BYTES}). */
  readonly maxBytes?: number;
}

/** Reads a UTF-8 text file. */
async function readText(
  files: FileSet,
  name: string,
  maxBytes: number,
): Promise<E.Either<Problem, string>> {
  const bytes = await files.read(name, maxBytes, "a tokenizer file");
  if (E.isLeft(bytes)) return bytes;
  try {
    return E.right(new TextDecoder("utf-8", { fatal: true }).decode(bytes.right));
  } catch {
    return E.left(problem("Corrupt", files.path(name), "Not UTF-8 text; expected a JSON object"));
  }
}

/** Reads and parses a JSON file; an optional file that is absent reads as undefined. */
async function readJson(
  files: FileSet,
  name: string,
  maxBytes: number,
  required: boolean,
): Promise<E.Either<Problem, unknown>> {
  const bytes = await files.read(name, maxBytes, "a tokenizer file");
  if (E.isLeft(bytes)) {
    return !required && bytes.left._tag === "NotFound" ? E.right(undefined) : bytes;
  }
  try {
    return E.right(JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.right)));
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, " ");
    return E.left(
      problem("Corrupt", files.path(name), `Invalid JSON (${msg}); expected a JSON object`),
    );
  }
}

// deno-doc-ignore private-type-ref -- fp-ts Either is an npm type (denoland/deno#27364)
/**
 * Builds a Hugging Face tokenizer from a folder's `tokenizer.json` and, when present, its
 * `tokenizer_config.json` and `special_tokens_map.json`.
 *
 * @param files the folder
 * @param options the tokenizer file's name, the largest file read
 * @returns the tokenizer, or a problem: NotFound, TooLarge, Corrupt (not JSON), Invalid,
 * Unsupported
 * @example
 * ```ts
 * import { tokenizerFromFiles } from "./from_files.ts";
 * import { fetchFileSet } from "../io/file_set.ts";
 * import assert from "node:assert/strict";
 * const dir = new URL("../tests/fixtures/tokenizers/t5/", import.meta.url);
 * const t5 = await tokenizerFromFiles(fetchFileSet(dir));
 * assert(t5._tag === "Right" && t5.right.sentinelId(0) === 32099);
 * ```
 */
export async function tokenizerFromFiles(
  files: FileSet,
  options: TokenizerFilesOptions = {},
): Promise<E.Either<Problem, HfTokenizer>> {
  const maxBytes = options.maxBytes ?? TOKENIZER_MAX_BYTES;
  const name = options.name ?? "tokenizer.json";
  const text = await readText(files, name, maxBytes);
  if (E.isLeft(text)) return text;
  const tokenizerConfig = await readJson(files, "tokenizer_config.json", maxBytes, false);
  if (E.isLeft(tokenizerConfig)) return tokenizerConfig;
  const specialTokensMap = await readJson(files, "special_tokens_map.json", maxBytes, false);
  if (E.isLeft(specialTokensMap)) return specialTokensMap;
  return tokenizerFromJsonText(
    text.right,
    { tokenizerConfig: tokenizerConfig.right, specialTokensMap: specialTokensMap.right },
    files.path(name),
  );
}
