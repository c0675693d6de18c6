/**
 * A short prompt-tuning run on the real SmolLM2-135M-Instruct GGUF: the token loss falls, and the
 * run leaks no tensors. Run with `deno task test:real`, which fetches the model first.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import { fromSampleOfEmbeddings } from "../initializers/sampled.ts";
import { embeddingTable, loadModel } from "../model/load.ts";
import { orThrow } from "../problem.ts";
import { key } from "../random/key.ts";
import { loadTokenizer } from "../tokenizer/load.ts";
import { readMetrics } from "../training/metrics_log.ts";
import { adafactor } from "../training/optim/adafactor.ts";
import { tunePrompt } from "../training/tune.ts";
import { disposeTree } from "../tree/tree.ts";

await initBackend("wasm");

const GGUF = new URL("../.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf", import.meta.url).pathname;

const SENTENCES: readonly [string, string][] = [
  ["a gorgeous, witty, seductive movie.", " positive"],
  ["the plot is nothing but boilerplate clichés", " negative"],
  ["an utterly charming and hilarious film", " positive"],
  ["it is a dull, lifeless and tiresome affair", " negative"],
];

Deno.test("tunePrompt() on SmolLM2's GGUF lowers the token loss and leaks no tensors", async () => {
  const before = tf.memory().numTensors;
  const model = orThrow(await loadModel(GGUF));
  const tokenizer = orThrow(await loadTokenizer(GGUF));
  const runDir = await Deno.makeTempDir({ prefix: "smollm2_tune_" });
  try {
    const train = SENTENCES.map(([text, label]) => ({
      inputIds: tokenizer.encode(`Review: ${text} Sentiment:`),
      targetIds: tokenizer.encode(label),
    }));
    const r = orThrow(
      await tunePrompt({
        model,
        initializer: fromSampleOfEmbeddings(embeddingTable(model)),
        promptLength: 5,
        key: key(3),
        runDir,
        train,
        optimizer: adafactor(),
        batchSize: 4,
        steps: 6,
        objective: { recompute: "layer" },
        progress: false,
        interrupts: false,
        peft: false,
      }),
    );
    r.prompt.dispose();
    assert.equal(r.stopped, "done");
    const losses = (await readMetrics(`${runDir}/metrics.jsonl`)).map((m) => m.loss as number);
    assert.equal(losses.length, 6);
    assert.ok(losses.every(Number.isFinite), losses.join(", "));
    assert.ok(losses[5] < 0.5 * losses[0], `loss ${losses.join(" → ")}`);
  } finally {
    await Deno.remove(runDir, { recursive: true });
    disposeTree(model.params);
  }
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
});
