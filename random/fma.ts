/**
 * A float32 fused multiply-add, computed with float64 arithmetic.
 *
 * @module
 */

const fround = Math.fround;

/** The float32 just above or below `x` (a finite float32), towards `to`. */
function nextFloat32(x: number, to: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  if (x === 0) u[0] = to > 0 ? 1 : 0x80000001;
  else if ((x < to) === (x > 0)) u[0]++;
  else u[0]--;
  return f[0];
}

/**
 * `fma(a, b, c)` rounded once to float32, for float32 `a`, `b`, `c`. XLA's CPU code fuses
 * `x * span + minval` in `jax.random.uniform` into one fused multiply-add, so a separate float32
 * multiply and add would be off by an ulp now and then.
 *
 * @param a a float32 factor
 * @param b a float32 factor
 * @param c a float32 addend
 * @returns `a * b + c`, rounded once to float32
 */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b; // exact: 24 + 24 significant bits fit in 53
  const s = p + c;
  const r = fround(s);
  if (r === s) return r; // what the double sum dropped is far below a float32 ulp of r
  // s was rounded from p + c; rounding it again to float32 can go the wrong way only when s is
  // exactly halfway between two float32 values. TwoSum recovers the dropped part e = p + c - s.
  const other = nextFloat32(r, s);
  if ((r + other) / 2 !== s) return r;
  const z = s - p;
  const e = (p - (s - z)) + (c - z);
  if (e === 0) return r; // a true tie: fround already rounded it to even
  return (e > 0) === (other > r) ? other : r;
}
