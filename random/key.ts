/**
 * Explicit PRNG keys: `jax.random`'s default Threefry-2x32 keys, bit for bit.
 *
 * A {@link Key} is an immutable value of two uint32 words. Functions that need randomness take a
 * key; to use randomness twice, {@link split} the key (or {@link foldIn} a counter) and never reuse
 * it. Splitting and bit generation follow JAX's partitionable mode (`jax_threefry_partitionable`,
 * the default in current JAX): the i-th of `n` outputs hashes the 64-bit counter `i`, as its
 * (high, low) uint32 words.
 *
 * @module
 */
import { shapeSize } from "./_shape.ts";
import { threefry2x32Into } from "./threefry.ts";

/**
 * A PRNG key: two uint32 words, as `jax.random.key_data(key)` shows them. Immutable (frozen) and
 * JSON-serializable; {@link keyData} and {@link keyFromData} convert to and from plain words.
 *
 * @example
 * ```ts
 * import { key, type Key } from "./key.ts";
 * import assert from "node:assert/strict";
 * const k: Key = key(42);
 * assert(JSON.stringify(k) === '{"_tag":"Key","data":[0,42]}');
 * ```
 */
export interface Key {
  /** Tells keys apart from other values. */
  readonly _tag: "Key";
  /** The two uint32 words of the Threefry key. */
  readonly data: readonly [number, number];
}

const UINT32 = 2 ** 32;
const INT32_MIN = -(2 ** 31);

function makeKey(a: number, b: number): Key {
  const data = Object.freeze([a >>> 0, b >>> 0] as const);
  return Object.freeze({ _tag: "Key" as const, data });
}

function isWord(x: unknown): x is number {
  return typeof x === "number" && Number.isInteger(x) && x >= 0 && x < UINT32;
}

/**
 * Tells whether a value is a well-formed {@link Key}: tagged `"Key"`, with two uint32 words.
 *
 * @param x any value, e.g. something parsed from a checkpoint
 * @returns true when `x` is a key
 * @example
 * ```ts
 * import { isKey, key } from "./key.ts";
 * import assert from "node:assert/strict";
 * assert(isKey(key(0)));
 * assert(!isKey({ _tag: "Key", data: [1, -1] }));
 * ```
 */
export function isKey(x: unknown): x is Key {
  if (typeof x !== "object" || x === null) return false;
  const k = x as { _tag?: unknown; data?: unknown };
  return k._tag === "Key" && Array.isArray(k.data) && k.data.length === 2 &&
    isWord(k.data[0]) && isWord(k.data[1]);
}

/**
 * Throws a TypeError naming the caller unless `k` is a key: a guard for JavaScript callers.
 *
 * @param k the value passed as a key
 * @param who the caller, named in the error (e.g. `"split()"`)
 */
export function checkKey(k: Key, who: string): void {
  if (!isKey(k)) {
    throw new TypeError(
      `Expected a Key for ${who} (make one with key(seed)), got ${JSON.stringify(k) ?? String(k)}`,
    );
  }
}

/**
 * Makes a key from an integer seed: `jax.random.key(seed)` (or `jax.random.PRNGKey(seed)`) with
 * 64-bit mode off, where the seed is an int32. Seeds in [2^31, 2^32) wrap as JAX wraps them, so
 * `key(-1)` and `key(2 ** 32 - 1)` are the same key, `[0, 4294967295]`.
 *
 * @param seed an integer in [-2^31, 2^32)
 * @returns the key `[0, seed mod 2^32]`
 * @throws {RangeError} when the seed is not an integer in that range
 * @example
 * ```ts
 * import { key, keyData } from "./key.ts";
 * import assert from "node:assert/strict";
 * const [hi, lo] = keyData(key(42));
 * assert(hi === 0 && lo === 42);
 * assert(keyData(key(-1))[1] === 4294967295);
 * ```
 */
export function key(seed: number): Key {
  if (typeof seed !== "number" || !Number.isInteger(seed) || seed < INT32_MIN || seed >= UINT32) {
    throw new RangeError(`Seed must be an integer in [-2^31, 2^32), got ${String(seed)}`);
  }
  // threefry_seed: the high word is the seed's bits above 32 (none for an int32), the low word
  // its bits as uint32.
  return makeKey(0, seed >>> 0);
}

/**
 * The two uint32 words of a key, for storing it (in a checkpoint, say): `jax.random.key_data`.
 *
 * @param k the key
 * @returns a fresh `[word0, word1]` array
 * @example
 * ```ts
 * import { key, keyData, keyFromData } from "./key.ts";
 * import assert from "node:assert/strict";
 * const words = keyData(key(7));
 * assert(keyFromData(words).data[1] === 7);
 * ```
 */
export function keyData(k: Key): [number, number] {
  checkKey(k, "keyData()");
  return [k.data[0], k.data[1]];
}

