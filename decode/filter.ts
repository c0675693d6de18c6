/**
 * Shaping a row of logits before sampling, as `transformers`' logits warpers do and in their
 * order: temperature, then top-k, then top-p (nucleus). Plain arrays, no tensors.
 *
 * @module
 */

/**
 * Options of {@link filterLogits}.
 *
 * @example
 * ```ts
 * import type { FilterOptions } from "./filter.ts";
 * import assert from "node:assert/strict";
 * const nucleus: FilterOptions = { temperature: 0.7, topP: 0.9 };
 * assert(nucleus.topK === undefined);
 * ```
 */
export interface FilterOptions {
  /** Divides the logits (a positive number; default 1: unchanged). */
  readonly temperature?: number;
  /** Keeps the tokens whose logit is at least the k-th largest (ties kept); default: all. */
  readonly topK?: number;
  /**
   * Keeps the smallest set of most likely tokens whose probability reaches `topP` (in (0, 1];
   * default 1: all), at least one.
   */
  readonly topP?: number;
}

/**
 * Checks filter options.
 *
 * @param options the options
 * @throws {RangeError} when the temperature is not a positive finite number, top-k not a positive
 *   integer or top-p not in (0, 1]
 * @example
 * ```ts
 * import { checkFilterOptions } from "./filter.ts";
 * import assert from "node:assert/strict";
 * let threw = false;
 * try {
 *   checkFilterOptions({ topP: 0 });
 * } catch {
 *   threw = true;
 * }
 * assert(threw);
 * ```
 */
export function checkFilterOptions(options: FilterOptions): void {
  const { temperature, topK, topP } = options;
  if (temperature !== undefined && !(Number.isFinite(temperature) && temperature > 0)) {
    throw new RangeError(
      `Sampling: temperature is ${temperature}; expected a positive number (use greedy decoding for 0)`,
    );
  }
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 1)) {
    throw new RangeError(`Sampling: topK is ${topK}; expected a positive integer`);
  }
  if (topP !== undefined && !(topP > 0 && topP <= 1)) {
    throw new RangeError(`Sampling: topP is ${topP}; expected a number in (0, 1]`);
  }
}

/**
 * Applies temperature, top-k and top-p to one row of logits, `transformers`'
 * `TemperatureLogitsWarper`, `TopKLogitsWarper` and `TopPLogitsWarper` in that order: removed
 * tokens get `-Infinity`. Top-p sorts the kept logits ascending, and removes the tokens whose
 * cumulative probability is at most `1 - topP`, keeping the most likely one in any case.
 *
 * @param logits the row, `[V]`
 * @param options temperature, top-k, top-p (checked by the caller, see {@link checkFilterOptions})
 * @returns a new `[V]` array of shaped logits
 * @example
 * ```ts
 * import { filterLogits } from "./filter.ts";
 * import assert from "node:assert/strict";
 * const out = filterLogits([0, 3, 1, 2], { topK: 2 });
 * assert(out.join() === "-Infinity,3,-Infinity,2");
 * // Probabilities about .64, .24, .09, .03: the top two reach 0.8.
 * const nucleus = filterLogits([3, 2, 1, 0], { topP: 0.8 });
 * assert(nucleus.join() === "3,2,-Infinity,-Infinity");
 * ```
 */
export function filterLogits(logits: ArrayLike<number>, options: FilterOptions): Float64Array {
  const v = logits.length;
  const out = Float64Array.from(logits);
  const temperature = options.temperature ?? 1;
  if (temperature !== 1) { for (let i = 0; i < v; i++) out[i] /= temperature; }
  if (options.topK !== undefined && options.topK < v) {
    const sorted = Float64Array.from(out).sort(); // ascending
    const kth = sorted[v - options.topK];
    for (let i = 0; i < v; i++) if (out[i] < kth) out[i] = -Infinity;
  }
  const topP = options.topP ?? 1;
  if (topP < 1) {
    const order = Array.from({ length: v }, (_, i) => i).sort((a, b) => out[a] - out[b] || a - b);
    const max = out[order[v - 1]];
    let total = 0;
    for (let i = 0; i < v; i++) total += Math.exp(out[i] - max);
    let cumulative = 0;
    const drop: number[] = [];
    for (let j = 0; j < v - 1; j++) {
      cumulative += Math.exp(out[order[j]] - max) / total;
      if (cumulative <= 1 - topP) drop.push(order[j]);
      else break; // the cumulative sum only grows
    }
    for (const i of drop) out[i] = -Infinity;
  }
  return out;
}
