/**
 * The server's batcher: requests queue their rows; a batch starts when the queue holds
 * `maxBatch` rows or when the first queued request has waited `windowMs`, takes whole requests
 * from the front up to `maxBatch` rows (a request larger than that alone), and hands the rows,
 * whatever their prompts, to the engine. One batch runs at a time. A batch that fails answers
 * each of its requests with a 500; the next batch runs as if nothing happened.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { errorLines } from "./args.ts";
import type { HttpError } from "./_serve_request.ts";
import type { Row, RowResult, RunBatch } from "./_serve_rows.ts";

/**
 * The batcher's counters since it started.
 *
 * @example
 * ```ts
 * import type { BatchStats } from "./_serve_batcher.ts";
 * import assert from "node:assert/strict";
 * const s: BatchStats = { requests: 2, rows: 3, batches: 1, mixed_batches: 1, largest_batch: 3, failed_batches: 0, engine_ms: 12.5, queued_rows: 0 };
 * assert(s.rows >= s.requests);
 * ```
 */
export interface BatchStats {
  /** Requests computed (or failed by their batch). */
  readonly requests: number;
  /** Rows computed. */
  readonly rows: number;
  /** Batches run. */
  readonly batches: number;
  /** Batches whose rows named more than one prompt. */
  readonly mixed_batches: number;
  /** The most rows of one batch. */
  readonly largest_batch: number;
  /** Batches the engine failed. */
  readonly failed_batches: number;
  /** Milliseconds spent in the engine (compute-bound when near the wall time). */
  readonly engine_ms: number;
  /** Rows waiting now. */
  readonly queued_rows: number;
}

/**
 * A running batcher.
 *
 * @example
 * ```ts
 * import type { Batcher } from "./_serve_batcher.ts";
 * import assert from "node:assert/strict";
 * const f = (b: Batcher) => b.stats().batches;
 * assert.equal(typeof f, "function");
 * ```
 */
export interface Batcher {
  /** Queues one request's rows; resolves with their results, in order, or a 500. */
  submit(rows: readonly Row[]): Promise<E.Either<HttpError, readonly RowResult[]>>;
  /** The counters. */
  stats(): BatchStats;
  /** Resolves when nothing is queued or running. */
  idle(): Promise<void>;
}

interface Waiting {
  readonly rows: readonly Row[];
  readonly done: (r: E.Either<HttpError, readonly RowResult[]>) => void;
}

/**
 * Makes a batcher over an engine.
 *
 * @param run the engine
 * @param options the batching window in milliseconds (0: batch what arrives together) and the
 *   most rows of a batch (1: one request at a time)
 * @returns the batcher
 * @example
 * ```ts
 * import { makeBatcher } from "./_serve_batcher.ts";
 * import assert from "node:assert/strict";
 * const batcher = makeBatcher(
 *   (rows) => Promise.resolve(rows.map((r) => ({ kind: "classify", scores: [r.inputIds.length], predicted: 0 }))),
 *   { windowMs: 5, maxBatch: 8 },
 * );
 * const row = (n: number) => ({ request: n, prompt: { name: "p" }, inputIds: [n], task: { kind: "classify" } }) as never;
 * const [a, b] = await Promise.all([batcher.submit([row(1)]), batcher.submit([row(2), row(3)])]);
 * assert(a._tag === "Right" && b._tag === "Right" && b.right.length === 2);
 * assert.equal(batcher.stats().batches, 1);
 * ```
 */
export function makeBatcher(
  run: RunBatch,
  options: { readonly windowMs: number; readonly maxBatch: number },
): Batcher {
  const queue: Waiting[] = [];
  let queuedRows = 0;
  let running = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let idleWaiters: (() => void)[] = [];
  const counts = {
    requests: 0,
    rows: 0,
    batches: 0,
    mixed_batches: 0,
    largest_batch: 0,
    failed_batches: 0,
    engine_ms: 0,
  };

  const settleIdle = () => {
    if (running || queue.length > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    waiters.forEach((w) => w());
  };

  const take = (): Waiting[] => {
    const taken: Waiting[] = [queue.shift() as Waiting];
    let n = taken[0].rows.length;
    while (queue.length > 0 && n + queue[0].rows.length <= options.maxBatch) {
      const next = queue.shift() as Waiting;
      n += next.rows.length;
      taken.push(next);
    }
    queuedRows -= n;
    return taken;
  };

  const runOne = async () => {
    timer = undefined;
    if (running || queue.length === 0) return;
    running = true;
    const taken = take();
    const rows = taken.flatMap((w) => w.rows);
    counts.batches++;
    counts.requests += taken.length;
    counts.rows += rows.length;
    counts.largest_batch = Math.max(counts.largest_batch, rows.length);
    if (new Set(rows.map((r) => r.prompt.name)).size > 1) counts.mixed_batches++;
    const t0 = performance.now();
    try {
      const results = await run(rows);
      if (results.length !== rows.length) {
        throw new Error(`The engine gave ${results.length} results for ${rows.length} rows`);
      }
      let at = 0;
      for (const w of taken) {
        w.done(E.right(results.slice(at, at + w.rows.length)));
        at += w.rows.length;
      }
    } catch (e) {
      counts.failed_batches++;
      const message = `Engine: ${errorLines(e, "serve")[0]}`;
      for (const w of taken) w.done(E.left({ status: 500, message }));
    } finally {
      counts.engine_ms += performance.now() - t0;
      running = false;
      schedule(true);
      settleIdle();
    }
  };

  // After a batch, what queued meanwhile has waited long enough: it runs at once.
  const schedule = (now: boolean) => {
    if (running || queue.length === 0) return;
    if (now || queuedRows >= options.maxBatch) {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(runOne, 0);
    } else if (timer === undefined) timer = setTimeout(runOne, options.windowMs);
  };

  return {
    submit(rows) {
      return new Promise((done) => {
        queue.push({ rows, done });
        queuedRows += rows.length;
        schedule(false);
      });
    },
    stats: () => ({ ...counts, queued_rows: queuedRows }),
    idle: () =>
      new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        settleIdle();
      }),
  };
}
