/**
 * Reading safetensors from bytes, wherever they come from: {@link openSafetensorsFrom} reads the
 * header, then each tensor on demand through a {@link RandomAccess} (a file handle in Deno, bytes
 * in memory, a download in a browser); {@link openSafetensorsIndexIn} opens a sharded checkpoint
 * from a {@link FileSet}; {@link parseSafetensors} and {@link encodeSafetensors} work on a whole
 * file in memory. The Deno wrappers that open paths are in `safetensors.ts`.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { errorText, type Problem, problem, shownValue } from "../problem.ts";
import { decodeData, littleEndianBytes } from "./bytes.ts";
import { itemSize } from "./dtype.ts";
import type { FileSet, RandomAccess } from "./file_set.ts";
import { type HostTensor, hostTensor, type NamedTensors, type TensorEntry } from "./host_tensor.ts";
import { headerLength, isRecord, type Layout, parseLayout, plan } from "./_safetensors_layout.ts";

export { SAFETENSORS_MAX_HEADER_BYTES } from "./_safetensors_layout.ts";

const ioProblem = (e: unknown, where: string, doing: string): Problem =>
  problem("Io", where, `Cannot ${doing}: ${errorText(e)}`);

/**
 * The largest `model.safetensors.index.json` {@link openSafetensorsIndex} reads.
 *
 * @example
 * ```ts
 * import { openSafetensorsIndex, SAFETENSORS_MAX_INDEX_BYTES } from "./safetensors.ts";
 * import assert from "node:assert/strict";
 * assert(SAFETENSORS_MAX_INDEX_BYTES === 100_000_000); // 100 MB of JSON; larger: TooLarge
 * const r = await openSafetensorsIndex("missing/model.safetensors.index.json");
 * assert(r._tag === "Left" && r.left._tag === "NotFound");
 * ```
 */
export const SAFETENSORS_MAX_INDEX_BYTES = 100_000_000;

/**
 * An open safetensors file (or sharded checkpoint): the header is parsed, tensors are read on
 * demand. Reads may run concurrently; they are serialized on the file handle.
 *
 * @example
 * ```ts
 * import { openSafetensors, type SafetensorsFile, writeSafetensors } from "./safetensors.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const w = hostTensor("int32", [2], new Int32Array([4, 5]));
 * await writeSafetensors(`${dir}/m.safetensors`, { w }, { step: "100" });
 * const f: SafetensorsFile = orThrow(await openSafetensors(`${dir}/m.safetensors`));
 * try {
 *   assert(f.metadata.step === "100" && f.entries.length === 1);
 *   const r = await f.read("w");
 *   assert(r._tag === "Right" && r.right.data[1] === 5);
 *   assert((await f.read("nope"))._tag === "Left");
 * } finally {
 *   f.close();
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface SafetensorsFile {
  /** The header's `__metadata__` (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
  /** The tensors, in the order their data lies in the file. */
  readonly entries: readonly TensorEntry[];
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /**
   * Reads one tensor's data.
   *
   * @param name the tensor's name
   * @returns the tensor, or `NotFound` for an unknown name, `Truncated` if the file shrank,
   * `Io` after {@link SafetensorsFile.close}
   */
  read(name: string): Promise<E.Either<Problem, HostTensor>>;
  /** Closes the file handle(s); safe to call twice. */
  close(): void;
}

