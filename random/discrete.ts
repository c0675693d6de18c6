/**
 * Discrete samplers: random integers, permutations and choices, as `jax.random` draws them.
 *
 * Values are computed here, in JavaScript, then wrapped in a tensor, so every tfjs backend gives
 * the same numbers.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { MAX_SIZE, shapeSize } from "./_shape.ts";
import { stableOrder } from "./sort.ts";
import { bitsInto, checkKey, type Key, split } from "./key.ts";

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
/** `np.log(np.iinfo(np.uint32).max)`, the denominator of `_shuffle`'s round count. */
const LOG_UINT32_MAX = Math.log(2 ** 32 - 1);

function int32(x: number, name: string, who: string): number {
  if (typeof x !== "number" || !Number.isInteger(x) || x < INT32_MIN || x > INT32_MAX) {
    throw new RangeError(
      `The ${name} for ${who} must be an int32 integer in [-2^31, 2^31), got ${String(x)}`,
    );
  }
  return x;
}

/** `(a * b) mod 2^32` on uint32 words. */
function mulU32(a: number, b: number): number {
  return Math.imul(a, b) >>> 0;
}

/**
 * Fills `out` with `jax.random.randint` values for int32: split the key in two, draw high and
 * low words, and reduce `hi * 2^32 + lo` modulo the span with uint32 arithmetic that wraps.
 */
function randintInto(k: Key, out: Int32Array, minval: number, maxval: number): Int32Array {
  const [k1, k2] = split(k, 2);
  const higher = bitsInto(k1, new Uint32Array(out.length));
  const lower = bitsInto(k2, new Uint32Array(out.length));
  // span = uint32(maxval - minval), with int32 subtraction wrapping; 1 when maxval <= minval, so
  // that minval is always returned (jax-ml/jax#222).
  const span = maxval <= minval ? 1 : (maxval - minval) >>> 0;
  // 2^32 mod span, as ((2^16 mod span)^2 mod 2^32) mod span, to stay in uint32.
  let multiplier = 65536 % span;
  multiplier = mulU32(multiplier, multiplier) % span;
  for (let i = 0; i < out.length; i++) {
    const offset = ((mulU32(higher[i] % span, multiplier) + (lower[i] % span)) >>> 0) % span;
    out[i] = (minval + offset) | 0;
  }
  return out;
}

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * Random int32 values in [minval, maxval): `jax.random.randint(key, shape, minval, maxval)`,
 * bit for bit. When `maxval <= minval` every value is `minval`, as in JAX. The modulo reduction is
 * slightly biased unless the span is a power of 2, as in JAX.
 *
 * @param k the key (use it once)
 * @param shape the shape of the result, non-negative integers
 * @param minval the smallest value (inclusive), an int32
 * @param maxval the bound (exclusive), an int32
 * @returns an int32 tensor of that shape; the caller disposes it
 * @throws {RangeError} when the shape is not valid or a bound is not an int32
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "./key.ts";
 * import { randint } from "./discrete.ts";
 * import assert from "node:assert/strict";
 * const x = randint(key(0), [100], -5, 5);
 * assert(x.dtype === "int32" && x.dataSync().every((v) => v >= -5 && v < 5));
 * tf.dispose(x);
 * ```
 */
export function randint(
  k: Key,
  shape: readonly number[],
  minval: number,
  maxval: number,
): tf.Tensor {
  const who = "randint()";
  checkKey(k, who);
  const size = shapeSize(shape, who);
  const lo = int32(minval, "minval", who);
  const hi = int32(maxval, "maxval", who);
  return tf.tensor(randintInto(k, new Int32Array(size), lo, hi), [...shape], "int32");
}

function populationSize(n: number, who: string): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > MAX_SIZE) {
    throw new RangeError(
      `The population size for ${who} must be an integer in [0, 2^31), got ${String(n)}`,
    );
  }
  return n;
}

/**
 * A random permutation of `0, …, n-1` as plain integers: the indices `jax.random.permutation(key,
 * n)` returns, bit for bit. Use it to shuffle data in JavaScript without tensors.
 *
 * JAX's `_shuffle` sorts by fresh random 32-bit keys for `ceil(3 ln(n) / ln(2^32 - 1))` rounds
 * (one round up to n = 1625, two from 1626), each round splitting the key; the sort is stable.
 *
 * @param k the key (use it once)
 * @param n the number of items, an integer in [0, 2^31)
 * @returns the permuted indices
 * @throws {RangeError} when `n` is not such an integer
 * @example
 * ```ts
 * import { key } from "./key.ts";
 * import { permutationIndices } from "./discrete.ts";
 * import assert from "node:assert/strict";
 * const p = permutationIndices(key(0), 10);
 * assert([...p].sort((a, b) => a - b).every((v, i) => v === i));
 * ```
 */
export function permutationIndices(k: Key, n: number): Int32Array {
  const who = "permutationIndices()";
  checkKey(k, who);
  populationSize(n, who);
  const rounds = Math.ceil(3 * Math.log(Math.max(1, n)) / LOG_UINT32_MAX);
  let order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const sortKeys = new Uint32Array(n);
  let current = k;
  for (let r = 0; r < rounds; r++) {
    // key, subkey = split(key); x = x sorted stably by bits(subkey, x.shape).
    const [next, subkey] = split(current, 2);
    current = next;
    const positions = stableOrder(bitsInto(subkey, sortKeys));
    const sorted = new Int32Array(n);
    for (let i = 0; i < n; i++) sorted[i] = order[positions[i]];
    order = sorted;
  }
  return order;
}

/** Takes rows `index` of `x` (axis 0) and reshapes the result to `[...shape, ...rest]`. */
function takeRows(x: tf.Tensor, index: Int32Array, shape: readonly number[]): tf.Tensor {
  return tf.tidy(() => {
    const rows = tf.gather(x, tf.tensor1d(index, "int32"), 0); // [N, ...rest]
    return tf.reshape(rows, [...shape, ...x.shape.slice(1)]); // [...shape, ...rest]
  });
}

function population(x: number | tf.Tensor, who: string): number {
  if (typeof x === "number") return populationSize(x, who);
  if (!(x instanceof tf.Tensor) || x.rank < 1) {
    throw new RangeError(
      `Expected a population size or a tensor of rank >= 1 for ${who}, got ${
        x instanceof tf.Tensor ? `a tensor of shape [${x.shape.join(", ")}]` : String(x)
      }`,
    );
  }
  return x.shape[0];
}

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * A random permutation: `jax.random.permutation(key, x)`, bit for bit. Given a number `n`, the
 * integers `0, …, n-1` shuffled, as int32; given a tensor, its rows (axis 0) shuffled, same dtype.
 *
 * @param k the key (use it once)
 * @param x the number of items, or a tensor of rank >= 1 whose rows to shuffle (not disposed)
 * @returns a new tensor; the caller disposes it
 * @throws {RangeError} when `x` is neither an integer in [0, 2^31) nor a tensor of rank >= 1
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "./key.ts";
 * import { permutation } from "./discrete.ts";
 * import assert from "node:assert/strict";
 * const rows = tf.tensor2d([[0, 0], [1, 1], [2, 2]]);
 * const shuffled = permutation(key(3), rows);
 * assert(shuffled.shape[0] === 3 && shuffled.sum().arraySync() === 6);
 * tf.dispose([rows, shuffled]);
 * ```
 */
