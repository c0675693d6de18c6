/**
 * GPT-2's forward pass as pure functions over its parameter tree: learned positions, pre-norm
 * blocks with LayerNorm, multi-head attention, a two-layer MLP, and a head tied to the token
 * embedding. Computes what Hugging Face's `GPT2LMHeadModel` computes (float32).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { attention, dense, layerNorm, mergeHeads, mlpActivation, splitHeads } from "../layers.ts";
import type { LayerCache } from "../types.ts";
import type { Gpt2Config } from "./config.ts";
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
 * A dense layer's parameters: kernel `[in, out]`, bias `[out]`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { dense } from "../layers.ts";
 * import type { Gpt2Dense } from "./forward.ts";
 * import assert from "node:assert/strict";
 * const fc: Gpt2Dense = { kernel: tf.zeros([24, 96]), bias: tf.ones([96]) }; // [in, out], [out]
 * const y = tf.tidy(() => dense(tf.ones([1, 2, 24]), fc.kernel, fc.bias));
 * assert(y.shape.join() === "1,2,96" && y.dataSync()[0] === 1);
 * tf.dispose([fc.kernel, fc.bias, y]);
 * ```
 */
export type Gpt2Dense = { readonly kernel: tf.Tensor; readonly bias: tf.Tensor };

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * A LayerNorm's parameters, `[H]` each.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { layerNorm } from "../layers.ts";
 * import type { Gpt2Norm } from "./forward.ts";
 * import assert from "node:assert/strict";
 * const ln: Gpt2Norm = { scale: tf.ones([2]), bias: tf.fill([2], 5) }; // [H] each
 * const y = tf.tidy(() => layerNorm(tf.tensor2d([[1, 3]]), ln.scale, ln.bias, 1e-5));
 * assert(Math.abs(y.dataSync()[1] - 6) < 1e-3);
 * tf.dispose([ln.scale, ln.bias, y]);
 * ```
 */
export type Gpt2Norm = { readonly scale: tf.Tensor; readonly bias: tf.Tensor };

/**
 * One GPT-2 block.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { Gpt2Layer, Gpt2Params } from "./forward.ts";
 * import { gpt2ParamShapes, parseGpt2Config } from "./config.ts";
 * import { disposeTree, unflatten } from "../../tree/tree.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const config = orThrow(parseGpt2Config({ vocab_size: 10, n_embd: 6, n_head: 3, n_layer: 2, n_positions: 8 }, "c"));
 * const tree = unflatten([...gpt2ParamShapes(config)].map(([p, s]) => [p, tf.zeros([...s])] as const));
 * const params = tree as unknown as Gpt2Params;
 * const layer: Gpt2Layer = params.layers[1];
 * assert(layer.mlp.fc.kernel.shape.join() === "6,24" && layer.attention.query.bias.shape[0] === 6);
 * disposeTree(tree);
 * ```
 */
export type Gpt2Layer = {
  readonly ln_1: Gpt2Norm;
  readonly attention: {
    readonly query: Gpt2Dense;
    readonly key: Gpt2Dense;
    readonly value: Gpt2Dense;
    readonly out: Gpt2Dense;
  };
  readonly ln_2: Gpt2Norm;
  readonly mlp: { readonly fc: Gpt2Dense; readonly proj: Gpt2Dense };
};

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * GPT-2's parameter tree (a {@link ParamTree}); shapes in `gpt2ParamShapes`.
 *
 * @example
 * ```ts
 * import type { Gpt2Params } from "./forward.ts";
 * import { loadGpt2FromHuggingFace } from "./load.ts";
 * import { openTensorFile } from "../../io/tensor_file.ts";
 * import { disposeTree } from "../../tree/tree.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const dir = new URL("../../tests/fixtures/models/gpt2_tiny/", import.meta.url);
 * const config = JSON.parse(await Deno.readTextFile(new URL("config.json", dir)));
 * const source = orThrow(await openTensorFile(new URL("model.safetensors", dir)));
 * const params: Gpt2Params = orThrow(await loadGpt2FromHuggingFace(dir.pathname, config, source));
 * source.close();
 * assert(params.layers.length === 2 && params.position_embedder.embedding.shape.join() === "32,24");
 * disposeTree(params);
 * ```
 */
export type Gpt2Params = {
  readonly token_embedder: { readonly embedding: tf.Tensor };
  readonly position_embedder: { readonly embedding: tf.Tensor };
  readonly layers: readonly Gpt2Layer[];
  readonly final_norm: Gpt2Norm;
};

