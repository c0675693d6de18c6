/**
 * Training progress for people: on a terminal a single line redrawn in place with `\r` (step,
 * a bar, loss, steps/s, tokens/s, ETA); elsewhere (a log file, CI) a plain line every few steps.
 * The writer is injectable, so tests see exactly what would be printed.
 *
 * @module
 */

/**
 * What a progress line shows.
 *
 * @example
 * ```ts
 * import type { ProgressInfo } from "./progress.ts";
 * import assert from "node:assert/strict";
 * const p: ProgressInfo = { step: 5, total: 10, loss: 1.5, stepsPerSec: 2, etaSec: 2.5 };
 * assert(p.step < p.total);
 * ```
 */
export interface ProgressInfo {
  /** Steps done. */
  readonly step: number;
  /** Steps planned. */
  readonly total: number;
  /** The latest training loss. */
  readonly loss: number;
  /** Steps per second since the reporter started (checkpoints and evaluations included). */
  readonly stepsPerSec: number;
  /** Tokens per second over the same time, when tokens are counted. */
  readonly tokensPerSec?: number;
  /** Estimated seconds left. */
  readonly etaSec: number;
}

/**
 * Options of {@link progressReporter}.
 *
 * @example
 * ```ts
 * import { type ProgressOptions, progressReporter } from "./progress.ts";
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * let t = 0;
 * const options: ProgressOptions = {
 *   total: 10, startStep: 8, terminal: false, every: 5, write: (s) => lines.push(s), now: () => t,
 * };
 * const p = progressReporter(options);
 * for (const step of [9, 10]) {
 *   t += 250;
 *   p.update(step, 1 / step);
 * }
 * p.end();
 * // Off a terminal only steps 5, 10, ... and the last print; the rate counts from step 8.
 * assert(lines.length === 1);
 * assert(lines[0].startsWith("step 10/10 loss 0.1000 · 4.00 steps/s"));
 * ```
 */
export interface ProgressOptions {
  /** Steps planned. */
  readonly total: number;
  /** Steps already done when the reporter starts (a resumed run; default 0). */
  readonly startStep?: number;
  /** Prints text as is (default: to stdout). */
  readonly write?: (text: string) => void;
  /** Redraw one line in place (default: whether stdout is a terminal). */
  readonly terminal?: boolean;
  /** Off a terminal, print a line every this many steps, and at the last (default 10). */
  readonly every?: number;
  /** The bar's width in characters (default 20). */
  readonly barWidth?: number;
  /** The clock in milliseconds (default `performance.now`). */
  readonly now?: () => number;
}

/**
 * A progress reporter: tell it about each step; print notes through it so they do not collide
 * with the bar; end it once.
 *
 * @example
 * ```ts
 * import { type Progress, progressReporter } from "./progress.ts";
 * import assert from "node:assert/strict";
 * let out = "";
 * const p: Progress = progressReporter({ total: 2, terminal: true, write: (s) => out += s });
 * p.update(1, 0.5);
 * p.note("Checkpoint written"); // clears the bar's line first
 * p.update(2, 0.25);
 * p.end();
 * p.end(); // idempotent
 * assert(out.includes("\r\x1b[KCheckpoint written\n") && out.endsWith("\x1b[K\n"));
 * assert(!out.endsWith("\n\n"));
 * ```
 */
export interface Progress {
  /**
   * Reports a finished step.
   *
   * @param step steps done
   * @param loss its training loss
   * @param tokens tokens in its batch, when counted
   */
  update(step: number, loss: number, tokens?: number): void;
  /**
   * Prints a line of text (a checkpoint written, an evaluation), on its own line.
   *
   * @param text the line, without a newline
   */
  note(text: string): void;
  /** Ends the bar with a newline (on a terminal); idempotent. */
  end(): void;
}

const stdoutWrite = (text: string): void => {
  const bytes = new TextEncoder().encode(text);
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
};

/**
 * A duration as `m:ss` or `h:mm:ss` (`?` when unknown).
 *
 * @param sec seconds
 * @returns the text
 * @example
 * ```ts
 * import { formatDuration } from "./progress.ts";
 * import assert from "node:assert/strict";
 * assert(formatDuration(75) === "1:15" && formatDuration(3725) === "1:02:05");
 * assert(formatDuration(Infinity) === "?");
 * ```
 */
