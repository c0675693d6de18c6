import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import type { FrozenModel } from "../model/load.ts";
import { gpt2Forward, type Gpt2Params } from "../model/gpt2/mod.ts";
import { shiftRight, t5Decode, t5Encode, type T5Params } from "../model/t5/mod.ts";
import { flatten } from "../tree/tree.ts";
import { crossEntropy } from "../model/loss.ts";
import { adam, disposeState } from "../training/optim/mod.ts";
import { promptLogits, promptLoss } from "../training/objective.ts";
import type { CausalBatch, Seq2SeqBatch } from "../model/prompted.ts";
import { valueAndGradOfPrompt } from "../training/grad.ts";
import { assertFiniteDifferences, int2d, table, width, withModel } from "./model_helpers.ts";

await initBackend("wasm");

const P = 3;

/** A right-padded GPT-2 batch: BOS source target EOS, labels on target and EOS. */
function causalBatch(): CausalBatch {
  return {
    inputIds: int2d([[1, 5, 17, 33, 8, 9, 2], [1, 44, 60, 2, 0, 0, 0]]),
    inputMask: int2d([[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0, 0]]),
    labels: int2d([[-100, -100, -100, -100, 8, 9, 2], [-100, -100, 60, 2, -100, -100, -100]]),
  };
}

/** The same rows left-padded. */
function leftPadded(): CausalBatch {
  return {
    inputIds: int2d([[1, 5, 17, 33, 8, 9, 2], [0, 0, 0, 1, 44, 60, 2]]),
    inputMask: int2d([[1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1]]),
    labels: int2d([[-100, -100, -100, -100, 8, 9, 2], [-100, -100, -100, -100, -100, 60, 2]]),
  };
}

function seq2seqBatch(): Seq2SeqBatch {
  return {
    inputIds: int2d([[5, 17, 33, 1], [44, 1, 0, 0]]),
    inputMask: int2d([[1, 1, 1, 1], [1, 1, 0, 0]]),
    targetIds: int2d([[9, 4, 1], [30, 1, 0]]),
    targetMask: int2d([[1, 1, 1], [1, 1, 0]]),
  };
}

function disposeBatch(batch: CausalBatch | Seq2SeqBatch): void {
  tf.dispose(Object.values(batch));
}

const promptFor = (model: FrozenModel, seed = 3) =>
  tf.randomNormal([P, width(model)], 0, 0.5, "float32", seed) as tf.Tensor2D;
const scalar = (t: tf.Tensor) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

Deno.test("promptLoss() on GPT-2 is the shifted cross-entropy over [prompt ; inputs]", async () => {
  await withModel("gpt2_tiny", (model) => {
    if (model.architecture !== "gpt2") throw new Error("gpt2");
    const batch = causalBatch();
    const prompt = promptFor(model);
    const ours = scalar(promptLoss(model, batch)(prompt));
    const byHand = scalar(tf.tidy(() => {
      const b = 2;
      const embeds = tf.concat([
        tf.tile(tf.expandDims(prompt, 0), [b, 1, 1]),
        tf.gather(table(model), batch.inputIds),
      ], 1); // [B, P + T, H]
      const mask = tf.concat([tf.ones([b, P], "int32"), batch.inputMask], 1);
      const labels = tf.concat([tf.fill([b, P], -100, "int32"), batch.labels!], 1);
      const { logits } = gpt2Forward(model.params as unknown as Gpt2Params, model.config, {
        inputsEmbeds: embeds,
        attentionMask: mask,
      });
      const t = logits.shape[1]!;
      return crossEntropy(logits.slice([0, 0, 0], [b, t - 1, -1]), labels.slice([0, 1], [b, t - 1]))
        .loss;
    }));
    assert.ok(Math.abs(ours - byHand) <= 1e-6 * byHand, `${ours} vs ${byHand}`);
    tf.dispose(prompt);
    disposeBatch(batch);
  });
});

Deno.test("promptLoss() on T5 puts the prompt in the encoder only and shifts the targets", async () => {
  await withModel("t5_v1_1", (model) => {
    if (model.architecture !== "t5") throw new Error("t5");
    const batch = seq2seqBatch();
    const prompt = promptFor(model);
    const ours = scalar(promptLoss(model, batch)(prompt));
    const byHand = scalar(tf.tidy(() => {
      const params = model.params as unknown as T5Params;
      const embeds = tf.concat([
        tf.tile(tf.expandDims(prompt, 0), [2, 1, 1]),
        tf.gather(table(model), batch.inputIds),
      ], 1); // [B, P + T, H]
      const mask = tf.concat([tf.ones([2, P], "int32"), batch.inputMask], 1);
      const labels = tf.where(
        tf.equal(batch.targetMask, 1),
        batch.targetIds,
        tf.fill([2, 3], -100, "int32"),
      );
      const states = t5Encode(params, model.config, { inputsEmbeds: embeds, attentionMask: mask });
      const { logits } = t5Decode(params, model.config, {
        decoderInputIds: shiftRight(labels, 0, 0),
        encoderStates: states,
        encoderMask: mask,
      });
      return crossEntropy(logits, labels).loss;
    }));
    assert.ok(Math.abs(ours - byHand) <= 1e-6 * byHand, `${ours} vs ${byHand}`);
    const logits = promptLogits(model, batch)(prompt);
    assert.deepEqual(logits.shape, [2, 3, 96]);
    tf.dispose([prompt, logits]);
    disposeBatch(batch);
  });
});

