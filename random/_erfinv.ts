/**
 * The inverse error function in float32, as XLA computes it for `jax.lax.erf_inv`.
 *
 * XLA (the `chlo.erf_inv` decomposition) uses M. Giles' single-precision approximation
 * ("Approximating the erfinv function", GPU Computing Gems, 2011): with `w = -log1p(-x*x)`, a
 * degree-8 polynomial in `w - 2.5` when `w < 5`, else in `sqrt(w) - 3`, times `x`. That
 * approximation is off from the true erfinv by up to ~1.5e-5 near `w = 5`, so a more accurate
 * erfinv would *not* match JAX; replaying it step by step in float32 (each product-and-add as one
 * fused multiply-add, as XLA's CPU code does) lands on JAX's float32 result in ~99% of cases and
 * within one or two float32 ulps (< 1e-6 for |x| < 1) otherwise; the rest is XLA's own `log1p`.
 *
 * @module
 */

const fround = Math.fround;

/** Giles' coefficients for `w < 5`, highest degree first, as float32. */
const CENTRAL = [
  2.81022636e-08,
  3.43273939e-07,
  -3.5233877e-06,
  -4.39150654e-06,
  0.00021858087,
  -0.00125372503,
  -0.00417768164,
  0.246640727,
  1.50140941,
].map(fround);

/** Giles' coefficients for `w >= 5` (the tails), highest degree first, as float32. */
const TAIL = [
  -0.000200214257,
  0.000100950558,
  0.00134934322,
  -0.00367342844,
  0.00573950773,
  -0.0076224613,
  0.00943887047,
  1.00167406,
  2.83297682,
].map(fround);

/**
 * erfinv(x) for a float32 `x`, rounded to float32, the way XLA computes it.
 *
 * @param x a float32 value in [-1, 1]
 * @returns the float32 value of erfinv(x); ±Infinity at ±1, NaN outside [-1, 1]
 */
export function erfinvF32(x: number): number {
  if (x === 1 || x === -1) return x * Infinity;
  const xx = fround(x * x);
  const w = fround(-Math.log1p(-xx));
  const central = w < 5;
  const c = central ? CENTRAL : TAIL;
  // Both operands are float32, so their product is exact in float64 and one rounding of
  // `c + p * t` to float32 is a fused multiply-add.
  const t = central ? fround(w - 2.5) : fround(fround(Math.sqrt(w)) - 3);
  let p = c[0];
  for (let i = 1; i < 9; i++) p = fround(c[i] + p * t);
  return fround(p * x);
}
