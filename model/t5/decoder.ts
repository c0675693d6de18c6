/**
 * The T5 decoder: pre-norm layers of causal self-attention (relative position bias with causal
 * buckets), cross-attention over the encoder states and a feed-forward block, a final RMS norm,
 * then the output head, with an incremental decoding cache.
 *
 * The cache ({@link KVCache}) holds `2 · numDecoderLayers` entries: first the self-attention
 * keys/values of each layer (`[B, N, T_past, d_kv]`, grown by one step's tokens per call), then
 * the cross-attention keys/values of each layer (`[B, N, T_enc, d_kv]`, projected from the encoder
 * states on the first call and reused afterwards, so that one more token costs one token's work).
 * Positions continue from the cache length.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { causalBias, dense, paddingBias, rmsNorm } from "../layers.ts";
import type { KVCache, LayerCache } from "../types.ts";
import { attend, feedForward, heads } from "./_blocks.ts";
import { crossAttendFolded, foldCrossAttention } from "./cross_attention.ts";
import type { T5Config } from "./config.ts";
import { t5Embed } from "./encoder.ts";
import type { T5Params } from "./params.ts";
import { relativePositionBias } from "./position.ts";

/**
 * Inputs of {@link t5Decode}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { t5Decode, type T5DecodeInputs } from "./decoder.ts";
 * import { disposeCache } from "../types.ts";
 * import { parseT5Config } from "./config.ts";
 * import { makeT5Params } from "./params.ts";
 * import { disposeTree } from "../../tree/tree.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const config = orThrow(parseT5Config({ vocab_size: 10, d_model: 4, d_kv: 2, d_ff: 8, num_layers: 1, num_heads: 2 }, "config.json"));
 * const params = makeT5Params(config, (_, shape) => tf.fill(shape, 0.1));
 * const decoderInputIds = tf.tensor2d([[0, 5, 6]], [1, 3], "int32"); // [B, S]
 * const encoderStates = tf.ones([1, 2, 4]); // [B, T, H]
 * const encoderMask = tf.tensor2d([[1, 0]], [1, 2], "int32"); // the second encoder token is padding
 * const inputs: T5DecodeInputs = { decoderInputIds, encoderStates, encoderMask };
 * const out = t5Decode(params, config, inputs);
 * assert(out.logits.shape.join() === "1,3,10");
 * tf.dispose([decoderInputIds, encoderStates, encoderMask, out.logits]);
 * disposeCache(out.cache);
 * disposeTree(params);
 * ```
 */
export interface T5DecodeInputs {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, S]` int32 decoder input ids (this step's tokens when a cache is given). */
  readonly decoderInputIds: tf.Tensor;
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, T, H]` encoder states; not read when a cache is given (its cross keys/values are). */
  readonly encoderStates: tf.Tensor;
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, T]` encoder padding mask, 1 for real tokens; default all ones. */
  readonly encoderMask?: tf.Tensor;
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** The cache a previous call returned; none for the first step or a whole sequence. */
  readonly cache?: KVCache;
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, T_past + S]` decoder padding mask over past and present tokens; default all ones. */
  readonly decoderMask?: tf.Tensor;
  /**
   * `false`: no cache is returned (`[]`), so that cross-attention over a long encoder sequence
   * may skip projecting it to keys and values (training and scoring: a few decoded positions).
   * Default true.
   */
  readonly returnCache?: boolean;
}

/**
 * What {@link t5Decode} returns.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { t5Decode, type T5DecodeOutput } from "./decoder.ts";
 * import { disposeCache } from "../types.ts";
 * import { parseT5Config } from "./config.ts";
 * import { makeT5Params } from "./params.ts";
 * import { disposeTree } from "../../tree/tree.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const config = orThrow(parseT5Config({ vocab_size: 10, d_model: 4, d_kv: 2, d_ff: 8, num_layers: 1, num_heads: 2 }, "config.json"));
 * const params = makeT5Params(config, (_, shape) => tf.fill(shape, 0.1));
 * const start = tf.tensor2d([[0]], [1, 1], "int32");
 * const encoderStates = tf.ones([1, 2, 4]);
 * const out: T5DecodeOutput = t5Decode(params, config, { decoderInputIds: start, encoderStates });
 * assert(out.logits.shape.join() === "1,1,10");
 * // Self-attention keys/values of each layer, then cross-attention ones.
 * assert(out.cache.length === 2 * config.numDecoderLayers && out.cache[0].key.shape[2] === 1);
 * tf.dispose([start, encoderStates, out.logits]);
 * disposeCache(out.cache);
 * disposeTree(params);
 * ```
 */
