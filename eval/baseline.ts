/**
 * A non-neural reference to judge a tuned prompt by: bag-of-words logistic regression.
 *
 * - Words: lower-cased runs of letters and digits (`/[\p{L}\p{N}]+/u`), plus each pair of
 *   neighbouring words (bigrams, on by default).
 * - Vocabulary: the features in at least `minCount` training texts (default 2), the
 *   `maxFeatures` most frequent of them (default 20,000; ties in text order), nothing else.
 * - Features: 1 if present, each text's vector scaled to unit length (so long and short mails
 *   weigh alike), plus a bias.
 * - Model: multinomial logistic regression (with two classes, plain logistic regression) on the
 *   mean cross-entropy plus `l2 / 2 · |w|²` (bias not penalised), fitted by full-batch Nesterov
 *   accelerated gradient descent with step `1 / L` for the bound `L = 1 + l2` on the loss's
 *   curvature, for `iterations` steps (default 300). No randomness: the same examples give the
 *   same weights, bit for bit.
 *
 * @module
 */
import type { Example } from "../data/task.ts";

/**
 * Options for {@link trainBagOfWords}.
 *
 * @example
 * ```ts
 * import type { BagOfWordsOptions } from "./baseline.ts";
 * import assert from "node:assert/strict";
 * const o: BagOfWordsOptions = { bigrams: false, l2: 1e-3 };
 * assert(o.maxFeatures === undefined);
 * ```
 */
export interface BagOfWordsOptions {
  /** Most features kept, by document frequency (default 20,000). */
  readonly maxFeatures?: number;
  /** Fewest training texts a feature must occur in (default 2). */
  readonly minCount?: number;
  /** Whether neighbouring word pairs are features too (default true). */
  readonly bigrams?: boolean;
  /** L2 penalty on the weights, per example (default 1e-4). */
  readonly l2?: number;
  /** Gradient steps (default 300). */
  readonly iterations?: number;
}

/**
 * A fitted bag-of-words model.
 *
 * @example
 * ```ts
 * import type { BagOfWordsModel } from "./baseline.ts";
 * import assert from "node:assert/strict";
 * const m: BagOfWordsModel = {
 *   vocabulary: new Map([["free", 0]]), classes: 2, bigrams: false,
 *   weights: new Float64Array([-1, 1]), bias: new Float64Array([0, 0]), finalLoss: 0.5,
 * };
 * assert(m.weights.length === m.vocabulary.size * m.classes);
 * ```
 */
export interface BagOfWordsModel {
  /** Feature (a word, or two words joined by a space) → its row in `weights`. */
  readonly vocabulary: ReadonlyMap<string, number>;
  /** Number of classes. */
  readonly classes: number;
  /** Whether bigrams are features. */
  readonly bigrams: boolean;
  /** `[features, classes]` row-major. */
  readonly weights: Float64Array;
  /** `[classes]`. */
  readonly bias: Float64Array;
  /** The training objective (mean cross-entropy + penalty) after the last step. */
  readonly finalLoss: number;
}

/**
 * The features of a text: its lower-cased words and, optionally, word pairs, each once.
 *
 * @param text the text
 * @param bigrams whether to add neighbouring word pairs (`"free money"`)
 * @returns the distinct features, in order of first occurrence
 * @example
 * ```ts
 * import { bagOfWordsFeatures } from "./baseline.ts";
 * import assert from "node:assert/strict";
 * assert(bagOfWordsFeatures("Free money, FREE!", true).join("|") === "free|money|free money|money free");
 * ```
 */
export function bagOfWordsFeatures(text: string, bigrams = true): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const out = new Set<string>();
  for (let i = 0; i < words.length; i++) {
    out.add(words[i]);
    if (bigrams && i > 0) out.add(`${words[i - 1]} ${words[i]}`);
  }
  // Unigrams first, then bigrams, each in order of first occurrence.
  const all = [...out];
  return [...all.filter((f) => !f.includes(" ")), ...all.filter((f) => f.includes(" "))];
}

interface Sparse {
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly value: Float64Array; // one value per row: 1 / sqrt(nnz), the features are binary
}