export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return "?";
  const s = Math.round(sec);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const two = (x: number) => String(x).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(r)}` : `${m}:${two(r)}`;
}

/** A rate with a thousands suffix: `950`, `12.3k`, `4.5M`. */
function formatRate(x: number): string {
  if (!Number.isFinite(x)) return "?";
  if (x >= 1e6) return `${(x / 1e6).toFixed(1)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x >= 10 ? x.toFixed(0) : x.toFixed(2);
}

/**
 * One progress line.
 *
 * @param info what to show
 * @param barWidth the bar's width; 0 for no bar (plain lines)
 * @returns the line, without a newline
 * @example
 * ```ts
 * import { formatProgress } from "./progress.ts";
 * import assert from "node:assert/strict";
 * const line = formatProgress({ step: 5, total: 10, loss: 1.5, stepsPerSec: 2, etaSec: 2.5 }, 4);
 * assert(line === "step 5/10 ▕██░░▏ loss 1.5000 · 2.00 steps/s · ETA 0:03");
 * ```
 */
export function formatProgress(info: ProgressInfo, barWidth: number): string {
  const parts = [`step ${info.step}/${info.total}`];
  if (barWidth > 0) {
    const filled = Math.round(barWidth * Math.min(1, info.step / Math.max(1, info.total)));
    parts.push(`▕${"█".repeat(filled)}${"░".repeat(barWidth - filled)}▏`);
  }
  parts.push(`loss ${info.loss.toFixed(4)}`);
  const rates = [`${formatRate(info.stepsPerSec)} steps/s`];
  if (info.tokensPerSec !== undefined) rates.push(`${formatRate(info.tokensPerSec)} tok/s`);
  rates.push(`ETA ${formatDuration(info.etaSec)}`);
  return `${parts.join(" ")} · ${rates.join(" · ")}`;
}

/**
 * Makes a progress reporter (see the module doc).
 *
 * @param options total steps, writer, terminal or not, how often off a terminal
 * @returns the reporter
 * @example
 * ```ts
 * import { progressReporter } from "./progress.ts";
 * import assert from "node:assert/strict";
 * let out = "";
 * let t = 0;
 * const p = progressReporter({
 *   total: 4, terminal: false, every: 2, write: (s) => out += s, now: () => t,
 * });
 * for (let step = 1; step <= 4; step++) {
 *   t += 500; // half a second a step
 *   p.update(step, 1 / step);
 * }
 * p.end();
 * assert(out.split("\n").length === 3 && out.includes("step 4/4 loss 0.2500 · 2.00 steps/s"));
 * ```
 */
export function progressReporter(options: ProgressOptions): Progress {
  const write = options.write ?? stdoutWrite;
  const terminal = options.terminal ?? Deno.stdout.isTerminal();
  const every = Math.max(1, options.every ?? 10);
  const barWidth = options.barWidth ?? 20;
  const now = options.now ?? (() => performance.now());
  const start = now();
  const startStep = options.startStep ?? 0;
  let tokens = 0;
  let counted = false;
  let drawn = false;
  let ended = false;
  return {
    update(step, loss, batchTokens) {
      if (batchTokens !== undefined) {
        tokens += batchTokens;
        counted = true;
      }
      const sec = Math.max(1e-9, (now() - start) / 1000);
      const stepsPerSec = (step - startStep) / sec;
      const info: ProgressInfo = {
        step,
        total: options.total,
        loss,
        stepsPerSec,
        ...(counted ? { tokensPerSec: tokens / sec } : {}),
        etaSec: stepsPerSec > 0 ? (options.total - step) / stepsPerSec : Infinity,
      };
      if (terminal) {
        write(`\r${formatProgress(info, barWidth)}\x1b[K`);
        drawn = true;
      } else if (step % every === 0 || step === options.total) {
        write(`${formatProgress(info, 0)}\n`);
      }
    },
    note(text) {
      write(terminal && drawn ? `\r\x1b[K${text}\n` : `${text}\n`);
      drawn = false;
    },
    end() {
      if (ended) return;
      ended = true;
      if (terminal && drawn) write("\n");
    },
  };
}
