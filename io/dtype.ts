/**
 * The element types tensor files hold, and the one table of what each is: its size in bytes, its
 * typed array, its name in safetensors and numpy (`.npy`, `.npz`, zarr), and whether it is a
 * floating-point type. Every reader and writer looks dtypes up here.
 *
 * @module
 */

/**
 * The element types tensor files can hold.
 *
 * @example
 * ```ts
 * import { type DType, isDType, itemSize } from "./dtype.ts";
 * import assert from "node:assert/strict";
 * const dtype: DType = "bfloat16";
 * assert(itemSize(dtype) === 2 && isDType(dtype) && !isDType("uint32"));
 * ```
 */
export type DType =
  | "float16"
  | "bfloat16"
  | "float32"
  | "float64"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "uint8"
  | "bool";

/**
 * The typed array behind a host tensor. `float16` and `bfloat16` are kept as their raw bits in a
 * `Uint16Array`; `uint8` and `bool` (0 or 1) both use a `Uint8Array`.
 *
 * @example
 * ```ts
 * import type { HostData } from "./dtype.ts";
 * import { hostTensor, toFloat64 } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const bits: HostData = new Uint16Array([0x3f80, 0xc000]); // bfloat16 1 and -2, as raw bits
 * const h = hostTensor("bfloat16", [2], bits);
 * assert(h.data === bits && toFloat64(h).join() === "1,-2");
 * ```
 */
export type HostData =
  | Float32Array
  | Float64Array
  | Uint16Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array;

type HostArray =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Uint16ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Int32ArrayConstructor
  | BigInt64ArrayConstructor
  | Uint8ArrayConstructor;

interface DTypeInfo {
  /** Bytes per element. */
  readonly size: number;
  /** The typed array holding the values, and its name in messages. */
  readonly array: HostArray;
  readonly arrayName: string;
  /** numpy's code (the typestr's kind and size, without the byte order); numpy has no bfloat16. */
  readonly numpy: string | undefined;
  /** A floating-point type. */
  readonly float: boolean;
}

// In the order of DTYPES.
const TABLE: Readonly<Record<DType, DTypeInfo>> = {
  float16: {
    size: 2,
    array: Uint16Array,
    arrayName: "Uint16Array (raw float16 bits)",
    numpy: "f2",
    float: true,
  },
  bfloat16: {
    size: 2,
    array: Uint16Array,
    arrayName: "Uint16Array (raw bfloat16 bits)",
    numpy: undefined,
    float: true,
  },
  float32: { size: 4, array: Float32Array, arrayName: "Float32Array", numpy: "f4", float: true },
  float64: { size: 8, array: Float64Array, arrayName: "Float64Array", numpy: "f8", float: true },
  int8: { size: 1, array: Int8Array, arrayName: "Int8Array", numpy: "i1", float: false },
  int16: { size: 2, array: Int16Array, arrayName: "Int16Array", numpy: "i2", float: false },
  int32: { size: 4, array: Int32Array, arrayName: "Int32Array", numpy: "i4", float: false },
  int64: { size: 8, array: BigInt64Array, arrayName: "BigInt64Array", numpy: "i8", float: false },
  uint8: { size: 1, array: Uint8Array, arrayName: "Uint8Array", numpy: "u1", float: false },
  bool: { size: 1, array: Uint8Array, arrayName: "Uint8Array (0 or 1)", numpy: "b1", float: false },
};

/**
 * All dtypes, in a fixed order.
 *
 * @example
 * ```ts
 * import { DTYPES, isDType, itemSize } from "./dtype.ts";
 * import assert from "node:assert/strict";
 * assert(DTYPES.length === 10 && DTYPES.every((d) => isDType(d)));
 * assert(DTYPES.filter((d) => itemSize(d) === 2).join() === "float16,bfloat16,int16");
 * ```
 */
export const DTYPES: readonly DType[] = Object.keys(TABLE) as DType[];

/**
 * Bytes per element of a dtype.
 *
 * @param dtype the element type
 * @returns its size in bytes
 * @example
 * ```ts
 * import { itemSize } from "./dtype.ts";
 * import assert from "node:assert/strict";
 * assert(itemSize("bfloat16") === 2 && itemSize("int64") === 8);
 * ```
 */
export function itemSize(dtype: DType): number {
  return TABLE[dtype].size;
}

/**
 * Tells whether a string names a {@link DType}.
 *
 * @param s any string
 * @returns true when `s` is one of {@link DTYPES}
 * @example
 * ```ts
 * import { isDType } from "./dtype.ts";
 * import assert from "node:assert/strict";
 * assert(isDType("int8") && !isDType("uint32"));
 * ```
 */
export function isDType(s: string): s is DType {
  return Object.hasOwn(TABLE, s);
}

/**
 * Tells whether a string names a floating-point {@link DType} (float16, bfloat16, float32,
 * float64), the dtypes a prompt or a model weight may have.
 *
 * @param s any string
 * @returns true for the four floating-point dtypes
 * @example
 * ```ts
 * import { isFloatDType } from "./dtype.ts";
 * import assert from "node:assert/strict";
 * assert(isFloatDType("bfloat16") && !isFloatDType("int32") && !isFloatDType("complex64"));
 * ```
 */
