/**
 * GGUF files (llama.cpp's format, versions 2 and 3, little-endian), read as untrusted input: a
 * header of typed metadata and tensor infos, then the tensors' data, each aligned.
 *
 * {@link openGguf} reads the header through the file handle a chunk at a time (never the whole
 * file), checks every count, length, dimension and offset against the file's size and
 * {@link GGUF_LIMITS}, and keeps the file open to read one tensor at a time, dequantized to
 * float32 ({@link GGUF_TENSOR_TYPES}). Shapes are row-major: ggml's `ne` reversed, so a linear
 * weight of `ne = [in, out]` reads as `[out, in]`, as in PyTorch.
 *
 * @module
 */
import { quoted } from "./_quote.ts";
import * as E from "fp-ts/Either";
import { join } from "node:path";
import { type Problem, problem, ProblemError } from "../problem.ts";
import { fsProblem, openRegularFile, pathText, readExactly } from "./files.ts";
import { type HostTensor, hostTensor, type TensorEntry } from "./host_tensor.ts";
import { type Header, LIMITS, parseHeader } from "./_gguf_header.ts";
import { SUPPORTED_TYPE_NAMES } from "./_gguf_quant.ts";

/**
 * A GGUF metadata value in plain form: integers as numbers (64-bit ones as a `bigint` where a
 * number cannot hold them exactly), floats as numbers, bools, strings, and arrays of these
 * (nested arrays too).
 *
 * @example
 * ```ts
 * import type { GgufValue } from "./gguf.ts";
 * import assert from "node:assert/strict";
 * const tokens: GgufValue = ["<s>", "a", ["nested", 1n << 60n]];
 * assert(Array.isArray(tokens) && tokens.length === 3);
 * ```
 */
export type GgufValue = number | bigint | boolean | string | readonly GgufValue[];

/**
 * The caps {@link openGguf} applies: a string's bytes, a key's or tensor name's bytes, an array's
 * entries and nesting, all metadata values together, the numbers of key-value pairs and tensors,
 * a tensor's dimensions, and `general.alignment`.
 *
 * @example
 * ```ts
 * import { GGUF_LIMITS } from "./gguf.ts";
 * import assert from "node:assert/strict";
 * assert.equal(GGUF_LIMITS.maxDims, 4);
 * assert.equal(GGUF_LIMITS.maxStringBytes, 4 * 1024 * 1024);
 * ```
 */
export const GGUF_LIMITS: {
  /** Bytes of a string value (4 MiB). */
  readonly maxStringBytes: number;
  /** Bytes of a key or a tensor name (65,535). */
  readonly maxKeyBytes: number;
  /** Entries of one array (4 Mi). */
  readonly maxArrayLength: number;
  /** Arrays inside arrays (4 deep). */
  readonly maxArrayDepth: number;
  /** Metadata values in all (16 Mi). */
  readonly maxMetadataValues: number;
  /** Key-value pairs (1 Mi). */
  readonly maxMetadataCount: number;
  /** Tensors (1 Mi). */
  readonly maxTensorCount: number;
  /** Dimensions of a tensor (4). */
  readonly maxDims: number;
  /** `general.alignment` (16 MiB). */
  readonly maxAlignment: number;
} = LIMITS;

/**
 * The ggml tensor types read (dequantized to float32); others are listed by
 * {@link GgufFile.tensors} but fail to read.
 *
 * @example
 * ```ts
 * import { GGUF_TENSOR_TYPES } from "./gguf.ts";
 * import assert from "node:assert/strict";
 * assert(GGUF_TENSOR_TYPES.includes("Q4_K") && !GGUF_TENSOR_TYPES.includes("IQ2_XXS"));
 * assert.equal(GGUF_TENSOR_TYPES.length, 13);
 * ```
 */
export const GGUF_TENSOR_TYPES: readonly string[] = SUPPORTED_TYPE_NAMES;

/**
 * One tensor as the GGUF header describes it.
 *
 * @example
 * ```ts
 * import type { GgufTensorInfo } from "./gguf.ts";
 * import assert from "node:assert/strict";
 * const info: GgufTensorInfo = { name: "token_embd.weight", type: "Q4_1", dims: [576, 49152], shape: [49152, 576], offset: 4096, byteLength: 17694720 };
 * assert.deepEqual(info.shape, [...info.dims].reverse());
 * ```
 */