/**
 * Embeds token ids with GPT-2's token embedding (positions are added inside
 * {@link gpt2Forward}, so a prompt can be put in front of these rows).
 *
 * @param params the model
 * @param ids `[B, T]` int32
 * @returns `[B, T, H]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { gpt2Embed, type Gpt2Params } from "./forward.ts";
 * import assert from "node:assert/strict";
 * const params = { token_embedder: { embedding: tf.eye(4) } } as unknown as Gpt2Params;
 * const e = gpt2Embed(params, tf.tensor2d([[1, 3]], [1, 2], "int32"));
 * assert(e.shape.join() === "1,2,4");
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
export function gpt2Embed(params: Gpt2Params, ids: tf.Tensor): tf.Tensor {
  return tf.tidy(() => embedIds(params.token_embedder.embedding, ids));
}

function block(
  layer: Gpt2Layer,
  h: tf.Tensor,
  config: Gpt2Config,
  index: number,
  bias: tf.Tensor,
  past: LayerCache | undefined,
): { h: tf.Tensor; cache: LayerCache } {
  const n = config.numHeads;
  const a = layer.attention;
  const x = layerNorm(h, layer.ln_1.scale, layer.ln_1.bias, config.layerNormEps); // [B, T, H]
  const q = splitHeads(dense(x, a.query.kernel, a.query.bias), n); // [B, N, T, D]
  const k = splitHeads(dense(x, a.key.kernel, a.key.bias), n);
  const v = splitHeads(dense(x, a.value.kernel, a.value.bias), n);
  const cache = extendCache(past, k, v); // [B, N, T_past + T, D]
  let scale = config.scaleAttnWeights ? 1 / Math.sqrt(config.headDim) : 1;
  if (config.scaleAttnByInverseLayerIdx) scale /= index + 1;
  const attended = attention(q, cache.key, cache.value, { scale, bias }); // [B, N, T, D]
  const h1 = tf.add(h, dense(mergeHeads(attended), a.out.kernel, a.out.bias)); // [B, T, H]
  const y = layerNorm(h1, layer.ln_2.scale, layer.ln_2.bias, config.layerNormEps);
  const inner = mlpActivation(config.activation, dense(y, layer.mlp.fc.kernel, layer.mlp.fc.bias));
  return { h: tf.add(h1, dense(inner, layer.mlp.proj.kernel, layer.mlp.proj.bias)), cache };
}

/**
 * GPT-2's forward pass up to the head: the final hidden states (after the final LayerNorm) for
 * every input position, and the grown cache. With a cache, only the new tokens are computed.
 * Positions must stay below `config.maxPositions` (the learned table's rows). With `recompute:
 * "layer"` each block keeps only its input for a backward pass, and no cache is grown (`[]`).
 *
 * @param params the model
 * @param config its config
 * @param options token ids or input embeddings, and optionally a mask, positions and a cache
 * @returns the hidden states `[B, T, H]` and the cache; the caller disposes both
 * @throws {RangeError} or {TypeError} for inputs of the wrong kind or shape, or a sequence
 * longer than `maxPositions`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { gpt2Head, gpt2Hidden, type Gpt2Params } from "./forward.ts";
 * import { gpt2ParamShapes, parseGpt2Config } from "./config.ts";
 * import { unflatten } from "../../tree/tree.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const config = orThrow(parseGpt2Config({ vocab_size: 10, n_embd: 6, n_head: 3, n_layer: 1, n_positions: 8 }, "c"));
 * const params = unflatten([...gpt2ParamShapes(config)].map(([p, s]) => [p, tf.ones([...s])] as const)) as unknown as Gpt2Params;
 * const out = gpt2Hidden(params, config, { inputIds: tf.tensor2d([[1, 2, 3]], [1, 3], "int32") });
 * assert.deepEqual(out.hidden.shape, [1, 3, 6]);
 * assert.deepEqual(gpt2Head(params, out.hidden).shape, [1, 3, 10]);
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
export function gpt2Hidden(
  params: Gpt2Params,
  config: Gpt2Config,
  options: DecoderOptions,
): DecoderHidden {
  // tidy keeps every tensor of the returned record; LayerCache is an interface, hence the casts.
  return tf.tidy(() => {
    const embedding = params.token_embedder.embedding; // [V, H]
    const inputs = prepareInputs(embedding, options, config.numLayers, "GPT-2");
    const t = inputs.embeds.shape[1] as number; // [B, T, H]
    if (options.positionIds === undefined && inputs.past + t > config.maxPositions) {
      throw new RangeError(
        `GPT-2 forward: ${inputs.past + t} tokens exceed n_positions ${config.maxPositions}`,
      );
    }
    const positions = tf.gather(params.position_embedder.embedding, inputs.positions); // [B, T, H]
    let h = tf.add(inputs.embeds, positions);
    const bias = inputs.bias(null); // [B or 1, 1, T, T_past + T]
    const cache: LayerCache[] = [];
    params.layers.forEach((layer, i) => {
      if (options.recompute === "layer") {
        h = remat((x, b) => block(layer, x, config, i, b, undefined).h, [h], [bias]);
        return;
      }
      // A layer's own tidy frees what the backward pass does not keep as soon as it is done.
      const out = tf.tidy(() => {
        const { h: next, cache } = block(layer, h, config, i, bias, options.cache?.[i]);
        return { h: next, key: cache.key, value: cache.value };
      });
      h = out.h;
      cache.push({ key: out.key, value: out.value });
    });
    const hidden = layerNorm(
      h,
      params.final_norm.scale,
      params.final_norm.bias,
      config.layerNormEps,
    );
    const output: DecoderHidden = { hidden, cache };
    return output as unknown as tf.TensorContainer;
  }) as unknown as DecoderHidden;
}

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * GPT-2's head, tied to the token embedding: logits for any rows of hidden states.
 *
 * @param params the model
 * @param hidden `[..., H]` final hidden states (for example only the rows a loss reads)
 * @returns `[..., V]` logits, a new tensor
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { gpt2Head, type Gpt2Params } from "./forward.ts";
 * import assert from "node:assert/strict";
 * const embedding = tf.tensor2d([[1, 0], [0, 1], [1, 1]]); // [V = 3, H = 2]
 * const params = { token_embedder: { embedding } } as unknown as Gpt2Params;
 * const logits = gpt2Head(params, tf.tensor2d([[2, 3]])); // one row, [1, H]
 * assert.deepEqual(logits.arraySync(), [[2, 3, 5]]);
 * ```
 */