/**
 * Rebuilds a key from its two words: `jax.random.wrap_key_data`. Words may be given as uint32 or,
 * as an int32 array would store them, as negative int32; both mean the same bits.
 *
 * @param data two integers, each in [-2^31, 2^32)
 * @returns the key
 * @throws {RangeError} unless `data` is two integers in that range
 * @example
 * ```ts
 * import { keyData, keyFromData } from "./key.ts";
 * import assert from "node:assert/strict";
 * const k = keyFromData([1, -1]);
 * assert(keyData(k)[1] === 4294967295);
 * ```
 */
export function keyFromData(data: readonly number[]): Key {
  const ok = Array.isArray(data) && data.length === 2 &&
    data.every((w) => typeof w === "number" && Number.isInteger(w) && w >= INT32_MIN && w < UINT32);
  if (!ok) {
    throw new RangeError(
      `Key data must be two integers in [-2^31, 2^32), got ${JSON.stringify(data) ?? String(data)}`,
    );
  }
  return makeKey(data[0], data[1]);
}

/**
 * Splits a key into `num` new keys: `jax.random.split(key, num)`. The old key should not be used
 * again. In partitionable mode the i-th key is Threefry of the counter `(0, i)`, so
 * `split(k, n)[i]` equals `foldIn(k, i)` for every `n`.
 *
 * @param k the key to split
 * @param num how many keys to make (a non-negative integer, default 2)
 * @returns `num` new keys
 * @throws {RangeError} when `num` is not a non-negative integer
 * @example
 * ```ts
 * import { key, split } from "./key.ts";
 * import assert from "node:assert/strict";
 * const [a, b] = split(key(0));
 * assert(a.data[0] !== b.data[0]);
 * ```
 */
export function split(k: Key, num = 2): Key[] {
  checkKey(k, "split()");
  if (!Number.isInteger(num) || num < 0 || num >= UINT32) {
    throw new RangeError(`Number of keys for split() must be a non-negative integer, got ${num}`);
  }
  const out = new Uint32Array(2);
  const keys: Key[] = new Array(num);
  for (let i = 0; i < num; i++) {
    threefry2x32Into(k.data[0], k.data[1], 0, i, out);
    keys[i] = makeKey(out[0], out[1]);
  }
  return keys;
}

/**
 * Folds an integer into a key, giving a new key: `jax.random.fold_in(key, data)`. Handy to derive
 * per-step or per-example keys from one key without splitting in a chain.
 *
 * @param k the key
 * @param data an integer in [0, 2^32), as `jax.random.fold_in` accepts it
 * @returns the new key, Threefry of the counter `(0, data)`
 * @throws {RangeError} when `data` is not an integer in [0, 2^32)
 * @example
 * ```ts
 * import { foldIn, key, split } from "./key.ts";
 * import assert from "node:assert/strict";
 * const k = key(42);
 * assert(foldIn(k, 1).data[0] === split(k, 3)[1].data[0]);
 * ```
 */
export function foldIn(k: Key, data: number): Key {
  checkKey(k, "foldIn()");
  if (!isWord(data)) {
    throw new RangeError(`Data for foldIn() must be an integer in [0, 2^32), got ${String(data)}`);
  }
  // threefry_seed(uint32 data) is the pair (0, data); fold_in hashes it under the key.
  const out = new Uint32Array(2);
  threefry2x32Into(k.data[0], k.data[1], 0, data, out);
  return makeKey(out[0], out[1]);
}

/**
 * Fills `out` with random uint32 words: element i is `x0 ^ x1` of Threefry of the counter
 * `(0, i)`. This is the flat, allocation-free form of {@link bits}.
 *
 * @param k the key
 * @param out the array to fill; its length is the number of words
 * @returns `out`
 * @example
 * ```ts
 * import { bits, bitsInto, key } from "./key.ts";
 * import assert from "node:assert/strict";
 * const words = bitsInto(key(0), new Uint32Array(4));
 * assert(words[3] === bits(key(0), [4])[3]);
 * ```
 */
export function bitsInto(k: Key, out: Uint32Array): Uint32Array {
  checkKey(k, "bitsInto()");
  const k0 = k.data[0];
  const k1 = k.data[1];
  const pair = new Uint32Array(2);
  // Counters past 2^32 would need a high word; typed arrays are shorter than that.
  for (let i = 0, n = out.length; i < n; i++) {
    threefry2x32Into(k0, k1, 0, i, pair);
    out[i] = pair[0] ^ pair[1];
  }
  return out;
}

/**
 * Random uint32 words: `jax.random.bits(key, shape, dtype=jnp.uint32)`, in row-major order.
 *
 * @param k the key
 * @param shape the shape of the draw, non-negative integers (`[]` for one word)
 * @returns the words, flat, `prod(shape)` of them
 * @throws {RangeError} when the shape is not valid
 * @example
 * ```ts
 * import { bits, key } from "./key.ts";
 * import assert from "node:assert/strict";
 * const words = bits(key(0), [2, 5]);
 * assert(words.length === 10);
 * assert(bits(key(0), [2, 5])[9] === words[9]);
 * ```
 */
export function bits(k: Key, shape: readonly number[]): Uint32Array {
  checkKey(k, "bits()");
  return bitsInto(k, new Uint32Array(shapeSize(shape, "bits()")));
}
