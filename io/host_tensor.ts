/**
 * Host tensors: a dtype, a shape and a typed array in CPU memory, as read from or written to a
 * tensor file. They are the currency of `io/`; {@link toTensor} and {@link fromTensor} cross into
 * TensorFlow.js.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { type Problem, problem } from "../problem.ts";
import {
  arrayFits,
  arrayName,
  type DType,
  DTYPES,
  type HostData,
  isDType,
  itemSize,
  viewData,
} from "./dtype.ts";
import { decodeHalf, toHalfBits } from "./_half.ts";

/**
 * A tensor in host memory, C (row-major) order, values in the host's byte order.
 *
 * @example
 * ```ts
 * import { hostTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const h = hostTensor("float32", [2, 2], new Float32Array([1, 2, 3, 4]));
 * assert(h.shape[1] === 2 && h.data.length === 4);
 * ```
 */
export interface HostTensor {
  /** The element type. */
  readonly dtype: DType;
  /** The shape; `[]` for a scalar. */
  readonly shape: readonly number[];
  /** The values in C order; its type follows {@link HostData}. */
  readonly data: HostData;
}

/**
 * A tensor's name, dtype and shape, known before its data is read.
 *
 * @example
 * ```ts
 * import { itemSize } from "./dtype.ts";
 * import { hostTensor, sizeOf, type TensorEntry } from "./host_tensor.ts";
 * import { openSafetensors, writeSafetensors } from "./safetensors.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await writeSafetensors(`${dir}/p.safetensors`, {
 *   prompt: hostTensor("float32", [3, 4], new Float32Array(12)),
 * });
 * const f = orThrow(await openSafetensors(`${dir}/p.safetensors`));
 * const [e]: readonly TensorEntry[] = f.entries; // no tensor data read yet
 * assert(e.name === "prompt" && e.dtype === "float32" && e.shape.join() === "3,4");
 * assert(sizeOf(e.shape) * itemSize(e.dtype) === 48); // bytes a read will take
 * f.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface TensorEntry {
  /** The tensor's name in the file. */
  readonly name: string;
  /** Its element type. */
  readonly dtype: DType;
  /** Its shape. */
  readonly shape: readonly number[];
}

/**
 * Tensors by name: a map (its order is kept) or a plain record.
 *
 * @example
 * ```ts
 * import { hostTensor, namedEntries, type NamedTensors } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const t = hostTensor("float32", [1], new Float32Array([1]));
 * const asMap: NamedTensors = new Map([["b", t], ["a", t]]);
 * const asRecord: NamedTensors = { a: t };
 * assert(namedEntries(asMap).map(([k]) => k).join() === "b,a");
 * assert(namedEntries(asRecord)[0][1] === t);
 * ```
 */
export type NamedTensors = ReadonlyMap<string, HostTensor> | Readonly<Record<string, HostTensor>>;

/**
 * The entries of {@link NamedTensors} as pairs, in order.
 *
 * @param tensors a map or record of tensors
 * @returns its `[name, tensor]` pairs
 * @example
 * ```ts
 * import { hostTensor, namedEntries } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const t = hostTensor("int8", [0], new Int8Array(0));
 * assert(namedEntries({ a: t, b: t }).length === 2);
 * ```
 */
export function namedEntries(tensors: NamedTensors): [string, HostTensor][] {
  return tensors instanceof Map
    ? [...(tensors as ReadonlyMap<string, HostTensor>).entries()]
    : Object.entries(tensors as Readonly<Record<string, HostTensor>>);
}

/**
 * Number of elements of a shape (1 for a scalar `[]`).
 *
 * @param shape the dimensions
 * @returns their product
 * @example
 * ```ts
 * import { sizeOf } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * assert(sizeOf([100, 768]) === 76800 && sizeOf([]) === 1 && sizeOf([0, 4]) === 0);
 * ```
 */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Makes a {@link HostTensor}, checking that the array type fits the dtype and its length the
 * shape. The data is not copied; the shape is.
 *
 * @param dtype the element type
 * @param shape the dimensions, non-negative integers
 * @param data the values in C order, of the array type {@link HostData} gives for `dtype`
 * @returns the tensor
 * @throws {RangeError} when the shape is not valid, or the array's type or length does not fit
 * (a programmer error, not bad input)
 * @example
 * ```ts
 * import { hostTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const ids = hostTensor("int64", [3], new BigInt64Array([1n, 2n, 3n]));
 * assert(ids.dtype === "int64");
 * let threw = false;
 * try { hostTensor("float32", [2], new Float32Array(3)); } catch { threw = true; }
 * assert(threw);
 * ```
 */
