/**
 * A small deterministic random stream for the fuzzer, made from an explicit key.
 *
 * Each input has its own stream, keyed by (seed, format, index), so that any input can be made
 * again from its key alone (the driver remakes the inputs it saves). Not the library's threefry:
 * the fuzzer needs millions of cheap draws, not JAX parity.
 *
 * @module
 */

/** A stream of random draws; each call advances it. */
export interface Rng {
  /** A float in [0, 1). */
  readonly next: () => number;
  /** An integer in [0, n). */
  readonly int: (n: number) => number;
  /** True with probability p. */
  readonly chance: (p: number) => boolean;
  /** One element of a non-empty list. */
  readonly pick: <T>(xs: readonly T[]) => T;
}

/** Mixes 32-bit words into one (murmur3's finalizer over each word). */
function mix(words: readonly number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) {
    h = Math.imul(h ^ (w >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/**
 * A stream from a key of integers (e.g. `[seed, formatId, index]`): mulberry32 over the mixed key.
 *
 * @param key the words that name this stream
 * @returns the stream
 */
export function rngFrom(key: readonly number[]): Rng {
  let state = mix(key);
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: (xs) => xs[int(xs.length)],
  };
}

/** A stable 32-bit id of a string (for format names in keys). */
export function nameId(s: string): number {
  return mix([...s].map((c) => c.codePointAt(0) ?? 0));
}
