/**
 * Reading a tokenizer from disk: a Hugging Face `tokenizer.json` (with `tokenizer_config.json` and
 * `special_tokens_map.json` when present, built by `tokenizerFromJsonText`), or the metadata of a GGUF
 * file (built by `tokenizerFromGguf`).
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { basename, dirname, extname, join } from "node:path";
import { type Problem, problem } from "../problem.ts";
import { dirFileSet } from "../io/dir_files.ts";
import { fetchFileSet } from "../io/file_set.ts";
import { EMBEDDED_PREFIX, embeddedModelUrl, unknownEmbedded } from "../model/embedded.ts";
import { pathText } from "../io/files.ts";
import { ggufFilesIn, readGgufMetadata } from "../io/gguf.ts";
import { tokenizerFromGguf } from "./gguf.ts";
import type { HfTokenizer } from "./hf.ts";
import { TOKENIZER_MAX_BYTES, tokenizerFromFiles } from "./from_files.ts";

export { TOKENIZER_MAX_BYTES } from "./from_files.ts";

// deno-doc-ignore private-type-ref -- fp-ts Either is an npm type (denoland/deno#27364)
/**
 * Reads a tokenizer from a directory holding `tokenizer.json` (and optionally
 * `tokenizer_config.json`, `special_tokens_map.json`), from a `tokenizer.json` path (the other
 * files are then looked for beside it), or from a `.gguf` file (or a directory holding one and no
 * tokenizer.json), whose metadata describes its tokenizer; `embedded:<name>` is the tokenizer of a
 * model shipped with the package, fetched beside its modules.
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
  if (given.startsWith(EMBEDDED_PREFIX)) {
    const url = embeddedModelUrl(given.slice(EMBEDDED_PREFIX.length));
    return url === undefined
      ? E.left(unknownEmbedded(given))
      : await tokenizerFromFiles(fetchFileSet(url), { maxBytes });
  }
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
  const json = await tokenizerFromFiles(dirFileSet(dirname(file)), {
    name: basename(file),
    maxBytes,
  });
  return E.isLeft(json) && json.left._tag === "NotFound" && file !== given &&
      json.left.where === file
    ? E.left(problem("NotFound", given, "No tokenizer.json in this directory"))
    : json;
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