Deno.test("promptLoss() on GPT-2 is the same for left- and right-padded batches", async () => {
  await withModel("gpt2_tiny", (model) => {
    const right = causalBatch();
    const left = leftPadded();
    const prompt = promptFor(model);
    const a = scalar(promptLoss(model, right)(prompt));
    const b = scalar(promptLoss(model, left)(prompt));
    assert.ok(Math.abs(a - b) <= 1e-5 * a, `${a} vs ${b}`);
    const logits = promptLogits(model, left)(prompt);
    assert.deepEqual(logits.shape, [2, 7, 96]);
    tf.dispose([prompt, logits]);
    disposeBatch(right);
    disposeBatch(left);
  });
});

Deno.test("promptLoss() passes label smoothing and z-loss to the cross-entropy", async () => {
  await withModel("llama_gqa", (model) => {
    const batch = causalBatch();
    const prompt = promptFor(model);
    const plain = scalar(promptLoss(model, batch)(prompt));
    const z = scalar(promptLoss(model, batch, { lossOptions: { zLoss: 1e-2 } })(prompt));
    const smooth = scalar(
      promptLoss(model, batch, { lossOptions: { labelSmoothing: 0.1 } })(prompt),
    );
    assert.ok(z > plain && smooth !== plain);
    tf.dispose(prompt);
    disposeBatch(batch);
  });
});

Deno.test("promptLoss() refuses a batch or prompt that does not fit the model", async () => {
  await withModel("t5_v1_1", async (t5) => {
    await withModel("gpt2_tiny", (gpt2) => {
      const causal = causalBatch();
      const s2s = seq2seqBatch();
      assert.throws(() => promptLoss(t5, causal), /no targetIds; an encoder-decoder \(t5\)/);
      assert.throws(() => promptLoss(gpt2, s2s), /has targetIds; a decoder-only \(gpt2\)/);
      const { labels: _, ...noLabels } = causal;
      assert.throws(() => promptLoss(gpt2, noLabels), /no labels/);
      const floatIds = tf.zeros([2, 7]);
      assert.throws(
        () => promptLoss(gpt2, { ...causal, inputIds: floatIds }),
        /inputIds is float32 \[2, 7\]; expected int32/,
      );
      const shortMask = tf.ones([2, 6], "int32");
      assert.throws(
        () => promptLoss(gpt2, { ...causal, inputMask: shortMask }),
        /inputMask has shape \[2, 6\]; expected inputIds's \[2, 7\]/,
      );
      const wide = tf.zeros([P, 7]);
      assert.throws(() => promptLoss(gpt2, causal)(wide), /expected float32 \[P, 24\]/);
      tf.dispose([floatIds, shortMask, wide]);
      disposeBatch(causal);
      disposeBatch(s2s);
    });
  });
});

/** Each frozen tensor's bytes. */
function snapshot(model: FrozenModel): Map<string, Uint8Array> {
  return new Map(
    flatten(model.params).map(([path, t]) => {
      const data = t.dataSync();
      return [path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice()];
    }),
  );
}

for (const name of ["t5_v1_1", "gpt2_tiny"]) {
  Deno.test(`valueAndGradOfPrompt() with adam() changes only the prompt of ${name}, leaking nothing over 50 steps`, async () => {
    await withModel(name, async (model) => {
      const batch = model.architecture === "t5" ? seq2seqBatch() : causalBatch();
      const frozen = snapshot(model);
      const step = valueAndGradOfPrompt(promptLoss(model, batch));
      const opt = adam({ learningRate: 1e-2 });
      const init = promptFor(model);
      let prompt: tf.Tensor = tf.clone(init);
      let state = opt.init(prompt);
      const counts: number[] = [];
      const losses: number[] = [];
      for (let i = 0; i < 50; i++) {
        const { value, grad } = step(prompt);
        const next = opt.update(grad, state, prompt);
        losses.push((await value.data())[0]);
        tf.dispose([value, grad, prompt]);
        disposeState(state);
        ({ params: prompt, state } = next);
        counts.push(tf.memory().numTensors);
      }
      assert.ok(counts.every((c) => c === counts[0]), `tensor counts vary: ${new Set(counts)}`);
      assert.ok(losses[49] < losses[0], "the loss went down");
      const after = snapshot(model);
      for (const [path, bytes] of frozen) assert.deepEqual(after.get(path), bytes, path);
      const moved = scalar(tf.tidy(() => tf.max(tf.abs(tf.sub(prompt, init)))));
      assert.ok(moved > 0.1, "the prompt changed");
      tf.dispose([init, prompt]);
      disposeState(state);
      disposeBatch(batch);
    });
  });
}

for (const name of ["t5_v1_1", "gpt2_tiny", "llama_gqa"]) {
  Deno.test(`valueAndGradOfPrompt() matches central finite differences on ${name}`, async () => {
    await withModel(name, (model) => {
      const batch = model.architecture === "t5" ? seq2seqBatch() : causalBatch();
      const loss = promptLoss(model, batch);
      const prompt = promptFor(model);
      const { value, grad } = valueAndGradOfPrompt(loss)(prompt);
      assert.equal(scalar(value), scalar(loss(prompt)));
      assertFiniteDifferences(loss, prompt, grad, [1, 2, 3]);
      tf.dispose([prompt, grad]);
      disposeBatch(batch);
    });
  });
}
