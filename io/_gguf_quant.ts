/**
 * Private: ggml's tensor types (id, name, elements per block, bytes per block) and the
 * dequantization of the supported ones to float32, block by block.
 *
 * Each function follows `gguf.quants` (gguf-py) operation by operation: every float32 product or
 * sum there is one `Math.fround` here. A float64 product or sum of two float32 values rounded once
 * to float32 equals the float32 operation, so the results match bit for bit.
 *
 * @module
 */
import { decodeHalf } from "./_half.ts";
import { decodeData } from "./bytes.ts";

/** One ggml tensor type. */
export interface GgmlType {
  /** Its id in a GGUF tensor info. */
  readonly id: number;
  /** Its name in ggml (`Q4_K`). */
  readonly name: string;
  /** Elements per block (1 for plain types). */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
  /** Writes `out.length` values decoded from `bytes` (whole blocks); absent when unsupported. */
  readonly dequantize?: (bytes: Uint8Array, out: Float32Array) => void;
}

// Every float16 value is exact in float32: a 65,536-entry table decodes block scales.
const F16 = decodeHalf("float16", Uint16Array.from({ length: 65536 }, (_, i) => i));
const half = (b: Uint8Array, at: number) => F16[b[at] | (b[at + 1] << 8)];
const f = Math.fround;

/** Calls `block(bytes, byteOffset, out, outOffset)` for each block. */
function blocks(
  blockSize: number,
  typeSize: number,
  block: (b: Uint8Array, at: number, out: Float32Array, o: number) => void,
): (bytes: Uint8Array, out: Float32Array) => void {
  return (bytes, out) => {
    for (let i = 0, at = 0; i < out.length; i += blockSize, at += typeSize) {
      block(bytes, at, out, i);
    }
  };
}

// Q4_0: d (f16), 16 bytes of nibbles; the low nibbles are elements 0..15, the high ones 16..31.
const q4_0 = blocks(32, 18, (b, at, out, o) => {
  const d = half(b, at);
  for (let j = 0; j < 16; j++) {
    const x = b[at + 2 + j];
    out[o + j] = f(d * ((x & 15) - 8));
    out[o + j + 16] = f(d * ((x >> 4) - 8));
  }
});

// Q4_1: d, m (f16), 16 bytes of nibbles; x = d * q + m.
const q4_1 = blocks(32, 20, (b, at, out, o) => {
  const d = half(b, at), m = half(b, at + 2);
  for (let j = 0; j < 16; j++) {
    const x = b[at + 4 + j];
    out[o + j] = f(f(d * (x & 15)) + m);
    out[o + j + 16] = f(f(d * (x >> 4)) + m);
  }
});