export interface T5DecodeOutput {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, S, V]` next-token logits. */
  readonly logits: tf.Tensor;
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** The cache including this call's tokens; the caller disposes it (and the one passed in). */
  readonly cache: KVCache;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * The length of the decoded sequence a cache holds (0 for none).
 *
 * @param cache a cache from {@link t5Decode}, or undefined
 * @returns the number of decoder positions already seen
 * @example
 * ```ts
 * import { t5CacheLength } from "./decoder.ts";
 * import assert from "node:assert/strict";
 * assert(t5CacheLength(undefined) === 0);
 * ```
 */
export function t5CacheLength(cache: KVCache | undefined): number {
  return cache === undefined || cache.length === 0 ? 0 : cache[0].key.shape[2] ?? 0;
}

/**
 * The output head: `decoder/logits_dense` when the tree has one, otherwise the embedding table;
 * the states are first multiplied by `dModel^-0.5` when `config.scaleDecoderOutputs`.
 *
 * @param params the T5 tree
 * @param config the configuration
 * @param x `[B, S, H]` final decoder states
 * @returns `[B, S, V]`
 */
function head(params: T5Params, config: T5Config, x: tf.Tensor): tf.Tensor {
  const scaled = config.scaleDecoderOutputs ? tf.mul(x, config.dModel ** -0.5) : x;
  if ("logits_dense" in params.decoder) return dense(scaled, params.decoder.logits_dense.kernel);
  const [b, s, h] = scaled.shape;
  const embedding = params.token_embedder.embedding; // [V, H]
  const logits = tf.matMul(scaled.reshape([b * s, h]), embedding, false, true); // [B·S, V]
  return logits.reshape([b, s, embedding.shape[0]]); // [B, S, V]
}

/**
 * Runs the T5 decoder and its head. Without a cache it decodes a whole sequence (teacher forcing);
 * with one it continues from the cache's length, and the returned cache holds the new tokens too.
 *
 * @param params the T5 tree
 * @param config the configuration
 * @param inputs decoder ids `[B, S]`, encoder states `[B, T, H]`, masks and an optional cache
 * @returns logits `[B, S, V]` and the new cache (see the module doc for its layout)
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { t5Decode } from "./decoder.ts";
 * import { parseT5Config } from "./config.ts";
 * import { makeT5Params } from "./params.ts";
 * import { disposeTree } from "../../tree/tree.ts";
 * import { disposeCache } from "../types.ts";
 * import assert from "node:assert/strict";
 * const c = parseT5Config({ vocab_size: 10, d_model: 4, d_kv: 2, d_ff: 8, num_layers: 1, num_heads: 2 }, "config.json");
 * if (c._tag === "Right") {
 *   const params = makeT5Params(c.right, (_, shape) => tf.fill(shape, 0.1));
 *   const encoderStates = tf.ones([1, 3, 4]);
 *   const start = tf.tensor2d([[0]], [1, 1], "int32");
 *   const step1 = t5Decode(params, c.right, { decoderInputIds: start, encoderStates });
 *   const step2 = t5Decode(params, c.right, { decoderInputIds: start, encoderStates, cache: step1.cache });
 *   assert(step2.logits.shape.join() === "1,1,10" && step2.cache[0].key.shape[2] === 2);
 *   tf.dispose([encoderStates, start, step1.logits, step2.logits]);
 *   disposeCache(step1.cache);
 *   disposeCache(step2.cache);
 *   disposeTree(params);
 * }
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
export function t5Decode(
  params: T5Params,
  config: T5Config,
  inputs: T5DecodeInputs,
): T5DecodeOutput {
  const layers = params.decoder.layers;
  const n = layers.length;
  const cache = inputs.cache !== undefined && inputs.cache.length > 0 ? inputs.cache : undefined;
  if (cache !== undefined && cache.length !== 2 * n) {
    throw new RangeError(
      `T5 decoder: the cache has ${cache.length} entries, expected ${
        2 * n
      } (self then cross keys/values of ${n} layers)`,
    );
  }
  const kept = tf.tidy(() => {
    let x: tf.Tensor = t5Embed(params, inputs.decoderInputIds); // [B, S, H]
    const [b, s] = x.shape as [number, number, number];
    const past = t5CacheLength(cache);
    const total = past + s;
    const dmask = inputs.decoderMask;
    if (
      dmask !== undefined && (dmask.rank !== 2 || dmask.shape[0] !== b || dmask.shape[1] !== total)
    ) {
      throw new RangeError(
        `T5 decoder: decoderMask has shape [${dmask.shape}], expected [${b}, ${total}] (past + present)`,
      );
    }
    const positions = relativePositionBias(params.decoder.relpos_bias.rel_embedding, {
      queryLength: s,
      keyLength: total,
      bidirectional: false,
      offset: past,
      numBuckets: config.relativeAttentionNumBuckets,
      maxDistance: config.relativeAttentionMaxDistance,
    }); // [1, N, S, T_past + S]
    const causal = tf.add(positions, causalBias(s, total, past));
    const selfBias = dmask === undefined ? causal : tf.add(causal, paddingBias(dmask)); // [B, N, S, T_past+S]
    const crossBias = inputs.encoderMask === undefined
      ? undefined
      : paddingBias(inputs.encoderMask); // [B, 1, 1, T]
    const eps = config.layerNormEpsilon;
    const nh = config.numHeads;
    // Without a cache to return, a few positions over a long encoder sequence attend to it
    // without projecting it to keys and values.
    const folded = cache === undefined && inputs.returnCache === false &&
      foldCrossAttention(s, inputs.encoderStates.shape[1] as number, config.dKv);
    const keys: tf.Tensor[] = []; // self-attention layers, then cross-attention layers
    const values: tf.Tensor[] = [];
    const crossKeys: tf.Tensor[] = [];
    const crossValues: tf.Tensor[] = [];
    layers.forEach((layer, i) => {
      const h = rmsNorm(x, layer.pre_self_attention_layer_norm.scale, eps);
      const sa = layer.self_attention;
      const q = heads(h, sa.query, nh); // [B, N, S, D]
      let k = heads(h, sa.key, nh);
      let v = heads(h, sa.value, nh);
      if (cache !== undefined) {
        k = tf.concat([cache[i].key, k], 2); // [B, N, T_past + S, D]
        v = tf.concat([cache[i].value, v], 2);
      }
      keys.push(k);
      values.push(v);
      x = tf.add(x, attend(q, k, v, selfBias, sa.out));

      const c = rmsNorm(x, layer.pre_cross_attention_layer_norm.scale, eps);
      const ca = layer.encoder_decoder_attention;
      const cq = heads(c, ca.query, nh); // [B, N, S, D]
      if (folded) {
        x = tf.add(x, crossAttendFolded(cq, inputs.encoderStates, ca, crossBias));
        const m = rmsNorm(x, layer.pre_mlp_layer_norm.scale, eps);
        x = tf.add(x, feedForward(m, layer.mlp, config.denseActFn));
        return;
      }
      // Reused cross keys/values are cloned (same data, new handle) so that the caller can
      // dispose the old cache and the new one independently.
      const ck = cache !== undefined
        ? tf.clone(cache[n + i].key)
        : heads(inputs.encoderStates, ca.key, nh);
      const cv = cache !== undefined
        ? tf.clone(cache[n + i].value)
        : heads(inputs.encoderStates, ca.value, nh);
      crossKeys.push(ck); // [B, N, T, D]
      crossValues.push(cv);
      x = tf.add(x, attend(cq, ck, cv, crossBias, ca.out));

      const m = rmsNorm(x, layer.pre_mlp_layer_norm.scale, eps);
      x = tf.add(x, feedForward(m, layer.mlp, config.denseActFn));
    });
    const out = rmsNorm(x, params.decoder.decoder_norm.scale, eps); // [B, S, H]
    keys.push(...crossKeys);
    values.push(...crossValues);
    return inputs.returnCache === false
      ? { logits: head(params, config, out), keys: [], values: [] }
      : { logits: head(params, config, out), keys, values };
  });
  const next: LayerCache[] = kept.keys.map((key, i) => ({ key, value: kept.values[i] }));
  return { logits: kept.logits, cache: next };
}
