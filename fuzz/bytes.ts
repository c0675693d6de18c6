/**
 * Byte-level mutations: bit flips, interesting integers at offsets, truncations, splices.
 *
 * Every function returns a new array; the seeds are never changed.
 *
 * @module
 */
import type { Rng } from "./rng.ts";

/** Integers that break size and offset arithmetic. */
export const INTERESTING: readonly number[] = [
  0,
  1,
  2,
  3,
  4,
  7,
  8,
  15,
  16,
  31,
  32,
  63,
  64,
  127,
  128,
  255,
  256,
  511,
  512,
  1023,
  1024,
  4095,
  4096,
  32767,
  32768,
  65535,
  65536,
  0x7fffffff,
  0x80000000,
  0xfffffffe,
  0xffffffff,
];

/** 64-bit integers that break size arithmetic. */
export const INTERESTING_64: readonly bigint[] = [
  0n,
  1n,
  2n,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0x100000000n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 53n + 1n,
  2n ** 63n - 1n,
  2n ** 63n,
  2n ** 64n - 1n,
];

/** Writes `value` as an unsigned little-endian integer of `width` bytes at `at` (in place). */
export function putUint(out: Uint8Array, at: number, width: 1 | 2 | 4 | 8, value: bigint): void {
  let v = BigInt.asUintN(width * 8, value);
  for (let k = 0; k < width && at + k < out.length; k++) {
    out[at + k] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** Reads an unsigned little-endian integer of `width` bytes at `at` (0 past the end). */
export function getUint(bytes: Uint8Array, at: number, width: 1 | 2 | 4 | 8): bigint {
  let v = 0n;
  for (let k = width - 1; k >= 0; k--) v = (v << 8n) | BigInt(bytes[at + k] ?? 0);
  return v;
}

/** An integer near `old` or an interesting one, for a field of `width` bytes. */
export function nearOrInteresting(rng: Rng, old: bigint, width: 1 | 2 | 4 | 8): bigint {
  switch (rng.int(6)) {
    case 0:
      return old + BigInt(rng.int(5) - 2);
    case 1:
      return old * 2n;
    case 2:
      return -old;
    case 3:
      return width === 8 ? rng.pick(INTERESTING_64) : BigInt(rng.pick(INTERESTING));
    case 4:
      return old ^ (1n << BigInt(rng.int(width * 8)));
    default:
      return BigInt(rng.pick(INTERESTING)) * (rng.chance(0.5) ? 1n : -1n);
  }
}

function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** One random byte-level mutation of `b`; `others` are seeds to splice from. */
export function mutateBytesOnce(
  rng: Rng,
  b: Uint8Array,
  others: readonly Uint8Array[] = [],
): Uint8Array {
  const n = b.length;
  const at = () => rng.int(Math.max(1, n));
  // Near the start, where headers are, more often than elsewhere.
  const headAt = () => rng.chance(0.6) ? rng.int(Math.min(Math.max(1, n), 256)) : at();
  switch (rng.int(11)) {
    case 0: { // flip a bit
      const out = b.slice();
      if (n > 0) out[headAt()] ^= 1 << rng.int(8);
      return out;
    }
    case 1: { // an interesting byte
      const out = b.slice();
      if (n > 0) out[headAt()] = rng.pick([0, 1, 0x7f, 0x80, 0xff, 0x20, 0x22, 0x5c, 0x7b, 0x7d]);
      return out;
    }
    case 2: { // an interesting integer, 2, 4 or 8 bytes wide
      const out = b.slice();
      const width = rng.pick([2, 4, 8] as const);
      const o = headAt();
      putUint(out, o, width, nearOrInteresting(rng, getUint(b, o, width), width));
      return out;
    }
    case 3: // truncate
      return b.slice(0, rng.chance(0.5) ? rng.int(Math.min(n + 1, 300)) : rng.int(n + 1));
    case 4: { // delete a range
      const s = at(), len = 1 + rng.int(rng.chance(0.8) ? 8 : 512);
      return concat(b.subarray(0, s), b.subarray(s + len));
    }
    case 5: { // insert random bytes
      const s = at(), len = 1 + rng.int(rng.chance(0.8) ? 8 : 512);
      const ins = new Uint8Array(len).map(() => rng.int(256));
      return concat(b.subarray(0, s), ins, b.subarray(s));
    }
    case 6: { // duplicate a range
      const s = at(), len = 1 + rng.int(64);
      return concat(b.subarray(0, s + len), b.subarray(s, s + len), b.subarray(s + len));
    }
    case 7: { // splice with another seed at a random point
      const o = others.length > 0 ? rng.pick(others) : b;
      const cut = at(), from = rng.int(Math.max(1, o.length));
      return concat(b.subarray(0, cut), o.subarray(from));
    }
    case 8: { // overwrite a range with bytes from elsewhere in the file
      const out = b.slice();
      const s = at(), d = at(), len = 1 + rng.int(32);
      out.set(b.subarray(s, s + len).subarray(0, Math.max(0, n - d)), d);
      return out;
    }
    case 9: { // append garbage
      const len = 1 + rng.int(rng.chance(0.8) ? 16 : 4096);
      return concat(b, new Uint8Array(len).map(() => rng.int(256)));
    }
    default: { // fill a range with one byte
      const out = b.slice();
      const s = at(), len = 1 + rng.int(64);
      out.fill(rng.pick([0, 0xff, 0x41]), s, Math.min(n, s + len));
      return out;
    }
  }
}

/** One to `max` byte-level mutations in a row. */
export function mutateBytes(
  rng: Rng,
  b: Uint8Array,
  others: readonly Uint8Array[] = [],
  max = 4,
): Uint8Array {
  let out = b;
  const k = 1 + rng.int(max);
  for (let i = 0; i < k; i++) out = mutateBytesOnce(rng, out, others);
  return out === b ? b.slice() : out;
}

/** Joins byte arrays. */
export { concat };
