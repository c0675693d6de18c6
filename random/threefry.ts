/**
 * The Threefry-2x32 block cipher (20 rounds), the hash behind `jax.random`'s default PRNG.
 *
 * Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC 2011). The rotation constants,
 * key-schedule parity `0x1BD11BDA` and injection order follow `jax/_src/random/threefry2x32.py`.
 * All arithmetic is on uint32 words, wrapping mod 2^32.
 *
 * @module
 */

/** Skein's key-schedule parity constant. */
const PARITY = 0x1bd11bda;

/**
 * Hashes one pair of counter words under a key and writes the two output words into
 * `out[0]`, `out[1]`. This is the allocation-free core that bulk samplers call in a loop.
 *
 * @param k0 the key's first word (uint32)
 * @param k1 the key's second word (uint32)
 * @param x0 the counter's first word (uint32)
 * @param x1 the counter's second word (uint32)
 * @param out where the two hashed words go
 * @returns nothing; the result is in `out`
 * @example
 * ```ts
 * import { threefry2x32Into } from "./threefry.ts";
 * import assert from "node:assert/strict";
 * const out = new Uint32Array(2);
 * threefry2x32Into(0, 0, 0, 0, out);
 * assert(out[0] === 0x6b200159 && out[1] === 0x99ba4efe);
 * ```
 */
export function threefry2x32Into(
  k0: number,
  k1: number,
  x0: number,
  x1: number,
  out: Uint32Array,
): void {
  // Everything below runs on int32 values (`| 0`); the bits are those of uint32 arithmetic.
  const ks0 = k0 | 0;
  const ks1 = k1 | 0;
  const ks2 = (ks0 ^ ks1 ^ PARITY) | 0;
  let a = (x0 + ks0) | 0;
  let b = (x1 + ks1) | 0;

  // Rounds 1-4, rotations 13, 15, 26, 6.
  a = (a + b) | 0, b = ((b << 13) | (b >>> 19)) ^ a;
  a = (a + b) | 0, b = ((b << 15) | (b >>> 17)) ^ a;
  a = (a + b) | 0, b = ((b << 26) | (b >>> 6)) ^ a;
  a = (a + b) | 0, b = ((b << 6) | (b >>> 26)) ^ a;
  a = (a + ks1) | 0, b = (b + ks2 + 1) | 0;
  // Rounds 5-8, rotations 17, 29, 16, 24.
  a = (a + b) | 0, b = ((b << 17) | (b >>> 15)) ^ a;
  a = (a + b) | 0, b = ((b << 29) | (b >>> 3)) ^ a;
  a = (a + b) | 0, b = ((b << 16) | (b >>> 16)) ^ a;
  a = (a + b) | 0, b = ((b << 24) | (b >>> 8)) ^ a;
  a = (a + ks2) | 0, b = (b + ks0 + 2) | 0;
  // Rounds 9-12.
  a = (a + b) | 0, b = ((b << 13) | (b >>> 19)) ^ a;
  a = (a + b) | 0, b = ((b << 15) | (b >>> 17)) ^ a;
  a = (a + b) | 0, b = ((b << 26) | (b >>> 6)) ^ a;
  a = (a + b) | 0, b = ((b << 6) | (b >>> 26)) ^ a;
  a = (a + ks0) | 0, b = (b + ks1 + 3) | 0;
  // Rounds 13-16.
  a = (a + b) | 0, b = ((b << 17) | (b >>> 15)) ^ a;
  a = (a + b) | 0, b = ((b << 29) | (b >>> 3)) ^ a;
  a = (a + b) | 0, b = ((b << 16) | (b >>> 16)) ^ a;
  a = (a + b) | 0, b = ((b << 24) | (b >>> 8)) ^ a;
  a = (a + ks1) | 0, b = (b + ks2 + 4) | 0;
  // Rounds 17-20.
  a = (a + b) | 0, b = ((b << 13) | (b >>> 19)) ^ a;
  a = (a + b) | 0, b = ((b << 15) | (b >>> 17)) ^ a;
  a = (a + b) | 0, b = ((b << 26) | (b >>> 6)) ^ a;
  a = (a + b) | 0, b = ((b << 6) | (b >>> 26)) ^ a;
  a = (a + ks2) | 0, b = (b + ks0 + 5) | 0;

  out[0] = a;
  out[1] = b;
}

/**
 * Threefry-2x32 of one counter pair under one key: `threefry2x32_p` in JAX.
 *
 * @param key the two key words (uint32)
 * @param count the two counter words (uint32)
 * @returns the two hashed words (uint32)
 * @example
 * ```ts
 * import { threefry2x32 } from "./threefry.ts";
 * import assert from "node:assert/strict";
 * // Known-answer vector from Random123 (threefry2x32_20, all-ones key and counter).
 * const [a, b] = threefry2x32([0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]);
 * assert(a === 0x1cb996fc && b === 0xbb002be7);
 * ```
 */
export function threefry2x32(
  key: readonly [number, number],
  count: readonly [number, number],
): [number, number] {
  const out = new Uint32Array(2);
  threefry2x32Into(key[0], key[1], count[0], count[1], out);
  return [out[0], out[1]];
}
