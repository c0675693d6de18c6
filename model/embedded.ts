/**
 * The models shipped with the package (`assets/embedded/`, see its MODEL_CARD.md), found by URL
 * next to this module: `file:` in a checkout, `https:` when the package was imported from a URL
 * or from JSR (which serves every published file beside the modules), or wherever a page serves
 * them. {@link loadEmbedded} fetches the files and builds the model and its tokenizer; no Deno
 * API is used, and nothing is copied to disk.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { fetchFileSet, type FetchFileSetOptions } from "../io/file_set.ts";
import { type Problem, problem } from "../problem.ts";
import type { HfTokenizer } from "../tokenizer/hf.ts";
import { tokenizerFromFiles } from "../tokenizer/from_files.ts";
import { disposeTree } from "../tree/tree.ts";
import { embeddingTable, type FrozenModel } from "./frozen.ts";
import { loadHuggingFaceFiles } from "./load_files.ts";

/**
 * The value of `model` that names a model shipped with the project: `embedded:` then a name.
 *
 * @example
 * ```ts
 * import { EMBEDDED_PREFIX } from "./embedded.ts";
 * import assert from "node:assert/strict";
 * assert("embedded:default".startsWith(EMBEDDED_PREFIX));
 * ```
 */
export const EMBEDDED_PREFIX = "embedded:";

/**
 * Embedded model name → its folder under `assets/embedded/`. `default` is the LM-adapted
 * checkpoint, the one the paper tunes prompts on.
 *
 * @example
 * ```ts
 * import { EMBEDDED_MODELS } from "./embedded.ts";
 * import assert from "node:assert/strict";
 * assert(EMBEDDED_MODELS.default === EMBEDDED_MODELS.lm_adapted);
 * ```
 */
export const EMBEDDED_MODELS: Readonly<Record<string, string>> = {
  default: "lm_adapted",
  lm_adapted: "lm_adapted",
  span_corruption: "span_corruption",
};

/**
 * The files of an embedded model's folder (all that loading the model and its tokenizer reads).
 *
 * @example
 * ```ts
 * import { EMBEDDED_FILES } from "./embedded.ts";
 * import assert from "node:assert/strict";
 * assert(EMBEDDED_FILES.includes("model.safetensors") && EMBEDDED_FILES.includes("tokenizer.json"));
 * ```
 */
export const EMBEDDED_FILES: readonly string[] = [
  "config.json",
  "generation_config.json",
  "model.safetensors",
  "special_tokens_map.json",
  "tokenizer.json",
  "tokenizer_config.json",
];

/** The package's root: the folder above this module's. */
const PACKAGE_ROOT = new URL("../", import.meta.url);

/**
 * The URL of an embedded model's folder.
 *
 * @param name `default`, `lm_adapted` or `span_corruption`
 * @param root the package's root (default: where this module was loaded from, one folder up);
 *   a page passes where it serves `assets/embedded/`
 * @returns the folder's URL (ending in `/`), or undefined for an unknown name
 * @example
 * ```ts
 * import { embeddedModelUrl } from "./embedded.ts";
 * import assert from "node:assert/strict";
 * assert(embeddedModelUrl("default")?.href.endsWith("/assets/embedded/lm_adapted/"));
 * const jsr = new URL("https://jsr.io/@prompt-tuning/soft-prompt/0.1.0/");
 * assert.equal(
 *   embeddedModelUrl("span_corruption", jsr)?.href,
 *   "https://jsr.io/@prompt-tuning/soft-prompt/0.1.0/assets/embedded/span_corruption/",
 * );
 * assert.equal(embeddedModelUrl("nope"), undefined);
 * ```
 */
export function embeddedModelUrl(name: string, root: URL = PACKAGE_ROOT): URL | undefined {
  return Object.hasOwn(EMBEDDED_MODELS, name)
    ? new URL(`assets/embedded/${EMBEDDED_MODELS[name]}/`, root)
    : undefined;
}

