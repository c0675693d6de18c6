/**
 * The LLaMA family's forward pass as pure functions over its parameter tree: RMSNorm pre-norm
 * blocks, rotary positions (`rope_theta`), grouped-query attention with optional q/k/v biases
 * (Qwen2) and sliding windows (Mistral), a SwiGLU MLP, and a tied or separate head. Computes
 * what Hugging Face's `LlamaForCausalLM`, `Qwen2ForCausalLM` and `MistralForCausalLM` compute
 * (float32).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import {
  applyRope,
  attention,
  dense,
  mergeHeads,
  mlpActivation,
  rmsNorm,
  type RopeTables,
  ropeTables,
  splitHeads,
} from "../layers.ts";
import type { LayerCache } from "../types.ts";
import type { LlamaConfig } from "./config.ts";
import { remat } from "../kernels/recompute.ts";
import {
  type DecoderHidden,
  type DecoderOptions,
  type DecoderOutput,
  embedIds,
  extendCache,
  prepareInputs,
  withHead,
} from "../_decoder.ts";

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * A projection: kernel `[in, out]`, and a bias `[out]` where the config has one.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { dense } from "../layers.ts";
 * import type { LlamaDense } from "./forward.ts";
 * import assert from "node:assert/strict";
 * const up: LlamaDense = { kernel: tf.zeros([8, 12]) }; // LLaMA: no bias
 * const bias = tf.ones([8]);
 * const query: LlamaDense = { kernel: tf.zeros([8, 8]), bias }; // Qwen2's q/k/v have one
 * const y = tf.tidy(() => dense(tf.ones([1, 2, 8]), query.kernel, query.bias));
 * assert(up.bias === undefined && y.dataSync()[0] === 1);
 * tf.dispose([up.kernel, query.kernel, bias, y]);
 * ```
 */
export type LlamaDense = { readonly kernel: tf.Tensor; readonly bias?: tf.Tensor };

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * An RMSNorm's scale `[H]`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { rmsNorm } from "../layers.ts";
 * import type { LlamaNorm } from "./forward.ts";
 * import assert from "node:assert/strict";
 * const norm: LlamaNorm = { scale: tf.fill([2], 2) }; // [H]
 * const y = tf.tidy(() => rmsNorm(tf.tensor2d([[3, 3]]), norm.scale, 0));
 * assert(Math.abs(y.dataSync()[0] - 2) < 1e-6);
 * tf.dispose([norm.scale, y]);
 * ```
 */
export type LlamaNorm = { readonly scale: tf.Tensor };

/**
 * One LLaMA block.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { LlamaLayer, LlamaParams } from "./forward.ts";
 * import { llamaParamShapes, parseLlamaConfig } from "./config.ts";
 * import { disposeTree, unflatten } from "../../tree/tree.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const config = orThrow(parseLlamaConfig({ vocab_size: 10, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1 }, "c"));
 * const tree = unflatten([...llamaParamShapes(config)].map(([p, s]) => [p, tf.zeros([...s])] as const));
 * const layer: LlamaLayer = (tree as unknown as LlamaParams).layers[0];
 * // Grouped-query attention: one key head of 4 for two query heads.
 * assert(layer.attention.query.kernel.shape.join() === "8,8" && layer.attention.key.kernel.shape.join() === "8,4");
 * assert(layer.mlp.gate.kernel.shape.join() === "8,12" && layer.attention.key.bias === undefined);
 * disposeTree(tree);
 * ```
 */
export type LlamaLayer = {
  readonly input_norm: LlamaNorm;
  readonly attention: {
    readonly query: LlamaDense;
    readonly key: LlamaDense;
    readonly value: LlamaDense;
    readonly out: LlamaDense;
  };
  readonly post_attention_norm: LlamaNorm;
  readonly mlp: { readonly gate: LlamaDense; readonly up: LlamaDense; readonly down: LlamaDense };
};

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * The LLaMA family's parameter tree (a {@link ParamTree}); shapes in `llamaParamShapes`.
 *
 * @example
 * ```ts
 * import type { LlamaParams } from "./forward.ts";
 * import { loadLlamaFromHuggingFace } from "./load.ts";
 * import { openTensorFile } from "../../io/tensor_file.ts";
 * import { disposeTree } from "../../tree/tree.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const dir = new URL("../../tests/fixtures/models/llama_gqa/", import.meta.url);
 * const config = JSON.parse(await Deno.readTextFile(new URL("config.json", dir)));
 * const source = orThrow(await openTensorFile(new URL("model.safetensors", dir)));
 * const params: LlamaParams = orThrow(await loadLlamaFromHuggingFace(dir.pathname, config, source));
 * source.close();
 * assert(params.layers.length === 2 && params.lm_head?.kernel.shape.join() === "32,96"); // untied head
 * disposeTree(params);
 * ```
 */
