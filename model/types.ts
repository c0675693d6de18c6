/**
 * What every frozen model offers the rest of the library, whatever its architecture.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Keys and values of one attention layer's past tokens, for incremental decoding.
 * `key`: `[B, Nkv, T_past, D]`, `value`: `[B, Nkv, T_past, Dv]`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { LayerCache } from "./types.ts";
 * import assert from "node:assert/strict";
 * // B = 1, Nkv = 2, T_past = 3, D = 4
 * const layer: LayerCache = { key: tf.zeros([1, 2, 3, 4]), value: tf.zeros([1, 2, 3, 4]) };
 * assert(layer.key.shape[2] === 3);
 * tf.dispose([layer.key, layer.value]);
 * ```
 */
export interface LayerCache {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, Nkv, T_past, D]` */
  readonly key: tf.Tensor;
  /** `[B, Nkv, T_past, Dv]` */
  readonly value: tf.Tensor;
}

/**
 * A decoding cache: one {@link LayerCache} per self-attention layer, passed in and returned as a
 * value. The caller disposes caches it no longer needs (see {@link disposeCache}).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { disposeCache, type KVCache } from "./types.ts";
 * import assert from "node:assert/strict";
 * const cache: KVCache = [0, 1].map(() => ({ key: tf.zeros([1, 2, 3, 4]), value: tf.zeros([1, 2, 3, 4]) }));
 * assert(cache.length === 2 && cache[1].value.shape[2] === 3); // 2 layers, 3 past tokens
 * disposeCache(cache);
 * ```
 */
export type KVCache = readonly LayerCache[];

/**
 * Disposes every tensor of a cache.
 *
 * @param cache the cache
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { disposeCache } from "./types.ts";
 * disposeCache([{ key: tf.zeros([1, 1, 1, 1]), value: tf.zeros([1, 1, 1, 1]) }]);
 * ```
 */
export function disposeCache(cache: KVCache): void {
  for (const layer of cache) {
    layer.key.dispose();
    layer.value.dispose();
  }
}

/**
 * The architectures supported.
 *
 * @example
 * ```ts
 * import type { Architecture } from "./types.ts";
 * import { loadModel } from "./load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel(new URL("../tests/fixtures/models/gpt2_tiny", import.meta.url).pathname));
 * const architecture: Architecture = model.architecture;
 * assert(architecture === "gpt2");
 * disposeTree(model.params);
 * ```
 */
export type Architecture = "t5" | "gpt2" | "llama";
