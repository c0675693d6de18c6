/**
 * Lets tfjs-backend-wasm's threaded SIMD build start under Deno.
 *
 * Under Deno, the build's Emscripten loader believes it runs in Node (`process.versions.node` is
 * set) and makes its pthreads with `worker_threads.Worker` from a `blob:` URL holding a classic
 * script that loads the main script with `importScripts`. Deno's `worker_threads` takes neither
 * a `blob:` URL nor a classic script. {@link installDenoPthreads} replaces that `Worker` with
 * one that runs the same pthread script in a Deno module worker: the worker sees a browser
 * worker (no `process`, an `importScripts`), the scripts it would import are sent to it as text
 * and evaluated in its global scope, and messages keep their order. The WebAssembly memory is
 * shared between the workers as in a browser.
 *
 * @module
 */

/**
 * Runs first in each pthread worker (a `worker_threads` worker, so that it can be unref'd): makes
 * the worker look like a browser worker to Emscripten, and evaluates the scripts sent as text.
 */
const BOOT = `
import { parentPort } from "node:worker_threads";
delete globalThis.process;
globalThis.self = globalThis;
globalThis.importScripts = () => {};
globalThis.postMessage = (message, transfer) => parentPort.postMessage(message, transfer);
parentPort.on("message", (data) => {
  if (data !== null && typeof data === "object" && typeof data.__script === "string") {
    (0, eval)(data.__script);
  } else if (typeof self.onmessage === "function") {
    self.onmessage({ data });
  }
});
`;

/** Node's `Worker` (Deno's), as Emscripten's pthread code uses it. */
interface NodeWorker {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
}

type NodeWorkerClass = new (url: URL) => NodeWorker;

/** Deno's `worker_threads.Worker`, started on {@link BOOT}, fed the pthread scripts as text. */
function pthreadWorkerClass(Base: NodeWorkerClass) {
  const boot = new URL(`data:text/javascript;base64,${btoa(BOOT)}`);
  return class DenoPthread extends Base {
    /**
     * Never keeps the process alive: Emscripten refs a worker while it runs a pthread, and the
     * pool's pthreads run until the process ends.
     */
    ref(): void {}

    /** Messages waiting for a script to be read, in order; none once the scripts are sent. */
    #queue: Promise<void> | undefined;

    constructor(url: string | URL) {
      super(boot);
      this.#later(fetch(url).then((r) => r.text()).then((t) => super.postMessage({ __script: t })));
    }

    /** Queues `step` after what is queued, and clears the queue once it has run dry. */
    #later(step: Promise<void>): void {
      const queued = (this.#queue ?? Promise.resolve()).then(() => step);
      this.#queue = queued;
      queued.then(() => {
        if (this.#queue === queued) this.#queue = undefined;
      });
    }

    override postMessage(message: unknown, transfer?: readonly unknown[]): void {
      const m = message as Record<string, unknown> | null;
      // The "load" command carries the main script as a Blob for importScripts: send its text.
      if (m !== null && typeof m === "object" && m.cmd === "load" && m.urlOrBlob instanceof Blob) {
        const blob = m.urlOrBlob as Blob;
        const after = this.#queue ?? Promise.resolve();
        this.#later(
          after.then(() => blob.text()).then((text) => {
            super.postMessage({ __script: text });
            super.postMessage({ ...m, urlOrBlob: "sent-as-text" }, transfer);
          }),
        );
      } else if (this.#queue !== undefined) {
        this.#later(Promise.resolve().then(() => super.postMessage(m, transfer)));
      } else {
        // At once: the main thread may block (on a pthread's start) right after posting.
        super.postMessage(m, transfer);
      }
    }
  };
}

/** The part of Node's `fs` that Emscripten writes its messages with, in Node mode. */
interface NodeFs {
  writeSync(fd: number, data: unknown, ...rest: unknown[]): number;
}

/**
 * The threaded build runs in Node mode, where Emscripten writes `Aborted(…)` straight to stderr
 * when the engine fails (a full WASM heap); the error it then throws reaches the caller, who
 * reports it in one line (`training/memory.ts`). Only that write is dropped.
 */
