import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import { loadModel } from "../model/load.ts";
import { orThrow } from "../problem.ts";
import { key } from "../random/mod.ts";
import { disposeTree } from "../tree/tree.ts";
import { collateExamples } from "../data/batch.ts";
import { disposeTensors } from "../training/evaluate.ts";
import type { PromptBatch } from "../model/prompted.ts";
import {
  adafactor,
  disposeState,
  promptLoss,
  type StepMetrics,
  type StepState,
  train,
  trainStep,
} from "../training/mod.ts";

await initBackend("wasm");

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

const fixture = new URL("./fixtures/models/t5_v1_1", import.meta.url).pathname;
/** One example of plain ids (the fixture has no tokenizer), so every step sees the same batch. */
const example = { inputIds: [5, 12, 7, 30, 1], targetIds: [5, 12, 1] };
const initial = () => tf.fill([4, 32], 0.5); // [P = 4, H = 32]

Deno.test("trainStep() on the tiny T5 equals train()'s steps bit for bit: loss, norm, prompt", async () => {
  const model = orThrow(await loadModel(fixture));
  const loss = (p: tf.Tensor, b: PromptBatch) => promptLoss(model, b)(p);
  const steps = 3;
  const runDir = await Deno.makeTempDir({ prefix: "train_step_test_" });
  const logged: StepMetrics[] = [];
  const trained = orThrow(
    await train({
      prompt: initial,
      key: key(5),
      train: [example],
      collate: (xs) => collateExamples(model, xs),
      loss,
      optimizer: adafactor(),
      clipNorm: 0.5,
      batchSize: 1,
      steps,
      runDir,
      progress: false,
      interrupts: false,
      onProgress: (m) => logged.push(m),
    }),
  );
  assert.ok(logged[0].gradNorm > 0.5, "the gradient is clipped");
  const optimizer = adafactor();
  const prompt = initial();
  let state: StepState = { prompt, opt: optimizer.init(prompt) };
  const batch = collateExamples(model, [example]);
  for (let i = 0; i < steps; i++) {
    const r = await trainStep(state, batch, { loss, optimizer, clipNorm: 0.5 });
    assert.equal(r.loss, logged[i].loss, `loss of step ${i + 1}`);
    assert.equal(r.gradNorm, logged[i].gradNorm, `gradient norm of step ${i + 1}`);
    assert.equal(r.state.opt.step, i + 1);
    state.prompt.dispose();
    disposeState(state.opt);
    state = r.state;
  }
  assert.equal(trained.finalLoss, logged[steps - 1].loss);
  assert.deepEqual(
    bits(await state.prompt.data() as Float32Array),
    bits(await trained.prompt.data() as Float32Array),
  );
  tf.dispose([trained.prompt, state.prompt]);
  disposeState(state.opt);
  disposeTensors(batch);
  disposeTree(model.params);
  await Deno.remove(runDir, { recursive: true });
});

Deno.test("trainStep() leaks no tensors: the new state replaces the old one exactly", async () => {
  const model = orThrow(await loadModel(fixture));
  const optimizer = adafactor({ factored: true });
  const prompt = initial();
  const old: StepState = { prompt, opt: optimizer.init(prompt) };
  const batch = collateExamples(model, [example]);
  const before = tf.memory().numTensors;
  const r = await trainStep(old, batch, {
    loss: (p, b) => promptLoss(model, b)(p),
    optimizer,
  });
  assert.ok(Number.isFinite(r.loss) && r.gradNorm > 0);
  assert.ok(!old.prompt.isDisposed, "the old prompt is the caller's to dispose");
  old.prompt.dispose();
  disposeState(old.opt);
  assert.equal(tf.memory().numTensors, before);
  r.state.prompt.dispose();
  disposeState(r.state.opt);
  disposeTensors(batch);
  disposeTree(model.params);
});
