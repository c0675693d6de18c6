/**
 * Initialization from a given array or a file: `.npy`, a tensor in `.npz` / `.safetensors`, or a
 * PEFT adapter directory.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { isFloatDType } from "../io/dtype.ts";
import { type HostTensor, toFloat64 } from "../io/host_tensor.ts";
import { openTensorFile } from "../io/tensor_file.ts";
import { readPeftAdapter } from "../training/peft.ts";
import { type Problem, problem } from "../problem.ts";
import { checkShape, type Initializer } from "./types.ts";

function fromValues(values: Float32Array, arrayShape: readonly number[], who: string): Initializer {
  return (_key, shape) => {
    checkShape(shape, who);
    const same = shape.length === arrayShape.length && shape.every((d, i) => d === arrayShape[i]);
    if (!same) {
      throw new RangeError(
        `${who}: the array has shape [${arrayShape.join(", ")}] but the prompt is [${
          shape.join(", ")
        }]`,
      );
    }
    return tf.tensor(values, [...shape], "float32");
  };
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * The given values, whatever the key (this initializer ignores the key). The values are copied
 * now, so later changes to (or disposal of) `array` do not affect the prompt. The shape asked for
 * must equal the array's, else an error names both.
 *
 * @param array a float tensor or host tensor, usually `[P, H]`
 * @returns an initializer returning a fresh float32 tensor each call
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import { fromArray } from "./array.ts";
 * import assert from "node:assert/strict";
 * const src = tf.tensor2d([[1, 2], [3, 4]]);
 * const p = fromArray(src)(key(0), [2, 2]);
 * assert((p.arraySync() as number[][])[1][0] === 3);
 * tf.dispose([src, p]);
 * ```
 */
export function fromArray(array: tf.Tensor | HostTensor): Initializer {
  const who = "fromArray()";
  if (array instanceof tf.Tensor) {
    if (array.dtype !== "float32") {
      throw new TypeError(`${who}: expected a float32 tensor, got ${array.dtype}`);
    }
    return fromValues(Float32Array.from(array.dataSync() as Float32Array), array.shape, who);
  }
  if (!isFloatDType(array.dtype)) {
    throw new TypeError(`${who}: expected a floating-point array, got ${array.dtype}`);
  }
  return fromValues(Float32Array.from(toFloat64(array)), array.shape, who);
}

/**
 * Options of {@link fromFile}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import { hostTensor } from "../io/host_tensor.ts";
 * import { writeNpz } from "../io/npz.ts";
 * import { orThrow } from "../problem.ts";
 * import { fromFile, type FromFileOptions } from "./array.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const row = (v: number) => hostTensor("float32", [1, 2], new Float32Array([v, v]));
 * await writeNpz(`${dir}/ckpt.npz`, { a: row(1), b: row(2) });
 * assert((await fromFile(`${dir}/ckpt.npz`))._tag === "Left"); // which of a and b?
 * const options: FromFileOptions = { name: "b" };
 * const p = orThrow(await fromFile(`${dir}/ckpt.npz`, options))(key(0), [1, 2]);
 * assert(p.dataSync()[0] === 2);
 * tf.dispose(p);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface FromFileOptions {
  /**
   * The tensor to take from an `.npz` or `.safetensors` file. Default: the only tensor, else one
   * named `prompt` or `prompt_embeddings`.
   */
  readonly name?: string;
}

async function readOne(
  path: string,
  options: FromFileOptions,
): Promise<E.Either<Problem, HostTensor>> {
  const opened = await openTensorFile(path);
  if (E.isLeft(opened)) return opened;
  const source = opened.right;
  try {
    const names = source.entries.map((e) => e.name);
    let name = options.name;
    if (name === undefined) {
      if (names.length === 1) name = names[0];
      else name = ["prompt", "prompt_embeddings"].find((n) => names.includes(n));
    }
    if (names.length === 0) {
      return E.left(problem("NotFound", path, "The file holds no arrays; expected the prompt"));
    }
    if (name === undefined || !names.includes(name)) {
      return E.left(
        problem(
          "NotFound",
          path,
          `${
            name === undefined ? "Several tensors and none chosen" : `No tensor named "${name}"`
          }; pass a name, one of: ${names.slice(0, 20).join(", ")}${
            names.length > 20 ? ", …" : ""
          }`,
        ),
      );
    }
    return await source.read(name);
  } finally {
    source.close();
  }
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * A prompt read from a file, whatever the key (this initializer ignores the key): an `.npy`, a
 * tensor in an `.npz` or `.safetensors` file, or a PEFT adapter directory's `prompt_embeddings`
 * (for seq2seq adapters, saved as `[2P, H]`, the encoder's first `P` rows). The file is read and
 * checked now; the shape asked for must match exactly when the initializer is called.
 *
 * @param path the file or adapter directory
 * @param options which tensor to take from a file that holds several
 * @returns the initializer, or a problem naming the file and what was wrong
 * @example
 * ```ts
 * import { fromFile } from "./array.ts";
 * import assert from "node:assert/strict";
 * const init = await fromFile("missing.npy");
 * assert(init._tag === "Left");
 * ```
 */
export async function fromFile(
  path: string,
  options: FromFileOptions = {},
): Promise<E.Either<Problem, Initializer>> {
  let isDir = false;
  try {
    isDir = (await Deno.stat(path)).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return E.left(problem("NotFound", path, "No such file"));
    return E.left(problem("Io", path, e instanceof Error ? e.message : String(e)));
  }
  const read = isDir
    ? E.map((a: { prompt: HostTensor }) => a.prompt)(await readPeftAdapter(path))
    : await readOne(path, options);
  if (E.isLeft(read)) return read;
  const h = read.right;
  if (!isFloatDType(h.dtype)) {
    return E.left(
      problem(
        "Unsupported",
        path,
        `The prompt has dtype ${h.dtype}; expected a floating-point type`,
      ),
    );
  }
  return E.right(fromValues(Float32Array.from(toFloat64(h)), h.shape, `fromFile(${path})`));
}
