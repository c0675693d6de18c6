/**
 * A faster `BatchMatMul` for the WASM backend. TensorFlow.js 4.22's WASM kernel reaches its
 * XNNPACK fast path (~25–30 GFLOP/s on one core, ~40% of the WASM SIMD peak) only for one plain
 * `[M, K] × [K, N]` product: a transposed operand or a batch dimension sends it to a naive loop at
 * ~2.3 GFLOP/s. Gradients of every matmul use transposed operands, and attention is batched. The
 * replacement runs every float32 product on our own kernel (`wasm/gemm.ts`: packed blocks,
 * `f32x4.relaxed_madd`, transposition by strides, the work split between the threads), with
 * tfjs's kernel left for other dtypes, empty products and before the kernel has started.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type BaseKernel, type KernelArgs, wrapKernel } from "./_wrap.ts";
import { type Gemm, startGemm } from "./wasm/gemm.ts";

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
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: "float32"): tf.TensorInfo;
  wasm: {
    _malloc(bytes: number): number;
    _free(at: number): void;
    wasmMemory?: WebAssembly.Memory;
    asm?: { memory?: WebAssembly.Memory };
  };
}

function internals(backend: unknown): WasmBackendInternals | undefined {
  const b = backend as Partial<WasmBackendInternals>;
  const ok = b?.dataIdMap !== undefined && typeof b.makeOutput === "function" &&
    typeof b.wasm?._malloc === "function";
  return ok ? b as WasmBackendInternals : undefined;
}

/** The kernel once {@link startFastMatMul} has started it. */
let gemm: Gemm | undefined;

/**
 * Starts our matrix-product kernel on the active WASM backend's memory (once), on `threads`
 * threads where the memory is shared. {@link initBackend} calls it; where the kernel cannot start
 * (its `.wasm` unreadable), products stay on tfjs's own kernel.
 *
 * @param threads the threads to compute with
 * @param base where the kernel's `.wasm` files are served (a URL prefix ending in `/`); default:
 *   beside its module
 * @returns the threads the kernel runs on, or 0 where it did not start
 */
export async function startFastMatMul(threads: number, base?: string): Promise<number> {
  if (gemm !== undefined) return gemm.threads;
  const backend = tf.getBackend() === "wasm" ? internals(tf.backend()) : undefined;
  const memory = backend?.wasm.wasmMemory ?? backend?.wasm.asm?.memory;
  if (backend === undefined || memory === undefined) return 0;
  try {
    const malloc = (bytes: number) => backend.wasm._malloc(bytes);
    const free = (at: number) => backend.wasm._free(at);
    gemm = await startGemm({ memory, malloc, free }, threads, base);
    return gemm.threads;
  } catch {
    return 0;
  }
}

/** The threads our matrix products run on (0 before {@link startFastMatMul}). */
export function fastMatMulThreads(): number {
  return gemm?.threads ?? 0;
}

function fastBatchMatMul(args: KernelArgs, baseFunc: BaseKernel): tf.TensorInfo {
  const a = args.inputs.a as tf.Tensor, b = args.inputs.b as tf.Tensor;
  const transposeA = args.attrs?.transposeA === true;
  const transposeB = args.attrs?.transposeB === true;
  const batchA = size(a.shape.slice(0, -2)), batchB = size(b.shape.slice(0, -2));
  const sameOuter = a.shape.slice(0, -2).join() === b.shape.slice(0, -2).join();
  const broadcastable = sameOuter || batchA === 1 || batchB === 1;
  const backend = internals(args.backend);
  const [ar, ac] = a.shape.slice(-2), [br, bc] = b.shape.slice(-2);
  const m = transposeA ? ac : ar, k = transposeA ? ar : ac, n = transposeB ? br : bc;
  if (
    gemm === undefined || backend === undefined || !broadcastable || a.dtype !== "float32" ||
    b.dtype !== "float32" || m * n * k === 0 || (transposeB ? bc : br) !== k
  ) {
    return baseFunc(args);
  }
  const outer = batchA >= batchB ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
  const out = backend.makeOutput([...outer, m, n], "float32"); // [..., M, N]
  const at = (t: { dataId: object }) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
  // Strides in bytes: a transposed operand is read across instead of copied.
  const strides = {
    ars: transposeA ? 4 : 4 * k,
    acs: transposeA ? 4 * m : 4,
    brs: transposeB ? 4 : 4 * n,
    bcs: transposeB ? 4 * k : 4,
    ldc: 4 * n,
  };
  // A shared right operand under a plain left one: one product of all the left rows.
  const stacked = batchB === 1 && !transposeA;
  gemm.run({
    ...strides,
    batch: stacked ? 1 : Math.max(batchA, batchB),
    m: stacked ? batchA * m : m,
    n,
    k,
    a: at(a),
    sa: batchA === 1 ? 0 : 4 * m * k,
    b: at(b),
    sb: batchB === 1 ? 0 : 4 * k * n,
    c: at(out),
    sc: 4 * m * n,
  });
  return out;
}
