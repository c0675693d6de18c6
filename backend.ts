/**
 * The compute engine: TensorFlow.js, with the WASM SIMD backend on CPU.
 *
 * The backend is chosen once, at start, by {@link initBackend}.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import * as E from "fp-ts/Either";
import { type Problem, problem } from "./problem.ts";

/**
 * Backends this library can run on.
 *
 * @example
 * ```ts
 * import { type BackendName, initBackend } from "./backend.ts";
 * const name: BackendName = "cpu";
 * const started = await initBackend(name);
 * console.assert(started._tag === "Right" && started.right === "cpu");
 * ```
 */
export type BackendName = "wasm" | "cpu";

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Starts a TensorFlow.js backend, once. The WASM backend reads its `.wasm` binary from the
 * installed npm package, so it needs read permission there.
 *
 * @param name the backend to start (default `"wasm"`, with SIMD where the runtime has it)
 * @returns the backend's name, or a problem saying why it could not start
 * @example
 * ```ts
 * import { initBackend } from "./backend.ts";
 * const started = await initBackend("cpu");
 * console.assert(started._tag === "Right");
 * ```
 */
export async function initBackend(name: BackendName = "wasm"): Promise<E.Either<Problem, string>> {
  if (tf.getBackend() === name) return E.right(name);
  // tfjs logs its own hint when a backend fails; we report one line instead.
  const warn = console.warn;
  console.warn = () => {};
  let ok = false;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
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
  return E.right(name);
}
