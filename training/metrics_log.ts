/**
 * The metrics log: one JSON object per line in `runDir/metrics.jsonl`, appended with one write
 * call per line (so a crash leaves at most one torn last line, which readers skip).
 *
 * @module
 */
import { errorText, readAtMost, writeFileAtomic } from "../io/files.ts";

/** The most bytes a metrics log is read up to (a million steps of a few metrics fit). */
const MAX_LOG_BYTES = 1024 * 2 ** 20;

/** The log's text; a missing file throws `NotFound`, one over {@link MAX_LOG_BYTES} an error. */
async function readLog(path: string): Promise<string> {
  const bytes = await readAtMost(path, MAX_LOG_BYTES, "a metrics log");
  if (bytes === undefined) {
    throw new Error(`Is over ${MAX_LOG_BYTES} bytes; expected a metrics log`);
  }
  return new TextDecoder().decode(bytes);
}

/**
 * One line of the metrics log: a training step, with the evaluation made after it if any.
 *
 * @example
 * ```ts
 * import type { StepMetrics } from "./metrics_log.ts";
 * import assert from "node:assert/strict";
 * const m: StepMetrics = { step: 1, epoch: 0, loss: 2.5, lr: 0.3, gradNorm: 1.2, stepsPerSec: 4 };
 * assert(JSON.parse(JSON.stringify(m)).gradNorm === 1.2);
 * ```
 */
export interface StepMetrics {
  /** The step (1 for the first update). */
  readonly step: number;
  /** The epoch its batch came from. */
  readonly epoch: number;
  /** The training loss of the batch, before the update. */
  readonly loss: number;
  /** The learning rate the update used. */
  readonly lr: number;
  /** The gradient's global L2 norm, before clipping. */
  readonly gradNorm: number;
  /** Tokens in the batch, when the run counts them. */
  readonly tokens?: number;
  /** 1 / the step's wall time (batch, forward, backward, update). */
  readonly stepsPerSec: number;
  /** Tokens per second of the step, when tokens are counted. */
  readonly tokensPerSec?: number;
  /** The evaluation made after this step, if any. */
  readonly eval?: Readonly<Record<string, number>>;
}

/**
 * Appends one record as a JSON line, in a single write to a file opened for appending.
 *
 * @param path the `.jsonl` file (created if missing)
 * @param record a JSON-serializable object
 * @throws an error naming `path` and the cause (a full disk, no permission)
 * @example
 * ```ts
 * import { appendMetrics, readMetrics } from "./metrics_log.ts";
 * import assert from "node:assert/strict";
 * const path = `${await Deno.makeTempDir()}/metrics.jsonl`;
 * await appendMetrics(path, { step: 1, loss: 2 });
 * await appendMetrics(path, { step: 2, loss: 1 });
 * assert((await readMetrics(path)).length === 2);
 * ```
 */
export async function appendMetrics(path: string, record: object): Promise<void> {
  const bytes = new TextEncoder().encode(JSON.stringify(record) + "\n");
  try {
    const f = await Deno.open(path, { append: true, create: true });
    try {
      let off = await f.write(bytes); // one call; a regular file takes it whole
      while (off < bytes.length) off += await f.write(bytes.subarray(off));
    } finally {
      f.close();
    }
  } catch (e) {
    // A full disk says only "No space left on device": name the file.
    throw new Error(`Cannot append to the metrics log ${path}: ${errorText(e)}`);
  }
}

/**
 * Reads the metrics log. A last line without its newline (a write cut short by a crash) and lines
 * that are not JSON objects with a numeric `step` are skipped.
 *
 * @param path the `.jsonl` file
 * @returns the records in file order (none when the file is missing)
 * @example
 * ```ts
 * import { readMetrics } from "./metrics_log.ts";
 * import assert from "node:assert/strict";
 * const path = `${await Deno.makeTempDir()}/metrics.jsonl`;
 * await Deno.writeTextFile(path, '{"step":1,"loss":2}\n{"step":2,"lo');
 * assert((await readMetrics(path)).length === 1);
 * assert((await readMetrics(`${path}.missing`)).length === 0);
 * ```
 */
export async function readMetrics(
  path: string,
): Promise<Array<{ readonly step: number } & Record<string, unknown>>> {
  let text: string;
  try {
    text = await readLog(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw new Error(`Cannot read the metrics log ${path}: ${errorText(e)}`);
  }
  const lines = text.split("\n");
  lines.pop(); // "" after the final newline, or a torn last line
  const out: Array<{ readonly step: number } & Record<string, unknown>> = [];
  for (const line of lines) {
    try {
      const r = JSON.parse(line);
      if (typeof r === "object" && r !== null && typeof r.step === "number") out.push(r);
    } catch {
      // A damaged line: skip it.
    }
  }
  return out;
}

/**
 * Cuts the metrics log back to the records of steps up to `step` (for a resumed run, which
 * replays the steps after its checkpoint), atomically. A missing file stays missing.
 *
 * @param path the `.jsonl` file
 * @param step the last step to keep (0 keeps nothing)
 * @returns how many records were dropped
 * @example
 * ```ts
 * import { appendMetrics, readMetrics, truncateMetrics } from "./metrics_log.ts";
 * import assert from "node:assert/strict";
 * const path = `${await Deno.makeTempDir()}/metrics.jsonl`;
 * for (const step of [1, 2, 3]) await appendMetrics(path, { step });
 * assert((await truncateMetrics(path, 2)) === 1);
 * assert((await readMetrics(path)).length === 2);
 * ```
 */
export async function truncateMetrics(path: string, step: number): Promise<number> {
  let text: string;
  try {
    text = await readLog(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return 0;
    throw e;
  }
  const records = await readMetrics(path);
  const kept = records.filter((r) => r.step <= step);
  const dropped = records.length - kept.length;
  const clean = kept.map((r) => JSON.stringify(r) + "\n").join("");
  if (clean !== text) {
    await writeFileAtomic(path, clean).catch((e) => {
      throw new Error(`Cannot rewrite the metrics log ${path}: ${errorText(e)}`);
    });
  }
  return dropped;
}
