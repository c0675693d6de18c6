/**
 * Prompt initializers: factories returning pure `(key, shape) => Tensor` closures.
 *
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/key.ts";
 * import { fromArray, randomUniform } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const p = randomUniform(0.5)(key(1), [3, 4]); // [P, H], each entry in [-0.5, 0.5)
 * assert(Array.from(p.dataSync()).every((x) => x >= -0.5 && x < 0.5));
 * const src = tf.tensor2d([[1, 2], [3, 4]]);
 * const fixed = fromArray(src)(key(1), [2, 2]); // copies the array, ignores the key
 * assert.deepEqual(Array.from(fixed.dataSync()), [1, 2, 3, 4]);
 * tf.dispose([p, src, fixed]);
 * ```
 *
 * @module
 */
export type { Initializer, WarningSink } from "./types.ts";
export { randomNormal, randomUniform, type RandomUniformOptions } from "./random.ts";
export { fromSampleOfEmbeddings, type SampleOptions } from "./sampled.ts";
export {
  type Aggregate,
  type EmbeddedListOptions,
  type EmbeddedStringOptions,
  fromEmbeddedList,
  fromEmbeddedString,
} from "./embedded.ts";
export { fromArray, fromFile, type FromFileOptions } from "./array.ts";