export function hostTensor(dtype: DType, shape: readonly number[], data: HostData): HostTensor {
  if (!isDType(dtype)) throw new RangeError(`Unknown dtype '${dtype}'; expected one of ${DTYPES}`);
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new RangeError(
        `Shape [${shape}] has dimension ${d}; expected non-negative integers`,
      );
    }
  }
  if (!arrayFits(dtype, data)) {
    throw new RangeError(
      `Data for dtype ${dtype} is a ${data.constructor.name}; expected ${arrayName(dtype)}`,
    );
  }
  const n = sizeOf(shape);
  if (data.length !== n) {
    throw new RangeError(
      `Shape [${shape}] needs ${n} elements but the data has ${data.length}`,
    );
  }
  return Object.freeze({ dtype, shape: Object.freeze([...shape]), data });
}

/**
 * Allocates a zero-filled array of the type a dtype uses.
 *
 * @param dtype the element type
 * @param n number of elements
 * @returns a new array of `n` zeros
 * @example
 * ```ts
 * import { allocData } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * assert(allocData("int64", 2) instanceof BigInt64Array);
 * ```
 */
export function allocData(dtype: DType, n: number): HostData {
  return viewData(dtype, new ArrayBuffer(n * itemSize(dtype)), 0, n);
}

/**
 * Rounds numbers to float16 (round to nearest, ties to even; overflow → ±Infinity) and returns
 * their bits, ready for a `float16` {@link HostTensor}.
 *
 * @param values the numbers
 * @returns the float16 bits
 * @example
 * ```ts
 * import { float16Bits } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const b = float16Bits([1, -2, 65504, 1e6]);
 * assert(b[0] === 0x3c00 && b[1] === 0xc000 && b[2] === 0x7bff && b[3] === 0x7c00);
 * ```
 */
export function float16Bits(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toHalfBits(values[i], 10, 15);
  return out;
}

/**
 * Rounds numbers to bfloat16 (round to nearest, ties to even; overflow → ±Infinity) and returns
 * their bits, ready for a `bfloat16` {@link HostTensor}.
 *
 * @param values the numbers
 * @returns the bfloat16 bits
 * @example
 * ```ts
 * import { bfloat16Bits } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const b = bfloat16Bits([1, -2, 1 + 2 ** -8]);
 * assert(b[0] === 0x3f80 && b[1] === 0xc000 && b[2] === 0x3f80);
 * ```
 */
export function bfloat16Bits(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toHalfBits(values[i], 7, 127);
  return out;
}

/** The values as plain numbers, without copying when the array already holds numbers. */
function numbers(h: HostTensor): ArrayLike<number> {
  const d = h.data;
  if (h.dtype === "float16" || h.dtype === "bfloat16") return decodeHalf(h.dtype, d as Uint16Array);
  if (d instanceof BigInt64Array) {
    const out = new Float64Array(d.length);
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
    return out;
  }
  return d as Exclude<HostData, BigInt64Array>;
}

/**
 * The values as float64, in C order: float16 and bfloat16 decoded, int64 rounded to the nearest
 * float64 (exact up to 2^53), bool as 0 or 1.
 *
 * @param h the tensor
 * @returns a new array of its values
 * @example
 * ```ts
 * import { float16Bits, hostTensor, toFloat64 } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const h = hostTensor("float16", [2], float16Bits([0.5, -3]));
 * const v = toFloat64(h);
 * assert(v[0] === 0.5 && v[1] === -3);
 * ```
 */
