import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { initBackend } from "../backend.ts";
import { validateConfig } from "../config/validate.ts";
import { rankClassify } from "../eval/rank.ts";
import { key, normal } from "../random/mod.ts";
import { disposeTensors } from "../training/evaluate.ts";
import { valueAndGradOfPrompt } from "../training/grad.ts";
import { classCrossEntropy, sequenceLogLikelihood } from "../model/loss.ts";
import { adam, disposeState } from "../training/optim/mod.ts";
import { promptRankLoss } from "../training/rank_objective.ts";
import { collateRank, type TokenExample } from "../data/batch.ts";
import { assertFiniteDifferences, MODELS, width, withModel } from "./model_helpers.ts";

await initBackend("wasm");

/** T5-style examples: inputs end with EOS (1); targets are one of the labels. */
const LABELS = [[30, 1], [31, 40, 1], [50, 1]];
const EXAMPLES: TokenExample[] = [
  { inputIds: [5, 17, 33, 1], targetIds: LABELS[1] },
  { inputIds: [44, 9, 1], targetIds: LABELS[0] },
  { inputIds: [60, 8, 71, 23, 1], targetIds: LABELS[2] },
  { inputIds: [12, 1], targetIds: LABELS[1] },
];
const CLASSES = [1, 0, 2, 1];

const scalar = (t: tf.Tensor) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

/** The mean over examples of logsumexp(scores) − scores[label], from plain numbers. */
function referenceLoss(scores: readonly (readonly number[])[], classes: readonly number[]): number {
  const terms = scores.map((s, i) => {
    const m = Math.max(...s);
    return m + Math.log(s.reduce((a, x) => a + Math.exp(x - m), 0)) - s[classes[i]];
  });
  return terms.reduce((a, b) => a + b, 0) / terms.length;
}

for (const name of MODELS) {
  Deno.test(`promptRankLoss() on ${name} is the softmax cross-entropy of rankClassify()'s scores`, async () => {
    await withModel(name, async (model) => {
      const prompt = normal(key(3), [4, width(model)], { stddev: 0.5 });
      const examples = model.architecture === "t5"
        ? EXAMPLES
        : EXAMPLES.map((e) => ({ inputIds: e.inputIds.slice(0, -1), targetIds: e.targetIds }));
      const before = tf.memory().numTensors;
      for (const lengthNormalize of [false, true]) {
        const ranked = await rankClassify(
          model,
          prompt,
          examples.map((e) => e.inputIds),
          LABELS,
          { lengthNormalize },
        );
        const expected = referenceLoss(ranked.map((r) => r.scores), CLASSES);
        const batch = collateRank(model, examples, LABELS);
        const got = scalar(promptRankLoss(model, batch, { lengthNormalize })(prompt));
        disposeTensors(batch);
        assert.ok(
          Math.abs(got - expected) < 1e-4,
          `lengthNormalize ${lengthNormalize}: ${got} vs ${expected}`,
        );
      }
      assert.equal(tf.memory().numTensors, before, "no tensor leaked");
      prompt.dispose();
    });
  });
}

interface RankReference {
  readonly prompt: number[][];
  readonly scores: number[][];
  readonly loss: number;
  readonly loss_normalized: number;
  readonly grad: number[][];
}
const REFERENCE = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/rank/rank_loss.json", import.meta.url)),
) as Record<string, RankReference> & { labels: number[][]; classes: number[] };

for (const name of ["t5_v1_1", "gpt2_tiny"]) {
  Deno.test(`promptRankLoss() on ${name} equals transformers' loss and gradient (tools/make_rank_loss_fixtures.py)`, async () => {
    await withModel(name, (model) => {
      const ref = REFERENCE[name];
      assert.deepEqual(REFERENCE.labels, LABELS);
      assert.deepEqual(REFERENCE.classes, CLASSES);
      const examples = model.architecture === "t5"
        ? EXAMPLES
        : EXAMPLES.map((e) => ({ inputIds: e.inputIds.slice(0, -1), targetIds: e.targetIds }));
      const batch = collateRank(model, examples, LABELS);
      const prompt = tf.tensor2d(ref.prompt);
      const { value, grad } = valueAndGradOfPrompt(promptRankLoss(model, batch))(prompt);
      const loss = scalar(value);
      assert.ok(Math.abs(loss - ref.loss) <= 1e-5 * Math.abs(ref.loss), `${loss} vs ${ref.loss}`);
      const normalized = scalar(promptRankLoss(model, batch, { lengthNormalize: true })(prompt));
      assert.ok(
        Math.abs(normalized - ref.loss_normalized) <= 1e-5 * ref.loss_normalized,
        `${normalized} vs ${ref.loss_normalized}`,
      );
      const got = grad.arraySync() as number[][];
      const scale = Math.max(...ref.grad.flat().map(Math.abs));
      const worst = Math.max(...got.flat().map((g, i) => Math.abs(g - ref.grad.flat()[i])));
      assert.ok(worst <= 1e-5 * scale + 1e-6, `gradient differs by ${worst} (largest ${scale})`);
      tf.dispose([prompt, grad]);
      disposeTensors(batch);
    });
  });
}

