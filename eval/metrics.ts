/**
 * Task metrics as pure functions over arrays: accuracy, F1 (binary and macro-averaged),
 * Matthews correlation, Pearson and Spearman correlation, and SQuAD-style exact match and token
 * F1. They follow the definitions T5 evaluates GLUE and SuperGLUE with (scikit-learn and SciPy
 * for the first five, the SQuAD v1.1 script for the last two) but return fractions in [0, 1]
 * (correlations in [-1, 1]) where T5 reports percentages.
 *
 * Predictions and targets are compared with `===`; arrays must have the same length (a
 * `RangeError` otherwise). A mean over no examples is `NaN`.
 *
 * @module
 */

/**
 * A class as predictions and targets carry it: a label word, a class index or a boolean.
 *
 * @example
 * ```ts
 * import type { MetricLabel } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * const words: MetricLabel[] = ["negative", "positive"];
 * assert(words.length === 2);
 * ```
 */
export type MetricLabel = string | number | boolean;

function sameLength(a: readonly unknown[], b: readonly unknown[], what: string): void {
  if (a.length !== b.length) {
    throw new RangeError(
      `${what}: ${a.length} predictions but ${b.length} targets; expected as many of each`,
    );
  }
}

/**
 * The fraction of predictions equal to their targets.
 *
 * @param predictions predicted labels
 * @param targets true labels, as many
 * @returns a number in [0, 1], `NaN` for no examples
 * @example
 * ```ts
 * import { accuracy } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * assert(accuracy(["a", "b", "a", "a"], ["a", "b", "b", "a"]) === 0.75);
 * ```
 */
export function accuracy<T extends MetricLabel>(
  predictions: readonly T[],
  targets: readonly T[],
): number {
  sameLength(predictions, targets, "accuracy");
  let right = 0;
  for (let i = 0; i < targets.length; i++) if (predictions[i] === targets[i]) right++;
  return right / targets.length;
}

/**
 * Options for {@link f1Binary}.
 *
 * @example
 * ```ts
 * import type { BinaryF1Options } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * const mrpc: BinaryF1Options<string> = { positive: "equivalent", negative: "not_equivalent" };
 * assert(mrpc.positive === "equivalent");
 * ```
 */
export interface BinaryF1Options<T extends MetricLabel> {
  /** The positive class. */
  readonly positive: T;
  /**
   * The negative class. When given, a prediction that is neither class counts as wrong
   * whatever the target (T5's `f1_score_with_invalid`); without it, anything but `positive` is a
   * negative prediction.
   */
  readonly negative?: T;
}

function f1From(tp: number, fp: number, fn: number): number {
  const d = 2 * tp + fp + fn;
  return d === 0 ? 0 : (2 * tp) / d; // scikit-learn's zero_division: 0
}

/**
 * F1 of the positive class: `2·TP / (2·TP + FP + FN)`; 0 when there is no positive prediction
 * or target at all (as scikit-learn returns).
 *
 * @param predictions predicted labels
 * @param targets true labels, as many
 * @param options the positive (and optionally negative) class
 * @returns a number in [0, 1]
 * @example
 * ```ts
 * import { f1Binary } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * // TP = 1, FP = 1, FN = 1: F1 = 2 / 4.
 * assert(f1Binary([1, 1, 0, 0], [1, 0, 1, 0], { positive: 1 }) === 0.5);
 * ```
 */
export function f1Binary<T extends MetricLabel>(
  predictions: readonly T[],
  targets: readonly T[],
  options: BinaryF1Options<T>,
): number {
  sameLength(predictions, targets, "f1Binary");
  const { positive, negative } = options;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i] === positive;
    const p = predictions[i];
    const invalid = negative !== undefined && p !== positive && p !== negative;
    const predictedPositive = invalid ? !t : p === positive;
    if (predictedPositive && t) tp++;
    else if (predictedPositive) fp++;
    else if (t) fn++;
  }
  return f1From(tp, fp, fn);
}

/**
 * F1 averaged over classes, each class weighted equally (scikit-learn's `average="macro"`).
 *
 * @param predictions predicted labels
 * @param targets true labels, as many
 * @param labels the classes to average over (T5 averages over all of a task's classes, present
 * or not); by default every class seen in targets or predictions
 * @returns a number in [0, 1], `NaN` when there are no classes
 * @example
 * ```ts
 * import { f1Macro } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * // Class a: TP 1, FP 0, FN 1 → 2/3; class b: TP 1, FP 1, FN 0 → 2/3.
 * assert(Math.abs(f1Macro(["a", "b", "b"], ["a", "a", "b"]) - 2 / 3) < 1e-12);
 * ```
 */
export function f1Macro<T extends MetricLabel>(
  predictions: readonly T[],
  targets: readonly T[],
  labels?: readonly T[],
): number {
  sameLength(predictions, targets, "f1Macro");
  const classes = labels ?? [...new Set([...targets, ...predictions])];
  let sum = 0;
  for (const c of classes) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i] === c;
      const p = predictions[i] === c;
      if (p && t) tp++;
      else if (p) fp++;
      else if (t) fn++;
    }
    sum += f1From(tp, fp, fn);
  }
  return sum / classes.length;
}

