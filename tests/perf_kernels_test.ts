import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import { remat, useFastKernels } from "../model/kernels/mod.ts";
import { loadModel } from "../model/load.ts";
import { orThrow } from "../problem.ts";
import { disposeTree } from "../tree/tree.ts";
import { valueAndGradOfPrompt } from "../training/grad.ts";
import { promptLoss } from "../training/objective.ts";
import type { Seq2SeqBatch } from "../model/prompted.ts";
import { hashUniform, randomT5Small } from "../perf/t5_small.ts";

await initBackend("wasm");
assert.ok(useFastKernels(), "the WASM kernels install");

/** `a @ b` by plain loops over row-major arrays, with optional transposes and batch broadcast. */
function reference(
  a: Float32Array,
  as: number[],
  b: Float32Array,
  bs: number[],
  ta: boolean,
  tb: boolean,
): Float32Array {
  const [ar, ac] = as.slice(-2), [br, bc] = bs.slice(-2);
  const batchA = a.length / (ar * ac), batchB = b.length / (br * bc);
  const m = ta ? ac : ar, k = ta ? ar : ac, n = tb ? br : bc;
  const batch = Math.max(batchA, batchB);
  const out = new Float32Array(batch * m * n);
  for (let z = 0; z < batch; z++) {
    const oa = (batchA === 1 ? 0 : z) * ar * ac, ob = (batchB === 1 ? 0 : z) * br * bc;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let l = 0; l < k; l++) {
          const x = ta ? a[oa + l * ac + i] : a[oa + i * ac + l];
          const y = tb ? b[ob + j * bc + l] : b[ob + l * bc + j];
          s += x * y;
        }
        out[z * m * n + i * n + j] = s;
      }
    }
  }
  return out;
}

