/**
 * Run by tests/backend_threads_test.ts in a subprocess (the backend starts once per process):
 * starts the WASM backend with the threads of `SOFT_PROMPT_THREADS`, then prints as JSON the
 * threads it got and the bits of a matrix product of the step's shapes and of three training
 * steps of the tiny T5 (loss, gradient norm, prompt).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { initBackend, wasmThreads } from "../backend.ts";
import { loadModel } from "../model/load.ts";
import { orThrow } from "../problem.ts";
import { collateExamples } from "../data/batch.ts";
import { disposeTree } from "../tree/tree.ts";
import { disposeTensors } from "../training/evaluate.ts";
import { adafactor, disposeState, promptLoss, type StepState, trainStep } from "../training/mod.ts";

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** A short digest of float bits (FNV-1a over the words). */
function digest(a: Float32Array): string {
  let h = 0x811c9dc5;
  for (const w of bits(a)) h = Math.imul(h ^ w, 0x01000193) >>> 0;
  return h.toString(16);
}

orThrow(await initBackend("wasm"));
const before = tf.memory().numTensors;
const a = tf.randomNormal([300, 512], 0, 1, "float32", 1); // [M, K]
const b = tf.randomNormal([1024, 512], 0, 1, "float32", 2); // [N, K]: used transposed
const product = tf.matMul(a, b, false, true); // [M, N]
const matmul = digest(await product.data() as Float32Array);
tf.dispose([a, b, product]);

const model = orThrow(
  await loadModel(new URL("./fixtures/models/t5_v1_1", import.meta.url).pathname),
);
const batch = collateExamples(model, [{ inputIds: [5, 12, 7, 30, 1], targetIds: [5, 12, 1] }]);
const optimizer = adafactor();
const prompt = tf.fill([4, 32], 0.5); // [P = 4, H = 32]
let state: StepState = { prompt, opt: optimizer.init(prompt) };
const losses: number[] = [];
for (let i = 0; i < 3; i++) {
  const r = await trainStep(state, batch, {
    loss: (p, x) => promptLoss(model, x)(p),
    optimizer,
    clipNorm: 0.5,
  });
  losses.push(r.loss, r.gradNorm);
  state.prompt.dispose();
  disposeState(state.opt);
  state = r.state;
}
const trained = digest(await state.prompt.data() as Float32Array);
state.prompt.dispose();
disposeState(state.opt);
disposeTensors(batch);
disposeTree(model.params);
console.log(JSON.stringify({
  threads: wasmThreads(),
  matmul,
  losses,
  trained,
  leaked: tf.memory().numTensors - before,
}));