export type LlamaParams = {
  readonly token_embedder: { readonly embedding: tf.Tensor };
  readonly layers: readonly LlamaLayer[];
  readonly final_norm: LlamaNorm;
  /** `[H, V]`, only when the head is untied. */
  readonly lm_head?: { readonly kernel: tf.Tensor };
};

/**
 * Embeds token ids with the model's token embedding.
 *
 * @param params the model
 * @param ids `[B, T]` int32
 * @returns `[B, T, H]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { llamaEmbed, type LlamaParams } from "./forward.ts";
 * import assert from "node:assert/strict";
 * const params = { token_embedder: { embedding: tf.eye(4) } } as unknown as LlamaParams;
 * const e = llamaEmbed(params, tf.tensor2d([[1, 3]], [1, 2], "int32"));
 * assert(e.shape.join() === "1,2,4");
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
export function llamaEmbed(params: LlamaParams, ids: tf.Tensor): tf.Tensor {
  return tf.tidy(() => embedIds(params.token_embedder.embedding, ids));
}

const project = (x: tf.Tensor, p: LlamaDense) => dense(x, p.kernel, p.bias);

function block(
  layer: LlamaLayer,
  h: tf.Tensor,
  config: LlamaConfig,
  tables: RopeTables,
  bias: tf.Tensor,
  past: LayerCache | undefined,
): { h: tf.Tensor; cache: LayerCache } {
  const a = layer.attention;
  const x = rmsNorm(h, layer.input_norm.scale, config.rmsNormEps); // [B, T, H]
  const q = applyRope(splitHeads(project(x, a.query), config.numHeads), tables); // [B, Nq, T, D]
  const k = applyRope(splitHeads(project(x, a.key), config.numKvHeads), tables); // [B, Nkv, T, D]
  const v = splitHeads(project(x, a.value), config.numKvHeads); // [B, Nkv, T, D]
  const cache = extendCache(past, k, v); // [B, Nkv, T_past + T, D]
  const scale = 1 / Math.sqrt(config.headDim);
  const attended = attention(q, cache.key, cache.value, { scale, bias }); // [B, Nq, T, D]
  const h1 = tf.add(h, project(mergeHeads(attended), a.out)); // [B, T, H]
  const y = rmsNorm(h1, layer.post_attention_norm.scale, config.rmsNormEps);
  const gated = mlpActivation(
    config.activation,
    project(y, layer.mlp.gate),
    project(y, layer.mlp.up),
  ); // [B, T, F]
  return { h: tf.add(h1, project(gated, layer.mlp.down)), cache };
}

/**
 * The LLaMA family's forward pass up to the head: the final hidden states (after the final
 * RMSNorm) for every input position, and the grown cache. With a cache, only the new tokens are
 * computed. With `recompute: "layer"` each block keeps only its input for a backward pass, and no
 * cache is grown (`[]`).
 *
 * @param params the model
 * @param config its config
 * @param options token ids or input embeddings, and optionally a mask, positions and a cache
 * @returns the hidden states `[B, T, H]` and the cache; the caller disposes both
 * @throws {RangeError} or {TypeError} for inputs of the wrong kind or shape
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { llamaHead, llamaHidden, type LlamaParams } from "./forward.ts";
 * import { llamaParamShapes, parseLlamaConfig } from "./config.ts";
 * import { unflatten } from "../../tree/tree.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const config = orThrow(parseLlamaConfig({ vocab_size: 10, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1 }, "c"));
 * const params = unflatten([...llamaParamShapes(config)].map(([p, s]) => [p, tf.ones([...s])] as const)) as unknown as LlamaParams;
 * const out = llamaHidden(params, config, { inputIds: tf.tensor2d([[1, 2, 3]], [1, 3], "int32") });
 * assert.deepEqual(out.hidden.shape, [1, 3, 8]);
 * assert.deepEqual(llamaHead(params, out.hidden).shape, [1, 3, 10]);
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
export function llamaHidden(
  params: LlamaParams,
  config: LlamaConfig,
  options: DecoderOptions,
): DecoderHidden {
  // tidy keeps every tensor of the returned record; LayerCache is an interface, hence the casts.
  return tf.tidy(() => {
    const embedding = params.token_embedder.embedding; // [V, H]
    const inputs = prepareInputs(embedding, options, config.numLayers, "LLaMA");
    let h = inputs.embeds; // [B, T, H]
    const cache: LayerCache[] = [];
    // One set of rotary tables for every layer.
    const tables = ropeTables(inputs.positions, config.ropeTheta, config.headDim); // [B, 1, T, D]
    params.layers.forEach((layer, i) => {
      const bias = inputs.bias(config.slidingWindows[i] ?? null); // [B or 1, 1, T, T_past + T]
      if (options.recompute === "layer") {
        const f = (x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor, swap: tf.Tensor, b: tf.Tensor) =>
          block(layer, x, config, { cos, sin, swap }, b, undefined).h;
        h = remat(f, [h], [tables.cos, tables.sin, tables.swap, bias]);
        return;
      }
      // A layer's own tidy frees what the backward pass does not keep as soon as it is done.
      const out = tf.tidy(() => {
        const { h: next, cache } = block(layer, h, config, tables, bias, options.cache?.[i]);
        return { h: next, key: cache.key, value: cache.value };
      });
      h = out.h;
      cache.push({ key: out.key, value: out.value });
    });
    const hidden = rmsNorm(h, params.final_norm.scale, config.rmsNormEps); // [B, T, H]
    const output: DecoderHidden = { hidden, cache };
    return output as unknown as tf.TensorContainer;
  }) as unknown as DecoderHidden;
}

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * The LLaMA family's head: logits for any rows of hidden states, by `lm_head` or, tied, by the
 * token embedding.
 *
 * @param params the model
 * @param hidden `[..., H]` final hidden states (for example only the rows a loss reads)
 * @returns `[..., V]` logits, a new tensor
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { llamaHead, type LlamaParams } from "./forward.ts";
 * import assert from "node:assert/strict";
 * const embedding = tf.tensor2d([[1, 0], [0, 1], [1, 1]]); // [V = 3, H = 2]
 * const tied = { token_embedder: { embedding } } as unknown as LlamaParams;
 * assert.deepEqual(llamaHead(tied, tf.tensor2d([[2, 3]])).arraySync(), [[2, 3, 5]]);
 * const kernel = tf.tensor2d([[1, 0, 0], [0, 0, 1]]); // an untied head [H, V]
 * const untied = { token_embedder: { embedding }, lm_head: { kernel } } as unknown as LlamaParams;
 * assert.deepEqual(llamaHead(untied, tf.tensor2d([[2, 3]])).arraySync(), [[2, 0, 3]]);
 * ```
 */