export function isFloatDType(s: string): boolean {
  return isDType(s) && TABLE[s].float;
}

/**
 * A typed-array view of a buffer for a dtype (no copy; `byteOffset` must be aligned).
 *
 * @param dtype the element type
 * @param buf the buffer
 * @param byteOffset where the view starts
 * @param n number of elements
 * @returns the view, of the array type {@link HostData} gives for `dtype`
 * @example
 * ```ts
 * import { viewData } from "./dtype.ts";
 * import assert from "node:assert/strict";
 * const buf = new Float32Array([1, 2, 3]).buffer;
 * const v = viewData("float32", buf, 4, 2);
 * assert(v instanceof Float32Array && v.join() === "2,3");
 * assert(viewData("bfloat16", buf, 0, 6) instanceof Uint16Array);
 * ```
 */
export function viewData(dtype: DType, buf: ArrayBuffer, byteOffset: number, n: number): HostData {
  const View = TABLE[dtype].array as unknown as new (
    buf: ArrayBuffer,
    byteOffset: number,
    n: number,
  ) => HostData;
  return new View(buf, byteOffset, n);
}

/**
 * Tells whether an array is of the type a dtype uses.
 *
 * @param dtype the element type
 * @param data any host array
 * @returns true when `data` is the array type {@link HostData} gives for `dtype`
 * @example
 * ```ts
 * import { arrayFits } from "./dtype.ts";
 * import assert from "node:assert/strict";
 * assert(arrayFits("bfloat16", new Uint16Array(1)) && !arrayFits("float32", new Float64Array(1)));
 * ```
 */
export function arrayFits(dtype: DType, data: HostData): boolean {
  return data instanceof TABLE[dtype].array;
}

/**
 * The name of the array type a dtype uses, for messages.
 *
 * @param dtype the element type
 * @returns the array's name, with the encoding where it is not plain
 * @example
 * ```ts
 * import { arrayName } from "./dtype.ts";
 * import assert from "node:assert/strict";
 * assert(arrayName("int64") === "BigInt64Array");
 * assert(arrayName("float16") === "Uint16Array (raw float16 bits)");
 * ```
 */
export function arrayName(dtype: DType): string {
  return TABLE[dtype].arrayName;
}

/**
 * safetensors dtype names → ours, in the order messages list them.
 *
 * @example
 * ```ts
 * import { SAFETENSORS_DTYPES, safetensorsName } from "./dtype.ts";
 * import assert from "node:assert/strict";
 * assert(SAFETENSORS_DTYPES.BF16 === "bfloat16" && safetensorsName("bool") === "BOOL");
 * assert(Object.keys(SAFETENSORS_DTYPES).length === 10);
 * ```
 */
export const SAFETENSORS_DTYPES: Readonly<Record<string, DType>> = {
  F32: "float32",
  F16: "float16",
  BF16: "bfloat16",
  F64: "float64",
  I64: "int64",
  I32: "int32",
  I16: "int16",
  I8: "int8",
  U8: "uint8",
  BOOL: "bool",
};

const TO_SAFETENSORS = Object.fromEntries(
  Object.entries(SAFETENSORS_DTYPES).map(([name, dtype]) => [dtype, name]),
) as Readonly<Record<DType, string>>;

/**
 * A dtype's name in a safetensors header.
 *
 * @param dtype the element type
 * @returns its safetensors name (`F32`, `BF16`, …)
 * @example
 * ```ts
 * import { safetensorsName } from "./dtype.ts";
 * import assert from "node:assert/strict";
 * assert(safetensorsName("float32") === "F32" && safetensorsName("int8") === "I8");
 * ```
 */
export function safetensorsName(dtype: DType): string {
  return TO_SAFETENSORS[dtype];
}

/**
 * numpy's dtype codes (kind + item size, the typestr without its byte order) → ours, for the
 * dtypes numpy has (all but bfloat16). zarr arrays use the same codes.
 *
 * @example
 * ```ts
 * import { NUMPY_DTYPE_CODES } from "./dtype.ts";
 * import assert from "node:assert/strict";
 * assert(NUMPY_DTYPE_CODES.f4 === "float32" && NUMPY_DTYPE_CODES.b1 === "bool");
 * assert(!Object.hasOwn(NUMPY_DTYPE_CODES, "u4"));
 * ```
 */
export const NUMPY_DTYPE_CODES: Readonly<Record<string, DType>> = Object.fromEntries(
  DTYPES.flatMap((d) => {
    const code = TABLE[d].numpy;
    return code === undefined ? [] : [[code, d]];
  }),
);

/**
 * The typestr numpy writes for a dtype: little-endian `<` for multi-byte items, `|` (no byte
 * order) for one-byte ones.
 *
 * @param dtype any dtype but bfloat16, which numpy lacks
 * @returns the typestr, such as `<f4` or `|u1`
 * @example
 * ```ts
 * import { numpyDescr } from "./dtype.ts";
 * import assert from "node:assert/strict";
 * assert(numpyDescr("float32") === "<f4" && numpyDescr("bool") === "|b1");
 * ```
 */
export function numpyDescr(dtype: Exclude<DType, "bfloat16">): string {
  const { size, numpy } = TABLE[dtype];
  return `${size === 1 ? "|" : "<"}${numpy}`;
}
