import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import { orThrow } from "../problem.ts";
import { key } from "../random/mod.ts";
import { train } from "../training/loop.ts";
import { adafactor, disposeState } from "../training/optim/mod.ts";
import { runSteps, type StepReport } from "../training/steps.ts";

await initBackend("cpu");

const examples = [1, 2, 3, 4, 5, 6, 7];
const collate = (xs: readonly number[]) => tf.tensor1d([...xs]);
/** A loss whose value depends on the batch drawn, so a different batch order shows. */
const loss = (p: tf.Tensor, b: tf.Tensor) =>
  tf.mean(tf.square(tf.sub(tf.sum(p), tf.mean(b)))) as tf.Scalar;

Deno.test("runSteps takes the Deno loop's steps: same batches, same losses, same prompt", async () => {
  const before = tf.memory().numTensors;
  const runDir = await Deno.makeTempDir({ prefix: "steps_test_" });
  const init = tf.tensor2d([[0.5, -0.2], [0.1, 0.3]]); // [P, H]
  const optimizer = adafactor({ learningRate: 0.1 });
  const loopLosses: number[] = [];
  try {
    const looped = orThrow(
      await train({
        prompt: init,
        key: key(5),
        train: examples,
        collate,
        loss,
        optimizer,
        batchSize: 2,
        steps: 9, // crosses an epoch (3 batches of 2 from 7, dropLast)
        runDir,
        checkpointEvery: 100,
        progress: false,
        interrupts: false,
        onProgress: (m) => loopLosses.push(m.loss),
      }),
    );
    const reports: StepReport[] = [];
    const inMemory = await runSteps({ prompt: init.clone(), opt: optimizer.init(init) }, {
      train: examples,
      collate,
      loss,
      optimizer,
      batchSize: 2,
      steps: 9,
      key: key(5),
      onStep: (r) => {
        reports.push(r);
      },
    });
    assert.equal(inMemory.stopped, "done");
    assert.deepEqual(reports.map((r) => r.loss), loopLosses);
    assert.deepEqual(reports.map((r) => r.epoch), [0, 0, 0, 1, 1, 1, 2, 2, 2]);
    assert.equal(new Set(loopLosses).size > 3, true, "batches differ, so losses differ");
    assert.deepEqual(
      Array.from(await inMemory.state.prompt.data()),
      Array.from(await looped.prompt.data()),
    );
    tf.dispose([looped.prompt, inMemory.state.prompt]);
    disposeState(inMemory.state.opt);
  } finally {
    init.dispose();
    await Deno.remove(runDir, { recursive: true });
  }
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("runSteps stops on an aborted signal and on a non-finite loss, keeping the last good state", async () => {
  const before = tf.memory().numTensors;
  const optimizer = adafactor({ learningRate: 0.1 });
  const stop = new AbortController();
  const start = () => {
    const prompt = tf.ones([1, 2]);
    return { prompt, opt: optimizer.init(prompt) };
  };
  const aborted = await runSteps(start(), {
    train: examples,
    collate,
    loss,
    optimizer,
    batchSize: 1,
    steps: 50,
    key: key(1),
    signal: stop.signal,
    onStep: (r) => {
      if (r.step === 3) stop.abort();
    },
  });
  assert.equal(aborted.stopped, "aborted");
  assert.equal(aborted.steps, 3);
  const nan = await runSteps(start(), {
    train: examples,
    collate,
    loss: (p) => tf.mul(tf.sum(p), NaN) as tf.Scalar,
    optimizer,
    batchSize: 1,
    steps: 5,
    key: key(1),
  });
  assert.equal(nan.stopped, "nan");
  assert.equal(nan.steps, 0);
  assert.deepEqual(Array.from(await nan.state.prompt.data()), [1, 1]); // not updated
  for (const r of [aborted, nan]) {
    r.state.prompt.dispose();
    disposeState(r.state.opt);
  }
  assert.equal(tf.memory().numTensors, before);
});
