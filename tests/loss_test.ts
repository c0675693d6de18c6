import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import { crossEntropy, type CrossEntropyOptions } from "../model/loss.ts";

await initBackend("wasm");

const fx = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/optim/cross_entropy_torch.json", import.meta.url)),
);

const flat = (x: unknown): number[] => (x as unknown[]).flat(Infinity as 1) as number[];

function withoutLeaks(body: () => void): void {
  const before = tf.memory().numTensors;
  body();
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
}

interface Case {
  name: string;
  logits: unknown;
  labels: unknown;
  mask?: unknown;
  ignoreIndex: number;
  labelSmoothing: number;
  zLoss: number;
  tokens: number;
  loss: number;
  zLossValue?: number;
  grad: unknown;
}

const shape: [number, number, number] = fx.shape;

Deno.test("crossEntropy() matches torch cross_entropy and hand-computed z-loss, value and gradient", () => {
  for (const c of fx.cases as Case[]) {
    withoutLeaks(() => {
      const logits = tf.tensor3d(flat(c.logits), shape, "float32");
      const labels = tf.tensor2d(flat(c.labels), [shape[0], shape[1]], "int32");
      const mask = c.mask === undefined
        ? undefined
        : tf.tensor2d(flat(c.mask), [shape[0], shape[1]], "int32");
      const options: CrossEntropyOptions = {
        mask,
        ignoreIndex: c.ignoreIndex,
        labelSmoothing: c.labelSmoothing,
        zLoss: c.zLoss,
      };
      const out = crossEntropy(logits, labels, options);
      const grad = tf.grad((x: tf.Tensor) => crossEntropy(x, labels, options).loss)(logits);
      const loss = out.loss.dataSync()[0];
      // 1e-6 absolute, relative for the large-logit case (a float32 loss of 13 365 has ulp 1e-3)
      assert.ok(
        Math.abs(loss - c.loss) <= 1e-6 * Math.max(1, Math.abs(c.loss)),
        `${c.name}: ${loss} vs ${c.loss}`,
      );
      assert.equal(out.tokens.dataSync()[0], c.tokens, c.name);
      const g = grad.dataSync();
      const want = flat(c.grad);
      want.forEach((w, i) => assert.ok(Math.abs(g[i] - w) <= 1e-6, `${c.name} grad[${i}]`));
      if (c.zLossValue !== undefined) {
        assert.ok(Math.abs(out.zLoss!.dataSync()[0] - c.zLossValue) <= 1e-6, c.name);
      } else {
        assert.equal(out.zLoss, undefined);
      }
      tf.dispose([logits, labels, grad, out.loss, out.tokens]);
      if (out.zLoss) out.zLoss.dispose();
      if (mask) mask.dispose();
    });
  }
});

Deno.test("crossEntropy() adds T5X's z-loss: 1e-4 · logsumexp² per target", () => {
  withoutLeaks(() => {
    const logits = tf.tensor3d([[[0, 0], [5, 1]]]); // [1, 2, 2]
    const labels = tf.tensor2d([[0, -100]], [1, 2], "int32");
    const { loss, tokens, zLoss } = crossEntropy(logits, labels, { zLoss: 1e-4 });
    const lse = Math.LN2;
    assert.ok(Math.abs(loss.dataSync()[0] - (lse + 1e-4 * lse * lse)) < 1e-7);
    assert.ok(Math.abs(zLoss!.dataSync()[0] - 1e-4 * lse * lse) < 1e-10);
    assert.equal(tokens.dataSync()[0], 1);
    tf.dispose([logits, labels, loss, tokens, zLoss!]);
  });
});

Deno.test("crossEntropy() with a boolean mask equals ignoring the masked labels", () => {
  withoutLeaks(() => {
    const logits = tf.randomNormal([2, 3, 5], 0, 2, "float32", 11);
    const labels = tf.tensor2d([[1, 2, 3], [4, 0, 1]], [2, 3], "int32");
    const mask = tf.tensor2d([[true, false, true], [true, true, false]], [2, 3], "bool");
    const ignored = tf.tensor2d([[1, -100, 3], [4, 0, -100]], [2, 3], "int32");
    const a = crossEntropy(logits, labels, { mask, labelSmoothing: 0.1 });
    const b = crossEntropy(logits, ignored, { labelSmoothing: 0.1 });
    assert.equal(a.loss.dataSync()[0], b.loss.dataSync()[0]);
    assert.equal(a.tokens.dataSync()[0], 4);
    tf.dispose([logits, labels, mask, ignored, a.loss, a.tokens, b.loss, b.tokens]);
  });
});

Deno.test("crossEntropy() is 0 with a zero gradient when no position is a target", () => {
  withoutLeaks(() => {
    const logits = tf.ones([1, 2, 3]);
    const labels = tf.fill([1, 2], -100, "int32");
    const f = (x: tf.Tensor) => crossEntropy(x, labels, { zLoss: 1e-4 }).loss;
    const { value, grad } = tf.valueAndGrad(f)(logits);
    assert.equal(value.dataSync()[0], 0);
    assert.ok(grad.dataSync().every((x) => x === 0));
    tf.dispose([logits, labels, value, grad]);
  });
});

Deno.test("crossEntropy() rejects float labels and mismatched shapes", () => {
  withoutLeaks(() => {
    const logits = tf.zeros([2, 3, 4]);
    const floats = tf.zeros([2, 3]);
    const wrong = tf.zeros([3, 2], "int32");
    assert.throws(() => crossEntropy(logits, floats), {
      message: "crossEntropy labels are float32; expected int32 token ids",
    });
    assert.throws(() => crossEntropy(logits, wrong), {
      message:
        "crossEntropy labels have shape [3, 2] for logits [2, 3, 4]; expected the logits' shape without the last axis",
    });
    const labels = tf.zeros([2, 3], "int32");
    assert.throws(() => crossEntropy(logits, labels, { labelSmoothing: 1.5 }), {
      message: "crossEntropy labelSmoothing is 1.5; expected a number in [0, 1]",
    });
    tf.dispose([logits, floats, wrong, labels]);
  });
});
