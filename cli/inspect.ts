/**
 * `inspect FILE`: one line per tensor with its dtype, shape and summary statistics.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { initBackend } from "../backend.ts";
import { hostTensor, type Stats, stats } from "../io/host_tensor.ts";
import { openTensorFile } from "../io/tensor_file.ts";
import { loadModel } from "../model/load.ts";
import type { Problem } from "../problem.ts";
import { countParams, disposeTree, flatten } from "../tree/tree.ts";
import { EMBEDDED_PREFIX } from "../config/schema.ts";
import { didYouMean } from "../config/suggest.ts";
import { UsageError } from "./args.ts";
import { embeddedModelNames, localModelDir } from "./embedded.ts";

/** Formats a statistic compactly: 6 significant digits, exponent form when very large or small. */
function num(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e6 || a < 1e-4)) return x.toExponential(5);
  return Number(x.toPrecision(6)).toString();
}

function row(name: string, dtype: string, shape: readonly number[], s: Stats): string[] {
  return [name, dtype, `[${shape.join(", ")}]`, num(s.mean), num(s.std), num(s.min), num(s.max)];
}

/** Writes a header and the rows, in aligned columns. */
function table(rows: readonly string[][], write: (line: string) => void): void {
  const all = [["name", "dtype", "shape", "mean", "std", "min", "max"], ...rows];
  const widths = all[0].map((_, c) => Math.max(...all.map((r) => r[c].length)));
  for (const r of all) write(r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd());
}

/**
 * Lines describing every tensor in a tensor file: a header, then `name dtype shape mean std min max`
 * for each tensor (statistics accumulated in float64). Tensors are read one at a time.
 *
 * @param path an `.npy`, `.npz`, `.safetensors` or `model.safetensors.index.json` file
 * @param write where each line goes
 * @returns nothing, or the problem that stopped it
 * @example
 * ```ts
 * import { inspectFile } from "./inspect.ts";
 * import assert from "node:assert/strict";
 * const r = await inspectFile("missing.npy", () => {});
 * assert(r._tag === "Left");
 * ```
 */
export async function inspectFile(
  path: string,
  write: (line: string) => void,
): Promise<E.Either<Problem, void>> {
  const opened = await openTensorFile(path);
  if (E.isLeft(opened)) return opened;
  const source = opened.right;
  try {
    const rows: string[][] = [];
    for (const entry of source.entries) {
      const read = await source.read(entry.name);
      if (E.isLeft(read)) return read;
      rows.push(row(entry.name, entry.dtype, entry.shape, stats(read.right)));
    }
    table(rows, write);
    return E.right(undefined);
  } finally {
    source.close();
  }
}

/**
 * Lines describing a checkpoint directory (Hugging Face or T5X): the architecture and format, the
 * parameter count, then the tensor table of the loaded tree (paths as the library names them).
 * The whole model is loaded and checked, so a broken directory is reported.
 *
 * @param dir the checkpoint directory
 * @param write where each line goes
 * @returns nothing, or the problem that stopped it
 * @example
 * ```ts
 * import { inspectModelDir } from "./inspect.ts";
 * import assert from "node:assert/strict";
 * const r = await inspectModelDir("no/such/dir", () => {});
 * assert(r._tag === "Left");
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
export async function inspectModelDir(
  dir: string,
  write: (line: string) => void,
): Promise<E.Either<Problem, void>> {
  const started = await initBackend("wasm");
  if (E.isLeft(started)) return started;
  const loaded = await loadModel(dir);
  if (E.isLeft(loaded)) return loaded;
  const model = loaded.right;
  try {
    write(`architecture: ${model.architecture} (${model.format} checkpoint)`);
    write(`parameters: ${countParams(model.params).toLocaleString("en-US")}`);
    const rows = flatten(model.params).map(([path, t]) => {
      const h = hostTensor("float32", t.shape, t.dataSync() as Float32Array);
      return row(path, t.dtype, t.shape, stats(h));
    });
    table(rows, write);
    return E.right(undefined);
  } finally {
    disposeTree(model.params);
  }
}

/**
 * What `inspect` reads for its argument: the path itself, or for `embedded:<name>` the embedded
 * model's folder on the local disk (fetched first when the package was imported from a URL).
 *
 * @param given the argument
 * @returns a local path; throws `UsageError` for an unknown embedded name
 * @example
 * ```ts
 * import { inspectTarget } from "./inspect.ts";
 * import assert from "node:assert/strict";
 * assert.equal(await inspectTarget("prompt.npy"), "prompt.npy");
 * assert((await inspectTarget("embedded:default")).endsWith("lm_adapted"));
 * await assert.rejects(inspectTarget("embedded:defualt"), /did you mean default/);
 * ```
 */
export async function inspectTarget(given: string): Promise<string> {
  if (!given.startsWith(EMBEDDED_PREFIX)) return given;
  const dir = await localModelDir(given);
  if (dir === undefined) {
    throw new UsageError(
      `Unknown embedded model ${JSON.stringify(given)}${
        didYouMean(given.slice(EMBEDDED_PREFIX.length), embeddedModelNames())
      }`,
    );
  }
  return dir;
}