export function toFloat64(h: HostTensor): Float64Array {
  return Float64Array.from(numbers(h));
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Copies a host tensor into a TensorFlow.js tensor. Floats become `float32` (float64 is rounded;
 * float16 and bfloat16 are exact), integers and `uint8` become `int32`, `bool` stays `bool`.
 * The caller owns (and disposes) the result; it does not share memory with `h`.
 *
 * @param h the tensor
 * @param where where it came from, for the problem (default `"tensor"`)
 * @returns the tensor, or `Unsupported` when an int64 value does not fit in int32
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { hostTensor, toTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const r = toTensor(hostTensor("int64", [2], new BigInt64Array([1n, 2n ** 40n])));
 * assert(r._tag === "Left");
 * const ok = toTensor(hostTensor("uint8", [2], new Uint8Array([7, 255])));
 * if (ok._tag === "Right") {
 *   assert(ok.right.dtype === "int32");
 *   ok.right.dispose();
 * }
 * ```
 */
export function toTensor(h: HostTensor, where = "tensor"): E.Either<Problem, tf.Tensor> {
  const shape = [...h.shape];
  const d = h.data;
  switch (h.dtype) {
    case "float32":
      return E.right(tf.tensor(Float32Array.from(d as Float32Array), shape, "float32"));
    case "float64":
    case "float16":
    case "bfloat16":
      return E.right(tf.tensor(Float32Array.from(numbers(h)), shape, "float32"));
    case "int8":
    case "int16":
    case "int32":
    case "uint8":
      return E.right(
        tf.tensor(
          Int32Array.from(d as Int8Array | Int16Array | Int32Array | Uint8Array),
          shape,
          "int32",
        ),
      );
    case "int64": {
      const src = d as BigInt64Array;
      const out = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i];
        if (v < INT32_MIN || v > INT32_MAX) {
          return E.left(
            problem(
              "Unsupported",
              where,
              `Value ${v} at flat index ${i} is outside the int32 range [${INT32_MIN}, ${INT32_MAX}]; TensorFlow.js has no int64`,
            ),
          );
        }
        out[i] = Number(v);
      }
      return E.right(tf.tensor(out, shape, "int32"));
    }
    case "bool":
      return E.right(
        tf.tensor(Uint8Array.from(d as Uint8Array, (x) => (x ? 1 : 0)), shape, "bool"),
      );
  }
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Downloads a TensorFlow.js tensor (`float32`, `int32` or `bool`) into a new host tensor. The
 * tensor is not disposed.
 *
 * @param t the tensor
 * @returns a host tensor with a copy of its values
 * @throws {RangeError} (as a rejected promise) for `complex64` or `string` tensors
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { fromTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const t = tf.tensor2d([[1, 2], [3, 4]]);
 * const h = await fromTensor(t);
 * t.dispose();
 * assert(h.dtype === "float32" && h.shape[0] === 2 && h.data[3] === 4);
 * ```
 */
export async function fromTensor(t: tf.Tensor): Promise<HostTensor> {
  const shape = [...t.shape];
  switch (t.dtype) {
    case "float32":
      return hostTensor("float32", shape, Float32Array.from(await t.data<"float32">()));
    case "int32":
      return hostTensor("int32", shape, Int32Array.from(await t.data<"int32">()));
    case "bool":
      return hostTensor("bool", shape, Uint8Array.from(await t.data<"bool">(), (x) => (x ? 1 : 0)));
    default:
      throw new RangeError(
        `Cannot download a ${t.dtype} tensor; expected float32, int32 or bool`,
      );
  }
}

/**
 * Summary statistics of a tensor's values.
 *
 * @example
 * ```ts
 * import { hostTensor, type Stats, stats } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const s: Stats = stats(hostTensor("int8", [3], new Int8Array([-1, 0, 1])));
 * assert(s.mean === 0 && s.min === -1 && s.max === 1);
 * assert(Math.abs(s.std - Math.sqrt(2 / 3)) < 1e-12); // population std (ddof=0)
 * ```
 */
export interface Stats {
  /** Arithmetic mean. */
  readonly mean: number;
  /** Population standard deviation (divides by n, like numpy's default `ddof=0`). */
  readonly std: number;
  /** Smallest value. */
  readonly min: number;
  /** Largest value. */
  readonly max: number;
}

/**
 * Mean, population standard deviation, minimum and maximum, accumulated in float64 (two passes,
 * so the variance does not lose precision to cancellation). Like numpy's `mean`, `std`, `min` and
 * `max`, one NaN makes all four NaN; an empty tensor gives four NaNs. Infinities follow IEEE
 * arithmetic (an infinite value makes `std` NaN). int64 values are rounded to float64.
 *
 * @param h the tensor
 * @returns the statistics
 * @example
 * ```ts
 * import { hostTensor, stats } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const s = stats(hostTensor("float32", [4], new Float32Array([1, 2, 3, 4])));
 * assert(s.mean === 2.5 && s.min === 1 && s.max === 4);
 * assert(Math.abs(s.std - Math.sqrt(1.25)) < 1e-12);
 * assert(Number.isNaN(stats(hostTensor("float32", [0], new Float32Array(0))).mean));
 * ```
 */
export function stats(h: HostTensor): Stats {
  const v = numbers(h);
  const n = v.length;
  if (n === 0) return { mean: NaN, std: NaN, min: NaN, max: NaN };
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = v[i];
    if (Number.isNaN(x)) return { mean: NaN, std: NaN, min: NaN, max: NaN };
    sum += x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const dx = v[i] - mean;
    ss += dx * dx;
  }
  return { mean, std: Math.sqrt(ss / n), min, max };
}
