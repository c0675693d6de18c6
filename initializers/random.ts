/**
 * Random initializers: uniform and normal.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { normal, uniform } from "../random/mod.ts";
import { checkShape, type Initializer } from "./types.ts";

/**
 * Options of {@link randomUniform}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import { randomUniform, type RandomUniformOptions } from "./random.ts";
 * import assert from "node:assert/strict";
 * const flax: RandomUniformOptions = { range: "flax" }; // [0, scale), the original's default
 * const p = randomUniform(0.5, flax)(key(0), [4, 8]);
 * assert(p.dataSync().every((v) => v >= 0 && v < 0.5));
 * tf.dispose(p);
 * ```
 */
export interface RandomUniformOptions {
  /**
   * `"symmetric"` (default) draws from [-scale, scale), as the paper describes (scale 0.5).
   * `"flax"` draws from [0, scale), as `flax.linen.initializers.uniform(scale)` does, which is what
   * the original implementation's gin default gives; use it to reproduce the original bit for bit.
   */
  readonly range?: "symmetric" | "flax";
}

function checkScale(scale: number, name: string, who: string): void {
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new RangeError(`${who}: ${name} must be a finite number > 0, got ${scale}`);
  }
}

/**
 * Uniform random values. The paper initializes prompts uniformly in [-0.5, 0.5]; the original
 * code's default (`flax.linen.initializers.uniform`) gives [0, scale) instead — pass
 * `{ range: "flax" }` for that.
 *
 * Symmetric: `jax.random.uniform(key, shape, minval=-scale, maxval=scale)`, bit for bit.
 * Flax: `jax.random.uniform(key, shape) * scale`, bit for bit.
 *
 * @param scale the half-width (symmetric) or width (flax) of the range; paper: 0.5
 * @param options which range
 * @returns an initializer of float32 tensors
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import { randomUniform } from "./random.ts";
 * import assert from "node:assert/strict";
 * const init = randomUniform(0.5);
 * const p = init(key(0), [4, 8]);
 * assert(p.max().arraySync() as number <= 0.5);
 * tf.dispose(p);
 * ```
 */
export function randomUniform(scale = 0.5, options: RandomUniformOptions = {}): Initializer {
  const who = "randomUniform()";
  checkScale(scale, "scale", who);
  const range = options.range ?? "symmetric";
  if (range !== "symmetric" && range !== "flax") {
    throw new RangeError(`${who}: range must be "symmetric" or "flax", got ${String(range)}`);
  }
  return (key, shape) => {
    checkShape(shape, who);
    if (range === "symmetric") return uniform(key, shape, { minval: -scale, maxval: scale });
    return tf.tidy(() => tf.mul(uniform(key, shape), tf.scalar(scale, "float32")));
  };
}

/**
 * Normal random values with mean 0: `jax.random.normal(key, shape) * stddev`.
 *
 * @param stddev the standard deviation, > 0
 * @returns an initializer of float32 tensors
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import { randomNormal } from "./random.ts";
 * import assert from "node:assert/strict";
 * const p = randomNormal(0.02)(key(1), [3, 5]);
 * assert(p.shape[0] === 3 && p.shape[1] === 5);
 * tf.dispose(p);
 * ```
 */
export function randomNormal(stddev = 1): Initializer {
  const who = "randomNormal()";
  checkScale(stddev, "stddev", who);
  return (key, shape) => {
    checkShape(shape, who);
    return tf.tidy(() => tf.mul(normal(key, shape), tf.scalar(stddev, "float32")));
  };
}