function unknownTensor(where: string, name: string, slots: readonly TensorEntry[]): Problem {
  const some = slots.slice(0, 5).map((s) => `'${s.name}'`).join(", ");
  const more = slots.length > 5 ? `, … (${slots.length} in all)` : "";
  return problem(
    "NotFound",
    where,
    `No tensor named '${name}'; the file holds ${some || "none"}${more}`,
  );
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Opens safetensors through random access: reads and validates its header (dtype, shapes,
 * offsets contiguous from 0 to the end of the file, `__metadata__` strings); tensors are read on
 * demand by {@link SafetensorsFile.read}. The result owns `reader` (its `close()` closes it; so
 * does a problem here).
 *
 * @param reader the file's bytes
 * @param where the file's name, for problems
 * @returns the open file, or a problem: `TooLarge` (header length over 100 MB), `Corrupt` (bad
 * JSON, overlapping offsets, gaps, sizes that disagree), `Truncated`, `Unsupported` (a dtype
 * outside F32 F16 BF16 F64 I64 I32 I16 I8 U8 BOOL)
 * @example
 * ```ts
 * import { encodeSafetensors, openSafetensorsFrom } from "./safetensors_read.ts";
 * import { bytesReader } from "./file_set.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const bytes = encodeSafetensors({ w: hostTensor("float32", [2], new Float32Array([1, 2])) });
 * const f = orThrow(await openSafetensorsFrom(bytesReader(bytes), "w.safetensors"));
 * const w = await f.read("w");
 * assert(w._tag === "Right" && w.right.data[1] === 2);
 * f.close();
 * ```
 */
export async function openSafetensorsFrom(
  reader: RandomAccess,
  where: string,
): Promise<E.Either<Problem, SafetensorsFile>> {
  const problemOf = reader.problemOf ?? ioProblem;
  const size = reader.size;
  try {
    const first = await reader.read(0, Math.min(8, size));
    if (typeof first === "number") throw new Error("the file shrank while being read");
    const n = headerLength(first, size, where);
    if (E.isLeft(n)) {
      reader.close();
      return n;
    }
    const head = await reader.read(8, n.right);
    if (typeof head === "number") throw new Error("the file shrank while being read");
    const layout = parseLayout(head, size - 8 - n.right, where);
    if (E.isLeft(layout)) {
      reader.close();
      return layout;
    }
    return E.right(fileReader(reader, where, 8 + n.right, layout.right));
  } catch (e) {
    reader.close();
    return E.left(problemOf(e, where, "read the header"));
  }
}

function fileReader(
  file: RandomAccess,
  where: string,
  dataStart: number,
  layout: Layout,
): SafetensorsFile {
  const byName = new Map(layout.slots.map((s) => [s.name, s]));
  let closed = false;
  // One seek+read at a time on the shared handle: a read is a seek then a read.
  let queue: Promise<unknown> = Promise.resolve();
  const read = (name: string): Promise<E.Either<Problem, HostTensor>> => {
    const run = async (): Promise<E.Either<Problem, HostTensor>> => {
      const s = byName.get(name);
      if (!s) return E.left(unknownTensor(where, name, layout.slots));
      const at = `${where}#${name}`;
      if (closed) return E.left(problem("Io", at, "File is closed; open it again to read"));
      try {
        const bytes = await file.read(dataStart + s.begin, s.end - s.begin);
        if (typeof bytes === "number") {
          return E.left(
            problem(
              "Truncated",
              at,
              `File ends ${
                s.end - s.begin - bytes
              } bytes short of this tensor's data; it changed since it was opened`,
            ),
          );
        }
        const n = s.shape.reduce((a, d) => a * d, 1);
        return E.right(
          hostTensor(
            s.dtype,
            s.shape,
            decodeData(s.dtype, bytes, n, itemSize(s.dtype), true, true),
          ),
        );
      } catch (e) {
        if (closed) {
          return E.left(problem("Io", at, "File was closed while this tensor was being read"));
        }
        return E.left((file.problemOf ?? ioProblem)(e, at, "read the tensor"));
      }
    };
    const p = queue.then(run, run);
    queue = p.catch(() => undefined);
    return p;
  };
  return {
    metadata: layout.metadata,
    entries: Object.freeze(layout.slots.map(({ name, dtype, shape }) => ({ name, dtype, shape }))),
    read,
    close() {
      if (closed) return;
      closed = true; // reads still queued or in flight fail with an Io problem
      file.close();
    },
  };
}

/**
 * The in-memory contents of a safetensors file.
 *
 * @example
 * ```ts
 * import { encodeSafetensors, parseSafetensors, type SafetensorsContents } from "./safetensors.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const b = hostTensor("uint8", [1], new Uint8Array([9]));
 * const bytes = encodeSafetensors({ b }, { v: "1" });
 * const c: SafetensorsContents = orThrow(parseSafetensors(bytes, "mem.safetensors"));
 * assert(c.metadata.v === "1" && c.tensors.get("b")?.data[0] === 9);
 * ```
 */
export interface SafetensorsContents {
  /** The header's `__metadata__` (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
  /** The tensors, in the order their data lies in the file. */
  readonly tensors: ReadonlyMap<string, HostTensor>;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Parses a whole safetensors file held in memory, with the same checks as
 * {@link openSafetensors}.
 *
 * @param bytes the file's bytes
 * @param where the file's name, for problems
 * @returns the metadata and tensors, or a problem
 * @example
 * ```ts
 * import { encodeSafetensors, parseSafetensors } from "./safetensors.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const b = encodeSafetensors({ ids: hostTensor("int64", [1], new BigInt64Array([7n])) }, { a: "b" });
 * const r = parseSafetensors(b, "mem");
 * assert(r._tag === "Right" && r.right.tensors.get("ids")?.data[0] === 7n);
 * assert(r._tag === "Right" && r.right.metadata.a === "b");
 * ```
 */
export function parseSafetensors(
  bytes: Uint8Array,
  where: string,
): E.Either<Problem, SafetensorsContents> {
  const n = headerLength(bytes.subarray(0, 8), bytes.length, where);
  if (E.isLeft(n)) return n;
  const dataStart = 8 + n.right;
  const layout = parseLayout(bytes.subarray(8, dataStart), bytes.length - dataStart, where);
  if (E.isLeft(layout)) return layout;
  const tensors = new Map<string, HostTensor>();
  for (const s of layout.right.slots) {
    const n = s.shape.reduce((a, d) => a * d, 1);
    const raw = bytes.subarray(dataStart + s.begin, dataStart + s.end);
    tensors.set(
      s.name,
      hostTensor(s.dtype, s.shape, decodeData(s.dtype, raw, n, itemSize(s.dtype), true)),
    );
  }
  return E.right({ metadata: layout.right.metadata, tensors });
}

/**
 * Encodes tensors as a safetensors file: the header is padded with spaces to a multiple of 8
 * bytes, tensors are laid out by item size (largest first) then name, so each is aligned.
 *
 * @param tensors name → tensor (names non-empty, not `__metadata__`)
 * @param metadata optional `__metadata__` strings
 * @returns the file's bytes
 * @throws {RangeError} for a forbidden name
 * @example
 * ```ts
 * import { encodeSafetensors } from "./safetensors.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const b = encodeSafetensors(new Map([["x", hostTensor("uint8", [3], new Uint8Array(3))]]));
 * const n = Number(new DataView(b.buffer).getBigUint64(0, true));
 * assert(n % 8 === 0 && b.length === 8 + n + 3);
 * ```
 */
export function encodeSafetensors(
  tensors: NamedTensors,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const { header, order } = plan(tensors, metadata);
  const size = order.reduce((a, t) => a + t.data.byteLength, header.length);
  const out = new Uint8Array(size);
  out.set(header);
  let o = header.length;
  for (const t of order) {
    out.set(littleEndianBytes(t), o);
    o += t.data.byteLength;
  }
  return out;
}

/** A plain file name: no directory part, no traversal. */
function isPlainFileName(s: string): boolean {
  return s !== "" && s !== "." && s !== ".." && !/[/\\\0]/.test(s);
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Opens a sharded checkpoint from its index (`{"weight_map": {name: shard file}}`) in a
 * {@link FileSet}. Shards must be plain file names in the same folder. Every shard is opened and
 * every mapped tensor checked to be in its shard; the result reads like one file. Its `metadata`
 * merges the shards' `__metadata__` (the first shard wins on a conflict); the index's own
 * `metadata` (such as `total_size`) is not checked.
 *
 * @param files the folder
 * @param indexName the index's name in it (default `model.safetensors.index.json`)
 * @returns the checkpoint, or a problem: the index's (`NotFound`, `Corrupt`, `Invalid` for a
 * shard name with a directory part) or a shard's, or `Mismatch` for a tensor missing from its
 * shard
 * @example
 * ```ts
 * import { encodeSafetensors, openSafetensorsIndexIn } from "./safetensors_read.ts";
 * import { bytesFileSet } from "./file_set.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const files = bytesFileSet({
 *   "a.safetensors": encodeSafetensors({ x: hostTensor("int8", [1], new Int8Array([3])) }),
 *   "model.safetensors.index.json": new TextEncoder().encode('{"weight_map": {"x": "a.safetensors"}}'),
 * });
 * const f = await openSafetensorsIndexIn(files);
 * assert(f._tag === "Right");
 * const x = await f.right.read("x");
 * assert(x._tag === "Right" && x.right.data[0] === 3);
 * f.right.close();
 * ```
 */
export async function openSafetensorsIndexIn(
  files: FileSet,
  indexName = "model.safetensors.index.json",
): Promise<E.Either<Problem, SafetensorsFile>> {
  const where = files.path(indexName);
  const bytes = await files.read(indexName, SAFETENSORS_MAX_INDEX_BYTES, "a safetensors index");
  if (E.isLeft(bytes)) return bytes;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.right));
  } catch (e) {
    return E.left(
      problem("Corrupt", where, `Index is not valid JSON: ${errorText(e)}`),
    );
  }
  if (!isRecord(json) || !isRecord(json.weight_map)) {
    return E.left(
      problem(
        "Corrupt",
        where,
        'Index has no weight_map object; expected {"weight_map": {name: shard file}}',
      ),
    );
  }
  const weightMap = Object.entries(json.weight_map);
  const shardNames: string[] = [];
  for (const [name, shard] of weightMap) {
    if (typeof shard !== "string" || !isPlainFileName(shard)) {
      return E.left(
        problem(
          "Invalid",
          where,
          `Tensor '${name}' is mapped by weight_map to ${
            shownValue(shard)
          }; expected a plain file name in the index's directory`,
        ),
      );
    }
    if (!shardNames.includes(shard)) shardNames.push(shard);
  }
  const shards = new Map<string, SafetensorsFile>();
  const closeAll = () => shards.forEach((s) => s.close());
  for (const name of shardNames) {
    const opened = await files.open(name, "a .safetensors file");
    const f = E.isLeft(opened) ? opened : await openSafetensorsFrom(opened.right, files.path(name));
    if (E.isLeft(f)) {
      closeAll();
      return f;
    }
    shards.set(name, f.right);
  }
  const held = new Map(
    [...shards].map(([n, f]) => [n, new Map(f.entries.map((e) => [e.name, e]))]),
  );
  const owner = new Map<string, SafetensorsFile>();
  const entries: TensorEntry[] = [];
  for (const [name, shardName] of weightMap) {
    const shard = shards.get(shardName as string)!;
    const entry = held.get(shardName as string)!.get(name);
    if (!entry) {
      closeAll();
      return E.left(
        problem(
          "Mismatch",
          where,
          `Tensor '${name}' is mapped by weight_map to ${shardName}, which does not hold it`,
        ),
      );
    }
    owner.set(name, shard);
    entries.push(entry);
  }
  const merged = new Map<string, string>();
  for (const s of shards.values()) {
    for (const [k, v] of Object.entries(s.metadata)) if (!merged.has(k)) merged.set(k, v);
  }
  return E.right({
    metadata: Object.freeze(Object.fromEntries(merged)),
    entries: Object.freeze(entries),
    read(name) {
      const shard = owner.get(name);
      return shard
        ? shard.read(name)
        : Promise.resolve(E.left(unknownTensor(where, name, entries)));
    },
    close: closeAll,
  });
}
