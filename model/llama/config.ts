/**
 * The LLaMA family's configuration (LLaMA, SmolLM, TinyLlama, Qwen2, Mistral), parsed from a
 * Hugging Face `config.json` object, and the shapes of its parameter tree.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import type { Problem } from "../../problem.ts";
import type { Activation } from "../layers.ts";
import { type ConfigReader, configReader, MAX_LAYERS } from "../config_fields.ts";

/**
 * The `model_type`s computed by this one architecture.
 *
 * @example
 * ```ts
 * import { type LlamaModelType, parseLlamaConfig } from "./config.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const modelType: LlamaModelType = "mistral";
 * const config = orThrow(parseLlamaConfig({ model_type: modelType, num_hidden_layers: 2 }, "config.json"));
 * assert(config.modelType === "mistral" && config.slidingWindows.join() === "4096,4096");
 * ```
 */
export type LlamaModelType = "llama" | "qwen2" | "mistral";

/**
 * The model types {@link parseLlamaConfig} accepts.
 *
 * @example
 * ```ts
 * import { LLAMA_MODEL_TYPES, parseLlamaConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 * assert(LLAMA_MODEL_TYPES.join() === "llama,qwen2,mistral");
 * assert(LLAMA_MODEL_TYPES.every((t) => parseLlamaConfig({ model_type: t }, "c")._tag === "Right"));
 * assert(parseLlamaConfig({ model_type: "gemma" }, "c")._tag === "Left");
 * ```
 */
export const LLAMA_MODEL_TYPES: readonly LlamaModelType[] = ["llama", "qwen2", "mistral"];

/**
 * A LLaMA-family model's sizes and options.
 *
 * @example
 * ```ts
 * import { type LlamaConfig, parseLlamaConfig } from "./config.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const file = new URL("../../tests/fixtures/models/llama_gqa/config.json", import.meta.url);
 * const config: LlamaConfig = orThrow(parseLlamaConfig(JSON.parse(await Deno.readTextFile(file)), "config.json"));
 * assert(config.numHeads === 4 && config.numKvHeads === 2 && config.headDim === 8);
 * assert(config.ropeTheta === 10000 && !config.tieWordEmbeddings && !config.qkvBias);
 * ```
 */
export interface LlamaConfig {
  /** `model_type`. */
  readonly modelType: LlamaModelType;
  /** `vocab_size`: `V`. */
  readonly vocabSize: number;
  /** `hidden_size`: `H`. */
  readonly hiddenSize: number;
  /** `intermediate_size`: the SwiGLU width `F`. */
  readonly intermediateSize: number;
  /** `num_hidden_layers`. */
  readonly numLayers: number;
  /** `num_attention_heads`: query heads `Nq`. */
  readonly numHeads: number;
  /** `num_key_value_heads` (default `Nq`): `Nkv`, dividing `Nq` (grouped-query attention). */
  readonly numKvHeads: number;
  /** `head_dim`, or `H / Nq` when absent: `D` (may differ from `H / Nq`). */
  readonly headDim: number;
  /** `rms_norm_eps`. */
  readonly rmsNormEps: number;
  /** The RoPE base: `rope_parameters.rope_theta`, or the older top-level `rope_theta`. */
  readonly ropeTheta: number;
  /** `hidden_act` (LLaMA: `silu`). */
  readonly activation: Activation;
  /** Biases on the query, key and value projections (Qwen2 always; LLaMA `attention_bias`). */
  readonly qkvBias: boolean;
  /** A bias on the output projection (LLaMA `attention_bias`; never Qwen2 or Mistral). */
  readonly outBias: boolean;
  /** Biases on the MLP projections (LLaMA `mlp_bias`). */
  readonly mlpBias: boolean;
  /** `tie_word_embeddings`: the head is the token embedding (no `lm_head/kernel`). */
  readonly tieWordEmbeddings: boolean;
  /**
   * Each layer's sliding attention window (a query sees itself and the `window - 1` tokens
   * before it), or null for full causal attention: Mistral's `sliding_window` for every layer,
   * Qwen2's `layer_types` / `use_sliding_window` + `max_window_layers`.
   */
  readonly slidingWindows: readonly (number | null)[];
  /** `bos_token_id`, or null. */
  readonly bosTokenId: number | null;
  /** `eos_token_id` as a list (empty when null). */
  readonly eosTokenIds: readonly number[];
  /** `pad_token_id`, or null. */
  readonly padTokenId: number | null;
}