/**
 * Matthews correlation coefficient, in scikit-learn's multiclass form (Gorodkin's R_K), which
 * for two classes is `(TP·TN − FP·FN) / √((TP+FP)(TP+FN)(TN+FP)(TN+FN))`; 0 when a margin is
 * constant.
 *
 * @param predictions predicted labels
 * @param targets true labels, as many
 * @returns a number in [-1, 1]
 * @example
 * ```ts
 * import { matthews } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * // TP 2, TN 1, FP 1, FN 0: (2·1 − 1·0) / √(3·2·2·1) = 2 / √12.
 * assert(Math.abs(matthews([1, 1, 1, 0], [1, 1, 0, 0]) - 2 / Math.sqrt(12)) < 1e-12);
 * ```
 */
export function matthews<T extends MetricLabel>(
  predictions: readonly T[],
  targets: readonly T[],
): number {
  sameLength(predictions, targets, "matthews");
  const n = targets.length;
  const tCount = new Map<T, number>();
  const pCount = new Map<T, number>();
  let correct = 0;
  for (let i = 0; i < n; i++) {
    tCount.set(targets[i], (tCount.get(targets[i]) ?? 0) + 1);
    pCount.set(predictions[i], (pCount.get(predictions[i]) ?? 0) + 1);
    if (predictions[i] === targets[i]) correct++;
  }
  let tp = 0;
  for (const [c, k] of tCount) tp += k * (pCount.get(c) ?? 0);
  let pp = 0;
  for (const k of pCount.values()) pp += k * k;
  let tt = 0;
  for (const k of tCount.values()) tt += k * k;
  const cov = correct * n - tp;
  const denom = (n * n - pp) * (n * n - tt);
  return denom === 0 ? 0 : cov / Math.sqrt(denom);
}

/**
 * Pearson's correlation coefficient.
 *
 * @param x one series
 * @param y another, as long
 * @returns a number in [-1, 1]; `NaN` for fewer than two points or a constant series (as SciPy)
 * @example
 * ```ts
 * import { pearson } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * // Means 2 and 3; deviations (-1, 0, 1) and (-1, -1, 2): 3 / √(2·6) = 0.866….
 * assert(Math.abs(pearson([1, 2, 3], [2, 2, 5]) - 3 / Math.sqrt(12)) < 1e-12);
 * ```
 */
export function pearson(x: readonly number[], y: readonly number[]): number {
  sameLength(x, y, "pearson");
  const n = x.length;
  if (n < 2) return NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  const r = sxy / Math.sqrt(sxx * syy);
  return Math.max(-1, Math.min(1, r));
}

/**
 * 1-based ranks, ties sharing the average of the ranks they span (SciPy's `rankdata`, method
 * `average`).
 *
 * @param x the values
 * @returns their ranks
 * @example
 * ```ts
 * import { averageRanks } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * // 10 is smallest (1); the two 20s share ranks 2 and 3 (2.5); 30 is 4.
 * assert(averageRanks([20, 10, 30, 20]).join() === "2.5,1,4,2.5");
 * ```
 */