Deno.test("the WASM BatchMatMul gives plain products for transposed, batched and broadcast operands", () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[7, 5], [5, 3], false, false], // plain
    [[7, 5], [3, 5], false, true],
    [[5, 7], [5, 3], true, false],
    [[5, 7], [3, 5], true, true],
    [[2, 3, 4, 5], [2, 3, 5, 6], false, false], // batched, as attention
    [[2, 3, 4, 5], [2, 3, 6, 5], false, true], // q·kᵀ
    [[2, 3, 5, 4], [2, 3, 5, 6], true, false], // a gradient's pᵀ·dy
    [[3, 4, 5], [5, 2], false, false], // one shared right operand
    [[4, 5], [3, 5, 2], false, false], // one shared left operand
    [[3, 4, 5], [1, 2, 5], false, true], // a broadcast batch of one
    [[2, 40], [300, 40], false, true], // a small row block against a large matrix (an output head's gradient)
    // Large enough to be split between threads, with edges off every block size:
    [[67, 300], [300, 130], false, false], // split along the columns; k past one block
    [[300, 67], [130, 300], true, true],
    [[10, 260], [1030, 260], false, true], // few rows: dot products; columns past one block
    [[20, 600], [600, 1040], false, false], // few rows: B read where it lies
    [[4, 30, 50], [4, 50, 70], false, false], // split along the batch
    [[200, 300], [300, 20], false, false], // few columns: split along the rows
  ];
  const before = tf.memory().numTensors;
  cases.forEach(([as, bs, ta, tb], c) => {
    const n = (s: number[]) => s.reduce((p, d) => p * d, 1);
    const av = hashUniform(n(as), 10 + c, 1), bv = hashUniform(n(bs), 50 + c, 1);
    const y = tf.tidy(() => tf.matMul(tf.tensor(av, as), tf.tensor(bv, bs), ta, tb));
    const want = reference(av, as, bv, bs, ta, tb);
    const got = y.dataSync() as Float32Array;
    assert.equal(got.length, want.length, `case ${c}: size`);
    let err = 0;
    got.forEach((v, i) => err = Math.max(err, Math.abs(v - want[i])));
    assert.ok(err < 1e-4, `case ${c} (${as} × ${bs}, ${ta}, ${tb}): max error ${err}`);
    y.dispose();
  });
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("a clone on WASM shares its data yet outlives the tensor it was made from", () => {
  const before = tf.memory().numTensors;
  const x = tf.tensor1d([1, 2, 3]);
  const y = tf.clone(x);
  x.dispose();
  assert.deepEqual([...y.dataSync()], [1, 2, 3]);
  y.dispose();
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("remat() gives the plain function's value and gradients, nested, and leaks nothing", () => {
  const before = tf.memory().numTensors;
  const x = tf.tensor2d([[0.5, -1, 2], [1.5, 0.25, -0.75]]);
  const w = tf.tensor2d([[1, 2], [3, -1], [0.5, 0.5]]);
  const c = tf.tensor2d([[0.1, -0.2], [0.3, 0.4]]);
  const inner = (a: tf.Tensor, k: tf.Tensor) => tf.mul(tf.sigmoid(a), k);
  const block = (a: tf.Tensor, b: tf.Tensor) => tf.tanh(tf.add(tf.matMul(a, b), c));
  const plain = (a: tf.Tensor, b: tf.Tensor) => tf.sum(inner(block(a, b), block(a, b)));
  const lean = (a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(remat(inner, [remat(block, [a, b]), remat(block, [a, b])]));
  const [g1, g2] = [plain, lean].map((f) => tf.tidy(() => tf.grads(f)([x, w])));
  for (let i = 0; i < 2; i++) {
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(g1[i], g2[i]))).dataSync()[0]);
    assert.ok(d < 1e-6, `gradient ${i}: max difference ${d}`);
  }
  const v = tf.tidy(() => [plain(x, w).dataSync()[0], lean(x, w).dataSync()[0]]);
  assert.ok(Math.abs(v[0] - v[1]) < 1e-6);
  // A constant is kept for the backward pass even when the caller disposed its own handle.
  const k = tf.tensor2d([[2, 2], [2, 2]]);
  const g3 = tf.tidy(() =>
    tf.grad((a: tf.Tensor) => {
      const scale = tf.mul(k, 1); // made in this scope, disposed with it
      return tf.sum(remat((p, s) => tf.mul(p, s), [a], [scale]));
    })(c)
  );
  assert.deepEqual([...g3.dataSync()], [2, 2, 2, 2]);
  tf.dispose([x, w, c, k, g3, ...g1, ...g2]);
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("promptLoss() recomputing each encoder layer gives the same loss and prompt gradient", async () => {
  const model = orThrow(
    await loadModel(new URL("./fixtures/models/t5_v1_1", import.meta.url).pathname),
  );
  const before = tf.memory().numTensors;
  const batch: Seq2SeqBatch = {
    inputIds: tf.tensor2d([[5, 6, 7, 1], [8, 9, 1, 0]], undefined, "int32"),
    inputMask: tf.tensor2d([[1, 1, 1, 1], [1, 1, 1, 0]], undefined, "int32"),
    targetIds: tf.tensor2d([[10, 11, 1], [12, 1, 0]], undefined, "int32"),
    targetMask: tf.tensor2d([[1, 1, 1], [1, 1, 0]], undefined, "int32"),
  };
  const h = model.architecture === "t5" ? model.config.dModel : 0;
  const prompt = tf.tensor2d(hashUniform(3 * h, 3, 0.5), [3, h]);
  const [a, b] = (["none", "layer"] as const).map((recompute) =>
    valueAndGradOfPrompt(promptLoss(model, batch, { recompute }))(prompt)
  );
  assert.ok(Math.abs(a.value.dataSync()[0] - b.value.dataSync()[0]) < 1e-6);
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a.grad, b.grad))).dataSync()[0]);
  assert.ok(d < 1e-6, `gradient max difference ${d}`);
  tf.dispose([a.value, a.grad, b.value, b.grad, prompt, ...Object.values(batch)]);
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  disposeTree(model.params);
});

Deno.test("randomT5Small() builds the same hashed t5-small-shaped weights every time", () => {
  const before = tf.memory().numTensors;
  const [m1, m2] = [randomT5Small(), randomT5Small()];
  const take = (m: typeof m1) =>
    (m.params as unknown as { encoder: { layers: { mlp: { wi_0: { kernel: tf.Tensor } } }[] } })
      .encoder.layers[3].mlp.wi_0.kernel;
  const k1 = take(m1), k2 = take(m2);
  assert.deepEqual(k1.shape, [512, 1024]);
  const bound = Math.sqrt(3 / 512);
  const v1 = k1.dataSync() as Float32Array, v2 = k2.dataSync() as Float32Array;
  assert.ok(v1.every((x, i) => x === v2[i] && Math.abs(x) <= bound));
  disposeTree(m1.params);
  disposeTree(m2.params);
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
});