export function llamaHead(params: LlamaParams, hidden: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const embedding = params.token_embedder.embedding; // [V, H]
    const [v, h] = embedding.shape as number[];
    const rows = hidden.reshape([-1, h]); // [N, H]
    const logits = params.lm_head === undefined
      ? tf.matMul(rows, embedding, false, true) // tied: [N, V]
      : tf.matMul(rows, params.lm_head.kernel);
    return logits.reshape([...hidden.shape.slice(0, -1), v]); // [..., V]
  });
}

/**
 * The LLaMA family's forward pass: next-token logits for every input position
 * ({@link llamaHidden}, then {@link llamaHead} at every row), and the grown cache. With a cache,
 * only the new tokens are computed: one more token costs one token's work.
 *
 * @param params the model
 * @param config its config
 * @param options token ids or input embeddings, and optionally a mask, positions and a cache
 * @returns logits `[B, T, V]` and the cache; the caller disposes both (not the input cache)
 * @throws {RangeError} or {TypeError} for inputs of the wrong kind or shape
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { llamaForward, type LlamaParams } from "./forward.ts";
 * import { llamaParamShapes, parseLlamaConfig } from "./config.ts";
 * import { unflatten } from "../../tree/tree.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const config = orThrow(parseLlamaConfig({ vocab_size: 10, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1 }, "c"));
 * const params = unflatten([...llamaParamShapes(config)].map(([p, s]) => [p, tf.ones([...s])] as const)) as unknown as LlamaParams;
 * const out = llamaForward(params, config, { inputIds: tf.tensor2d([[1, 2, 3]], [1, 3], "int32") });
 * assert(out.logits.shape.join() === "1,3,10" && out.cache[0].key.shape.join() === "1,1,3,4");
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
export function llamaForward(
  params: LlamaParams,
  config: LlamaConfig,
  options: DecoderOptions,
): DecoderOutput {
  return withHead(llamaHidden(params, config, options), (h) => llamaHead(params, h)); // [B, T, V]
}
