import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { initBackend } from "../backend.ts";
import { randomUniform } from "../initializers/mod.ts";
import { readNpy } from "../io/npy.ts";
import { loadModel } from "../model/load.ts";
import { key } from "../random/mod.ts";
import { disposeTree } from "../tree/tree.ts";
import { adafactor } from "../training/optim/mod.ts";
import { readPeftAdapter } from "../training/peft.ts";
import { tunePrompt } from "../training/tune.ts";
import { collateExamples, type TokenExample } from "../data/batch.ts";

await initBackend("wasm");

const fixtures = new URL("./fixtures/models/", import.meta.url).pathname;

/** A toy task: the target is the input's first token, then EOS (1). */
const examples: TokenExample[] = Array.from({ length: 16 }, (_, i) => ({
  inputIds: [3 + (i % 5), 10 + (i % 7), 20 + (i % 3), 1],
  targetIds: [3 + (i % 5), 1],
}));

Deno.test("collateExamples() pads seq2seq batches and masks decoder-only inputs out of the loss", () => {
  const before = tf.memory().numTensors;
  const t5 = collateExamples({ architecture: "t5" }, [examples[0], {
    inputIds: [5],
    targetIds: [6, 7, 1],
  }]);
  assert.ok("targetIds" in t5);
  assert.deepEqual(t5.inputIds.arraySync(), [[3, 10, 20, 1], [5, 0, 0, 0]]);
  assert.deepEqual(t5.inputMask.arraySync(), [[1, 1, 1, 1], [1, 0, 0, 0]]);
  assert.deepEqual(t5.targetIds.arraySync(), [[3, 1, 0], [6, 7, 1]]);
  assert.deepEqual(t5.targetMask.arraySync(), [[1, 1, 0], [1, 1, 1]]);
  tf.dispose(Object.values(t5));
  const gpt = collateExamples({ architecture: "gpt2" }, [{ inputIds: [5, 6], targetIds: [7] }, {
    inputIds: [5],
    targetIds: [8, 9],
  }], { padId: 0 });
  assert.ok("labels" in gpt && gpt.labels !== undefined);
  assert.deepEqual(gpt.inputIds.arraySync(), [[5, 6, 7], [5, 8, 9]]);
  assert.deepEqual(gpt.labels.arraySync(), [[-100, -100, 7], [-100, 8, 9]]);
  tf.dispose(Object.values(gpt) as tf.Tensor[]);
  assert.equal(tf.memory().numTensors, before);
});

for (const name of ["t5_v1_1", "gpt2_tiny"]) {
  Deno.test(`tunePrompt() trains a prompt on ${name} and exports .npy and a PEFT adapter`, async () => {
    const before = tf.memory().numTensors;
    const loaded = await loadModel(`${fixtures}${name}`);
    assert.ok(E.isRight(loaded));
    const model = loaded.right;
    const runDir = await Deno.makeTempDir();
    try {
      const result = await tunePrompt({
        model,
        initializer: randomUniform(0.5),
        promptLength: 3,
        key: key(7),
        train: examples,
        optimizer: adafactor(),
        batchSize: 4,
        steps: 8,
        checkpointEvery: 4,
        runDir,
        progress: false,
        interrupts: false,
      });
      assert.ok(E.isRight(result), JSON.stringify(E.isLeft(result) && result.left));
      const r = result.right;
      assert.equal(r.stopped, "done");
      assert.equal(r.steps, 8);
      const lines = (await Deno.readTextFile(`${runDir}/metrics.jsonl`)).trim().split("\n");
      const losses = lines.map((l) => JSON.parse(l)).filter((m) => typeof m.loss === "number")
        .map((m) => m.loss as number);
      assert.ok(losses.at(-1)! < losses[0], `loss should fall: ${losses.join(", ")}`);
      const npy = await readNpy(r.promptFile);
      assert.ok(E.isRight(npy));
      assert.deepEqual(npy.right.shape, r.prompt.shape);
      assert.deepEqual(Array.from(npy.right.data as Float32Array), Array.from(r.prompt.dataSync()));
      const adapter = await readPeftAdapter(r.adapterDir!);
      assert.ok(E.isRight(adapter));
      assert.deepEqual(
        Array.from(adapter.right.prompt.data as Float32Array),
        Array.from(r.prompt.dataSync()),
      );
      assert.equal(
        adapter.right.config.taskType,
        name.startsWith("t5") ? "SEQ_2_SEQ_LM" : "CAUSAL_LM",
      );
      r.prompt.dispose();
    } finally {
      disposeTree(model.params);
      await Deno.remove(runDir, { recursive: true });
    }
    assert.equal(tf.memory().numTensors, before);
  });
}