// LLaMA's own order (its default first) for the message.
const ACTIVATIONS: readonly Activation[] = [
  "silu",
  "swish",
  "gelu",
  "gelu_new",
  "gelu_pytorch_tanh",
  "relu",
];

function ropeTheta(r: ConfigReader): number {
  const params = r.raw("rope_parameters");
  if (params !== undefined && params !== null) {
    if (typeof params !== "object" || Array.isArray(params)) {
      r.invalid(`rope_parameters must be an object, got ${JSON.stringify(params)}`);
      return NaN;
    }
    const p = params as Record<string, unknown>;
    const kind = p.rope_type ?? p.type ?? "default";
    if (kind !== "default") {
      r.unsupported(
        `rope_parameters.rope_type ${JSON.stringify(kind)} is not supported (expected "default")`,
      );
    }
    const factor = p.partial_rotary_factor;
    if (factor !== undefined && factor !== null && factor !== 1) {
      r.unsupported(
        `rope_parameters.partial_rotary_factor ${String(factor)} is not supported (expected 1)`,
      );
    }
    const theta = p.rope_theta ?? r.raw("rope_theta") ?? 10000;
    if (typeof theta !== "number" || !(theta > 0)) {
      r.invalid(
        `rope_parameters.rope_theta must be a positive number, got ${JSON.stringify(theta)}`,
      );
      return NaN;
    }
    return theta;
  }
  const scaling = r.raw("rope_scaling");
  if (scaling !== undefined && scaling !== null) {
    r.unsupported(`rope_scaling ${JSON.stringify(scaling)} is not supported (expected null)`);
  }
  const factor = r.raw("partial_rotary_factor");
  if (factor !== undefined && factor !== null && factor !== 1) {
    r.unsupported(`partial_rotary_factor ${String(factor)} is not supported (expected 1)`);
  }
  return r.float("rope_theta", 10000, true);
}

function slidingWindows(r: ConfigReader, modelType: LlamaModelType, layers: number) {
  const none = Array.from({ length: Number.isFinite(layers) ? layers : 0 }, () => null);
  if (modelType === "llama") return none;
  if (modelType === "mistral") {
    // MistralConfig's default window is 4096; null turns it off.
    const raw = r.raw("sliding_window");
    if (raw === null) return none;
    const window = r.int("sliding_window", 4096);
    return none.map(() => window);
  }
  // Qwen2Config drops the window unless use_sliding_window is true.
  if (!r.bool("use_sliding_window", false) || r.raw("sliding_window") === null) return none;
  const window = r.int("sliding_window", 4096);
  const types = r.raw("layer_types");
  if (Array.isArray(types)) {
    if (
      types.length !== none.length ||
      !types.every((t) => t === "full_attention" || t === "sliding_attention")
    ) {
      r.invalid(
        `layer_types must list "full_attention" or "sliding_attention" for each of ${layers} layers`,
      );
      return none;
    }
    return types.map((t) => (t === "sliding_attention" ? window : null));
  }
  const from = r.int("max_window_layers", 28, 0);
  return none.map((_, i) => (i >= from ? window : null));
}

// deno-doc-ignore private-type-ref -- fp-ts Either is an npm type (denoland/deno#27364)
/**
 * Parses a LLaMA-family `config.json` object (`model_type` `llama`, `qwen2` or `mistral`),
 * reporting every problem at once. Defaults follow the Hugging Face config classes. RoPE
 * scaling of any kind other than `"default"` is refused as `Unsupported`.
 *
 * @param json the parsed `config.json`
 * @param where the file it came from, for the problem
 * @returns the config, or one `Invalid` (or `Unsupported`) problem listing everything wrong
 * @example
 * ```ts
 * import { parseLlamaConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 * const c = parseLlamaConfig({ model_type: "qwen2", vocab_size: 96, hidden_size: 32, intermediate_size: 40, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2 }, "config.json");
 * assert(c._tag === "Right" && c.right.qkvBias && !c.right.outBias && c.right.headDim === 8);
 * const bad = parseLlamaConfig({ model_type: "llama", rope_scaling: { rope_type: "linear", factor: 2 } }, "config.json");
 * assert(bad._tag === "Left" && bad.left._tag === "Unsupported");
 * ```
 */
