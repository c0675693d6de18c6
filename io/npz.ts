/**
 * NumPy `.npz` archives: a zip of `.npy` files, stored (`np.savez`) or deflated
 * (`np.savez_compressed`). Keys are the entry names without `.npy`.
 *
 * @module
 */
import { quoted } from "./_quote.ts";
import * as E from "fp-ts/Either";
import { type Zippable, zipSync } from "fflate";
import { type Problem, problem } from "../problem.ts";
import { pathText, readFileCapped, writeAtomic } from "./files.ts";
import { readZip } from "./_zip.ts";
import { type HostTensor, namedEntries, type NamedTensors } from "./host_tensor.ts";
import { decodeNpy } from "./_npy.ts";
import { encodeNpy } from "./npy.ts";

/**
 * The largest archive, and the most uncompressed bytes, read unless told otherwise: 2 GiB.
 *
 * @example
 * ```ts
 * import { encodeNpz, NPZ_DEFAULT_MAX_BYTES, parseNpz } from "./npz.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * assert(NPZ_DEFAULT_MAX_BYTES === 2 * 1024 ** 3);
 * const bytes = encodeNpz({ x: hostTensor("uint8", [4], new Uint8Array(4)) });
 * const r = parseNpz(bytes, "x.npz", { maxBytes: NPZ_DEFAULT_MAX_BYTES }); // same as no options
 * assert(r._tag === "Right" && r.right.has("x"));
 * ```
 */
export const NPZ_DEFAULT_MAX_BYTES = 2 ** 31;

/**
 * The most entries an archive may have.
 *
 * @example
 * ```ts
 * import { NPZ_MAX_ENTRIES } from "./npz.ts";
 * import assert from "node:assert/strict";
 * // An archive listing more entries than this is refused as TooLarge before any is read.
 * assert(NPZ_MAX_ENTRIES === 100_000);
 * ```
 */
export const NPZ_MAX_ENTRIES = 100_000;

/**
 * Options for {@link parseNpz} and {@link readNpz}.
 *
 * @example
 * ```ts
 * import { encodeNpz, parseNpz, type ReadNpzOptions } from "./npz.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const zeros = hostTensor("float32", [1000], new Float32Array(1000)); // 4000 bytes of data
 * const bytes = encodeNpz({ zeros }, { compress: true }); // deflates to far less
 * const options: ReadNpzOptions = { maxBytes: 1000 }; // caps the uncompressed contents too
 * const r = parseNpz(bytes, "zeros.npz", options);
 * assert(bytes.length < 1000 && r._tag === "Left" && r.left._tag === "TooLarge");
 * ```
 */
