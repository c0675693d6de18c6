/**
 * The bag-of-words logistic regression reference (eval/baseline.ts), on toy data and on the
 * spam task.
 */
import assert from "node:assert/strict";
import * as E from "fp-ts/Either";
import { type Example, loadSpamAssassin } from "../data/mod.ts";
import {
  bagOfWordsFeatures,
  bagOfWordsLogProbs,
  predictBagOfWords,
  trainBagOfWords,
} from "../eval/baseline.ts";
import { accuracy } from "../eval/metrics.ts";

const ex = (inputs: string, label?: number): Example => ({
  inputs,
  targets: "",
  ...(label === undefined ? {} : { label }),
  meta: { location: "toy", index: 0 },
});

async function split(name: string): Promise<readonly Example[]> {
  const r = await loadSpamAssassin(name);
  if (E.isLeft(r)) assert.fail(r.left.message);
  return r.right.examples;
}

Deno.test("bagOfWordsFeatures() lower-cases words and adds neighbouring pairs once", () => {
  assert.deepEqual(bagOfWordsFeatures("Win CASH, win cash!"), [
    "win",
    "cash",
    "win cash",
    "cash win",
  ]);
  assert.deepEqual(bagOfWordsFeatures("Naïve café 42", false), ["naïve", "café", "42"]);
  assert.deepEqual(bagOfWordsFeatures("!!! ..."), []);
});

Deno.test("trainBagOfWords() separates three classes and skips unlabelled examples", () => {
  const train = [
    ex("red apple", 0),
    ex("apple red fruit", 0),
    ex("green grass", 1),
    ex("grass green field", 1),
    ex("blue sky", 2),
    ex("sky blue sea", 2),
    ex("unlabelled noise words"),
  ];
  const model = trainBagOfWords(train, { minCount: 1, bigrams: false, iterations: 200 });
  assert.equal(model.classes, 3);
  assert.ok(!model.vocabulary.has("noise"), "unlabelled texts add no features");
  assert.deepEqual(predictBagOfWords(model, ["apple", "green", "the sea"]), [0, 1, 2]);
  const [lp] = bagOfWordsLogProbs(model, ["red apple"]);
  assert.ok(Math.abs(lp.reduce((s, v) => s + Math.exp(v), 0) - 1) < 1e-12);
  assert.ok(model.finalLoss < 0.5, `loss ${model.finalLoss}`);
});

Deno.test("trainBagOfWords() keeps the most frequent features, at least minCount texts each", () => {
  const train = [ex("a b c", 0), ex("a b", 1), ex("a d", 0)];
  const m = trainBagOfWords(train, { minCount: 2, bigrams: false, maxFeatures: 10 });
  assert.deepEqual([...m.vocabulary.keys()], ["a", "b"]);
  const capped = trainBagOfWords(train, { minCount: 1, bigrams: false, maxFeatures: 2 });
  assert.deepEqual([...capped.vocabulary.keys()], ["a", "b"]);
});

Deno.test("trainBagOfWords() refuses examples without labels", () => {
  assert.throws(
    () => trainBagOfWords([ex("a")]),
    /^Error: trainBagOfWords: no example has a class label/,
  );
});

Deno.test("the bag-of-words baseline is over 90% accurate on the spam test split, and deterministic", async () => {
  const [train, test] = [await split("train"), await split("test")];
  const a = trainBagOfWords(train);
  const b = trainBagOfWords(train);
  assert.deepEqual(a.weights, b.weights, "the same weights, bit for bit");
  assert.deepEqual(a.bias, b.bias);
  assert.equal(a.vocabulary.size, 20_000);
  const predicted = predictBagOfWords(a, test.map((e) => e.inputs));
  const acc = accuracy(predicted, test.map((e) => e.label as number));
  console.log(`  bag-of-words test accuracy: ${(100 * acc).toFixed(2)}% of ${test.length}`);
  assert.ok(acc > 0.9, `accuracy ${acc}`);
  assert.equal(acc, 583 / 593); // pinned: a change to the data or the fit shows here
});