export function parseLlamaConfig(json: unknown, where: string): E.Either<Problem, LlamaConfig> {
  const started = configReader(json, where, "LLaMA-family");
  if (E.isLeft(started)) return started;
  const r = started.right;
  const type = r.oneOf("model_type", "llama", LLAMA_MODEL_TYPES);
  const modelType = LLAMA_MODEL_TYPES.includes(type) ? type : "llama";
  const vocabSize = r.int("vocab_size", 32000);
  const hiddenSize = r.int("hidden_size", 4096);
  const intermediateSize = r.int("intermediate_size", 11008);
  const numLayers = r.int("num_hidden_layers", 32, 1, MAX_LAYERS);
  const numHeads = r.int("num_attention_heads", 32);
  const numKvHeads = r.int("num_key_value_heads", numHeads);
  if (Number.isFinite(numHeads + numKvHeads) && numHeads % numKvHeads !== 0) {
    r.invalid(
      `num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`,
    );
  }
  let headDim: number;
  if (r.has("head_dim")) {
    headDim = r.int("head_dim");
  } else {
    headDim = hiddenSize / numHeads;
    if (Number.isFinite(hiddenSize + numHeads) && !Number.isInteger(headDim)) {
      r.invalid(
        `hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads} and no head_dim is given`,
      );
    }
  }
  if (Number.isInteger(headDim) && headDim % 2 !== 0) {
    r.invalid(`head_dim ${headDim} must be even for rotary embeddings`);
  }
  const activation = r.oneOf("hidden_act", "silu", ACTIVATIONS);
  const attentionBias = modelType === "llama" && r.bool("attention_bias", false);
  const mlpBias = modelType === "llama" && r.bool("mlp_bias", false);
  return r.finish<LlamaConfig>({
    modelType,
    vocabSize,
    hiddenSize,
    intermediateSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: r.float("rms_norm_eps", 1e-6, true),
    ropeTheta: ropeTheta(r),
    activation,
    qkvBias: modelType === "qwen2" || attentionBias,
    outBias: attentionBias,
    mlpBias,
    tieWordEmbeddings: r.bool("tie_word_embeddings", false),
    slidingWindows: slidingWindows(r, modelType, numLayers),
    bosTokenId: r.tokenId("bos_token_id"),
    eosTokenIds: r.tokenIds("eos_token_id"),
    padTokenId: r.tokenId("pad_token_id"),
  });
}

/**
 * The shape of every leaf of a LLaMA-family parameter tree, by path. Kernels are `[in, out]`;
 * `lm_head/kernel` `[H, V]` only when the head is untied; biases only where the config has them.
 *
 * @param config the model's config
 * @returns path → shape, in tree order
 * @example
 * ```ts
 * import { llamaParamShapes, parseLlamaConfig } from "./config.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const c = orThrow(parseLlamaConfig({ vocab_size: 96, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2 }, "c"));
 * const shapes = llamaParamShapes(c);
 * assert(shapes.get("layers/0/attention/key/kernel")?.join() === "32,16");
 * assert(shapes.get("lm_head/kernel")?.join() === "32,96");
 * ```
 */
export function llamaParamShapes(config: LlamaConfig): Map<string, readonly number[]> {
  const { vocabSize: v, hiddenSize: h, intermediateSize: f, headDim: d } = config;
  const q = config.numHeads * d, kv = config.numKvHeads * d;
  const shapes = new Map<string, readonly number[]>();
  shapes.set("token_embedder/embedding", [v, h]);
  for (let i = 0; i < config.numLayers; i++) {
    const at = `layers/${i}`;
    shapes.set(`${at}/input_norm/scale`, [h]);
    const projections: [string, number, number, boolean][] = [
      ["query", h, q, config.qkvBias],
      ["key", h, kv, config.qkvBias],
      ["value", h, kv, config.qkvBias],
      ["out", q, h, config.outBias],
    ];
    for (const [name, from, to, bias] of projections) {
      shapes.set(`${at}/attention/${name}/kernel`, [from, to]);
      if (bias) shapes.set(`${at}/attention/${name}/bias`, [to]);
    }
    shapes.set(`${at}/post_attention_norm/scale`, [h]);
    const mlp: [string, number, number][] = [["gate", h, f], ["up", h, f], ["down", f, h]];
    for (const [name, from, to] of mlp) {
      shapes.set(`${at}/mlp/${name}/kernel`, [from, to]);
      if (config.mlpBias) shapes.set(`${at}/mlp/${name}/bias`, [to]);
    }
  }
  shapes.set("final_norm/scale", [h]);
  if (!config.tieWordEmbeddings) shapes.set("lm_head/kernel", [h, v]);
  return shapes;
}
