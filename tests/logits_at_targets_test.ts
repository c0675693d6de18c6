/**
 * The decoder-only losses apply the head only where they read it: the token loss at the target
 * positions, rank scoring at each label's tokens. Checked against the old computation from the
 * forward's full `[B, P + T, V]` logits, and by watching every kernel that reads the head's weight
 * while the gradient is taken: none takes or makes a tensor as large as the full logits.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import { embeddingTable, type FrozenModel } from "../model/load.ts";
import { crossEntropy } from "../model/loss.ts";
import { moveLabels, prefix } from "../model/combine.ts";
import { type CausalBatch, causalForward, promptedInputs } from "../model/prompted.ts";
import { promptLoss } from "../training/objective.ts";
import { labelScores } from "../model/label_scores.ts";
import { collateChoices } from "../data/batch.ts";
import { disposeCache } from "../model/types.ts";
import { int2d, width, withModel } from "./model_helpers.ts";

await initBackend("wasm");

const P = 3;

/** Left and right padding, few targets: 2 and 3 of the 9 positions after the prompt. */
function batch(): CausalBatch {
  return {
    inputIds: int2d([[1, 5, 17, 33, 8, 9], [0, 0, 1, 44, 60, 2]]),
    inputMask: int2d([[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1]]),
    labels: int2d([[-100, -100, -100, -100, 8, 9], [-100, -100, -100, 44, 60, 2]]),
  };
}

/** The token loss as computed before: the head over every position, then `[:, :-1]`. */
function fullLogitsLoss(model: FrozenModel, b: CausalBatch, prompt: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const inputs = promptedInputs(model, prompt, b, prefix); // [B, P + T, H]
    const out = causalForward(model, { inputsEmbeds: inputs.embeds, attentionMask: inputs.mask });
    disposeCache(out.cache);
    const [rows, w, v] = out.logits.shape as number[]; // [B, P + T, V]
    const moved = moveLabels(b.labels!, inputs.index!, P); // [B, P + T]
    const logits = tf.slice(out.logits, [0, 0, 0], [rows, w - 1, v]);
    const next = tf.slice(moved, [0, 1], [rows, w - 1]);
    return crossEntropy(logits, next).loss;
  });
}

/** The head's weight: `lm_head` where untied, else the token embedding. */
function headWeight(model: FrozenModel): tf.Tensor {
  const params = model.params as { lm_head?: { kernel: tf.Tensor } };
  return params.lm_head?.kernel ?? embeddingTable(model);
}

type RunKernel = (name: string, inputs: Record<string, tf.Tensor>, attrs?: unknown) => unknown;

/**
 * The largest tensor (in elements) that any kernel reading the head's weight takes or makes
 * while `f` runs, the weight left out: the head's logits `[N, V]` and, in the backward pass,
 * their gradient. Every op calls the engine's `runKernel`, watched here.
 */
function largestAtHead(model: FrozenModel, f: () => tf.TensorContainer): number {
  const weight = headWeight(model);
  const engine = tf.engine() as unknown as { runKernel: RunKernel };
  const original = engine.runKernel;
  let largest = 0;
  engine.runKernel = function (this: unknown, name, inputs, attrs) {
    const out = original.call(this, name, inputs, attrs) as tf.Tensor | tf.Tensor[];
    const ins = Object.values(inputs);
    if (ins.some((t) => t.dataId === weight.dataId)) {
      for (const t of [...ins, ...(Array.isArray(out) ? out : [out])]) {
        if (t.dataId !== weight.dataId) largest = Math.max(largest, t.size);
      }
    }
    return out;
  };
  try {
    tf.dispose(f());
  } finally {
    engine.runKernel = original;
  }
  return largest;
}

for (const name of ["gpt2_tiny", "llama_gqa"]) {
  Deno.test(`promptLoss() on ${name} equals the loss from the full logits, its gradient too`, () =>
    withModel(name, (model) => {
      const b = batch();
      const prompt = tf.randomNormal([P, width(model)], 0, 0.5, "float32", 7);
      const loss = promptLoss(model, b);
      const [now, gNow] = tf.tidy(() => {
        const { value, grad } = tf.valueAndGrad(loss)(prompt);
        return [value, grad];
      });
      const [old, gOld] = tf.tidy(() => {
        const { value, grad } = tf.valueAndGrad((p) => fullLogitsLoss(model, b, p))(prompt);
        return [value, grad];
      });
      const diff = Math.abs(now.dataSync()[0] - old.dataSync()[0]);
      assert(diff <= 1e-6 * Math.abs(old.dataSync()[0]), `loss differs by ${diff}`);
      const gDiff = tf.tidy(() => tf.max(tf.abs(tf.sub(gNow, gOld))).dataSync()[0]);
      const gScale = tf.tidy(() => tf.max(tf.abs(gOld)).dataSync()[0]);
      assert(gDiff <= 1e-5 * gScale, `gradient differs by ${gDiff} (largest ${gScale})`);
      tf.dispose([now, gNow, old, gOld, prompt, ...Object.values(b)]);
    }));

  Deno.test(`promptLoss() on ${name}: no [B, P + T, V] logits while the gradient is taken`, () =>
    withModel(name, (model) => {
      const b = batch();
      const prompt = tf.randomNormal([P, width(model)], 0, 0.5, "float32", 7);
      const v = model.config.vocabSize;
      const full = 2 * (P + 6 - 1) * v; // the logits the loss used to read, [B, P + T − 1, V]
      const grad = (f: (p: tf.Tensor) => tf.Scalar) => () => tf.grad(f)(prompt);
      // The old computation shows the check sees them.
      assert(largestAtHead(model, grad((p) => fullLogitsLoss(model, b, p))) >= full);
      // The most targets in a row is 3: [B = 2, K = 3, V] is the largest.
      assert.equal(largestAtHead(model, grad(promptLoss(model, b))), 2 * 3 * v);
      tf.dispose([prompt, ...Object.values(b)]);
    }));

  Deno.test(`labelScores() on ${name} reads the head only at the label's tokens`, () =>
    withModel(name, (model) => {
      const choices = collateChoices(model, [[5, 6, 17, 33], [7, 9]], [[30], [31, 40]]);
      const prompt = tf.randomNormal([P, width(model)], 0, 0.5, "float32", 7);
      const v = model.config.vocabSize;
      const score = (p: tf.Tensor) => tf.sum(labelScores(model, p, choices)) as tf.Scalar;
      // Two rows; a label has at most 2 tokens: [B = 2, K = 2, V] per label.
      assert.equal(largestAtHead(model, () => tf.grad(score)(prompt)), 2 * 2 * v);
      tf.dispose([prompt, ...choices.flatMap((c) => Object.values(c))]);
    }));
}
