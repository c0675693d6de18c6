/**
 * The compute engine: TensorFlow.js, with the WASM SIMD backend on CPU and WebGPU where the
 * runtime has a GPU (`navigator.gpu`; Deno needs `--unstable-webgpu`).
 *
 * The backend is chosen once, at start, by {@link initBackend}.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import * as E from "fp-ts/Either";
import { type Problem, problem } from "./problem.ts";
import { installDenoPthreads, withLogicalCores } from "./_deno_pthreads.ts";
import { useWebGpuMatMul } from "./model/kernels/webgpu_matmul.ts";
import { fastMatMulThreads, startFastMatMul } from "./model/kernels/matmul.ts";

/**
 * Backends this library can run on.
 *
 * @example
 * ```ts
 * import { type BackendName, initBackend } from "./backend.ts";
 * import assert from "node:assert/strict";
 * const name: BackendName = "cpu";
 * const started = await initBackend(name);
 * assert(started._tag === "Right" && started.right === "cpu");
 * ```
 */
export type BackendName = "wasm" | "cpu" | "webgpu";

/**
 * Options of {@link initBackend}.
 *
 * @example
 * ```ts
 * import { initBackend } from "./backend.ts";
 * import assert from "node:assert/strict";
 * const notes: string[] = [];
 * const r = await initBackend("webgpu", { onNotice: (m) => notes.push(m) });
 * assert(r._tag === "Right");
 * ```
 */
export interface InitBackendOptions {
  /**
   * Where the one-line notice goes when WebGPU is asked for but cannot start and the WASM
   * backend is used instead (default: stderr).
   */
  readonly onNotice?: (message: string) => void;
  /**
   * Where the WASM backend's `.wasm` files are served, as a URL prefix ending in `/` (a page
   * serves `tfjs-backend-wasm.wasm`, `tfjs-backend-wasm-simd.wasm` and
   * `tfjs-backend-wasm-threaded-simd.wasm` from `@tensorflow/tfjs-backend-wasm/dist/`). Default:
   * the installed npm package (Deno), or beside the page's script.
   */
  readonly wasmPaths?: string;
  /**
   * Threads of the WASM backend under Deno (its threaded SIMD build; 1 for the single-threaded
   * one). Default: the `SOFT_PROMPT_THREADS` environment variable where it is set and readable,
   * else every core (`navigator.hardwareConcurrency`), at most 8. In a browser tfjs decides.
   */
  readonly threads?: number;
}

/** The most threads asked for by default. */
const MAX_DEFAULT_THREADS = 8;

/** The WASM threads to start under Deno: the option, the environment, or the cores. */
function wantedThreads(option: number | undefined): number | string {
  if (option !== undefined) {
    return Number.isInteger(option) && option >= 1 && option <= 64
      ? option
      : `threads must be an integer from 1 to 64, got ${option}`;
  }
  let fromEnv: string | undefined;
  // Optional: this module also runs in a browser, where there is no Deno.
  const deno = (globalThis as { Deno?: { env: { get(key: string): string | undefined } } }).Deno;
  try {
    fromEnv = deno?.env.get("SOFT_PROMPT_THREADS");
  } catch {
    fromEnv = undefined; // no --allow-env: the default
  }
  if (fromEnv !== undefined && fromEnv !== "") {
    const n = Number(fromEnv);
    return Number.isInteger(n) && n >= 1 && n <= 64
      ? n
      : `SOFT_PROMPT_THREADS must be an integer from 1 to 64, got ${JSON.stringify(fromEnv)}`;
  }
  return Math.max(1, Math.min(MAX_DEFAULT_THREADS, navigator.hardwareConcurrency || 1));
}

/**
 * The threads the WASM backend computes its matrix products with (1 for its single-threaded
 * builds, or when another backend runs); element-wise kernels run on the calling thread.
 *
 * @returns the thread count
 * @example
 * ```ts
 * import { initBackend, wasmThreads } from "./backend.ts";
 * import assert from "node:assert/strict";
 * await initBackend("cpu");
 * assert.equal(wasmThreads(), 1);
 * ```
 */
export function wasmThreads(): number {
  return tf.getBackend() === "wasm" ? Math.max(1, fastMatMulThreads()) : 1;
}

/**
 * Makes a failed allocation of the WASM backend's tensors an error. Its `malloc` returns 0 when
 * the heap cannot grow, and the backend would take address 0 for the tensor: the next kernel
 * writes over the heap's start (a hang or a wrong answer, not a failure).
 */
function guardAllocations(): void {
  const wasm = (tf.backend() as unknown as { wasm?: { _malloc?: (n: number) => number } }).wasm;
  const malloc = wasm?._malloc;
  if (wasm === undefined || typeof malloc !== "function") return;
  wasm._malloc = (bytes: number) => {
    const at = malloc(bytes);
    if (at === 0 && bytes > 0) {
      throw new RangeError(`The WASM heap is out of memory (${bytes} more bytes)`);
    }
    return at;
  };
}

