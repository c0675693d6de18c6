/**
 * The T5 parameter tree, named as T5X names it (so that T5X checkpoints and Hugging Face
 * checkpoints load into the same tree), and the check that a tree fits a configuration.
 *
 * ```
 * token_embedder/embedding                          [V, H]
 * encoder/relpos_bias/rel_embedding                 [heads, buckets]
 * encoder/layers/<i>/pre_attention_layer_norm/scale [H]
 * encoder/layers/<i>/attention/{query,key,value}/kernel [H, heads·d_kv]
 * encoder/layers/<i>/attention/out/kernel           [heads·d_kv, H]
 * encoder/layers/<i>/pre_mlp_layer_norm/scale       [H]
 * encoder/layers/<i>/mlp/{wi_0,wi_1 | wi}/kernel    [H, d_ff]
 * encoder/layers/<i>/mlp/wo/kernel                  [d_ff, H]
 * encoder/encoder_norm/scale                        [H]
 * decoder/relpos_bias/rel_embedding                 [heads, buckets]
 * decoder/layers/<i>/pre_self_attention_layer_norm/scale, self_attention/…,
 *   pre_cross_attention_layer_norm/scale, encoder_decoder_attention/…, pre_mlp_layer_norm/scale, mlp/…
 * decoder/decoder_norm/scale                        [H]
 * decoder/logits_dense/kernel                       [H, V] (untied head only)
 * ```
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { type Problem, problem } from "../../problem.ts";
import { flatten, type ParamTree, unflatten } from "../../tree/tree.ts";
import { type T5Config, t5ParamShapes } from "./config.ts";

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * A dense kernel, `[in, out]`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { T5Kernel } from "./params.ts";
 * import assert from "node:assert/strict";
 * const query: T5Kernel = { kernel: tf.zeros([4, 6]) }; // [H, heads·d_kv]
 * assert(query.kernel.shape.join() === "4,6");
 * query.kernel.dispose();
 * ```
 */
export type T5Kernel = { readonly kernel: tf.Tensor };

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * An RMS norm's scale, `[H]`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { rmsNorm } from "../layers.ts";
 * import type { T5Scale } from "./params.ts";
 * import assert from "node:assert/strict";
 * const norm: T5Scale = { scale: tf.ones([4]) }; // [H]
 * const y = tf.tidy(() => rmsNorm(tf.fill([1, 2, 4], 3), norm.scale, 0));
 * assert(y.shape.join() === "1,2,4" && Math.abs(y.dataSync()[0] - 1) < 1e-6);
 * tf.dispose([norm.scale, y]);
 * ```
 */
export type T5Scale = { readonly scale: tf.Tensor };

/**
 * One attention block's projections.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { T5AttentionParams } from "./params.ts";
 * import { disposeTree } from "../../tree/tree.ts";
 * import assert from "node:assert/strict";
 * const h = 4, inner = 2 * 3; // H, heads·d_kv
 * const attention: T5AttentionParams = {
 *   query: { kernel: tf.zeros([h, inner]) },
 *   key: { kernel: tf.zeros([h, inner]) },
 *   value: { kernel: tf.zeros([h, inner]) },
 *   out: { kernel: tf.zeros([inner, h]) },
 * };
 * assert(attention.out.kernel.shape.join() === "6,4");
 * disposeTree(attention);
 * ```
 */
export type T5AttentionParams = {
  /** `[H, heads·d_kv]` */
  readonly query: T5Kernel;
  /** `[H, heads·d_kv]` */
  readonly key: T5Kernel;
  /** `[H, heads·d_kv]` */
  readonly value: T5Kernel;
  /** `[heads·d_kv, H]` */
  readonly out: T5Kernel;
};

