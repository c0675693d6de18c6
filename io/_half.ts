/**
 * Private float16 / bfloat16 conversions: decoding by table or shift, encoding with round to
 * nearest, ties to even, computed from the float64 value (no double rounding through float32).
 *
 * @module
 */

// float16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. Every value is exact in float32, so a
// 65,536-entry table (256 KB, built on first use) decodes by lookup.
let f16Table: Float32Array | undefined;

function float16Table(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    t[h] = e === 0
      ? sign * m * 2 ** -24
      : e === 31
      ? (m === 0 ? sign * Infinity : NaN)
      : sign * (1024 + m) * 2 ** (e - 25);
  }
  return (f16Table = t);
}

export function decodeHalf(dtype: "float16" | "bfloat16", bits: Uint16Array): Float32Array {
  if (dtype === "float16") {
    const t = float16Table();
    const out = new Float32Array(bits.length);
    for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]];
    return out;
  }
  // bfloat16 is the top half of a float32.
  const u = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) u[i] = bits[i] << 16;
  return new Float32Array(u.buffer);
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const f64 = new Float64Array(1);
const f64Hi = new Uint32Array(f64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/**
 * Rounds a number (ties to even) to a 16-bit float with `mBits` mantissa bits and exponent
 * `bias`: float16 is (10, 15), bfloat16 is (7, 127). Overflow gives ±Infinity.
 */
export function toHalfBits(x: number, mBits: number, bias: number): number {
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const expMax = (1 << (15 - mBits)) - 1; // all-ones exponent: inf / nan
  if (Number.isNaN(x)) return (expMax << mBits) | (1 << (mBits - 1));
  const ax = Math.abs(x);
  const minNormalExp = 1 - bias;
  f64[0] = ax;
  let e = ((f64Hi[HI] >>> 20) & 0x7ff) - 1023;
  if (ax === 0 || e < minNormalExp) {
    // Subnormal: units of 2^(minNormalExp - mBits); 2^mBits units carries into the smallest normal.
    return sign | roundHalfEven(ax * 2 ** (mBits - minNormalExp));
  }
  let m = roundHalfEven(ax * 2 ** (mBits - e)); // in [2^mBits, 2^(mBits+1)]
  if (m === 2 ** (mBits + 1)) {
    m = 2 ** mBits;
    e++;
  }
  if (e + bias >= expMax) return sign | (expMax << mBits);
  return sign | ((e + bias) << mBits) | (m - 2 ** mBits);
}
