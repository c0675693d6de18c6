/**
 * A zero-copy `Identity` (and `Cast` to the dtype a tensor already has) for the WASM backend. TensorFlow.js clones every tensor it saves for a
 * backward pass, and the WASM backend's `Identity` copies the data: during a training step every
 * activation existed twice, and the copies cost time. Tensor data is never written after it is
 * made, so the clone can share the input's memory (with a reference count), as the CPU backend's
 * `Identity` already does. A gradient's `cast(x, "float32")` of a float32 tensor is the same
 * copy in the WASM backend's `Cast`; it shares the data too.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { wrapKernel } from "./_wrap.ts";

interface RefCounting {
  incRef(dataId: object): void;
}

/**
 * Installs the zero-copy `Identity` and same-dtype `Cast` into the WASM backend (once; a no-op while another backend
 * is active). The model code calls it; nobody needs to by hand.
 *
 * @returns whether it is installed now
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { useSharedIdentity } from "./identity.ts";
 * import assert from "node:assert/strict";
 * useSharedIdentity(); // a no-op on the CPU backend
 * const x = tf.tensor1d([1, 2]);
 * const y = tf.clone(x);
 * x.dispose();
 * assert(y.dataSync().join() === "1,2");
 * y.dispose();
 * ```
 */
export function useSharedIdentity(): boolean {
  const share: Parameters<typeof wrapKernel>[2] = (args, base) => {
    const x = args.inputs.x as tf.TensorInfo;
    const backend = args.backend as Partial<RefCounting>;
    const dtype = args.attrs?.dtype ?? x.dtype;
    if (x.dtype === "string" || dtype !== x.dtype || typeof backend.incRef !== "function") {
      return base(args);
    }
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  // Both, not the second only when the first is in place.
  const identity = wrapKernel("Identity", "wasm", share);
  return wrapKernel("Cast", "wasm", share) && identity;
}
