/**
 * Explicit, splittable PRNG keys and samplers that reproduce `jax.random` (Threefry-2x32,
 * partitionable mode, 64-bit off) bit for bit, so that a key gives the same numbers here, in JAX,
 * and on every tfjs backend.
 *
 * Keys are values: make one with {@link key}, {@link split} it before each use, never reuse it.
 *
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key, split, uniform } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const [k1, k2] = split(key(0));
 * const a = uniform(k1, [2, 3], { minval: -0.5, maxval: 0.5 });
 * const b = uniform(k2, [2, 3], { minval: -0.5, maxval: 0.5 });
 * assert(a.shape[1] === 3 && b.shape[1] === 3);
 * tf.dispose([a, b]);
 * ```
 *
 * @module
 */

export { foldIn, isKey, type Key, key, keyData, keyFromData, split } from "./key.ts";
export { normal, type NormalOptions, uniform, type UniformOptions } from "./continuous.ts";
export {
  choice,
  type ChoiceOptions,
  permutation,
  permutationIndices,
  randint,
} from "./discrete.ts";