function vectorize(
  texts: readonly string[],
  vocabulary: ReadonlyMap<string, number>,
  bigrams: boolean,
): Sparse {
  const indptr = new Int32Array(texts.length + 1);
  const rows: number[][] = [];
  let nnz = 0;
  for (let i = 0; i < texts.length; i++) {
    const row: number[] = [];
    for (const f of bagOfWordsFeatures(texts[i], bigrams)) {
      const j = vocabulary.get(f);
      if (j !== undefined) row.push(j);
    }
    row.sort((a, b) => a - b);
    rows.push(row);
    nnz += row.length;
    indptr[i + 1] = nnz;
  }
  const indices = new Int32Array(nnz);
  const value = new Float64Array(texts.length);
  for (let i = 0; i < rows.length; i++) {
    indices.set(rows[i], indptr[i]);
    value[i] = rows[i].length > 0 ? 1 / Math.sqrt(rows[i].length) : 0;
  }
  return { indptr, indices, value };
}

/** Scores `[K]` of row i into `out`. */
function rowScores(
  x: Sparse,
  i: number,
  w: Float64Array,
  b: Float64Array,
  k: number,
  out: Float64Array,
): void {
  out.set(b);
  const v = x.value[i];
  for (let p = x.indptr[i]; p < x.indptr[i + 1]; p++) {
    const row = x.indices[p] * k;
    for (let c = 0; c < k; c++) out[c] += v * w[row + c];
  }
}

/** Softmax in place; returns log-sum-exp. */
function softmaxInPlace(s: Float64Array): number {
  let m = -Infinity;
  for (const v of s) m = Math.max(m, v);
  let z = 0;
  for (let c = 0; c < s.length; c++) {
    s[c] = Math.exp(s[c] - m);
    z += s[c];
  }
  for (let c = 0; c < s.length; c++) s[c] /= z;
  return m + Math.log(z);
}

/**
 * Fits a bag-of-words logistic regression to labelled examples (their `inputs` and `label`);
 * examples without a class label are skipped. Deterministic.
 *
 * @param examples the training examples; `label` is the class index
 * @param options vocabulary size, bigrams, penalty, steps
 * @returns the model
 * @throws Error when no example has a class label
 * @example
 * ```ts
 * import { predictBagOfWords, trainBagOfWords } from "./baseline.ts";
 * import assert from "node:assert/strict";
 * const ex = (inputs: string, label: number) => ({ inputs, targets: "", label, meta: { location: "", index: 0 } });
 * const train = [ex("win free cash now", 1), ex("free cash prize", 1), ex("meeting notes attached", 0), ex("notes from the meeting", 0)];
 * const model = trainBagOfWords(train, { minCount: 1 });
 * assert(predictBagOfWords(model, ["free cash", "meeting notes"]).join() === "1,0");
 * ```
 */