/** tfjs-webgpu calls `adapter.requestAdapterInfo()`, which Deno's adapters lack (they have `info`). */
function patchAdapterInfo(gpu: { requestAdapter: (o?: unknown) => Promise<unknown> }): void {
  const original = gpu.requestAdapter.bind(gpu);
  gpu.requestAdapter = async (o?: unknown) => {
    const adapter = await original(o) as Record<string, unknown> | null;
    if (adapter !== null && typeof adapter.requestAdapterInfo !== "function") {
      const info = adapter.info ?? {};
      Object.defineProperty(adapter, "requestAdapterInfo", { value: () => Promise.resolve(info) });
    }
    return adapter;
  };
}

/** Starts WebGPU, or returns why it cannot. */
async function startWebGpu(): Promise<string | undefined> {
  const gpu = (globalThis.navigator as unknown as { gpu?: unknown } | undefined)?.gpu;
  if (gpu === undefined || gpu === null) {
    return "navigator.gpu is missing (Deno needs --unstable-webgpu and a GPU)";
  }
  try {
    const adapter = await (gpu as { requestAdapter: () => Promise<unknown> }).requestAdapter();
    if (adapter === null) return "no GPU adapter was found";
    patchAdapterInfo(gpu as { requestAdapter: (o?: unknown) => Promise<unknown> });
    await import("@tensorflow/tfjs-backend-webgpu");
    const ok = await tf.setBackend("webgpu");
    await tf.ready();
    if (!ok || tf.getBackend() !== "webgpu") return "tfjs could not start it";
    useWebGpuMatMul();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message.split("\n")[0] : String(e);
  }
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Starts a TensorFlow.js backend, once. The WASM backend reads its `.wasm` binary from the
 * installed npm package, so it needs read permission there. `"webgpu"` falls back to WASM, with a
 * one-line notice, where WebGPU cannot start.
 *
 * @param name the backend to start (default `"wasm"`, with SIMD where the runtime has it)
 * @param options where the fallback notice goes
 * @returns the name of the backend started, or a problem saying why it could not start
 * @example
 * ```ts
 * import { initBackend } from "./backend.ts";
 * import assert from "node:assert/strict";
 * const started = await initBackend("cpu");
 * assert(started._tag === "Right");
 * ```
 */
export async function initBackend(
  name: BackendName = "wasm",
  options: InitBackendOptions = {},
): Promise<E.Either<Problem, string>> {
  if (tf.getBackend() === name) return E.right(name);
  if (name === "webgpu") {
    const why = await startWebGpu();
    if (why === undefined) return E.right("webgpu");
    (options.onNotice ?? ((m: string) => console.error(m)))(
      `WebGPU is not available (${why}); using the WASM backend`,
    );
    return await initBackend("wasm", options);
  }
  if (name === "wasm" && options.wasmPaths !== undefined) setWasmPaths(options.wasmPaths);
  /** The pool of the threaded build, under Deno; 0 for the single-threaded builds. */
  let pool = 0;
  if (name === "wasm" && "Deno" in globalThis) {
    const threads = wantedThreads(options.threads);
    if (typeof threads === "string") {
      return E.left(problem("Invalid", `backend ${name}`, threads));
    }
    // tfjs takes Deno for Node and never tries threads there; the pthreads are made to start.
    pool = threads > 1 && installDenoPthreads() ? threads : 0;
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", pool > 0);
    // The threaded build is for its shared memory, where our kernel's workers compute the
    // matrix products. Its own pool (XNNPACK's, for element-wise kernels) keeps to the calling
    // thread: handing a small kernel to another thread and waiting for it costs more than the
    // kernel, and its threads poll after each one, taking a core from ours (a t5-small step's
    // element-wise kernels on 2 cores: 0.4–0.5 s with a pool of 1, 1.0–1.3 s with 2, and the
    // products slower too).
    if (pool > 0) setThreadsCount(1);
  }
  // tfjs logs its own hint when a backend fails; we report one line instead.
  const warn = console.warn;
  console.warn = () => {};
  let ok = false;
  try {
    const start = async () => {
      const set = await tf.setBackend(name);
      await tf.ready();
      return set;
    };
    ok = pool > 0 ? await withLogicalCores(pool, start) : await start();
  } catch {
    ok = false;
  } finally {
    console.warn = warn;
  }
  if (!ok || tf.getBackend() !== name) {
    return E.left(
      problem(
        "Unsupported",
        `backend ${name}`,
        name === "wasm"
          ? "Could not start the WASM backend: it needs --allow-read to load its .wasm file from the npm package"
          : `Could not start the ${name} backend`,
      ),
    );
  }
  if (name === "wasm") {
    // Our matrix products on the backend's memory, on as many threads (its pool, or this one).
    await startFastMatMul(Math.max(1, pool), options.wasmPaths);
    // After the module has settled its exports (it replaces `_malloc` once it is ready).
    guardAllocations();
  }
  return E.right(name);
}
