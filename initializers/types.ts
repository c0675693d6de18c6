/**
 * The initializer protocol: a pure function of a PRNG key and a shape.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { Key } from "../random/mod.ts";

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * A pure `(key, shape) => Tensor`: the same key and shape always give the same values. The caller
 * owns (and disposes) the tensor returned. An initializer that ignores the key says so.
 *
 * @example
 * ```ts
 * import type { Initializer } from "./types.ts";
 * import * as tf from "@tensorflow/tfjs";
 * import assert from "node:assert/strict";
 * import { key } from "../random/mod.ts";
 * const zeros: Initializer = (_key, shape) => tf.zeros([...shape]); // ignores the key
 * const p = zeros(key(1), [2, 3]); // [P, H]
 * assert.deepEqual(p.shape, [2, 3]);
 * assert.deepEqual(Array.from(p.dataSync()), [0, 0, 0, 0, 0, 0]);
 * p.dispose();
 * ```
 */
export type Initializer = (key: Key, shape: readonly number[]) => tf.Tensor;

/** Throws unless `shape` is a list of non-negative integers. */
export function checkShape(shape: readonly number[], who: string): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new RangeError(
      `${who}: shape ${JSON.stringify(shape)} is not valid: expected non-negative integers`,
    );
  }
}

/** Throws unless `shape` is `[P, H]` with `H` equal to the embeddings' width. */
export function checkPromptShape(shape: readonly number[], width: number, who: string): void {
  checkShape(shape, who);
  if (shape.length !== 2) {
    throw new RangeError(`${who}: expected a prompt shape [P, H], got [${shape.join(", ")}]`);
  }
  if (shape[1] !== width) {
    throw new RangeError(
      `${who}: the prompt width ${shape[1]} does not match the embedding width ${width}`,
    );
  }
}

/** Throws unless `embeddings` is a 2-D float tensor `[V, H]` with V ≥ 1. */
export function checkEmbeddings(embeddings: tf.Tensor, who: string): void {
  if (embeddings.rank !== 2 || embeddings.shape[0] < 1) {
    throw new RangeError(
      `${who}: embeddings must be a [V, H] table with V ≥ 1, got shape [${
        embeddings.shape.join(", ")
      }]`,
    );
  }
  if (embeddings.dtype !== "float32") {
    throw new TypeError(`${who}: embeddings must be float32, got ${embeddings.dtype}`);
  }
}

/**
 * A callback for warnings; the default writes to stderr.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { fromSampleOfEmbeddings } from "./sampled.ts";
 * import type { WarningSink } from "./types.ts";
 * import assert from "node:assert/strict";
 * const warnings: string[] = [];
 * const collect: WarningSink = (message) => {
 *   warnings.push(message);
 * };
 * const table = tf.zeros([4, 2]); // a vocabulary of 4
 * fromSampleOfEmbeddings(table, { populationSize: 10, onWarning: collect }); // clamped to 4
 * assert(warnings.length === 1 && warnings[0].includes("larger than the vocabulary"));
 * table.dispose();
 * ```
 */
export type WarningSink = (message: string) => void;

/** The default warning sink: `console.warn`. */
export const warnToStderr: WarningSink = (message) => console.warn(`Warning: ${message}`);