export function trainBagOfWords(
  examples: readonly Example[],
  options: BagOfWordsOptions = {},
): BagOfWordsModel {
  const maxFeatures = options.maxFeatures ?? 20_000;
  const minCount = options.minCount ?? 2;
  const bigrams = options.bigrams ?? true;
  const l2 = options.l2 ?? 1e-4;
  const iterations = options.iterations ?? 300;
  const labelled = examples.filter((e) =>
    typeof e.label === "number" && Number.isInteger(e.label) && e.label >= 0
  );
  if (labelled.length === 0) {
    throw new Error("trainBagOfWords: no example has a class label; expected integer labels ≥ 0");
  }
  const y = labelled.map((e) => e.label as number);
  const classes = y.reduce((m, v) => Math.max(m, v + 1), 2);
  const texts = labelled.map((e) => e.inputs);

  // Vocabulary: document frequency ≥ minCount, the most frequent first, ties by first sight.
  const df = new Map<string, number>();
  for (const t of texts) {
    for (const f of bagOfWordsFeatures(t, bigrams)) df.set(f, (df.get(f) ?? 0) + 1);
  }
  const kept = [...df.entries()]
    .filter(([, n]) => n >= minCount)
    .map(([f, n], order) => ({ f, n, order }))
    .sort((a, b) => b.n - a.n || a.order - b.order)
    .slice(0, maxFeatures);
  const vocabulary = new Map(kept.map(({ f }, j) => [f, j]));
  const x = vectorize(texts, vocabulary, bigrams);

  const n = texts.length;
  const size = vocabulary.size * classes;
  let w = new Float64Array(size);
  let b = new Float64Array(classes);
  let wPrev = new Float64Array(size);
  let bPrev = new Float64Array(classes);
  const gw = new Float64Array(size);
  const gb = new Float64Array(classes);
  const yw = new Float64Array(size);
  const yb = new Float64Array(classes);
  const s = new Float64Array(classes);
  // Curvature bound: the softmax Hessian is ≤ 1/2 · I in the scores, and a unit-length row with
  // a bias of 1 has |[x, 1]|² = 2, so the mean loss's Hessian is ≤ 1 · I; the penalty adds l2.
  const step = 1 / (1 + l2);
  let loss = 0;
  for (let t = 0; t <= iterations; t++) {
    // Nesterov's look-ahead point y = w + (t - 1) / (t + 2) · (w - wPrev).
    const mu = t === 0 ? 0 : (t - 1) / (t + 2);
    for (let i = 0; i < size; i++) yw[i] = w[i] + mu * (w[i] - wPrev[i]);
    for (let c = 0; c < classes; c++) yb[c] = b[c] + mu * (b[c] - bPrev[c]);
    const last = t === iterations;
    const pw = last ? w : yw; // the last pass only measures the loss at w
    const pb = last ? b : yb;
    gw.fill(0);
    gb.fill(0);
    loss = 0;
    for (let i = 0; i < n; i++) {
      rowScores(x, i, pw, pb, classes, s);
      const scoreOfLabel = s[y[i]];
      loss += softmaxInPlace(s) - scoreOfLabel; // -log p(y) = logsumexp(s) - s_y
      s[y[i]] -= 1; // d loss / d scores = p - onehot
      const v = x.value[i] / n;
      for (let p = x.indptr[i]; p < x.indptr[i + 1]; p++) {
        const row = x.indices[p] * classes;
        for (let c = 0; c < classes; c++) gw[row + c] += v * s[c];
      }
      for (let c = 0; c < classes; c++) gb[c] += s[c] / n;
    }
    let penalty = 0;
    for (let i = 0; i < size; i++) penalty += pw[i] * pw[i];
    loss = loss / n + (l2 / 2) * penalty;
    if (last) break;
    [wPrev, w] = [w, wPrev];
    [bPrev, b] = [b, bPrev];
    for (let i = 0; i < size; i++) w[i] = yw[i] - step * (gw[i] + l2 * yw[i]);
    for (let c = 0; c < classes; c++) b[c] = yb[c] - step * gb[c];
  }
  return { vocabulary, classes, bigrams, weights: w, bias: b, finalLoss: loss };
}

/**
 * The class scores (log-probabilities) of texts under a bag-of-words model.
 *
 * @param model the model
 * @param texts the texts
 * @returns `[texts][classes]` log-probabilities
 * @example
 * ```ts
 * import { bagOfWordsLogProbs } from "./baseline.ts";
 * import assert from "node:assert/strict";
 * const model = { vocabulary: new Map([["free", 0]]), classes: 2, bigrams: false, weights: new Float64Array([-1, 1]), bias: new Float64Array([0, 0]), finalLoss: 0 };
 * const [lp] = bagOfWordsLogProbs(model, ["free"]);
 * assert(Math.abs(Math.exp(lp[0]) + Math.exp(lp[1]) - 1) < 1e-12 && lp[1] > lp[0]);
 * ```
 */
export function bagOfWordsLogProbs(model: BagOfWordsModel, texts: readonly string[]): number[][] {
  const x = vectorize(texts, model.vocabulary, model.bigrams);
  const s = new Float64Array(model.classes);
  return texts.map((_, i) => {
    rowScores(x, i, model.weights, model.bias, model.classes, s);
    const scores = Array.from(s);
    const lse = softmaxInPlace(s);
    return scores.map((v) => v - lse);
  });
}

/**
 * The most likely class of each text.
 *
 * @param model the model
 * @param texts the texts
 * @returns class indices (ties go to the lower index)
 * @example
 * ```ts
 * import { predictBagOfWords } from "./baseline.ts";
 * import assert from "node:assert/strict";
 * const model = { vocabulary: new Map([["free", 0]]), classes: 2, bigrams: false, weights: new Float64Array([-1, 1]), bias: new Float64Array([0, 0]), finalLoss: 0 };
 * assert(predictBagOfWords(model, ["free offer", "hello"]).join() === "1,0");
 * ```
 */
export function predictBagOfWords(model: BagOfWordsModel, texts: readonly string[]): number[] {
  return bagOfWordsLogProbs(model, texts).map((lp) => {
    let best = 0;
    for (let c = 1; c < lp.length; c++) if (lp[c] > lp[best]) best = c;
    return best;
  });
}