export interface GgufTensorInfo {
  /** Its name (`blk.0.attn_q.weight`). */
  readonly name: string;
  /** Its ggml type (`F32`, `Q4_K`, …). */
  readonly type: string;
  /** ggml's `ne`, the fastest-varying dimension first. */
  readonly dims: readonly number[];
  /** The row-major shape: `dims` reversed. */
  readonly shape: readonly number[];
  /** The absolute offset of its data in the file. */
  readonly offset: number;
  /** The bytes of its data. */
  readonly byteLength: number;
}

/**
 * An open GGUF file: metadata and tensor infos parsed, tensors read on demand as float32. It is
 * a `TensorSource` (see tensor_file.ts): `entries` list every tensor as float32 with its
 * row-major shape. Reads may run concurrently; they are serialized on the file handle.
 *
 * @example
 * ```ts
 * import { openGguf, type GgufFile } from "./gguf.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const path = new URL("../tests/fixtures/gguf/types.gguf", import.meta.url);
 * const f: GgufFile = orThrow(await openGguf(path));
 * try {
 *   assert(f.version === 3 && f.alignment === 32);
 *   const info = f.tensors.find((t) => t.name === "q8_0")!;
 *   assert(info.type === "Q8_0");
 *   const t = await f.read("q8_0");
 *   assert(t._tag === "Right" && t.right.dtype === "float32");
 *   assert.deepEqual(t.right.shape, info.shape);
 * } finally {
 *   f.close();
 * }
 * ```
 */
export interface GgufFile {
  /** 2 or 3. */
  readonly version: 2 | 3;
  /** `general.alignment` (32 when absent). */
  readonly alignment: number;
  /** Every key-value pair, in file order. */
  readonly metadata: ReadonlyMap<string, GgufValue>;
  /** Every tensor, in header order. */
  readonly tensors: readonly GgufTensorInfo[];
  /** Every tensor as it reads: float32, row-major shape. */
  readonly entries: readonly TensorEntry[];
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /**
   * Reads one tensor, dequantized to float32.
   *
   * @param name the tensor's name
   * @returns the tensor, or `NotFound` for an unknown name, `Unsupported` for a type outside
   * {@link GGUF_TENSOR_TYPES}, `Truncated` if the file shrank, `Io` after `close()`
   */
  read(name: string): Promise<E.Either<Problem, HostTensor>>;
  /** Closes the file; safe to call twice. */
  close(): void;
}

