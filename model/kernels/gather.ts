/**
 * A row gather for the WASM backend: `GatherV2` along the first axis (embedding lookups, the
 * prompt's placement and its gradient's extraction) as one copy per row, where the backend's own
 * kernel computes every element's address (a t5-small step's seven gathers took 71 ms; these
 * take a few). Other gathers, and any index out of range (for the backend's own error), go to
 * the backend's kernel.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { wrapKernel } from "./_wrap.ts";

/** The parts of the WASM backend the copy uses. */
interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** Four-byte dtypes, copied as they lie. */
const WORD: ReadonlySet<string> = new Set(["float32", "int32"]);

/**
 * Installs the row gather into the WASM backend (once; a no-op while another backend is
 * active). The model code calls it; nobody needs to by hand.
 *
 * @returns whether it is installed now
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { useRowGather } from "./gather.ts";
 * import assert from "node:assert/strict";
 * useRowGather(); // a no-op on the CPU backend
 * const rows = tf.tidy(() => tf.gather(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor1d([1, 1, 0], "int32")));
 * assert.deepEqual(rows.arraySync(), [[3, 4], [3, 4], [1, 2]]);
 * rows.dispose();
 * ```
 */
export function useRowGather(): boolean {
  return wrapKernel("GatherV2", "wasm", (args, base) => {
    const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const axis = Number(args.attrs?.axis ?? 0), batchDims = Number(args.attrs?.batchDims ?? 0);
    const backend = args.backend as Partial<WasmBackend>;
    if (
      (axis !== 0 && axis !== -x.shape.length) || batchDims !== 0 || !WORD.has(x.dtype) ||
      indices.dtype !== "int32" || typeof backend.makeOutput !== "function" ||
      typeof backend.typedArrayFromHeap !== "function" || x.shape.length === 0
    ) {
      return base(args);
    }
    const wasm = backend as WasmBackend;
    const rows = x.shape[0];
    const width = x.shape.slice(1).reduce((a, b) => a * b, 1);
    const count = indices.shape.reduce((a, b) => a * b, 1);
    let ids = wasm.typedArrayFromHeap(indices) as Int32Array;
    for (let i = 0; i < count; i++) if (!(ids[i] >= 0 && ids[i] < rows)) return base(args);
    const out = wasm.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    // Views after the output exists: making it may have grown (and so detached) the heap.
    ids = wasm.typedArrayFromHeap(indices) as Int32Array;
    const from = wasm.typedArrayFromHeap(x), to = wasm.typedArrayFromHeap(out);
    for (let i = 0; i < count; i++) {
      const at = ids[i] * width;
      to.set(from.subarray(at, at + width), i * width);
    }
    return out;
  });
}
