/**
 * `inspect FILE`: one line per tensor with its dtype, shape and summary statistics.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { stats } from "../io/host_tensor.ts";
import { openTensorFile } from "../io/tensor_file.ts";
import type { Problem } from "../problem.ts";

/** Formats a statistic compactly: 6 significant digits, exponent form when very large or small. */
function num(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e6 || a < 1e-4)) return x.toExponential(5);
  return Number(x.toPrecision(6)).toString();
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
 * const r = await inspectFile("missing.npy", () => {});
 * console.assert(r._tag === "Left");
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
    const rows: string[][] = [["name", "dtype", "shape", "mean", "std", "min", "max"]];
    for (const entry of source.entries) {
      const read = await source.read(entry.name);
      if (E.isLeft(read)) return read;
      const s = stats(read.right);
      rows.push([
        entry.name,
        entry.dtype,
        `[${entry.shape.join(", ")}]`,
        num(s.mean),
        num(s.std),
        num(s.min),
        num(s.max),
      ]);
    }
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows) write(r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd());
    return E.right(undefined);
  } finally {
    source.close();
  }
}
