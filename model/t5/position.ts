/**
 * T5's relative position bias: each (query, key) pair falls into a bucket by its distance, each
 * head learns one scalar per bucket, and the scalar is added to the attention scores.
 *
 * Buckets are computed in JS from integers, with the float32 rounding steps of `transformers`'
 * `T5Attention._relative_position_bucket` (log, division and product in float32, then truncation)
 * so that bucket boundaries fall exactly where PyTorch puts them.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

const f32 = Math.fround;

/**
 * The bucket of one relative position (`key position - query position`), as
 * `transformers.models.t5.modeling_t5.T5Attention._relative_position_bucket`: half the buckets
 * (per direction when bidirectional) hold exact distances, the rest grow logarithmically up to
 * `maxDistance`, beyond which all distances share the last bucket. Causal (not bidirectional)
 * buckets map every future position to bucket 0.
 *
 * @param relativePosition `memory position - query position`, an integer
 * @param bidirectional true in the encoder, false in the decoder's self-attention
 * @param numBuckets `relative_attention_num_buckets` (at least 4)
 * @param maxDistance `relative_attention_max_distance` (more than `numBuckets / 2`)
 * @returns the bucket, in `[0, numBuckets)`
 * @example
 * ```ts
 * import { relativePositionBucket } from "./position.ts";
 * import assert from "node:assert/strict";
 * assert(relativePositionBucket(0, true, 32, 128) === 0);
 * assert(relativePositionBucket(3, true, 32, 128) === 19);
 * assert(relativePositionBucket(-1000, false, 32, 128) === 31);
 * ```
 */
export function relativePositionBucket(
  relativePosition: number,
  bidirectional: boolean,
  numBuckets: number,
  maxDistance: number,
): number {
  let n = numBuckets;
  let bucket = 0;
  let distance: number;
  if (bidirectional) {
    n = Math.floor(n / 2);
    if (relativePosition > 0) bucket += n;
    distance = Math.abs(relativePosition);
  } else {
    distance = Math.max(-relativePosition, 0);
  }
  const maxExact = Math.floor(n / 2);
  if (distance < maxExact) return bucket + distance;
  // float32, step by step, as torch computes it: log(d / maxExact) / log(maxDistance / maxExact)
  // * (n - maxExact), truncated. (Double rounding is harmless for one division of integers.)
  const logRatio = f32(Math.log(f32(distance / maxExact)));
  const logMax = f32(Math.log(maxDistance / maxExact));
  const scaled = f32(f32(logRatio / logMax) * (n - maxExact));
  return bucket + Math.min(maxExact + Math.trunc(scaled), n - 1);
}

/**
 * Options of {@link relativePositionBias}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { relativePositionBias, type RelativePositionBiasOptions } from "./position.ts";
 * import assert from "node:assert/strict";
 * // One decoding step after 4 cached tokens: the query sits at position 4 and sees 5 keys.
 * const options: RelativePositionBiasOptions = {
 *   queryLength: 1,
 *   keyLength: 5,
 *   bidirectional: false,
 *   offset: 4,
 *   numBuckets: 32,
 *   maxDistance: 128,
 * };
 * const rel = tf.tidy(() => tf.range(0, 32).reshape([1, 32])); // one head whose bias is its bucket
 * const bias = relativePositionBias(rel, options);
 * assert(bias.dataSync().join() === "4,3,2,1,0"); // near distances have exact buckets
 * tf.dispose([rel, bias]);
 * ```
 */
export interface RelativePositionBiasOptions {
  /** Number of queries, `Tq`. */
  readonly queryLength: number;
  /** Number of keys, `Tk`. */
  readonly keyLength: number;
  /** Bidirectional buckets (encoder) or causal ones (decoder). */
  readonly bidirectional: boolean;
  /** Absolute position of the first query (the cache length when decoding); default 0. */
  readonly offset?: number;
  /** `relative_attention_num_buckets`. */
  readonly numBuckets: number;
  /** `relative_attention_max_distance`. */
  readonly maxDistance: number;
}

/**
 * The position bias of all (query, key) pairs: query `i` sits at `offset + i`, key `j` at `j`.
 *
 * @param relEmbedding `[N, buckets]`, one learned scalar per head and bucket (T5X layout)
 * @param options lengths, direction, offset and bucket settings
 * @returns `[1, N, Tq, Tk]`, to add to the attention scores
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { relativePositionBias } from "./position.ts";
 * import assert from "node:assert/strict";
 * const rel = tf.range(0, 8).reshape([2, 4]);
 * const b = relativePositionBias(rel, { queryLength: 2, keyLength: 3, bidirectional: false, numBuckets: 4, maxDistance: 8 });
 * assert(b.shape.join() === "1,2,2,3");
 * tf.dispose([rel, b]);
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
export function relativePositionBias(
  relEmbedding: tf.Tensor,
  options: RelativePositionBiasOptions,
): tf.Tensor {
  const { queryLength: tq, keyLength: tk, bidirectional, numBuckets, maxDistance } = options;
  const offset = options.offset ?? 0;
  const buckets = new Int32Array(tq * tk);
  for (let i = 0; i < tq; i++) {
    for (let j = 0; j < tk; j++) {
      buckets[i * tk + j] = relativePositionBucket(
        j - (offset + i),
        bidirectional,
        numBuckets,
        maxDistance,
      );
    }
  }
  return tf.tidy(() => {
    const n = relEmbedding.shape[0];
    const values = tf.gather(relEmbedding, tf.tensor1d(buckets, "int32"), 1); // [N, Tq·Tk]
    return values.reshape([1, n, tq, tk]); // [1, N, Tq, Tk]
  });
}
