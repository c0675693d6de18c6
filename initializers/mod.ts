/**
 * Prompt initializers: factories returning pure `(key, shape) => Tensor` closures.
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