/**
 * A feed-forward block: one `wi` (ReLU, original T5) or gated `wi_0`, `wi_1` (T5 1.1).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { T5MlpParams } from "./params.ts";
 * import { disposeTree } from "../../tree/tree.ts";
 * import assert from "node:assert/strict";
 * const relu: T5MlpParams = { wi: { kernel: tf.zeros([4, 8]) }, wo: { kernel: tf.zeros([8, 4]) } };
 * const gated: T5MlpParams = {
 *   wi_0: { kernel: tf.zeros([4, 8]) },
 *   wi_1: { kernel: tf.zeros([4, 8]) },
 *   wo: { kernel: tf.zeros([8, 4]) },
 * };
 * assert(!("wi_0" in relu) && "wi_0" in gated && gated.wo.kernel.shape.join() === "8,4");
 * disposeTree([relu, gated]);
 * ```
 */
export type T5MlpParams =
  | { readonly wi: T5Kernel; readonly wo: T5Kernel }
  | { readonly wi_0: T5Kernel; readonly wi_1: T5Kernel; readonly wo: T5Kernel };

/**
 * One encoder layer.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { makeT5Params, type T5EncoderLayerParams } from "./params.ts";
 * import { parseT5Config } from "./config.ts";
 * import { disposeTree } from "../../tree/tree.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const config = orThrow(parseT5Config({ vocab_size: 10, d_model: 4, d_kv: 2, d_ff: 8, num_layers: 1, num_heads: 2, feed_forward_proj: "gated-gelu" }, "config.json"));
 * const params = makeT5Params(config, (_, shape) => tf.zeros(shape));
 * const layer: T5EncoderLayerParams = params.encoder.layers[0];
 * assert(layer.attention.query.kernel.shape.join() === "4,4" && "wi_0" in layer.mlp);
 * disposeTree(params);
 * ```
 */
export type T5EncoderLayerParams = {
  /** RMS norm before self-attention. */
  readonly pre_attention_layer_norm: T5Scale;
  /** Bidirectional self-attention. */
  readonly attention: T5AttentionParams;
  /** RMS norm before the feed-forward block. */
  readonly pre_mlp_layer_norm: T5Scale;
  /** The feed-forward block. */
  readonly mlp: T5MlpParams;
};

/**
 * One decoder layer.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { makeT5Params, type T5DecoderLayerParams } from "./params.ts";
 * import { parseT5Config } from "./config.ts";
 * import { disposeTree } from "../../tree/tree.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const config = orThrow(parseT5Config({ vocab_size: 10, d_model: 4, d_kv: 2, d_ff: 8, num_layers: 1, num_heads: 2 }, "config.json"));
 * const params = makeT5Params(config, (_, shape) => tf.zeros(shape));
 * const layer: T5DecoderLayerParams = params.decoder.layers[0];
 * assert(layer.encoder_decoder_attention.key.kernel.shape.join() === "4,4");
 * assert(layer.pre_cross_attention_layer_norm.scale.shape.join() === "4");
 * disposeTree(params);
 * ```
 */
export type T5DecoderLayerParams = {
  /** RMS norm before self-attention. */
  readonly pre_self_attention_layer_norm: T5Scale;
  /** Causal self-attention. */
  readonly self_attention: T5AttentionParams;
  /** RMS norm before cross-attention. */
  readonly pre_cross_attention_layer_norm: T5Scale;
  /** Attention over the encoder states. */
  readonly encoder_decoder_attention: T5AttentionParams;
  /** RMS norm before the feed-forward block. */
  readonly pre_mlp_layer_norm: T5Scale;
  /** The feed-forward block. */
  readonly mlp: T5MlpParams;
};

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * The relative position bias table, `[heads, buckets]`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { T5RelPos } from "./params.ts";
 * import { relativePositionBias } from "./position.ts";
 * import assert from "node:assert/strict";
 * const relpos: T5RelPos = { rel_embedding: tf.zeros([2, 32]) }; // [heads, buckets]
 * const options = { queryLength: 3, keyLength: 3, bidirectional: true, numBuckets: 32, maxDistance: 128 };
 * const bias = relativePositionBias(relpos.rel_embedding, options);
 * assert(bias.shape.join() === "1,2,3,3");
 * tf.dispose([relpos.rel_embedding, bias]);
 * ```
 */
export type T5RelPos = { readonly rel_embedding: tf.Tensor };

/**
 * The decoder stack without its head.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { makeT5Params, type T5DecoderStackParams } from "./params.ts";
 * import { parseT5Config } from "./config.ts";
 * import { disposeTree } from "../../tree/tree.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const config = orThrow(parseT5Config({ vocab_size: 10, d_model: 4, d_kv: 2, d_ff: 8, num_layers: 1, num_decoder_layers: 2, num_heads: 2 }, "config.json"));
 * const params = makeT5Params(config, (_, shape) => tf.zeros(shape));
 * const decoder: T5DecoderStackParams = params.decoder;
 * assert(decoder.layers.length === 2 && decoder.relpos_bias.rel_embedding.shape.join() === "2,32");
 * disposeTree(params);
 * ```
 */
