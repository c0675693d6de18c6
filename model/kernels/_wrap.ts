/**
 * Puts a wrapper around one of a backend's registered kernels, once per process.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** What tfjs hands a kernel function. */
export type KernelArgs = {
  inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap;
  backend: unknown;
};

/** The kernel that was registered before, for the wrapper to fall back to. */
export type BaseKernel = (args: KernelArgs) => tf.TensorInfo;

const wrapped = new Set<string>();

/**
 * Replaces kernel `kernelName` of backend `backendName` by `wrapper`, which gets the kernel it
 * replaces as its fallback; keeps the original's setup and dispose functions. Does nothing (and
 * says so) while another backend is active or when the kernel is not registered; once done,
 * later calls return `true` at once.
 *
 * @param kernelName the kernel, e.g. `"BatchMatMul"`
 * @param backendName the backend, e.g. `"wasm"`
 * @param wrapper the new kernel function
 * @returns whether the wrapper is in place now
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { wrapKernel } from "./_wrap.ts";
 * import assert from "node:assert/strict";
 * await tf.setBackend("cpu");
 * assert.equal(wrapKernel("Neg", "wasm", (a, base) => base(a)), false); // not the active backend
 * ```
 */
export function wrapKernel(
  kernelName: string,
  backendName: string,
  wrapper: (args: KernelArgs, base: BaseKernel) => tf.TensorInfo,
): boolean {
  const id = `${backendName}/${kernelName}`;
  if (wrapped.has(id)) return true;
  if (tf.getBackend() !== backendName) return false;
  const base = tf.getKernel(kernelName, backendName);
  if (base === undefined) return false;
  const baseFunc = base.kernelFunc as BaseKernel;
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({
    kernelName,
    backendName,
    setupFunc: base.setupFunc,
    disposeFunc: base.disposeFunc,
    kernelFunc: ((args: KernelArgs) => wrapper(args, baseFunc)) as tf.KernelFunc,
  });
  wrapped.add(id);
  return true;
}
