/**
 * A faster `BatchMatMul` for the WASM backend. TensorFlow.js 4.22's WASM kernel reaches its
 * XNNPACK fast path (~25–30 GFLOP/s on one core) only for one plain `[M, K] × [K, N]` product: a
 * transposed operand or a batch dimension sends it to a naive loop at ~2.3 GFLOP/s. Gradients of
 * every matmul use transposed operands, and attention is batched, so a training step spent most
 * of its time there. The replacement kernel transposes explicitly (a memory copy, a few ms) and
 * runs a batch as one 2-D product (when the right operand is shared) or as one 2-D product per
 * batch entry, each on the fast path. Results are the same products, summed in XNNPACK's order.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type BaseKernel, type KernelArgs, wrapKernel } from "./_wrap.ts";

const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/**
 * Installs the faster `BatchMatMul` into the WASM backend (once; later calls, and calls while
 * another backend is active, do nothing). The model code calls it before its first product, so
 * nobody needs to call it by hand.
 *
 * @returns whether the faster kernel is installed now
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { useFastMatMul } from "./matmul.ts";
 * import assert from "node:assert/strict";
 * useFastMatMul(); // a no-op on the CPU backend
 * const y = tf.tidy(() => tf.matMul(tf.ones([2, 3, 4]), tf.ones([2, 5, 4]), false, true));
 * assert(y.shape.join() === "2,3,5" && y.dataSync()[0] === 4);
 * y.dispose();
 * ```
 */
export function useFastMatMul(): boolean {
  return wrapKernel("BatchMatMul", "wasm", fastBatchMatMul);
}

/** The parts of tfjs-backend-wasm 4.22's `BackendWasm` this kernel uses. */
interface WasmBackendInternals {
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: "float32", memoryOffset?: number): tf.TensorInfo;
  wasm: {
    cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
    tfjs: { disposeData(id: number): void };
  };
}

let wasmMatMul: ((...args: unknown[]) => void) | undefined;

function internals(backend: unknown): WasmBackendInternals | undefined {
  const b = backend as Partial<WasmBackendInternals>;
  const ok = b?.dataIdMap !== undefined && typeof b.makeOutput === "function" &&
    typeof b.wasm?.cwrap === "function" && typeof b.wasm?.tfjs?.disposeData === "function";
  return ok ? b as WasmBackendInternals : undefined;
}

function fastBatchMatMul(
  args: KernelArgs,
  baseFunc: BaseKernel,
): tf.TensorInfo {
  const a = args.inputs.a as tf.Tensor, b = args.inputs.b as tf.Tensor;
  const transposeA = args.attrs?.transposeA === true;
  const transposeB = args.attrs?.transposeB === true;
  const batchA = size(a.shape.slice(0, -2)), batchB = size(b.shape.slice(0, -2));
  const plain = !transposeA && !transposeB && batchA === 1 && batchB === 1;
  const broadcastable = batchA === batchB || batchA === 1 || batchB === 1;
  const backend = internals(args.backend);
  if (
    plain || !broadcastable || a.dtype !== "float32" || b.dtype !== "float32" ||
    backend === undefined
  ) {
    return baseFunc(args);
  }
  if (
    batchA === 1 && batchB === 1 && transposeB && !transposeA &&
    4 * a.shape[a.rank - 2] * a.shape[a.rank - 1] < b.shape[b.rank - 2] * b.shape[b.rank - 1]
  ) {
    // a·bᵀ with a small a (an output head's gradient, [32, V] · [V, H]ᵀ... as [M, K] · [N, K]ᵀ):
    // (b · aᵀ)ᵀ moves a twice instead of the large b.
    return tf.tidy(() => {
      const [m, k] = a.shape.slice(-2), n = b.shape[b.rank - 2];
      const at = tf.transpose(a.reshape([m, k])); // [K, M]
      const bt = tf.matMul(b.reshape([n, k]), at); // [N, M]
      return tf.transpose(bt).reshape([...a.shape.slice(0, -2), m, n]); // [..., M, N]
    });
  }
  wasmMatMul ??= backend.wasm.cwrap("BatchMatMul", null, [
    "number",
    "array",
    "number",
    "number",
    "array",
    "number",
    "number",
    "number",
    "number",
  ]);
  // Plain [B, M, K] and [B, K, N] operands (transposed copies where needed).
  const [a3, b3] = tf.tidy(() => {
    const [ar, ac] = a.shape.slice(-2), [br, bc] = b.shape.slice(-2);
    const a3 = a.reshape([batchA, ar, ac]); // [Ba, ar, ac]
    const b3 = b.reshape([batchB, br, bc]); // [Bb, br, bc]
    return [
      transposeA ? tf.transpose(a3, [0, 2, 1]) : a3, // [Ba, M, K]
      transposeB ? tf.transpose(b3, [0, 2, 1]) : b3, // [Bb, K, N]
    ];
  });
  const [, m, k] = a3.shape as number[], n = b3.shape[2] as number;
  const outer = batchA >= batchB ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
  const batch = Math.max(batchA, batchB);
  const out = backend.makeOutput([...outer, m, n], "float32"); // [..., M, N]
  const offset = (t: { dataId: object }) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
  const aBase = offset(a3), bBase = offset(b3), outBase = offset(out);
  // Each product runs on 2-D views into the operands and the output (no copies): with a shared
  // right operand, one [Ba·M, K] × [K, N] product; otherwise one [M, K] × [K, N] per entry.
  const products = batchB === 1 ? [[batchA * m, 0, 0, 0]] : Array.from(
    { length: batch },
    (_, i) => [m, batchA === 1 ? 0 : i * m * k, i * k * n, i * m * n],
  );
  const views: tf.TensorInfo[] = [];
  const view = (base: number, at: number, shape: number[]) => {
    const v = backend.makeOutput(shape, "float32", base + 4 * at);
    views.push(v);
    return backend.dataIdMap.get(v.dataId)!.id;
  };
  const shapeBytes = (s: number[]) => new Uint8Array(new Int32Array(s).buffer);
  try {
    for (const [rows, at, bt, ot] of products) {
      wasmMatMul(
        view(aBase, at, [1, rows, k]),
        shapeBytes([1, rows, k]),
        3,
        view(bBase, bt, [1, k, n]),
        shapeBytes([1, k, n]),
        3,
        false,
        false,
        view(outBase, ot, [1, rows, n]),
      );
    }
  } finally {
    // Views share their memory with real tensors: forget them without freeing it.
    for (const v of views) {
      const id = backend.dataIdMap.get(v.dataId)!.id;
      (backend.dataIdMap as unknown as Map<object, unknown>).delete(v.dataId);
      backend.wasm.tfjs.disposeData(id);
    }
    if (a3 !== a) a3.dispose();
    if (b3 !== b) b3.dispose();
  }
  return out;
}