export type T5DecoderStackParams = {
  /** The relative position bias table. */
  readonly relpos_bias: T5RelPos;
  /** The decoder layers. */
  readonly layers: readonly T5DecoderLayerParams[];
  /** The final RMS norm. */
  readonly decoder_norm: T5Scale;
};

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * A whole T5 encoder-decoder's parameters; a {@link ParamTree}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { makeT5Params, type T5Params } from "./params.ts";
 * import { parseT5Config } from "./config.ts";
 * import { disposeTree } from "../../tree/tree.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const config = orThrow(parseT5Config({ vocab_size: 10, d_model: 4, d_kv: 2, d_ff: 8, num_layers: 1, num_heads: 2, tie_word_embeddings: false }, "config.json"));
 * const params: T5Params = makeT5Params(config, (_, shape) => tf.zeros(shape));
 * assert(params.token_embedder.embedding.shape.join() === "10,4");
 * assert("logits_dense" in params.decoder && params.decoder.logits_dense.kernel.shape.join() === "4,10");
 * disposeTree(params);
 * ```
 */
export type T5Params = {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `embedding`: `[V, H]`. */
  readonly token_embedder: { readonly embedding: tf.Tensor };
  /** The encoder stack. */
  readonly encoder: {
    readonly relpos_bias: T5RelPos;
    readonly layers: readonly T5EncoderLayerParams[];
    readonly encoder_norm: T5Scale;
  };
  /** The decoder stack, with `logits_dense` (`[H, V]`) when the head is untied. */
  readonly decoder:
    | T5DecoderStackParams
    | T5DecoderStackParams & { readonly logits_dense: T5Kernel };
};

const LIST_MAX = 8;

function listSome(items: readonly string[]): string {
  const head = items.slice(0, LIST_MAX).join(", ");
  return items.length > LIST_MAX ? `${head}, … (${items.length} in all)` : head;
}

const shapeText = (s: readonly number[]) => `[${s.join(", ")}]`;

/**
 * Compares named shapes with the expected ones and describes every difference: missing names,
 * unexpected names and shape mismatches, each list cut after 8 names. Shared by the loaders.
 *
 * @param expected name → expected shape
 * @param actual name → shape found
 * @param optional names that may be present or absent (checked when present)
 * @returns one sentence per kind of difference (empty when everything matches)
 * @example
 * ```ts
 * import { shapeDifferences } from "./params.ts";
 * import assert from "node:assert/strict";
 * const d = shapeDifferences(new Map([["a", [2]], ["b", [3]]]), new Map([["a", [4]], ["c", [1]]]));
 * assert(d.length === 3 && d[0].startsWith("1 missing"));
 * ```
 */
export function shapeDifferences(
  expected: ReadonlyMap<string, readonly number[]>,
  actual: ReadonlyMap<string, readonly number[]>,
  optional: ReadonlySet<string> = new Set(),
): string[] {
  const missing = [...expected.keys()].filter((k) => !actual.has(k) && !optional.has(k));
  const unexpected = [...actual.keys()].filter((k) => !expected.has(k));
  const wrong = [...expected].flatMap(([k, e]) => {
    const s = actual.get(k);
    return s !== undefined && e.join() !== s.join()
      ? [`${k} is ${shapeText(s)}, expected ${shapeText(e)}`]
      : [];
  });
  const out: string[] = [];
  if (missing.length > 0) out.push(`${missing.length} missing: ${listSome(missing)}`);
  if (unexpected.length > 0) out.push(`${unexpected.length} unexpected: ${listSome(unexpected)}`);
  if (wrong.length > 0) {
    out.push(`${wrong.length} with the wrong shape: ${listSome(wrong)}`);
  }
  return out;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Checks that a tree (from a T5X checkpoint, a saved tree, …) is a T5 tree for this config: every
 * path of {@link t5ParamShapes} present with its shape and dtype float32, nothing else.
 * `decoder/logits_dense/kernel` may also be present with a tied config: an untied head then wins,
 * as in `transformers` when a checkpoint's `lm_head.weight` differs from its embeddings.
 *
 * @param tree the tree
 * @param config the configuration
 * @param where where the tree came from, for the problem
 * @returns the same tree, typed, or a `Mismatch` problem listing every difference
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { checkT5Params } from "./params.ts";
 * import { parseT5Config } from "./config.ts";
 * import assert from "node:assert/strict";
 * const c = parseT5Config({ d_model: 4, vocab_size: 5, num_layers: 1 }, "config.json");
 * const tree = { token_embedder: { embedding: tf.zeros([5, 4]) } };
 * if (c._tag === "Right") {
 *   const r = checkT5Params(tree, c.right, "tree");
 *   assert(r._tag === "Left" && r.left.message.includes("missing"));
 * }
 * tree.token_embedder.embedding.dispose();
 * ```
 */
