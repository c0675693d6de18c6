/**
 * What a loaded frozen model is: a union tagged by `architecture`, each member with its own
 * configuration and precisely typed parameter tree, and the accessors every architecture shares
 * (the input embedding table and the vocabulary size).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { T5Config, T5Params } from "./t5/mod.ts";
import type { Gpt2Config, Gpt2Params } from "./gpt2/mod.ts";
import type { LlamaConfig, LlamaParams } from "./llama/mod.ts";
import type { GenerationConfig } from "./generation_config.ts";

/**
 * An architecture with its configuration, tagged by `architecture`: what a {@link FrozenModel} is
 * without its parameters (what a config file alone gives).
 *
 * @example
 * ```ts
 * import type { ModelConfig } from "./frozen.ts";
 * import { parseGpt2Config } from "./gpt2/mod.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const config = orThrow(parseGpt2Config({ n_embd: 8, n_layer: 2, n_head: 2 }, "config.json"));
 * const m: ModelConfig = { architecture: "gpt2", config };
 * assert(m.architecture === "gpt2" && m.config.hiddenSize === 8);
 * ```
 */
export type ModelConfig =
  | { readonly architecture: "t5"; readonly config: T5Config }
  | { readonly architecture: "gpt2"; readonly config: Gpt2Config }
  | { readonly architecture: "llama"; readonly config: LlamaConfig };

/**
 * A loaded frozen model: its architecture, configuration and parameter tree, and the format it
 * was read from (`huggingface`, `t5x` or `gguf`). The architecture tells the config's and the
 * parameters' types apart.
 *
 * @example
 * ```ts
 * import type { FrozenModel } from "./frozen.ts";
 * import { loadModel } from "./load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const dir = new URL("../tests/fixtures/models/llama_gqa", import.meta.url).pathname;
 * const model: FrozenModel = orThrow(await loadModel(dir));
 * // The architecture tells the config's and the parameters' types apart.
 * assert(model.architecture === "llama" && model.config.numKvHeads === 2);
 * assert(model.params.layers.length === model.config.numLayers);
 * assert(model.format === "huggingface");
 * disposeTree(model.params);
 * ```
 */
export type FrozenModel =
  | {
    readonly architecture: "t5";
    readonly config: T5Config;
    readonly params: T5Params;
    readonly format: "huggingface" | "t5x";
    readonly generation?: GenerationConfig;
  }
  | {
    readonly architecture: "gpt2";
    readonly config: Gpt2Config;
    readonly params: Gpt2Params;
    readonly format: "huggingface" | "gguf";
    readonly generation?: GenerationConfig;
  }
  | {
    readonly architecture: "llama";
    readonly config: LlamaConfig;
    readonly params: LlamaParams;
    readonly format: "huggingface" | "gguf";
    readonly generation?: GenerationConfig;
  };

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * The model's input embedding table, `token_embedder/embedding`, in every architecture.
 *
 * @param model a loaded model
 * @returns `[V, H]` float32 (the model's own tensor: do not dispose it)
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { embeddingTable, type FrozenModel } from "./frozen.ts";
 * import assert from "node:assert/strict";
 * // A table whose row i is filled with i.
 * const embedding = tf.tensor2d([[0, 0], [1, 1], [2, 2]]); // [V = 3, H = 2]
 * const model = { architecture: "gpt2", params: { token_embedder: { embedding } } } as FrozenModel;
 * const table = embeddingTable(model);
 * assert.deepEqual((table.arraySync() as number[][])[2], [2, 2]);
 * embedding.dispose();
 * ```
 */
export function embeddingTable(model: FrozenModel): tf.Tensor {
  return model.params.token_embedder.embedding;
}

/**
 * The vocabulary size: the embedding table's rows.
 *
 * @param model a loaded model
 * @returns `V`, the number of token ids the model embeds and scores
 * @example
 * ```ts
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "./load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { vocabSize } from "./frozen.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/gpt2_tiny"));
 * assert(vocabSize(model) === 96);
 * disposeTree(model.params);
 * ```
 */
export function vocabSize(model: FrozenModel): number {
  return embeddingTable(model).shape[0];
}