for (const name of ["t5_v1_1", "gpt2_tiny"]) {
  Deno.test(`promptRankLoss() on ${name}: its gradient matches finite differences and Adam lowers it without leaks`, async () => {
    await withModel(name, async (model) => {
      const examples = model.architecture === "t5"
        ? EXAMPLES
        : EXAMPLES.map((e) => ({ inputIds: e.inputIds.slice(0, -1), targetIds: e.targetIds }));
      const batch = collateRank(model, examples, LABELS);
      const loss = promptRankLoss(model, batch);
      const init = normal(key(4), [3, width(model)], { stddev: 0.5 });
      const { value, grad } = valueAndGradOfPrompt(loss)(init);
      assert.equal(scalar(value), scalar(loss(init)));
      assertFiniteDifferences(loss, init, grad, [1, 2]);
      grad.dispose();
      const step = valueAndGradOfPrompt(loss);
      const opt = adam({ learningRate: 3e-2 });
      let prompt: tf.Tensor = tf.clone(init);
      let state = opt.init(prompt);
      const counts: number[] = [];
      const losses: number[] = [];
      for (let i = 0; i < 30; i++) {
        const out = step(prompt);
        const next = opt.update(out.grad, state, prompt);
        losses.push((await out.value.data())[0]);
        tf.dispose([out.value, out.grad, prompt]);
        disposeState(state);
        ({ params: prompt, state } = next);
        counts.push(tf.memory().numTensors);
      }
      assert.ok(counts.every((c) => c === counts[0]), `tensor counts vary: ${new Set(counts)}`);
      assert.ok(losses[29] < 0.5 * losses[0], `the loss fell from ${losses[0]} to ${losses[29]}`);
      tf.dispose([init, prompt]);
      disposeState(state);
      disposeTensors(batch);
    });
  });
}

Deno.test("collateRank() pads the inputs once per label and finds each example's label", () => {
  const before = tf.memory().numTensors;
  const b = collateRank({ architecture: "t5" }, EXAMPLES, LABELS, { padId: 0 });
  assert.deepEqual(Array.from(b.labels.dataSync()), CLASSES);
  assert.equal(b.choices.length, 3);
  b.choices.forEach((c, k) => {
    assert.ok("targetIds" in c);
    assert.deepEqual(c.inputIds.arraySync(), b.choices[0].inputIds.arraySync());
    const rows = c.targetIds.arraySync() as number[][];
    rows.forEach((r) => assert.deepEqual(r.slice(0, LABELS[k].length), LABELS[k]));
  });
  disposeTensors(b);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("collateRank() refuses an example whose target is not a label, in one line", () => {
  const before = tf.memory().numTensors;
  assert.throws(
    () =>
      collateRank(
        { architecture: "t5" },
        [EXAMPLES[0], { inputIds: [5, 1], targetIds: [30] }],
        LABELS,
      ),
    (e: Error) =>
      e instanceof RangeError && /Example 1 .*\[30\].*none of the 3 labels/.test(e.message) &&
      !e.message.includes("\n"),
  );
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("sequenceLogLikelihood() sums log-softmax at the targets; classCrossEntropy() is softmax CE", () => {
  const logits = tf.tensor3d([[[1, 2, 3], [0, 0, 0]], [[2, 0, 0], [5, 1, 1]]]); // [2, 2, 3]
  const labels = tf.tensor2d([[2, 0], [1, -100]], [2, 2], "int32");
  const lsm = (xs: number[], i: number) =>
    xs[i] - Math.log(xs.reduce((a, x) => a + Math.exp(x), 0));
  const sums = sequenceLogLikelihood(logits, labels);
  const means = sequenceLogLikelihood(logits, labels, { lengthNormalize: true });
  const want = [lsm([1, 2, 3], 2) + lsm([0, 0, 0], 0), lsm([2, 0, 0], 1)];
  Array.from(sums.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6));
  const wantMeans = [want[0] / 2, want[1]];
  Array.from(means.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - wantMeans[i]) < 1e-6));
  const scores = tf.tensor2d([[0, 2], [1, -1]]);
  const classes = tf.tensor1d([1, 1], "int32");
  const ce = scalar(classCrossEntropy(scores, classes));
  assert.ok(Math.abs(ce - referenceLoss([[0, 2], [1, -1]], [1, 1])) < 1e-6);
  assert.throws(
    () => classCrossEntropy(scores, tf.tensor1d([1], "int32")),
    /expected \[B, C\] and \[B\]/,
  );
  tf.dispose([logits, labels, sums, means, scores, classes]);
});

Deno.test("train.loss accepts token and rank, rejects other values and rank without label words", () => {
  const prompt = { length: 4, initializer: { kind: "random_uniform" } };
  const base = { model: "m", task: "glue_sst2", prompt };
  const ok = validateConfig({ ...base, train: { loss: "rank" } });
  assert.ok(E.isRight(ok) && ok.right.train.loss === "rank");
  const dflt = validateConfig(base);
  assert.ok(E.isRight(dflt) && dflt.right.train.loss === "token");
  const bad = validateConfig({ ...base, train: { loss: "hinge" } });
  assert.ok(E.isLeft(bad) && bad.left.some((p) => p.where === "train.loss"));
  const noWords = validateConfig({
    model: "m",
    prompt,
    task: { name: "t", inputs: "{x}", targets: "{y}", files: { train: "t.jsonl" } },
    train: { loss: "rank" },
  });
  assert.ok(
    E.isLeft(noWords) &&
      noWords.left.some((p) => p.where === "train.loss" && /label words/.test(p.message)),
    JSON.stringify(noWords),
  );
});
