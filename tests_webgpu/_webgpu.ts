/**
 * Starting the WebGPU backend for the tests of this folder, or failing: a machine without a GPU
 * gets a software adapter from Mesa's lavapipe (Debian: `mesa-vulkan-drivers`), so a missing
 * adapter is a setup error to fix, not a reason to skip.
 *
 * Not a test file itself (no `_test` suffix).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { type BackendName, initBackend } from "../backend.ts";
import { orThrow } from "../problem.ts";

/** The one-line message of a machine without a WebGPU adapter. */
export const NO_ADAPTER =
  "No WebGPU adapter (navigator.gpu.requestAdapter() gave null): install mesa-vulkan-drivers for a software one (apt-get install -y mesa-vulkan-drivers), then rerun deno task test:webgpu";
/** The one-line message of a runtime without `navigator.gpu`. */
export const NO_WEBGPU =
  "navigator.gpu is missing: run with --unstable-webgpu (deno task test:webgpu), and install mesa-vulkan-drivers where there is no GPU";

/** The adapter's description, e.g. `llvmpipe (LLVM 15.0.6, 256 bits)`; throws without one. */
export async function adapterDescription(): Promise<string> {
  const gpu = (navigator as unknown as { gpu?: GPU }).gpu;
  if (gpu === undefined) throw new Error(NO_WEBGPU);
  const adapter = await gpu.requestAdapter();
  if (adapter === null) throw new Error(NO_ADAPTER);
  return adapter.info.description || adapter.info.vendor;
}

/** Makes `name` the active backend; WebGPU must really start (no fallback to WASM). */
export async function use(name: BackendName): Promise<void> {
  if (name === "webgpu") await adapterDescription();
  const notes: string[] = [];
  orThrow(await initBackend(name, { onNotice: (m) => notes.push(m) }));
  if (tf.getBackend() !== name) throw new Error(notes[0] ?? `${name} did not start`);
}
