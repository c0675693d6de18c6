/**
 * Reading a tokenizer from disk: a Hugging Face `tokenizer.json` (with `tokenizer_config.json` and
 * `special_tokens_map.json` when present, built by `tokenizerFromJsonText`), or the metadata of a GGUF
 * file (built by `tokenizerFromGguf`).
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { dirname, extname, join } from "node:path";
import { type Problem, problem } from "../problem.ts";
import { pathText, readFileCapped } from "../io/files.ts";
import { ggufFilesIn, readGgufMetadata } from "../io/gguf.ts";
import { tokenizerFromGguf } from "./gguf.ts";
import { type HfTokenizer, tokenizerFromJsonText } from "./hf.ts";

/**
 * The largest tokenizer.json read by default (real ones are a few MB).
 *
 * @example
 * ```ts
 * import { loadTokenizer, TOKENIZER_MAX_BYTES } from "./load.ts";
 * import assert from "node:assert/strict";
 * assert(TOKENIZER_MAX_BYTES === 64 * 1024 * 1024);
 * const dir = new URL("../tests/fixtures/tokenizers/t5", import.meta.url);
 * const small = await loadTokenizer(dir, { maxBytes: 1024 }); // a lower limit for untrusted files
 * assert(small._tag === "Left" && small.left._tag === "TooLarge");
 * ```
 */
export const TOKENIZER_MAX_BYTES = 64 * 1024 * 1024;

// deno-doc-ignore private-type-ref -- fp-ts Either is an npm type (denoland/deno#27364)
/**
 * Reads a tokenizer from a directory holding `tokenizer.json` (and optionally
 * `tokenizer_config.json`, `special_tokens_map.json`), from a `tokenizer.json` path (the other
 * files are then looked for beside it), or from a `.gguf` file (or a directory holding one and no
 * tokenizer.json), whose metadata describes its tokenizer.
 *
 * @param path a directory, a tokenizer.json file or a .gguf file
 * @param options `maxBytes`: the largest file read (default {@link TOKENIZER_MAX_BYTES})
 * @returns the tokenizer, or a problem: NotFound, TooLarge, Corrupt (not JSON), Invalid, Unsupported
 * @example
 * ```ts
 * import { loadTokenizer } from "./load.ts";
 * import assert from "node:assert/strict";
 * const t5 = await loadTokenizer(new URL("../tests/fixtures/tokenizers/t5", import.meta.url));
 * assert(t5._tag === "Right" && t5.right.sentinelId(0) === 32099);
 * ```
 */
export async function loadTokenizer(
  path: string | URL,
  options: { readonly maxBytes?: number } = {},
): Promise<E.Either<Problem, HfTokenizer>> {
  const maxBytes = options.maxBytes ?? TOKENIZER_MAX_BYTES;
  const given = pathText(path);
  let file = given;
  try {
    if ((await Deno.stat(given)).isDirectory) {
      file = join(given, "tokenizer.json");
      if (!await exists(file)) {
        const ggufs = await ggufFilesIn(given);
        if (ggufs.length > 1) {
          return E.left(
            problem(
              "Invalid",
              given,
              `No tokenizer.json, and the directory holds ${ggufs.length} .gguf files (${
                ggufs.join(", ")
              }); pass one of them`,
            ),
          );
        }
        if (ggufs.length === 1) file = join(given, ggufs[0]);
      }
    }
  } catch {
    return E.left(
      problem(
        "NotFound",
        given,
        "No such file or directory; expected a tokenizer.json or a directory holding one",
      ),
    );
  }
  if (isGguf(file)) {
    return E.flatMap(await readGgufMetadata(file), (m) => tokenizerFromGguf(m, file));
  }
  const text = await readText(file, maxBytes);
  if (E.isLeft(text)) {
    return text.left._tag === "NotFound" && file !== given
      ? E.left(problem("NotFound", given, "No tokenizer.json in this directory"))
      : text;
  }
  const dir = dirname(file);
  const tokenizerConfig = await readJson(join(dir, "tokenizer_config.json"), maxBytes, false);
  if (E.isLeft(tokenizerConfig)) return tokenizerConfig;
  const specialTokensMap = await readJson(join(dir, "special_tokens_map.json"), maxBytes, false);
  if (E.isLeft(specialTokensMap)) return specialTokensMap;
  return tokenizerFromJsonText(
    text.right,
    { tokenizerConfig: tokenizerConfig.right, specialTokensMap: specialTokensMap.right },
    file,
  );
}

function isGguf(file: string): boolean {
  return extname(file).toLowerCase() === ".gguf";
}

async function exists(file: string): Promise<boolean> {
  try {
    await Deno.stat(file);
    return true;
  } catch {
    return false;
  }
}

/** Reads a UTF-8 text file. */
async function readText(file: string, maxBytes: number): Promise<E.Either<Problem, string>> {
  const bytes = await readFileCapped(file, maxBytes, "a tokenizer file");
  if (E.isLeft(bytes)) return bytes;
  try {
    return E.right(new TextDecoder("utf-8", { fatal: true }).decode(bytes.right));
  } catch {
    return E.left(problem("Corrupt", file, "Not UTF-8 text; expected a JSON object"));
  }
}

/** Reads and parses a JSON file; an optional file that is absent reads as undefined. */
async function readJson(
  file: string,
  maxBytes: number,
  required: boolean,
): Promise<E.Either<Problem, unknown>> {
  const bytes = await readFileCapped(file, maxBytes, "a tokenizer file");
  if (E.isLeft(bytes)) {
    return !required && bytes.left._tag === "NotFound" ? E.right(undefined) : bytes;
  }
  try {
    return E.right(JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.right)));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return E.left(problem("Corrupt", file, `Invalid JSON (${msg}); expected a JSON object`));
  }
}