export function permutation(k: Key, x: number | tf.Tensor): tf.Tensor {
  const who = "permutation()";
  checkKey(k, who);
  const n = population(x, who);
  const index = permutationIndices(k, n);
  if (typeof x === "number") return tf.tensor1d(index, "int32");
  return takeRows(x, index, [n]);
}

/**
 * Options of {@link choice}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "./key.ts";
 * import { choice, type ChoiceOptions } from "./discrete.ts";
 * import assert from "node:assert/strict";
 * const once: ChoiceOptions = { replace: false }; // every item at most once
 * const picks = choice(key(0), 4, [4], once); // so 4 draws of 4 items are a permutation
 * assert([...picks.dataSync()].sort().join() === "0,1,2,3");
 * tf.dispose(picks);
 * ```
 */
export interface ChoiceOptions {
  /** Whether an item may be drawn more than once (default true). */
  readonly replace?: boolean;
}

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * Random draws from a population: `jax.random.choice(key, x, shape, replace)` with uniform
 * probabilities (`p=None`), bit for bit. With replacement it draws `randint(key, shape, 0, n)`;
 * without, it takes the first `prod(shape)` items of `permutation(key, n)`. Given a number `n`,
 * the result holds int32 indices in [0, n) of the given shape; given a tensor, rows (axis 0) of it,
 * of shape `[...shape, ...x.shape.slice(1)]`.
 *
 * @param k the key (use it once)
 * @param x the population size, or a tensor of rank >= 1 whose rows to draw (not disposed)
 * @param shape the shape of the draw, default `[]` (one item)
 * @param options whether to draw with replacement (default true)
 * @returns a new tensor; the caller disposes it
 * @throws {RangeError} when the shape is not valid, the population is empty and draws are asked
 *   for, or more draws than items are asked for without replacement
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "./key.ts";
 * import { choice } from "./discrete.ts";
 * import assert from "node:assert/strict";
 * const picks = choice(key(0), 10, [5], { replace: false });
 * assert(new Set(picks.dataSync()).size === 5);
 * tf.dispose(picks);
 * ```
 */
export function choice(
  k: Key,
  x: number | tf.Tensor,
  shape: readonly number[] = [],
  options: ChoiceOptions = {},
): tf.Tensor {
  const who = "choice()";
  checkKey(k, who);
  const n = population(x, who);
  const draws = shapeSize(shape, who);
  const replace = options.replace ?? true;
  const rest = typeof x === "number" ? [] : x.shape.slice(1);
  const dtype = typeof x === "number" ? "int32" : x.dtype;
  if (draws === 0) return tf.zeros([...shape, ...rest], dtype);
  if (n === 0) {
    throw new RangeError(`Cannot draw ${draws} items for ${who} from an empty population`);
  }
  if (!replace && draws > n) {
    throw new RangeError(
      `Cannot take a larger sample (size ${draws}) than the population (size ${n}) without replacement`,
    );
  }
  const index = replace
    ? randintInto(k, new Int32Array(draws), 0, n)
    : permutationIndices(k, n).slice(0, draws);
  if (typeof x === "number") return tf.tensor(index, [...shape], "int32");
  return takeRows(x, index, shape);
}