export function checkT5Params(
  tree: ParamTree,
  config: T5Config,
  where: string,
): E.Either<Problem, T5Params> {
  const expected = t5ParamShapes(config);
  const optional = new Set<string>();
  const head = "decoder/logits_dense/kernel";
  if (config.tieWordEmbeddings) {
    expected.set(head, [config.dModel, config.vocabSize]);
    optional.add(head);
  }
  let flat;
  try {
    flat = flatten(tree);
  } catch (e) {
    return E.left(problem("Invalid", where, e instanceof Error ? e.message : String(e)));
  }
  const diffs = shapeDifferences(expected, new Map(flat.map(([p, t]) => [p, t.shape])), optional);
  const notFloat = flat.filter(([, t]) => t.dtype !== "float32").map(([p, t]) =>
    `${p} (${t.dtype})`
  );
  if (notFloat.length > 0) {
    diffs.push(`${notFloat.length} not float32: ${listSome(notFloat)}`);
  }
  if (diffs.length > 0) {
    return E.left(
      problem("Mismatch", where, `Parameters do not fit the T5 config: ${diffs.join("; ")}`),
    );
  }
  return E.right(tree as T5Params);
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Builds a T5 tree for a config, one leaf per path of {@link t5ParamShapes}, each made by
 * `make` (a random initializer closing over a key, zeros, a copy of a checkpoint's tensor, …).
 *
 * @param config the configuration
 * @param make makes the leaf at a path with the given shape (float32); called in
 *   {@link t5ParamShapes}' order
 * @returns the tree (the caller owns its tensors)
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { makeT5Params } from "./params.ts";
 * import { parseT5Config } from "./config.ts";
 * import { disposeTree } from "../../tree/tree.ts";
 * import assert from "node:assert/strict";
 * const c = parseT5Config({ vocab_size: 10, d_model: 4, d_kv: 2, d_ff: 8, num_layers: 1, num_heads: 2 }, "config.json");
 * if (c._tag === "Right") {
 *   const params = makeT5Params(c.right, (_, shape) => tf.zeros(shape));
 *   assert(params.encoder.layers.length === 1);
 *   disposeTree(params);
 * }
 * ```
 */
export function makeT5Params(
  config: T5Config,
  make: (path: string, shape: number[]) => tf.Tensor,
): T5Params {
  const entries = [...t5ParamShapes(config)].map(([p, s]) => [p, make(p, s)] as const);
  return unflatten(entries) as T5Params;
}
