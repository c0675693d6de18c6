/**
 * Continuous samplers: uniform and normal float32 values, as `jax.random` draws them.
 *
 * Values are computed here, in JavaScript, then wrapped in a tensor, so every tfjs backend gives
 * the same numbers.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { shapeSize } from "./_shape.ts";
import { erfinvF32 } from "./_erfinv.ts";
import { fmaF32 } from "./fma.ts";
import { bitsInto, checkKey, type Key } from "./key.ts";

const fround = Math.fround;

/** 2^-23: one float32 mantissa step at 1. */
const MANTISSA_STEP = 2 ** -23;

/** `np.nextafter(np.float32(-1), np.float32(0))`: the lower bound of `jax.random.normal`'s draw. */
const NEXT_AFTER_MINUS_ONE = fround(-1 + 2 ** -24);

/** `np.float32(np.sqrt(2))`. */
const SQRT2_F32 = fround(Math.SQRT2);

/**
 * Options of {@link uniform}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "./key.ts";
 * import { uniform, type UniformOptions } from "./continuous.ts";
 * import assert from "node:assert/strict";
 * const range: UniformOptions = { minval: 2, maxval: 3 };
 * const x = uniform(key(1), [100], range);
 * assert(x.dataSync().every((v) => v >= 2 && v < 3));
 * tf.dispose(x);
 * ```
 */
export interface UniformOptions {
  /** The smallest value (inclusive), default 0; rounded to float32 first, as JAX does. */
  readonly minval?: number;
  /** The bound (exclusive), default 1; rounded to float32 first, as JAX does. */
  readonly maxval?: number;
}

/**
 * Options of {@link normal}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "./key.ts";
 * import { normal, type NormalOptions } from "./continuous.ts";
 * import assert from "node:assert/strict";
 * const options: NormalOptions = { mean: 10, stddev: 0.1 };
 * const x = normal(key(0), [1000], options);
 * const v = Array.from(x.dataSync());
 * assert(Math.abs(v.reduce((a, b) => a + b, 0) / v.length - 10) < 0.05);
 * tf.dispose(x);
 * ```
 */
export interface NormalOptions {
  /** The mean, default 0. */
  readonly mean?: number;
  /** The standard deviation, default 1. */
  readonly stddev?: number;
}

function finite(x: number, name: string, who: string): number {
  if (typeof x !== "number" || !Number.isFinite(x)) {
    throw new RangeError(`The ${name} for ${who} must be a finite number, got ${String(x)}`);
  }
  return x;
}

/**
 * Fills `out` with float32 values in [minval, maxval): `jax.random.uniform` on a flat shape.
 * Callers check the key and bounds.
 */
function uniformInto(k: Key, out: Float32Array, minval: number, maxval: number): Float32Array {
  const words = bitsInto(k, new Uint32Array(out.length));
  const lo = fround(minval);
  const span = fround(fround(maxval) - lo);
  for (let i = 0; i < words.length; i++) {
    // bitcast(bits >> 9 | bits(1.0f)) - 1.0f: 23 random mantissa bits, exactly (bits >> 9) * 2^-23.
    const u = (words[i] >>> 9) * MANTISSA_STEP;
    // One float32 fused multiply-add, then max(minval, ·), as XLA's CPU code does them.
    const v = fmaF32(u, span, lo);
    out[i] = v > lo ? v : lo;
  }
  return out;
}

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * Uniform float32 values in [minval, maxval): `jax.random.uniform(key, shape, jnp.float32,
 * minval, maxval)`, bit for bit. The 23 high bits of each random word become the mantissa of a
 * float in [1, 2); subtract 1, scale, shift, all in float32.
 *
 * @param k the key (use it once)
 * @param shape the shape of the result, non-negative integers
 * @param options the range, default [0, 1)
 * @returns a float32 tensor of that shape; the caller disposes it
 * @throws {RangeError} when the shape is not valid or a bound is not finite
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "./key.ts";
 * import { uniform } from "./continuous.ts";
 * import assert from "node:assert/strict";
 * const x = uniform(key(0), [2, 3], { minval: -0.5, maxval: 0.5 });
 * const v = x.dataSync();
 * assert(x.dtype === "float32" && v.every((e) => e >= -0.5 && e < 0.5));
 * tf.dispose(x);
 * ```
 */
export function uniform(
  k: Key,
  shape: readonly number[],
  options: UniformOptions = {},
): tf.Tensor {
  const who = "uniform()";
  checkKey(k, who);
  const size = shapeSize(shape, who);
  const minval = finite(options.minval ?? 0, "minval", who);
  const maxval = finite(options.maxval ?? 1, "maxval", who);
  const values = uniformInto(k, new Float32Array(size), minval, maxval);
  return tf.tensor(values, [...shape], "float32");
}

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * Standard-normal float32 values, scaled and shifted: `mean + stddev * jax.random.normal(key,
 * shape)`. JAX draws `u` uniform in (-1, 1) and returns `sqrt(2) * erfinv(u)`; the uniform draw
 * here is bit for bit JAX's, and erfinv replays XLA's float32 approximation, so the values agree
 * with JAX's to within 1e-6 (most of them exactly).
 *
 * @param k the key (use it once)
 * @param shape the shape of the result, non-negative integers
 * @param options the mean (default 0) and standard deviation (default 1)
 * @returns a float32 tensor of that shape; the caller disposes it
 * @throws {RangeError} when the shape is not valid or the mean or stddev is not finite
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "./key.ts";
 * import { normal } from "./continuous.ts";
 * import assert from "node:assert/strict";
 * const x = normal(key(0), [1000]);
 * const m = x.mean().arraySync() as number;
 * assert(Math.abs(m) < 0.2);
 * tf.dispose(x);
 * ```
 */
export function normal(
  k: Key,
  shape: readonly number[],
  options: NormalOptions = {},
): tf.Tensor {
  const who = "normal()";
  checkKey(k, who);
  const size = shapeSize(shape, who);
  const mean = fround(finite(options.mean ?? 0, "mean", who));
  const stddev = fround(finite(options.stddev ?? 1, "stddev", who));
  const scaled = mean !== 0 || stddev !== 1;
  const values = uniformInto(k, new Float32Array(size), NEXT_AFTER_MINUS_ONE, 1);
  for (let i = 0; i < size; i++) {
    const z = fround(SQRT2_F32 * erfinvF32(values[i]));
    values[i] = scaled ? fround(z * stddev) + mean : z;
  }
  return tf.tensor(values, [...shape], "float32");
}
