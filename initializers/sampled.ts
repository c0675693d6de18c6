/**
 * Sampled-vocabulary initialization: prompt rows drawn from the embedding table.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { choice } from "../random/mod.ts";
import {
  checkEmbeddings,
  checkPromptShape,
  type Initializer,
  type WarningSink,
  warnToStderr,
} from "./types.ts";

/**
 * Options of {@link fromSampleOfEmbeddings}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import { fromSampleOfEmbeddings, type SampleOptions } from "./sampled.ts";
 * import assert from "node:assert/strict";
 * const table = tf.tidy(() => tf.range(0, 40).reshape([10, 4])); // row i holds 4i … 4i+3
 * const options: SampleOptions = { populationSize: 3, onWarning: () => {} }; // rows 0, 1, 2 only
 * const p = fromSampleOfEmbeddings(table, options)(key(0), [3, 4]);
 * const starts = (p.arraySync() as number[][]).map((row) => row[0]).sort((a, b) => a - b);
 * assert(starts.join() === "0,4,8"); // each of the 3 rows once
 * tf.dispose([table, p]);
 * ```
 */
export interface SampleOptions {
  /**
   * Draw from the first `populationSize` rows only (paper: 5000, the most common tokens of the
   * SentencePiece vocabulary). Default: 5000. Clamped, with a warning, to the vocabulary size
   * when larger; an error when ≤ 0.
   */
  readonly populationSize?: number;
  /** Where warnings go (default: stderr). */
  readonly onWarning?: WarningSink;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Rows of the embedding table drawn at random: `embeddings[choice(key, population, [P])]`, without
 * replacement when P ≤ population, with replacement otherwise (with a warning) — the original's
 * `from_sample_of_embeddings`, index for index.
 *
 * The closure keeps a reference to `embeddings`; the caller keeps ownership of it.
 *
 * @param embeddings `[V, H]` the frozen model's token embeddings
 * @param options population size and warning sink
 * @returns an initializer of `[P, H]` prompts
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import { fromSampleOfEmbeddings } from "./sampled.ts";
 * import assert from "node:assert/strict";
 * const table = tf.range(0, 40).reshape([10, 4]).toFloat(); // row i holds 4i … 4i+3
 * const p = fromSampleOfEmbeddings(table, { populationSize: 10 })(key(0), [3, 4]);
 * assert(p.shape[0] === 3);
 * tf.dispose([table, p]);
 * ```
 */
export function fromSampleOfEmbeddings(
  embeddings: tf.Tensor,
  options: SampleOptions = {},
): Initializer {
  const who = "fromSampleOfEmbeddings()";
  checkEmbeddings(embeddings, who);
  const width = embeddings.shape[1] as number;
  const warn = options.onWarning ?? warnToStderr;
  const vocab = embeddings.shape[0];
  const asked = options.populationSize;
  if (asked !== undefined && (!Number.isInteger(asked) || asked <= 0)) {
    throw new RangeError(`${who}: populationSize must be an integer > 0, got ${asked}`);
  }
  let population = asked ?? 5000;
  if (population > vocab) {
    if (asked !== undefined) {
      warn(
        `${who}: populationSize ${asked} is larger than the vocabulary (${vocab}); using ${vocab}`,
      );
    }
    population = vocab;
  }
  return (key, shape) => {
    checkPromptShape(shape, width, who);
    const replace = shape[0] > population;
    if (replace) {
      warn(
        `${who}: prompt length ${
          shape[0]
        } is larger than the population (${population}); drawing with replacement`,
      );
    }
    return tf.tidy(() => {
      const index = choice(key, population, [shape[0]], { replace });
      return tf.gather(embeddings, index);
    });
  };
}
