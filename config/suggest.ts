/**
 * "Did you mean …?" for unknown keys and names: the closest candidate by edit distance.
 *
 * @module
 */

/**
 * The optimal-string-alignment distance between two strings: insertions, deletions,
 * substitutions and transpositions of neighbours each cost 1 (`learning_rat` → `learning_rate`
 * is 1, `lenght` → `length` is 1).
 *
 * @param a one string
 * @param b the other
 * @returns the number of edits
 * @example
 * ```ts
 * import { editDistance } from "./suggest.ts";
 * import assert from "node:assert/strict";
 * assert(editDistance("learning_rat", "learning_rate") === 1);
 * assert(editDistance("lenght", "length") === 1);
 * assert(editDistance("", "abc") === 3);
 * ```
 */
export function editDistance(a: string, b: string): number {
  const n = a.length, m = b.length;
  // d[i][j]: distance between a[0, i) and b[0, j); three rows suffice for transpositions.
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  for (let i = 1; i <= n; i++) {
    const cur = new Array<number>(m + 1);
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, prev2[j - 2] + 1);
      }
      cur[j] = d;
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[m];
}

/**
 * The candidate closest to `word`, when it is close enough to be a likely typo: at most a third
 * of the longer word's length in edits (at least 1), or the same ignoring case, `-` and `_`. Ties
 * go to the earlier candidate.
 *
 * @param word what was written
 * @param candidates what is allowed
 * @returns the suggestion, or undefined when nothing is close
 * @example
 * ```ts
 * import { closest } from "./suggest.ts";
 * import assert from "node:assert/strict";
 * assert(closest("learning_rat", ["learning_rate", "schedule"]) === "learning_rate");
 * assert(closest("Batch-Size", ["batch_size"]) === "batch_size");
 * assert(closest("zzz", ["learning_rate"]) === undefined);
 * ```
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const fold = (s: string) => s.toLowerCase().replaceAll("-", "_");
  const folded = candidates.find((c) => fold(c) === fold(word));
  if (folded !== undefined) return folded;
  let best: string | undefined, bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    const limit = Math.max(1, Math.floor(Math.max(word.length, c.length) / 3));
    if (d <= limit && d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

/**
 * A sentence fragment for messages: `; did you mean X?`, or `""` when nothing is close.
 *
 * @param word what was written
 * @param candidates what is allowed
 * @returns the fragment to append
 * @example
 * ```ts
 * import { didYouMean } from "./suggest.ts";
 * import assert from "node:assert/strict";
 * assert(didYouMean("adafacter", ["adafactor", "adam"]) === "; did you mean adafactor?");
 * assert(didYouMean("sgd", ["adafactor"]) === "");
 * ```
 */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const c = closest(word, candidates);
  return c === undefined ? "" : `; did you mean ${c}?`;
}