/**
 * The problem of an unknown `embedded:` name.
 *
 * @param given the name as given, `embedded:` included
 * @returns a `NotFound` problem listing the known names
 * @example
 * ```ts
 * import { unknownEmbedded } from "./embedded.ts";
 * import assert from "node:assert/strict";
 * assert.match(unknownEmbedded("embedded:x").message, /embedded:default/);
 * ```
 */
export function unknownEmbedded(given: string): Problem {
  return problem(
    "NotFound",
    given,
    `Unknown embedded model; known: ${
      Object.keys(EMBEDDED_MODELS).map((n) => `${EMBEDDED_PREFIX}${n}`).join(", ")
    }`,
  );
}

/**
 * Options of {@link loadEmbedded}.
 *
 * @example
 * ```ts
 * import type { LoadEmbeddedOptions } from "./embedded.ts";
 * import assert from "node:assert/strict";
 * const o: LoadEmbeddedOptions = { root: new URL("http://127.0.0.1:8000/") };
 * assert.equal(o.root?.port, "8000");
 * ```
 */
export interface LoadEmbeddedOptions extends FetchFileSetOptions {
  /** The package's root, where `assets/embedded/` is (default: next to this module). */
  readonly root?: URL;
}

/**
 * A loaded model with its tokenizer.
 *
 * @example
 * ```ts
 * import type { ModelWithTokenizer } from "./embedded.ts";
 * import assert from "node:assert/strict";
 * const vocab = (m: ModelWithTokenizer) => m.tokenizer.vocabSize;
 * assert.equal(typeof vocab, "function");
 * ```
 */
export interface ModelWithTokenizer {
  /** The frozen model (the caller disposes its parameters). */
  readonly model: FrozenModel;
  /** Its tokenizer. */
  readonly tokenizer: HfTokenizer;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Fetches an embedded model's files and builds the frozen model and its tokenizer, from the
 * package's own URL: a checkout (`file:`, needs `--allow-read`), a URL or JSR import (`https:`,
 * needs `--allow-net` for the host), or a page's server.
 *
 * @param name `default` (default), `lm_adapted` or `span_corruption`
 * @param options the package's root, the `fetch` to use
 * @returns the model and tokenizer (the caller disposes the model's parameters), or a problem
 * @example
 * ```ts
 * import { loadEmbedded } from "./embedded.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import assert from "node:assert/strict";
 * const r = await loadEmbedded("default");
 * assert(r._tag === "Right" && r.right.model.architecture === "t5");
 * assert.deepEqual(r.right.tokenizer.encodeWithSpecial("ordinary").slice(-1), [1]); // EOS
 * disposeTree(r.right.model.params);
 * assert.equal((await loadEmbedded("nope"))._tag, "Left");
 * ```
 */
export async function loadEmbedded(
  name = "default",
  options: LoadEmbeddedOptions = {},
): Promise<E.Either<Problem, ModelWithTokenizer>> {
  const url = embeddedModelUrl(name, options.root);
  if (url === undefined) return E.left(unknownEmbedded(`${EMBEDDED_PREFIX}${name}`));
  const files = fetchFileSet(url, options);
  const model = await loadHuggingFaceFiles(files);
  if (E.isLeft(model)) return model;
  const tokenizer = await tokenizerFromFiles(files);
  const vocab = embeddingTable(model.right).shape[0] as number; // [V, H]
  if (E.isRight(tokenizer) && tokenizer.right.vocabSize > vocab) {
    disposeTree(model.right.params);
    return E.left(
      problem(
        "Mismatch",
        url.href,
        `The tokenizer has ${tokenizer.right.vocabSize} ids but the model's embedding table ${vocab} rows`,
      ),
    );
  }
  if (E.isLeft(tokenizer)) {
    disposeTree(model.right.params);
    return tokenizer;
  }
  return E.right({ model: model.right, tokenizer: tokenizer.right });
}
