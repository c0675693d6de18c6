/**
 * GPT-2's configuration, parsed from a Hugging Face `config.json` object, and the shapes of its
 * parameter tree.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import type { Problem } from "../../problem.ts";
import type { Activation } from "../layers.ts";
import { ACTIVATIONS, configReader, MAX_LAYERS } from "../config_fields.ts";

/**
 * A GPT-2 model's sizes and options (Hugging Face `GPT2Config`, the fields that matter here).
 *
 * @example
 * ```ts
 * import { type Gpt2Config, parseGpt2Config } from "./config.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const file = new URL("../../tests/fixtures/models/gpt2_tiny/config.json", import.meta.url);
 * const config: Gpt2Config = orThrow(parseGpt2Config(JSON.parse(await Deno.readTextFile(file)), "config.json"));
 * assert(config.headDim === 8 && config.innerSize === 96 && config.activation === "gelu_new");
 * assert(config.maxPositions === 32 && config.eosTokenIds.join() === "2");
 * ```
 */
export interface Gpt2Config {
  /** Always `"gpt2"`. */
  readonly modelType: "gpt2";
  /** `vocab_size`: rows of the token embedding `V`. */
  readonly vocabSize: number;
  /** `n_embd`: the model width `H`. */
  readonly hiddenSize: number;
  /** `n_layer`. */
  readonly numLayers: number;
  /** `n_head` (any count dividing `n_embd`, odd ones included). */
  readonly numHeads: number;
  /** `n_embd / n_head`. */
  readonly headDim: number;
  /** `n_inner`, or `4 · n_embd` when null. */
  readonly innerSize: number;
  /** `n_positions`: rows of the learned position embedding `P`, the longest sequence. */
  readonly maxPositions: number;
  /** `activation_function` (GPT-2: `gelu_new`). */
  readonly activation: Activation;
  /** `layer_norm_epsilon` (GPT-2: 1e-5). */
  readonly layerNormEps: number;
  /** `scale_attn_weights`: divide scores by `√headDim` (true for GPT-2). */
  readonly scaleAttnWeights: boolean;
  /** `scale_attn_by_inverse_layer_idx`: also divide layer `i`'s scores by `i + 1`. */
  readonly scaleAttnByInverseLayerIdx: boolean;
  /** `bos_token_id`, or null. */
  readonly bosTokenId: number | null;
  /** `eos_token_id` as a list (empty when null). */
  readonly eosTokenIds: readonly number[];
  /** `pad_token_id`, or null (GPT-2 has none). */
  readonly padTokenId: number | null;
}

// deno-doc-ignore private-type-ref -- fp-ts Either is an npm type (denoland/deno#27364)
/**
 * Parses a GPT-2 `config.json` object, reporting every problem at once. Defaults follow
 * `GPT2Config`. Cross-attention (`add_cross_attention`) and an untied head are refused as
 * `Unsupported`.
 *
 * @param json the parsed `config.json`
 * @param where the file it came from, for the problem
 * @returns the config, or one `Invalid` (or `Unsupported`) problem listing everything wrong
 * @example
 * ```ts
 * import { parseGpt2Config } from "./config.ts";
 * import assert from "node:assert/strict";
 * const c = parseGpt2Config({ model_type: "gpt2", vocab_size: 96, n_embd: 24, n_head: 3, n_layer: 2, n_positions: 32 }, "config.json");
 * assert(c._tag === "Right" && c.right.headDim === 8 && c.right.innerSize === 96);
 * const bad = parseGpt2Config({ model_type: "gpt2", n_embd: 25, n_head: 3 }, "config.json");
 * assert(bad._tag === "Left" && bad.left.message.includes("not a multiple"));
 * ```
 */
