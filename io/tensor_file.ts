/**
 * One door for every tensor file: `.npy`, `.npz`, `.safetensors`, sharded
 * `*.safetensors.index.json` and `.gguf` (dequantized to float32), chosen by the file's extension.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { basename } from "node:path";
import { type Problem, problem } from "../problem.ts";
import { fsProblem, pathText } from "./files.ts";
import type { HostTensor } from "./host_tensor.ts";
import type { TensorSource } from "./tensor_source.ts";

export type { TensorSource } from "./tensor_source.ts";
import { readNpy } from "./npy.ts";
import { readNpz } from "./npz.ts";
import { openSafetensors, openSafetensorsIndex } from "./safetensors.ts";
import { openGguf } from "./gguf.ts";

/**
 * The file extensions {@link openTensorFile} understands.
 *
 * @example
 * ```ts
 * import { TENSOR_FILE_EXTENSIONS } from "./tensor_file.ts";
 * import assert from "node:assert/strict";
 * const known = (p: string) => TENSOR_FILE_EXTENSIONS.some((x) => p.toLowerCase().endsWith(x));
 * assert(known("model.safetensors.index.json") && known("prompt.NPY") && !known("w.pt"));
 * ```
 */
export const TENSOR_FILE_EXTENSIONS: readonly string[] = [
  ".npy",
  ".npz",
  ".safetensors",
  ".safetensors.index.json",
  ".gguf",
];

function inMemory(where: string, tensors: ReadonlyMap<string, HostTensor>): TensorSource {
  const entries = [...tensors].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape }));
  return {
    entries: Object.freeze(entries),
    read(name) {
      const t = tensors.get(name);
      if (t) return Promise.resolve(E.right(t));
      const names = entries.map((e) => `'${e.name}'`).join(", ");
      return Promise.resolve(
        E.left(
          problem(
            "NotFound",
            where,
            `No tensor named '${name}'; the file holds ${names || "none"}`,
          ),
        ),
      );
    },
    close() {},
  };
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Opens a tensor file by its extension: `.npy` (one tensor, named after the file without
 * `.npy`), `.npz` (read whole), `.safetensors` (read on demand), `*.safetensors.index.json`
 * (a sharded checkpoint, read on demand) or `.gguf` (read on demand, dequantized to float32).
 * Call `close()` when done.
 *
 * @param path the file
 * @returns the source, or a problem: `NotFound` for a missing file, `Unsupported` for another
 * extension, or whatever the format's reader reports
 * @example
 * ```ts
 * import { openTensorFile } from "./tensor_file.ts";
 * import { writeNpy } from "./npy.ts";
 * import { hostTensor } from "./host_tensor.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await writeNpy(`${dir}/prompt.npy`, hostTensor("float32", [1, 2], new Float32Array([1, 2])));
 * const src = await openTensorFile(`${dir}/prompt.npy`);
 * assert(src._tag === "Right" && src.right.entries[0].name === "prompt");
 * const bad = await openTensorFile(`${dir}/prompt.txt`);
 * assert(bad._tag === "Left");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openTensorFile(path: string | URL): Promise<E.Either<Problem, TensorSource>> {
  const where = pathText(path);
  const lower = where.toLowerCase();
  const ext = TENSOR_FILE_EXTENSIONS.slice().reverse().find((x) => lower.endsWith(x));
  if (ext === undefined) {
    return E.left(
      problem(
        "Unsupported",
        where,
        `Unknown tensor file extension; expected one of ${TENSOR_FILE_EXTENSIONS.join(" ")}`,
      ),
    );
  }
  try {
    await Deno.stat(path);
  } catch (e) {
    return E.left(fsProblem(e, where, "find the file"));
  }
  switch (ext as ".npy" | ".npz" | ".safetensors" | ".safetensors.index.json" | ".gguf") {
    case ".npy": {
      const t = await readNpy(path);
      if (E.isLeft(t)) return t;
      const name = basename(where).slice(0, -".npy".length);
      return E.right(inMemory(where, new Map([[name, t.right]])));
    }
    case ".npz": {
      const m = await readNpz(path);
      return E.isLeft(m) ? m : E.right(inMemory(where, m.right));
    }
    case ".safetensors":
      return openSafetensors(path);
    case ".safetensors.index.json":
      return openSafetensorsIndex(path);
    case ".gguf":
      return openGguf(path);
  }
}
