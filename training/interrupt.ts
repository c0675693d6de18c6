/**
 * Interrupts (Ctrl-C) as a value the training loop subscribes to, so that tests can inject their
 * own and the loop always unsubscribes.
 *
 * @module
 */

/**
 * Something that can ask a run to stop: `listen` subscribes and returns the unsubscribe function.
 *
 * @example
 * ```ts
 * import type { InterruptSource } from "./interrupt.ts";
 * import assert from "node:assert/strict";
 * let fire = () => {};
 * const manual: InterruptSource = {
 *   listen(onInterrupt) {
 *     fire = onInterrupt;
 *     return () => fire = () => {};
 *   },
 * };
 * let stopped = false;
 * const stop = manual.listen(() => stopped = true);
 * fire();
 * stop();
 * assert(stopped);
 * ```
 */
export interface InterruptSource {
  /**
   * Subscribes to interrupts.
   *
   * @param onInterrupt called on each interrupt
   * @returns a function that unsubscribes (idempotent)
   */
  listen(onInterrupt: () => void): () => void;
}

/**
 * Ctrl-C (SIGINT) through `Deno.addSignalListener`. The first SIGINT calls the handler (the loop
 * finishes its step, writes a checkpoint and returns); a second one, while still subscribed,
 * exits the process at once with status 130, as an unhandled Ctrl-C would (a checkpoint is
 * either complete or absent, so nothing is corrupted).
 *
 * @example
 * ```ts
 * import { sigint } from "./interrupt.ts";
 * const stop = sigint.listen(() => console.log("stopping"));
 * stop(); // always unsubscribe: the listener keeps the process alive
 * ```
 */
export const sigint: InterruptSource = {
  listen(onInterrupt) {
    let count = 0;
    const listener = () => {
      count += 1;
      if (count > 1) Deno.exit(130);
      onInterrupt();
    };
    Deno.addSignalListener("SIGINT", listener);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      Deno.removeSignalListener("SIGINT", listener);
    };
  },
};