function reader(file: Deno.FsFile, where: string, header: Header): GgufFile {
  const byName = new Map(header.tensors.map((t) => [t.name, t]));
  let closed = false;
  let queue: Promise<unknown> = Promise.resolve();
  const tensors = header.tensors.map((t): GgufTensorInfo => ({
    name: t.name,
    type: t.type.name,
    dims: t.dims,
    shape: [...t.dims].reverse(),
    offset: t.offset,
    byteLength: t.byteLength,
  }));
  const read = (name: string): Promise<E.Either<Problem, HostTensor>> => {
    const run = async (): Promise<E.Either<Problem, HostTensor>> => {
      const t = byName.get(name);
      if (t === undefined) {
        const some = tensors.slice(0, 5).map((x) => quoted(x.name)).join(", ");
        return E.left(
          problem(
            "NotFound",
            where,
            `No tensor named ${quoted(name)}; the file holds ${some || "none"}`,
          ),
        );
      }
      const at = `${where}#${name}`;
      const dequantize = t.type.dequantize;
      if (dequantize === undefined) {
        return E.left(
          problem(
            "Unsupported",
            at,
            `Tensor type ${t.type.name} is not supported; expected one of ${
              GGUF_TENSOR_TYPES.join(", ")
            }`,
          ),
        );
      }
      if (closed) return E.left(problem("Io", at, "File is closed; open it again to read"));
      try {
        const bytes = await readExactly(file, t.offset, t.byteLength);
        if (typeof bytes === "number") {
          return E.left(
            problem(
              "Truncated",
              at,
              "File ends inside this tensor's data; it changed since opened",
            ),
          );
        }
        const n = t.dims.reduce((a, d) => a * d, 1);
        const out = new Float32Array(n);
        dequantize(bytes, out);
        return E.right(hostTensor("float32", [...t.dims].reverse(), out));
      } catch (e) {
        if (closed) return E.left(problem("Io", at, "File was closed while reading this tensor"));
        return E.left(fsProblem(e, at, "read the tensor"));
      }
    };
    const p = queue.then(run, run);
    queue = p.catch(() => undefined);
    return p;
  };
  return {
    version: header.version,
    alignment: header.alignment,
    metadata: header.metadata,
    tensors: Object.freeze(tensors),
    entries: Object.freeze(
      tensors.map((t): TensorEntry => ({ name: t.name, dtype: "float32", shape: t.shape })),
    ),
    read,
    close() {
      if (closed) return;
      closed = true;
      file.close();
    },
  };
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Opens a GGUF file: reads and checks its header and keeps the file open for
 * {@link GgufFile.read}. Call `close()` when done.
 *
 * @param path the file
 * @returns the open file, or a one-line problem naming the file and the field: `NotFound`,
 * `Truncated`, `Corrupt` (bad magic, counts or lengths that cannot fit, a bool that is not 0/1,
 * bad UTF-8, a dimension of 0, misaligned or overlapping data, a bad `general.alignment`),
 * `TooLarge` (over {@link GGUF_LIMITS}), `Unsupported` (version other than 2 or 3, big-endian,
 * an unknown tensor type id)
 * @example
 * ```ts
 * import { openGguf } from "./gguf.ts";
 * import assert from "node:assert/strict";
 * const path = await Deno.makeTempFile({ suffix: ".gguf" });
 * await Deno.writeFile(path, new TextEncoder().encode("GGUF\x01\0\0\0" + "\0".repeat(16)));
 * const r = await openGguf(path);
 * assert(r._tag === "Left" && r.left.message === "GGUF version 1 is not supported; expected 2 or 3");
 * await Deno.remove(path);
 * ```
 */
export async function openGguf(path: string | URL): Promise<E.Either<Problem, GgufFile>> {
  const where = pathText(path);
  const opened = await openRegularFile(path, "a .gguf file");
  if (E.isLeft(opened)) return opened;
  const { file, size } = opened.right;
  try {
    return E.right(reader(file, where, await parseHeader(file, size, where)));
  } catch (e) {
    file.close();
    if (e instanceof ProblemError) return E.left(e.problem);
    return E.left(fsProblem(e, where, "read the header"));
  }
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Reads a GGUF file's metadata (the whole header is checked; no tensor data is read).
 *
 * @param path the file
 * @returns key → value in file order, or the problem {@link openGguf} reports
 * @example
 * ```ts
 * import { readGgufMetadata } from "./gguf.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const m = orThrow(await readGgufMetadata("tests/fixtures/gguf/types.gguf"));
 * assert.equal(m.get("general.architecture"), "fixture");
 * assert.deepEqual(m.get("test.nested"), [[1, 2], [3]]);
 * ```
 */
export async function readGgufMetadata(
  path: string | URL,
): Promise<E.Either<Problem, ReadonlyMap<string, GgufValue>>> {
  const opened = await openGguf(path);
  if (E.isLeft(opened)) return opened;
  opened.right.close();
  return E.right(opened.right.metadata);
}

/**
 * The names of the `.gguf` files in a directory (links to files included; a dangling link is not
 * a file), sorted: how a model directory's or a tokenizer directory's GGUF file is found.
 *
 * @param dir the directory
 * @returns the file names, without the directory
 * @example
 * ```ts
 * import { ggufFilesIn } from "./gguf.ts";
 * import assert from "node:assert/strict";
 * const names = await ggufFilesIn("tests/fixtures/gguf");
 * assert(names.includes("types.gguf") && names.every((n) => n.endsWith(".gguf")));
 * ```
 */
export async function ggufFilesIn(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.toLowerCase().endsWith(".gguf")) continue;
    try {
      if ((await Deno.stat(join(dir, entry.name))).isFile) out.push(entry.name);
    } catch {
      // A dangling link is not a file.
    }
  }
  return out.sort();
}
