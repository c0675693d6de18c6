import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import { leanGrads } from "../model/kernels/backprop.ts";
import { remat } from "../model/kernels/recompute.ts";
import { hashUniform } from "../perf/t5_small.ts";

await initBackend("wasm");

/** A small network of the kernels a model step runs, frozen weights closed over. */
function network(weights: readonly tf.Tensor[]) {
  return (x: tf.Tensor, scale: tf.Tensor) => {
    let h = tf.mul(x, scale); // [R, 16]
    for (const w of weights) {
      const y = tf.matMul(h, w); // [R, 16]
      const halves = tf.concat([tf.slice(y, [0, 8], [-1, 8]), tf.slice(y, [0, 0], [-1, 8])], 1);
      const gated = remat((a) => tf.mul(a, tf.sigmoid(a)), [halves]);
      h = tf.add(h, tf.softmax(tf.sub(gated, tf.mean(gated, -1, true)), -1).reshape([-1, 16]));
    }
    return tf.sum(tf.square(h));
  };
}

const weightsOf = (n: number) =>
  Array.from({ length: n }, (_, i) => tf.tensor2d(hashUniform(256, 7 + i, 0.4), [16, 16]));

Deno.test("leanGrads() gives tf.valueAndGrads' value and gradients, bit for bit, and leaks nothing", () => {
  const weights = weightsOf(3);
  const x = tf.tensor2d(hashUniform(64 * 16, 1, 1), [64, 16]);
  const scale = tf.tensor1d(hashUniform(16, 2, 1));
  const f = network(weights);
  const before = tf.memory().numTensors;
  const ours = leanGrads(f, [x, scale]);
  const theirs = tf.valueAndGrads(f)([x, scale]);
  assert.deepEqual(ours.value.dataSync(), theirs.value.dataSync());
  ours.grads.forEach((g, i) => assert.deepEqual(g.dataSync(), theirs.grads[i].dataSync()));
  tf.dispose([ours.value, ...ours.grads, theirs.value, ...theirs.grads]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, scale, ...weights]);
});

Deno.test("leanGrads() peaks lower than tf.valueAndGrads on a deep network of frozen weights", async () => {
  const weights = weightsOf(24);
  const x = tf.tensor2d(hashUniform(4096 * 16, 3, 1), [4096, 16]);
  const scale = tf.ones([16]);
  const f = network(weights);
  const peak = async (run: () => tf.Tensor[]) =>
    (await tf.profile(() => tf.dispose(run()))).peakBytes - tf.memory().numBytes;
  const lean = await peak(() => {
    const r = leanGrads((x) => f(x, scale), [x]);
    return [r.value, ...r.grads];
  });
  const plain = await peak(() => {
    const r = tf.valueAndGrads((x: tf.Tensor) => f(x, scale))([x]);
    return [r.value, ...r.grads];
  });
  assert.ok(lean < 0.5 * plain, `lean peak ${lean} B, tf.valueAndGrads' ${plain} B`);
  tf.dispose([x, scale, ...weights]);
});

Deno.test("leanGrads() takes the output's gradient without disposing it", () => {
  const x = tf.tensor1d([1, 2, 3]);
  const dy = tf.tensor1d([1, 10, 100]);
  const { value, grads } = leanGrads((x) => tf.mul(x, x), [x], dy);
  assert.deepEqual(Array.from(grads[0].dataSync()), [2, 40, 600]);
  assert.equal(dy.isDisposed, false);
  tf.dispose([x, dy, value, ...grads]);
});

Deno.test("leanGrads() of an output that no input reaches fails, leaking nothing", () => {
  const x = tf.tensor1d([1, 2]);
  const c = tf.tensor1d([3, 4]);
  const before = tf.memory().numTensors;
  assert.throws(() => leanGrads(() => tf.sum(tf.square(c)), [x]), /not a function of the inputs/);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, c]);
});
