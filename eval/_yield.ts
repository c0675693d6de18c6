/**
 * Yielding to the event loop between batches of synchronous work. A WASM backend computes a
 * batch synchronously and `await tensor.data()` resolves as a microtask, so a loop over batches
 * never lets timers or signal listeners run (Ctrl-C would wait for the whole evaluation).
 *
 * @module
 */

/**
 * A function to await between batches: it lets the event loop run once `everyMs` milliseconds
 * have passed since it last did, and returns at once otherwise (a timer costs up to a few
 * milliseconds).
 *
 * @param everyMs the most time between two turns of the event loop (default 50)
 * @returns the function to await
 * @example
 * ```ts
 * import { yielder } from "./_yield.ts";
 * import assert from "node:assert/strict";
 * const pause = yielder(0);
 * let ran = false;
 * setTimeout(() => ran = true, 0);
 * await pause();
 * assert(ran);
 * ```
 */
export function yielder(everyMs = 50): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < everyMs) return;
    await new Promise((resolve) => setTimeout(resolve, 0));
    last = performance.now();
  };
}
