/**
 * Ctrl-C in the commands that do not train (`eval`, `infer`): nothing there is worth finishing,
 * and every file is written atomically, so the first SIGINT stops at once, in one line, with the
 * exit code an unhandled Ctrl-C gives (130). `train` has its own: it finishes the step and writes
 * a checkpoint first (`training/interrupt.ts`).
 *
 * @module
 */
import { INTERRUPTED_EXIT } from "./args.ts";

/**
 * Stops the process on the first SIGINT with `Error: Interrupted during WHAT; …` on stderr and
 * exit code {@link INTERRUPTED_EXIT}. A file being written at that moment stays under its
 * temporary name; none appears half-written under its final name.
 *
 * @param what what was going on ("evaluation"), for the message
 * @returns a function that unsubscribes (idempotent)
 * @example
 * ```ts
 * import { exitOnInterrupt } from "./_interrupt.ts";
 * const stop = exitOnInterrupt("evaluation");
 * stop(); // always unsubscribe: the listener keeps the process alive
 * stop();
 * ```
 */
export function exitOnInterrupt(what: string): () => void {
  const listener = () => {
    console.error(`Error: Interrupted during ${what}; nothing was written`);
    Deno.exit(INTERRUPTED_EXIT);
  };
  Deno.addSignalListener("SIGINT", listener);
  let active = true;
  return () => {
    if (!active) return;
    active = false;
    Deno.removeSignalListener("SIGINT", listener);
  };
}
