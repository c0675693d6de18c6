/**
 * Flax's msgpack encoding (`flax.serialization.msgpack_serialize`), decoded with
 * `@msgpack/msgpack`.
 *
 * Flax packs a NumPy array as msgpack extension type 1 whose payload is itself msgpack: the tuple
 * `(shape, dtype name, C-order bytes)` (`arr.dtype.name`, so `"float32"`, `"bfloat16"`, …, in the
 * writer's byte order: little-endian on every machine T5X runs on). Extension type 3 is a NumPy
 * scalar packed the same way with shape `()`; type 2 is a Python complex number. Arrays over
 * 1 GiB are split into a map `{"__msgpack_chunked_array__": true, "shape": {"0": …},
 * "chunks": {"0": array, …}}` of flat pieces, which {@link unchunkArray} joins again.
 *
 * @module
 */
import { decode, ExtensionCodec } from "@msgpack/msgpack";
import * as E from "fp-ts/Either";
import { type Problem, problem, shownValue } from "../../problem.ts";
import { type DType, isDType, itemSize } from "../../io/dtype.ts";
import { sizeOf } from "../../io/host_tensor.ts";

/** The decoder's complaint in words: a read past the end is the engine's RangeError. */
const msgpackError = (e: unknown): string =>
  e instanceof RangeError ? "it ends inside a value" : errorText(e);

/** An array stored inline in the msgpack file: its bytes are C order, little-endian. */
export interface InlineArray {
  /** Discriminates it from the other decoded values. */
  readonly kind: "inline";
  /** The element type. */
  readonly dtype: DType;
  /** The shape (`[]` for a scalar). */
  readonly shape: readonly number[];
  /** Exactly `sizeOf(shape) * itemSize(dtype)` bytes (a view into the file's bytes). */
  readonly bytes: Uint8Array;
}

/** An extension value that is not an array this library reads, with the reason. */
export interface BadExtension {
  /** Discriminates it from the other decoded values. */
  readonly kind: "bad-extension";
  /** `Corrupt` for a malformed array, `Unsupported` for a dtype or type this reader lacks. */
  readonly tag: "Corrupt" | "Unsupported";
  /** What was wrong, one line. */
  readonly reason: string;
}

// Extension values are tagged with a symbol so no decoded map (whose keys are strings) can pose
// as one.
const EXT = Symbol("flax-extension");
type Tagged = (InlineArray | BadExtension) & { readonly [EXT]: true };

const NDARRAY = 1;
const NATIVE_COMPLEX = 2;
const NPSCALAR = 3;

/** The key flax puts in a map that holds one array split into flat pieces. */
export const CHUNKED_ARRAY_KEY = "__msgpack_chunked_array__";

function bad(reason: string, tag: "Corrupt" | "Unsupported" = "Corrupt"): Tagged {
  return { kind: "bad-extension", tag, reason, [EXT]: true };
}

function decodeArray(data: Uint8Array, scalar: boolean): Tagged {
  let v: unknown;
  try {
    v = decode(data);
  } catch (e) {
    return bad(`Array payload is not valid msgpack (${msgpackError(e)})`);
  }
  if (!Array.isArray(v) || v.length !== 3) {
    return bad("Array payload is not a (shape, dtype, bytes) triple");
  }
  const [shape, dtype, bytes] = v;
  if (
    !Array.isArray(shape) || shape.length > 64 ||
    !shape.every((d) => Number.isSafeInteger(d) && d >= 0)
  ) {
    return bad(`Array shape is ${shownValue(shape)}; expected a list of non-negative integers`);
  }
  if (scalar && shape.length !== 0) return bad(`Scalar has shape [${shape}]; expected []`);
  if (typeof dtype !== "string" || !isDType(dtype)) {
    return bad(
      `Array dtype ${
        shownValue(dtype)
      } is not supported; expected float16, bfloat16, float32, float64, int8, int16, int32, int64, uint8 or bool`,
      "Unsupported",
    );
  }
  if (!(bytes instanceof Uint8Array)) return bad("Array data is not a byte string");
  const want = sizeOf(shape) * itemSize(dtype);
  if (bytes.length !== want) {
    return bad(
      `Array of shape [${shape}] and dtype ${dtype} needs ${want} bytes but holds ${bytes.length}`,
    );
  }
  return { kind: "inline", dtype, shape: Object.freeze([...shape]), bytes, [EXT]: true };
}

const codec = new ExtensionCodec();
codec.register({ type: NDARRAY, encode: () => null, decode: (d) => decodeArray(d, false) });
codec.register({ type: NPSCALAR, encode: () => null, decode: (d) => decodeArray(d, true) });
codec.register({
  type: NATIVE_COMPLEX,
  encode: () => null,
  decode: () => bad("Complex numbers are not supported; expected a real array", "Unsupported"),
});