export interface ReadNpzOptions {
  /**
   * Refuse archives (and total uncompressed contents) larger than this many bytes (default
   * {@link NPZ_DEFAULT_MAX_BYTES}).
   */
  readonly maxBytes?: number;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Parses the bytes of an `.npz` archive. Every entry must be an `.npy` file; directories are
 * skipped.
 *
 * @param bytes the whole archive
 * @param where the file's name, for problems
 * @param options `maxBytes`: the most uncompressed bytes accepted (default 2 GiB)
 * @returns key → tensor in archive order, or a problem (`Corrupt` for a non-zip or a bad entry,
 * `TooLarge` past the caps, and any problem of {@link parseNpy}, located at `where#key`)
 * @example
 * ```ts
 * import { parseNpz } from "./npz.ts";
 * import assert from "node:assert/strict";
 * const r = parseNpz(new TextEncoder().encode("not a zip"), "x.npz");
 * assert(r._tag === "Left" && r.left._tag === "Corrupt");
 * ```
 */
export function parseNpz(
  bytes: Uint8Array,
  where: string,
  options: ReadNpzOptions = {},
): E.Either<Problem, ReadonlyMap<string, HostTensor>> {
  const entries = readZip(bytes, where, {
    maxBytes: options.maxBytes ?? NPZ_DEFAULT_MAX_BYTES,
    maxEntries: NPZ_MAX_ENTRIES,
  });
  if (E.isLeft(entries)) return entries;
  const out = new Map<string, HostTensor>();
  for (const [name, data] of entries.right) {
    if (!name.endsWith(".npy")) {
      return E.left(
        problem(
          "Unsupported",
          where,
          `Entry ${quoted(name)} is not an .npy file; an .npz holds only .npy entries`,
        ),
      );
    }
    const key = name.slice(0, -4);
    const t = decodeNpy(data, `${where}#${key}`, true); // entries are fresh buffers
    if (E.isLeft(t)) return t;
    out.set(key, t.right);
  }
  return E.right(out);
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Reads an `.npz` archive.
 *
 * @param path the file
 * @param options `maxBytes`: the largest archive and total contents accepted (default 2 GiB)
 * @returns key → tensor, or a problem (`NotFound` for a missing file, then as {@link parseNpz})
 * @example
 * ```ts
 * import { readNpz, writeNpz } from "./npz.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const path = await Deno.makeTempFile({ suffix: ".npz" });
 * await writeNpz(path, { a: hostTensor("int32", [2], new Int32Array([1, 2])) });
 * const r = await readNpz(path);
 * assert(r._tag === "Right" && r.right.get("a")?.data[1] === 2);
 * await Deno.remove(path);
 * ```
 */
export async function readNpz(
  path: string | URL,
  options: ReadNpzOptions = {},
): Promise<E.Either<Problem, ReadonlyMap<string, HostTensor>>> {
  const max = options.maxBytes ?? NPZ_DEFAULT_MAX_BYTES;
  const bytes = await readFileCapped(path, max, "an .npz file");
  return E.isLeft(bytes) ? bytes : parseNpz(bytes.right, pathText(path), { maxBytes: max });
}

/**
 * Options for {@link encodeNpz} and {@link writeNpz}.
 *
 * @example
 * ```ts
 * import { encodeNpz, type WriteNpzOptions } from "./npz.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const zeros = hostTensor("float32", [1000], new Float32Array(1000));
 * const compressed: WriteNpzOptions = { compress: true }; // like np.savez_compressed
 * assert(encodeNpz({ zeros }, compressed).length < encodeNpz({ zeros }).length);
 * ```
 */
export interface WriteNpzOptions {
  /** Deflate the entries, like `np.savez_compressed` (default false: stored, like `np.savez`). */
  readonly compress?: boolean;
}

// A fixed timestamp (the DOS epoch) keeps archives byte-for-byte reproducible.
const MTIME = new Date(1980, 0, 1, 0, 0, 0);

/**
 * Encodes tensors as an `.npz` archive (each entry `<key>.npy`, see `encodeNpy`).
 *
 * @param entries key → tensor; keys must be non-empty
 * @param options `compress`: deflate the entries (default false)
 * @returns the archive's bytes
 * @throws {RangeError} for an empty key
 * @example
 * ```ts
 * import { encodeNpz, parseNpz } from "./npz.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const b = encodeNpz({ x: hostTensor("bool", [2], new Uint8Array([1, 0])) }, { compress: true });
 * const r = parseNpz(b, "mem.npz");
 * assert(r._tag === "Right" && r.right.get("x")?.data[0] === 1);
 * ```
 */
export function encodeNpz(entries: NamedTensors, options: WriteNpzOptions = {}): Uint8Array {
  const files: Zippable = {};
  const level = options.compress ? 6 : 0;
  for (const [key, t] of namedEntries(entries)) {
    if (key === "") throw new RangeError("An .npz key is empty; expected a non-empty name");
    files[`${key}.npy`] = [encodeNpy(t), { level, mtime: MTIME }];
  }
  return zipSync(files);
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Writes tensors as an `.npz` archive, atomically (a temporary file in the same directory,
 * renamed over `path`).
 *
 * @param path the file to write
 * @param entries key → tensor
 * @param options `compress`: deflate the entries, like `np.savez_compressed` (default false)
 * @returns nothing, or an `Io`/`NotFound`/`Invalid` problem
 * @example
 * ```ts
 * import { writeNpz } from "./npz.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const t = hostTensor("float32", [1], new Float32Array([1]));
 * assert((await writeNpz(`${dir}/a.npz`, new Map([["w", t]]))). _tag === "Right");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function writeNpz(
  path: string | URL,
  entries: NamedTensors,
  options: WriteNpzOptions = {},
): Promise<E.Either<Problem, void>> {
  for (const [key] of namedEntries(entries)) {
    if (key === "") {
      return Promise.resolve(
        E.left(
          problem("Invalid", pathText(path), "An .npz key is empty; expected a non-empty name"),
        ),
      );
    }
  }
  const bytes = encodeNpz(entries, options);
  return writeAtomic(path, bytes);
}
