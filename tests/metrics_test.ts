import assert from "node:assert/strict";
import {
  accuracy,
  exactMatch,
  f1Binary,
  f1Macro,
  groupExactMatch,
  matthews,
  pearson,
  spearman,
  squadExactMatch,
  squadTokenF1,
  tokenF1,
} from "../eval/mod.ts";
import { averageRanks, normalizeAnswer } from "../eval/metrics.ts";

const close = (actual: number, expected: number, what = "") =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what} ${actual} ≠ ${expected}`);

Deno.test("accuracy() is the fraction of predictions equal to their targets", () => {
  // Right at 0, 1 and 3 of 5.
  assert.equal(accuracy(["a", "b", "a", "a", "c"], ["a", "b", "b", "a", "a"]), 3 / 5);
  assert.equal(accuracy([true, false], [true, true]), 1 / 2);
  assert.ok(Number.isNaN(accuracy([], [])));
  assert.throws(() => accuracy([1], [1, 0]), {
    name: "RangeError",
    message: "accuracy: 1 predictions but 2 targets; expected as many of each",
  });
});

Deno.test("f1Binary() is 2TP / (2TP + FP + FN) of the positive class", () => {
  // TP at 0, 2, 6 (3); FP at 1 (1); FN at 3 (1): 6 / (6 + 1 + 1) = 0.75.
  assert.equal(f1Binary([1, 1, 1, 0, 0, 0, 1], [1, 0, 1, 1, 0, 0, 1], { positive: 1 }), 0.75);
  // No positive prediction or target: 0, as scikit-learn's zero_division.
  assert.equal(f1Binary([0, 0], [0, 0], { positive: 1 }), 0);
  // All positives missed: TP 0, FN 2 → 0.
  assert.equal(f1Binary([0, 0], [1, 1], { positive: 1 }), 0);
});

Deno.test("f1Binary() with a negative class counts other predictions as wrong, like T5's f1_score_with_invalid", () => {
  const preds = ["equivalent", "garbage", "not_equivalent", "garbage"];
  const targets = ["equivalent", "equivalent", "not_equivalent", "not_equivalent"];
  // Invalid at 1 (target positive) → FN; invalid at 3 (target negative) → FP. TP 1, FP 1, FN 1: 2/4.
  assert.equal(
    f1Binary(preds, targets, { positive: "equivalent", negative: "not_equivalent" }),
    0.5,
  );
  // Without a negative class the invalid prediction at 3 is just a negative: TP 1, FN 1: 2/3.
  close(f1Binary(preds, targets, { positive: "equivalent" }), 2 / 3);
});

Deno.test("f1Macro() averages per-class F1 over the classes", () => {
  const preds = ["e", "e", "c", "n", "n", "n"];
  const targets = ["e", "c", "c", "n", "e", "n"];
  // e: TP 1 (0), FP 1 (1), FN 1 (4) → 2/4; c: TP 1 (2), FN 1 (1) → 2/3; n: TP 2 (3, 5), FP 1 (4) → 4/5.
  // Mean: (1/2 + 2/3 + 4/5) / 3 = (15 + 20 + 24) / 90 = 59/90.
  close(f1Macro(preds, targets), 59 / 90);
  close(f1Macro(preds, targets, ["e", "c", "n"]), 59 / 90);
  // T5 averages over all of a task's classes; an absent class scores 0: 59/30 / 4.
  close(f1Macro(preds, targets, ["e", "c", "n", "x"]), 59 / 120);
  assert.equal(f1Macro(["a"], ["a"]), 1);
});

Deno.test("matthews() matches the binary formula and scikit-learn's multiclass form", () => {
  // TP 3 (0, 1, 5), FP 1 (2), FN 1 (4), TN 3 (3, 6, 7): (3·3 − 1·1) / √(4·4·4·4) = 8/16.
  assert.equal(matthews([1, 1, 1, 0, 0, 1, 0, 0], [1, 1, 0, 0, 1, 1, 0, 0]), 0.5);
  // Three classes, 3 of 6 right, every margin 2: cov = 3·6 − (2·2·3) = 6; √((36 − 12)(36 − 12)) = 24.
  assert.equal(matthews(["a", "b", "c", "a", "b", "c"], ["a", "b", "c", "b", "c", "a"]), 0.25);
  assert.equal(matthews([1, 0, 1], [1, 0, 1]), 1);
  assert.equal(matthews([0, 1], [1, 0]), -1);
  // A constant prediction has no correlation: 0 (scikit-learn's convention).
  assert.equal(matthews([1, 1, 1], [1, 0, 1]), 0);
});

Deno.test("pearson() is the normalised covariance, NaN for a constant series", () => {
  // Means 3 and 4; dx (-2, -1, 0, 1, 2), dy (-2, 0, 1, 0, 1): Σdxdy 6, Σdx² 10, Σdy² 6 → 6/√60.
  close(pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5]), 6 / Math.sqrt(60));
  assert.equal(pearson([1, 2, 3], [3, 2, 1]), -1);
  assert.ok(Number.isNaN(pearson([1, 1, 1], [1, 2, 3])));
  assert.ok(Number.isNaN(pearson([1], [2])));
});

Deno.test("averageRanks() gives ties the mean of the ranks they span", () => {
  // Sorted: 1,1 → ranks 1,2 → 1.5; 2 → 3; 3 → 4; 4 → 5; 5,5 → 6,7 → 6.5; 6 → 8; 9 → 9.
  assert.deepEqual(averageRanks([3, 1, 4, 1, 5, 9, 2, 6, 5]), [4, 1.5, 5, 1.5, 6.5, 9, 3, 8, 6.5]);
  assert.deepEqual(averageRanks([7, 7, 7]), [2, 2, 2]);
});

Deno.test("spearman() is Pearson over average ranks", () => {
  // Ranks (1, 2.5, 2.5, 4) and (1, 3, 2, 4); deviations (-1.5, 0, 0, 1.5) and (-1.5, .5, -.5, 1.5):
  // Σ 4.5 / √(4.5 · 5) = 3/√10.
  close(spearman([1, 2, 2, 3], [10, 30, 20, 40]), 3 / Math.sqrt(10));
  assert.equal(spearman([1, 2, 3, 4], [1, 4, 9, 100]), 1); // monotone, not linear
  assert.ok(Number.isNaN(spearman([2, 2], [1, 3])));
});

Deno.test("groupExactMatch() counts the groups whose examples are all right", () => {
  // q1 right, q2 has a miss at 3, q3 right: 2 of 3.
  close(groupExactMatch([1, 0, 1, 1, 0], [1, 0, 1, 0, 0], ["q1", "q1", "q2", "q2", "q3"]), 2 / 3);
  assert.throws(() => groupExactMatch([1], [1], []), RangeError);
});

Deno.test("normalizeAnswer() lowercases, strips ASCII punctuation and articles, collapses spaces", () => {
  const cases: [string, string][] = [
    ["The  Quick, brown fox!", "quick brown fox"],
    ["An apple a day", "apple day"],
    ["theatre", "theatre"], // no word boundary inside "theatre"
    ["the café", "café"],
    ["a-b", "ab"], // the hyphen goes, so "a" is no longer a word of its own
    ["«Paris»", "«paris»"], // only ASCII punctuation is removed
    ["théa the", "théa"], // "th" + "é" is a word: \b is Unicode-aware as in Python
    ["", ""],
  ];
  for (const [s, want] of cases) assert.equal(normalizeAnswer(s), want, s);
});

Deno.test("exactMatch() and tokenF1() compare normalised answers, SQuAD style", () => {
  assert.equal(exactMatch("The Beatles!", "beatles"), 1);
  assert.equal(exactMatch("Beatles", "Rolling Stones"), 0);
  // [cat, sat, on, mat] vs [cat, on, mat]: 3 shared; P 3/4, R 1 → 2·(3/4)/(7/4) = 6/7.
  close(tokenF1("the cat sat on the mat", "a cat on a mat"), 6 / 7);
  // Shared tokens count with multiplicity: x·min(2,1) + y·min(1,2) = 2; P = R = 2/3.
  close(tokenF1("x x y", "x y y"), 2 / 3);
  assert.equal(tokenF1("", ""), 0); // no shared token: 0, as SQuAD v1.1 and T5
  assert.equal(tokenF1("blue", "red"), 0);
});

Deno.test("squadExactMatch() and squadTokenF1() take each example's best answer, then the mean", () => {
  const preds = ["Paris", "the Beatles", "blue"];
  const answers = [["Paris, France", "paris"], ["Beatles"], []];
  // EM: 1 (second answer), 1, 0 (no answers) → 2/3.
  close(squadExactMatch(preds, answers), 2 / 3);
  // F1: max(2/3, 1) = 1, 1, 0 → 2/3.
  close(squadTokenF1(preds, answers), 2 / 3);
  // "Paris France" vs "Paris": P 1/2, R 1 → 2/3; EM 0.
  close(squadTokenF1(["Paris France"], [["Paris"]]), 2 / 3);
  assert.equal(squadExactMatch(["Paris France"], [["Paris"]]), 0);
  assert.ok(Number.isNaN(squadExactMatch([], [])));
});

interface Reference {
  classes: number;
  predictions: number[];
  targets: number[];
  x: number[];
  y: number[];
  accuracy: number;
  f1: number;
  macro_f1: number;
  matthews: number;
  pearson: number;
  spearman: number;
}

Deno.test("the classification and correlation metrics match scikit-learn and SciPy on random cases", () => {
  // tools/make_metrics_fixtures.py: scikit-learn 1.9.1, SciPy 1.17.1.
  const cases: Reference[] = JSON.parse(
    Deno.readTextFileSync(new URL("./fixtures/data/metrics_reference.json", import.meta.url)),
  );
  assert.equal(cases.length, 20);
  for (const [i, c] of cases.entries()) {
    const labels = Array.from({ length: c.classes }, (_, k) => k);
    const near = (a: number, b: number, what: string) =>
      assert.ok(Math.abs(a - b) < 1e-12, `case ${i} ${what}: ${a} ≠ ${b}`);
    near(accuracy(c.predictions, c.targets), c.accuracy, "accuracy");
    near(f1Binary(c.predictions, c.targets, { positive: 1 }), c.f1, "f1");
    near(f1Macro(c.predictions, c.targets, labels), c.macro_f1, "macro_f1");
    near(matthews(c.predictions, c.targets), c.matthews, "matthews");
    near(pearson(c.x, c.y), c.pearson, "pearson");
    near(spearman(c.x, c.y), c.spearman, "spearman");
  }
});