function errorText(e: unknown): string {
  const s = e instanceof Error ? e.message : String(e);
  return s.split("\n")[0];
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Decodes a flax msgpack file: maps become plain objects (string keys), byte strings
 * `Uint8Array`s, arrays {@link InlineArray}s (or {@link BadExtension}s, reported where they are
 * used).
 *
 * @param bytes the whole file
 * @param where the file, for the problem
 * @returns the decoded value, or a `Corrupt` problem for bytes that are not one msgpack value
 * @example
 * ```ts
 * import { encode } from "@msgpack/msgpack";
 * import { decodeFlaxMsgpack } from "./_msgpack.ts";
 * import assert from "node:assert/strict";
 * const r = decodeFlaxMsgpack(encode({ version: 3 }), "checkpoint");
 * assert(r._tag === "Right");
 * assert(decodeFlaxMsgpack(new Uint8Array([0x82]), "checkpoint")._tag === "Left");
 * ```
 */
export function decodeFlaxMsgpack(bytes: Uint8Array, where: string): E.Either<Problem, unknown> {
  try {
    return E.right(decode(bytes, { extensionCodec: codec }));
  } catch (e) {
    return E.left(
      problem(
        "Corrupt",
        where,
        `File is not valid msgpack (${msgpackError(e)}); it may be truncated`,
      ),
    );
  }
}

/**
 * Tells whether a decoded value is an array or bad extension made by {@link decodeFlaxMsgpack}.
 *
 * @param x a decoded value
 * @returns the value as an extension, or `undefined`
 * @example
 * ```ts
 * import { encode, ExtData } from "@msgpack/msgpack";
 * import { asExtension, decodeFlaxMsgpack } from "./_msgpack.ts";
 * import assert from "node:assert/strict";
 * const payload = encode([[2], "int8", new Uint8Array([1, 255])]);
 * const r = decodeFlaxMsgpack(encode({ a: new ExtData(1, payload) }), "f");
 * const a = r._tag === "Right" ? asExtension((r.right as { a: unknown }).a) : undefined;
 * assert(a?.kind === "inline" && a.dtype === "int8");
 * assert(asExtension({ kind: "inline" }) === undefined);
 * ```
 */
export function asExtension(x: unknown): InlineArray | BadExtension | undefined {
  return typeof x === "object" && x !== null && EXT in x ? (x as Tagged) : undefined;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Joins an array flax split into flat pieces (`{"__msgpack_chunked_array__": true, "shape":
 * {"0": …}, "chunks": {"0": …}}`) back into one {@link InlineArray}.
 *
 * @param m the decoded map holding {@link CHUNKED_ARRAY_KEY}
 * @returns the array, or the reason it is malformed
 * @example
 * ```ts
 * import { encode, ExtData } from "@msgpack/msgpack";
 * import { decodeFlaxMsgpack, unchunkArray } from "./_msgpack.ts";
 * import assert from "node:assert/strict";
 * const piece = (b: number[]) => new ExtData(1, encode([[b.length], "uint8", new Uint8Array(b)]));
 * const m = { __msgpack_chunked_array__: true, shape: { 0: 1, 1: 3 }, chunks: { 0: piece([1, 2]), 1: piece([3]) } };
 * const r = decodeFlaxMsgpack(encode(m), "f");
 * const a = r._tag === "Right" ? unchunkArray(r.right as Record<string, unknown>) : undefined;
 * assert(a?._tag === "Right" && a.right.bytes[2] === 3 && a.right.shape[1] === 3);
 * ```
 */
export function unchunkArray(m: Readonly<Record<string, unknown>>): E.Either<string, InlineArray> {
  const shapeMap = m.shape;
  const chunkMap = m.chunks;
  if (
    typeof shapeMap !== "object" || shapeMap === null || typeof chunkMap !== "object" || !chunkMap
  ) {
    return E.left("Chunked array has no 'shape' and 'chunks' maps");
  }
  const shape = numbered(shapeMap as Record<string, unknown>);
  const chunks = numbered(chunkMap as Record<string, unknown>);
  if (!shape || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    return E.left("Chunked array's 'shape' is not a map '0', '1', … of non-negative integers");
  }
  if (!chunks || chunks.length === 0) {
    return E.left("Chunked array's 'chunks' is not a non-empty map '0', '1', … of arrays");
  }
  const pieces: InlineArray[] = [];
  for (const c of chunks) {
    const a = asExtension(c);
    if (!a) return E.left("Chunked array holds a piece that is not an array");
    if (a.kind === "bad-extension") return E.left(a.reason);
    if (a.shape.length !== 1 || a.dtype !== (pieces[0] ?? a).dtype) {
      return E.left("Chunked array's pieces are not flat arrays of one dtype");
    }
    pieces.push(a);
  }
  const dims = shape as number[];
  const dtype = pieces[0].dtype;
  const total = pieces.reduce((n, p) => n + p.bytes.length, 0);
  if (total !== sizeOf(dims) * itemSize(dtype)) {
    return E.left(
      `Chunked array of shape [${dims}] and dtype ${dtype} needs ${
        sizeOf(dims) * itemSize(dtype)
      } bytes but its pieces hold ${total}`,
    );
  }
  const bytes = new Uint8Array(total);
  let off = 0;
  for (const p of pieces) {
    bytes.set(p.bytes, off);
    off += p.bytes.length;
  }
  return E.right({ kind: "inline", dtype, shape: Object.freeze([...dims]), bytes });
}

/** A map with keys "0", "1", … as a list, or undefined when the keys are not exactly those. */
function numbered(m: Readonly<Record<string, unknown>>): unknown[] | undefined {
  const keys = Object.keys(m);
  const out: unknown[] = [];
  for (let i = 0; i < keys.length; i++) {
    if (!Object.hasOwn(m, String(i))) return undefined;
    out.push(m[String(i)]);
  }
  return out;
}