/** The 32 fifth bits of a Q5 block, a little-endian uint32 at `at`. */
const high32 = (b: Uint8Array, at: number) =>
  (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;

// Q5_0: d, 32 fifth bits, 16 bytes of nibbles; x = d * (q - 16).
const q5_0 = blocks(32, 22, (b, at, out, o) => {
  const d = half(b, at), qh = high32(b, at + 2);
  for (let j = 0; j < 16; j++) {
    const x = b[at + 6 + j];
    out[o + j] = f(d * (((x & 15) | (((qh >>> j) & 1) << 4)) - 16));
    out[o + j + 16] = f(d * (((x >> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16));
  }
});

// Q5_1: d, m, 32 fifth bits, 16 bytes of nibbles; x = d * q + m.
const q5_1 = blocks(32, 24, (b, at, out, o) => {
  const d = half(b, at), m = half(b, at + 2), qh = high32(b, at + 4);
  for (let j = 0; j < 16; j++) {
    const x = b[at + 8 + j];
    out[o + j] = f(f(d * ((x & 15) | (((qh >>> j) & 1) << 4))) + m);
    out[o + j + 16] = f(f(d * ((x >> 4) | (((qh >>> (j + 16)) & 1) << 4))) + m);
  }
});

// Q8_0: d, 32 int8.
const q8_0 = blocks(32, 34, (b, at, out, o) => {
  const d = half(b, at);
  for (let j = 0; j < 32; j++) out[o + j] = f(((b[at + 2 + j] << 24) >> 24) * d);
});

// Q2_K (256 per block): 16 bytes of 4-bit scale and min, 64 bytes of 2-bit values, d, dmin.
// Element e = 128 h + 32 k + l is bits 2k..2k+1 of qs[32 h + l]; its group of 16 is e >> 4.
const q2_k = blocks(256, 84, (b, at, out, o) => {
  const d = half(b, at + 80), dmin = half(b, at + 82);
  for (let s = 0; s < 16; s++) {
    const sc = b[at + s];
    const dl = f(d * (sc & 15)), ml = f(dmin * (sc >> 4));
    for (let i = 0; i < 16; i++) {
      const e = 16 * s + i;
      const q = (b[at + 16 + 32 * (e >> 7) + (e & 31)] >> (2 * ((e >> 5) & 3))) & 3;
      out[o + e] = f(f(dl * q) - ml);
    }
  }
});

// Q3_K: 32 bytes of high bits, 64 bytes of 2-bit values, 12 bytes of 6-bit scales, d.
// The low 2 bits as in Q2_K; the third is bit e >> 5 of hmask[e & 31], subtracting 4 when clear.
const q3_k = blocks(256, 110, (b, at, out, o) => {
  const d = half(b, at + 108);
  const sc = at + 96;
  for (let s = 0; s < 16; s++) {
    const low = s < 8 ? b[sc + s] & 15 : b[sc + s - 8] >> 4;
    const high = (b[sc + 8 + (s & 3)] >> (2 * (s >> 2))) & 3;
    const dl = f(d * ((low | (high << 4)) - 32));
    for (let i = 0; i < 16; i++) {
      const e = 16 * s + i;
      const ql = (b[at + 32 + 32 * (e >> 7) + (e & 31)] >> (2 * ((e >> 5) & 3))) & 3;
      const qh = (b[at + (e & 31)] >> (e >> 5)) & 1;
      out[o + e] = f(dl * (ql - ((qh ^ 1) << 2)));
    }
  }
});

/** The 6-bit scales and mins of a Q4_K / Q5_K block (12 bytes at `at`), 8 of each. */
function scaleMin(b: Uint8Array, at: number, j: number): [number, number] {
  if (j < 4) return [b[at + j] & 63, b[at + j + 4] & 63];
  return [
    (b[at + j + 4] & 15) | ((b[at + j - 4] >> 2) & 0x30),
    (b[at + j + 4] >> 4) | ((b[at + j] >> 2) & 0x30),
  ];
}

// Q4_K: d, dmin, 12 bytes of scales, 128 bytes of nibbles. Element e = 64 c + 32 k + l is nibble k
// of qs[32 c + l]; its group of 32 is e >> 5. x = d * sc * q - dmin * m.
const q4_k = blocks(256, 144, (b, at, out, o) => {
  const d = half(b, at), dmin = half(b, at + 2);
  for (let j = 0; j < 8; j++) {
    const [sc, m] = scaleMin(b, at + 4, j);
    const dl = f(d * sc), ml = f(dmin * m);
    for (let l = 0; l < 32; l++) {
      const q = (b[at + 16 + 32 * (j >> 1) + l] >> (4 * (j & 1))) & 15;
      out[o + 32 * j + l] = f(f(dl * q) - ml);
    }
  }
});

// Q5_K: as Q4_K with 32 bytes of fifth bits (bit j of qh[l] for group j) before the nibbles.
const q5_k = blocks(256, 176, (b, at, out, o) => {
  const d = half(b, at), dmin = half(b, at + 2);
  for (let j = 0; j < 8; j++) {
    const [sc, m] = scaleMin(b, at + 4, j);
    const dl = f(d * sc), ml = f(dmin * m);
    for (let l = 0; l < 32; l++) {
      const ql = (b[at + 48 + 32 * (j >> 1) + l] >> (4 * (j & 1))) & 15;
      const qh = (b[at + 16 + l] >> j) & 1;
      out[o + 32 * j + l] = f(f(dl * (ql | (qh << 4))) - ml);
    }
  }
});

// Q6_K: 128 bytes of low nibbles, 64 bytes of 2-bit highs, 16 int8 scales, d. Element
// e = 128 h + 32 k + l: nibble (k >> 1) of ql[64 h + 32 (k & 1) + l], bits 2k of qh[32 h + l].
const q6_k = blocks(256, 210, (b, at, out, o) => {
  const d = half(b, at + 208);
  for (let s = 0; s < 16; s++) {
    const dl = f(d * ((b[at + 192 + s] << 24) >> 24));
    for (let i = 0; i < 16; i++) {
      const e = 16 * s + i;
      const h = e >> 7, k = (e >> 5) & 3, l = e & 31;
      const ql = (b[at + 64 * h + 32 * (k & 1) + l] >> (4 * (k >> 1))) & 15;
      const qh = (b[at + 128 + 32 * h + l] >> (2 * k)) & 3;
      out[o + e] = f(dl * ((ql | (qh << 4)) - 32));
    }
  }
});

const f32 = (bytes: Uint8Array, out: Float32Array) =>
  out.set(decodeData("float32", bytes, out.length, 4, true) as Float32Array);
const halves = (dtype: "float16" | "bfloat16") => (bytes: Uint8Array, out: Float32Array) =>
  out.set(decodeHalf(dtype, decodeData(dtype, bytes, out.length, 2, true) as Uint16Array));

const t = (
  id: number,
  name: string,
  blockSize: number,
  typeSize: number,
  dequantize?: GgmlType["dequantize"],
): GgmlType => ({ id, name, blockSize, typeSize, dequantize });

// ggml's types (ggml.h) with their block sizes; the unsupported ones are listed so that a file
// holding them can still be read for its metadata and its other tensors.
const TYPES: readonly GgmlType[] = [
  t(0, "F32", 1, 4, f32),
  t(1, "F16", 1, 2, halves("float16")),
  t(2, "Q4_0", 32, 18, q4_0),
  t(3, "Q4_1", 32, 20, q4_1),
  t(6, "Q5_0", 32, 22, q5_0),
  t(7, "Q5_1", 32, 24, q5_1),
  t(8, "Q8_0", 32, 34, q8_0),
  t(9, "Q8_1", 32, 40),
  t(10, "Q2_K", 256, 84, q2_k),
  t(11, "Q3_K", 256, 110, q3_k),
  t(12, "Q4_K", 256, 144, q4_k),
  t(13, "Q5_K", 256, 176, q5_k),
  t(14, "Q6_K", 256, 210, q6_k),
  t(15, "Q8_K", 256, 292),
  t(16, "IQ2_XXS", 256, 66),
  t(17, "IQ2_XS", 256, 74),
  t(18, "IQ3_XXS", 256, 98),
  t(19, "IQ1_S", 256, 50),
  t(20, "IQ4_NL", 32, 18),
  t(21, "IQ3_S", 256, 110),
  t(22, "IQ2_S", 256, 82),
  t(23, "IQ4_XS", 256, 136),
  t(24, "I8", 1, 1),
  t(25, "I16", 1, 2),
  t(26, "I32", 1, 4),
  t(27, "I64", 1, 8),
  t(28, "F64", 1, 8),
  t(29, "IQ1_M", 256, 56),
  t(30, "BF16", 1, 2, halves("bfloat16")),
  t(34, "TQ1_0", 256, 54),
  t(35, "TQ2_0", 256, 66),
  t(39, "MXFP4", 32, 17),
];

/** ggml's types by id. */
export const GGML_TYPES: ReadonlyMap<number, GgmlType> = new Map(TYPES.map((x) => [x.id, x]));

/** The names of the types dequantized to float32, in ggml's order. */
export const SUPPORTED_TYPE_NAMES: readonly string[] = TYPES.filter((x) => x.dequantize).map((
  x,
) => x.name);