export function parseGpt2Config(json: unknown, where: string): E.Either<Problem, Gpt2Config> {
  const started = configReader(json, where, "GPT-2");
  if (E.isLeft(started)) return started;
  const r = started.right;
  const modelType = r.str("model_type", "gpt2");
  if (modelType !== "gpt2") r.unsupported(`model_type "${modelType}" is not "gpt2"`);
  const vocabSize = r.int("vocab_size", 50257);
  const hiddenSize = r.int("n_embd", 768);
  const numLayers = r.int("n_layer", 12, 1, MAX_LAYERS);
  const numHeads = r.int("n_head", 12);
  if (Number.isFinite(hiddenSize + numHeads) && hiddenSize % numHeads !== 0) {
    r.invalid(`n_embd ${hiddenSize} is not a multiple of n_head ${numHeads}`);
  }
  const innerSize = r.has("n_inner") ? r.int("n_inner") : 4 * hiddenSize;
  const maxPositions = r.int("n_positions", 1024);
  const activation = r.oneOf("activation_function", "gelu_new", ACTIVATIONS);
  const layerNormEps = r.float("layer_norm_epsilon", 1e-5, true);
  if (r.bool("add_cross_attention", false)) {
    r.unsupported("add_cross_attention true is not supported (expected false)");
  }
  if (!r.bool("tie_word_embeddings", true)) {
    r.unsupported("tie_word_embeddings false is not supported (GPT-2's head is the embedding)");
  }
  return r.finish<Gpt2Config>({
    modelType: "gpt2",
    vocabSize,
    hiddenSize,
    numLayers,
    numHeads,
    headDim: hiddenSize / numHeads,
    innerSize,
    maxPositions,
    activation,
    layerNormEps,
    scaleAttnWeights: r.bool("scale_attn_weights", true),
    scaleAttnByInverseLayerIdx: r.bool("scale_attn_by_inverse_layer_idx", false),
    bosTokenId: r.tokenId("bos_token_id"),
    eosTokenIds: r.tokenIds("eos_token_id"),
    padTokenId: r.tokenId("pad_token_id"),
  });
}

/**
 * The shape of every leaf of a GPT-2 parameter tree, by path. Kernels are `[in, out]`; the head
 * is tied to `token_embedder/embedding`.
 *
 * @param config the model's config
 * @returns path → shape, in tree order
 * @example
 * ```ts
 * import { gpt2ParamShapes, parseGpt2Config } from "./config.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const c = orThrow(parseGpt2Config({ vocab_size: 96, n_embd: 24, n_head: 3, n_layer: 2, n_positions: 32 }, "c"));
 * const shapes = gpt2ParamShapes(c);
 * assert(shapes.get("layers/1/attention/query/kernel")?.join() === "24,24");
 * assert(shapes.get("position_embedder/embedding")?.join() === "32,24");
 * ```
 */
export function gpt2ParamShapes(config: Gpt2Config): Map<string, readonly number[]> {
  const { vocabSize: v, hiddenSize: h, innerSize: f, maxPositions: p } = config;
  const shapes = new Map<string, readonly number[]>();
  shapes.set("token_embedder/embedding", [v, h]);
  shapes.set("position_embedder/embedding", [p, h]);
  for (let i = 0; i < config.numLayers; i++) {
    const at = `layers/${i}`;
    shapes.set(`${at}/ln_1/scale`, [h]);
    shapes.set(`${at}/ln_1/bias`, [h]);
    for (const name of ["query", "key", "value", "out"]) {
      shapes.set(`${at}/attention/${name}/kernel`, [h, h]);
      shapes.set(`${at}/attention/${name}/bias`, [h]);
    }
    shapes.set(`${at}/ln_2/scale`, [h]);
    shapes.set(`${at}/ln_2/bias`, [h]);
    shapes.set(`${at}/mlp/fc/kernel`, [h, f]);
    shapes.set(`${at}/mlp/fc/bias`, [f]);
    shapes.set(`${at}/mlp/proj/kernel`, [f, h]);
    shapes.set(`${at}/mlp/proj/bias`, [h]);
  }
  shapes.set("final_norm/scale", [h]);
  shapes.set("final_norm/bias", [h]);
  return shapes;
}