function quietAborts(fs: NodeFs | undefined): void {
  if (fs === undefined || typeof fs.writeSync !== "function") return;
  const writeSync = fs.writeSync.bind(fs);
  fs.writeSync = (fd: number, data: unknown, ...rest: unknown[]): number =>
    fd === 2 && typeof data === "string" && data.startsWith("Aborted(")
      ? data.length
      : writeSync(fd, data, ...rest);
}

let installed = false;
/** `worker_threads.Worker` as it was before {@link installDenoPthreads} replaced it. */
let nodeWorker: unknown;

/**
 * Deno's own `worker_threads.Worker` (not the pthread one {@link installDenoPthreads} puts in
 * its place), for workers of our own; undefined outside Deno.
 *
 * @returns the class, or undefined
 * @example
 * ```ts
 * import { plainNodeWorker } from "./_deno_pthreads.ts";
 * import assert from "node:assert/strict";
 * assert.equal(typeof plainNodeWorker(), "function");
 * ```
 */
export function plainNodeWorker(): (new (url: URL) => unknown) | undefined {
  return (nodeWorker ?? denoBuiltin<{ Worker: unknown }>("node:worker_threads")?.Worker) as
    | (new (url: URL) => unknown)
    | undefined;
}

/** A Node built-in as Deno's `process.getBuiltinModule` gives it; undefined outside Deno. */
function denoBuiltin<T>(name: string): T | undefined {
  const g = globalThis as unknown as {
    Deno?: unknown;
    process?: { getBuiltinModule?: (name: string) => unknown };
  };
  return g.Deno === undefined ? undefined : g.process?.getBuiltinModule?.(name) as T | undefined;
}

/**
 * Makes `worker_threads.Worker` start tfjs's pthreads in Deno module workers. Does nothing
 * outside Deno, or when done before.
 *
 * @returns whether the pthreads can start (Deno, with `SharedArrayBuffer`)
 * @example
 * ```ts
 * import { installDenoPthreads } from "./_deno_pthreads.ts";
 * import assert from "node:assert/strict";
 * assert.equal(installDenoPthreads(), true);
 * assert.equal(installDenoPthreads(), true); // once is enough
 * ```
 */
export function installDenoPthreads(): boolean {
  if (installed) return true;
  const threads = denoBuiltin<{ Worker: unknown }>("node:worker_threads");
  if (threads === undefined || typeof SharedArrayBuffer !== "function") return false;
  nodeWorker = threads.Worker;
  threads.Worker = pthreadWorkerClass(threads.Worker as NodeWorkerClass);
  quietAborts(denoBuiltin<NodeFs>("node:fs"));
  installed = true;
  return true;
}

/**
 * Runs `start` (the backend's start) while Node's `os.cpus()` lists `threads` × 2 processors:
 * the threaded build sizes its pool as `min(threads asked, logical cores / 2)`, taking every
 * two logical cores for one physical core, which would give a 2-core machine one thread.
 *
 * @param threads the threads wanted
 * @param start what starts the backend
 * @returns what `start` returns
 * @example
 * ```ts
 * import { withLogicalCores } from "./_deno_pthreads.ts";
 * import os from "node:os";
 * import assert from "node:assert/strict";
 * const cpus = os.cpus;
 * assert.equal(await withLogicalCores(3, () => Promise.resolve(os.cpus().length)), 6);
 * assert.equal(os.cpus, cpus); // as before, once the backend has started
 * ```
 */
export async function withLogicalCores<A>(threads: number, start: () => Promise<A>): Promise<A> {
  const g = globalThis as unknown as {
    process?: { getBuiltinModule?: (name: string) => unknown };
  };
  const os = g.process?.getBuiltinModule?.("node:os") as { cpus: () => unknown[] } | undefined;
  if (os === undefined) return await start();
  const cpus = os.cpus;
  // Only the count is read; the real list would need --allow-sys.
  const one = { model: "", speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } };
  os.cpus = () => Array.from({ length: threads * 2 }, () => one);
  try {
    return await start();
  } finally {
    os.cpus = cpus;
  }
}