export function gpt2Head(params: Gpt2Params, hidden: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const embedding = params.token_embedder.embedding; // [V, H]
    const [v, h] = embedding.shape as number[];
    const rows = hidden.reshape([-1, h]); // [N, H]
    const logits = tf.matMul(rows, embedding, false, true); // [N, V]
    return logits.reshape([...hidden.shape.slice(0, -1), v]); // [..., V]
  });
}

/**
 * GPT-2's forward pass: next-token logits for every input position ({@link gpt2Hidden}, then
 * {@link gpt2Head} at every row), and the grown cache. With a cache, only the new tokens are
 * computed: one more token costs one token's work. Positions must stay below
 * `config.maxPositions` (the learned table's rows).
 *
 * @param params the model
 * @param config its config
 * @param options token ids or input embeddings, and optionally a mask, positions and a cache
 * @returns logits `[B, T, V]` and the cache; the caller disposes both (not the input cache)
 * @throws {RangeError} or {TypeError} for inputs of the wrong kind or shape, or a sequence
 * longer than `maxPositions`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { gpt2Forward } from "./forward.ts";
 * import { gpt2ParamShapes, parseGpt2Config } from "./config.ts";
 * import { unflatten } from "../../tree/tree.ts";
 * import { orThrow } from "../../problem.ts";
 * import type { Gpt2Params } from "./forward.ts";
 * import assert from "node:assert/strict";
 * const config = orThrow(parseGpt2Config({ vocab_size: 10, n_embd: 6, n_head: 3, n_layer: 1, n_positions: 8 }, "c"));
 * const params = unflatten([...gpt2ParamShapes(config)].map(([p, s]) => [p, tf.ones([...s])] as const)) as unknown as Gpt2Params;
 * const out = gpt2Forward(params, config, { inputIds: tf.tensor2d([[1, 2, 3]], [1, 3], "int32") });
 * assert(out.logits.shape.join() === "1,3,10" && out.cache[0].key.shape[2] === 3);
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
export function gpt2Forward(
  params: Gpt2Params,
  config: Gpt2Config,
  options: DecoderOptions,
): DecoderOutput {
  return withHead(gpt2Hidden(params, config, options), (h) => gpt2Head(params, h)); // [B, T, V]
}