export function averageRanks(x: readonly number[]): number[] {
  const order = x.map((_, i) => i).sort((a, b) => x[a] - x[b]);
  const ranks = new Array<number>(x.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && x[order[j + 1]] === x[order[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = r;
    i = j + 1;
  }
  return ranks;
}

/**
 * Spearman's rank correlation: Pearson's over {@link averageRanks}.
 *
 * @param x one series
 * @param y another, as long
 * @returns a number in [-1, 1]; `NaN` for fewer than two points or a constant series
 * @example
 * ```ts
 * import { spearman } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * assert(spearman([1, 2, 3, 4], [10, 20, 30, 400]) === 1);
 * ```
 */
export function spearman(x: readonly number[], y: readonly number[]): number {
  sameLength(x, y, "spearman");
  return pearson(averageRanks(x), averageRanks(y));
}

/**
 * The fraction of groups whose examples are all right (MultiRC's exact match: a question
 * counts only if every candidate answer is judged right). Groups are keyed by `groups[i]`.
 *
 * @param predictions predicted labels
 * @param targets true labels, as many
 * @param groups each example's group, as many
 * @returns a number in [0, 1], `NaN` for no examples
 * @example
 * ```ts
 * import { groupExactMatch } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * // Group q1 is all right, q2 has one miss: 1 of 2 groups.
 * assert(groupExactMatch([1, 0, 1, 1], [1, 0, 1, 0], ["q1", "q1", "q2", "q2"]) === 0.5);
 * ```
 */
export function groupExactMatch<T extends MetricLabel>(
  predictions: readonly T[],
  targets: readonly T[],
  groups: readonly string[],
): number {
  sameLength(predictions, targets, "groupExactMatch");
  sameLength(groups, targets, "groupExactMatch (groups)");
  const allRight = new Map<string, boolean>();
  for (let i = 0; i < targets.length; i++) {
    allRight.set(groups[i], (allRight.get(groups[i]) ?? true) && predictions[i] === targets[i]);
  }
  let right = 0;
  for (const v of allRight.values()) if (v) right++;
  return right / allRight.size;
}

// Python's string.punctuation.
const PUNCTUATION = new Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");
// Python's \b and \w on text: letters, digits and the underscore of any script.
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;
// Python's str.split() separators: Unicode whitespace and the ASCII separators \x1c-\x1f.
// deno-lint-ignore no-control-regex -- Python splits on these separators too
const WHITESPACE = /[\s\x1c-\x1f]+/u;

/**
 * SQuAD's answer normalisation: lowercase, remove ASCII punctuation, replace the articles
 * `a`, `an`, `the` with a space, collapse whitespace.
 *
 * @param s an answer
 * @returns its normal form
 * @example
 * ```ts
 * import { normalizeAnswer } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * assert(normalizeAnswer("  The Eiffel-Tower!") === "eiffeltower");
 * ```
 */
export function normalizeAnswer(s: string): string {
  let out = "";
  for (const c of s.toLowerCase()) if (!PUNCTUATION.has(c)) out += c;
  return out.replace(ARTICLES, " ").split(WHITESPACE).filter((t) => t !== "").join(" ");
}

/**
 * Whether a prediction equals an answer after {@link normalizeAnswer}.
 *
 * @param prediction the predicted answer
 * @param answer a true answer
 * @returns 1 or 0
 * @example
 * ```ts
 * import { exactMatch } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * assert(exactMatch("the Beatles", "Beatles.") === 1);
 * ```
 */
export function exactMatch(prediction: string, answer: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(answer) ? 1 : 0;
}

/**
 * SQuAD's token F1 between a prediction and an answer: over normalised whitespace tokens,
 * `2PR / (P + R)` with P = shared / predicted tokens, R = shared / answer tokens (shared counted
 * with multiplicity); 0 when no token is shared (so two empty answers score 0, as in SQuAD v1.1
 * and T5).
 *
 * @param prediction the predicted answer
 * @param answer a true answer
 * @returns a number in [0, 1]
 * @example
 * ```ts
 * import { tokenF1 } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * // Tokens [paris, france] vs [paris]: P = 1/2, R = 1, F1 = 2/3.
 * assert(Math.abs(tokenF1("Paris, France", "Paris") - 2 / 3) < 1e-12);
 * ```
 */
export function tokenF1(prediction: string, answer: string): number {
  const p = normalizeAnswer(prediction).split(" ").filter((t) => t !== "");
  const a = normalizeAnswer(answer).split(" ").filter((t) => t !== "");
  const counts = new Map<string, number>();
  for (const t of a) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of p) {
    const k = counts.get(t) ?? 0;
    if (k > 0) {
      same++;
      counts.set(t, k - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / p.length;
  const recall = same / a.length;
  return (2 * precision * recall) / (precision + recall);
}

function bestMean(
  predictions: readonly string[],
  answers: readonly (readonly string[])[],
  score: (p: string, a: string) => number,
  what: string,
): number {
  sameLength(predictions, answers, what);
  let sum = 0;
  for (let i = 0; i < predictions.length; i++) {
    let best = 0;
    for (const a of answers[i]) best = Math.max(best, score(predictions[i], a));
    sum += best;
  }
  return sum / predictions.length;
}

/**
 * Mean over examples of the best {@link exactMatch} against any of the example's answers.
 *
 * @param predictions one predicted answer per example
 * @param answers each example's true answers (an example with none scores 0)
 * @returns a number in [0, 1], `NaN` for no examples
 * @example
 * ```ts
 * import { squadExactMatch } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * assert(squadExactMatch(["Paris", "Rome"], [["paris", "Paris, France"], ["Milan"]]) === 0.5);
 * ```
 */
export function squadExactMatch(
  predictions: readonly string[],
  answers: readonly (readonly string[])[],
): number {
  return bestMean(predictions, answers, exactMatch, "squadExactMatch");
}

/**
 * Mean over examples of the best {@link tokenF1} against any of the example's answers.
 *
 * @param predictions one predicted answer per example
 * @param answers each example's true answers (an example with none scores 0)
 * @returns a number in [0, 1], `NaN` for no examples
 * @example
 * ```ts
 * import { squadTokenF1 } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * // Best of 2/3 ("Paris") and 1 ("Paris, France"), then 0: mean 0.5.
 * assert(squadTokenF1(["Paris France", "Rome"], [["Paris", "Paris, France"], ["Milan"]]) === 0.5);
 * ```
 */
export function squadTokenF1(
  predictions: readonly string[],
  answers: readonly (readonly string[])[],
): number {
  return bestMean(predictions, answers, tokenF1, "squadTokenF1");
}
