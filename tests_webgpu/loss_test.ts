/**
 * A prompt-tuning step on WebGPU computes what it computes on WASM: the prompt loss, the gradient
 * norm `trainStep` reports, the gradient itself and the prompt after one Adafactor update, for the
 * tiny embedded T5 (`assets/embedded/lm_adapted`, a real tokenizer and vocabulary 8192) and the
 * T5, GPT-2 and LLaMA fixtures. Each backend runs the same step from the same prompt, leaking no
 * tensor; the WASM backend's figures are the reference.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import type { BackendName } from "../backend.ts";
import { collateExamples, type TokenExample } from "../data/batch.ts";
import { type FrozenModel, loadModel } from "../model/load.ts";
import { orThrow } from "../problem.ts";
import { key, uniform } from "../random/mod.ts";
import { loadTokenizer } from "../tokenizer/mod.ts";
import { disposeTree } from "../tree/tree.ts";
import { disposeTensors } from "../training/evaluate.ts";
import { valueAndGradOfPrompt } from "../training/grad.ts";
import { promptLoss } from "../training/objective.ts";
import { adafactor, disposeState } from "../training/optim/mod.ts";
import { trainStep } from "../training/step.ts";
import { width } from "../tests/model_helpers.ts";
import { use } from "./_webgpu.ts";

await use("webgpu");

const PROMPT = 5;
const path = (p: string) => new URL(`../${p}`, import.meta.url).pathname;

/** What one step gives on one backend. */
interface Figures {
  readonly loss: number;
  readonly gradNorm: number;
  readonly grad: Float32Array;
  readonly prompt: Float32Array;
}

/** One `trainStep` (and the gradient alone) from a fixed prompt on `backend`, leaking nothing. */
async function step(
  backend: BackendName,
  dir: string,
  examples: readonly TokenExample[],
): Promise<Figures> {
  await use(backend);
  const before = tf.memory().numTensors;
  const model: FrozenModel = orThrow(await loadModel(dir));
  const batch = collateExamples(model, examples);
  const prompt = uniform(key(1), [PROMPT, width(model)], { minval: -0.5, maxval: 0.5 });
  const optimizer = adafactor();
  const opt = optimizer.init(prompt);
  const loss = (p: tf.Tensor) => promptLoss(model, batch)(p);
  const { value, grad } = valueAndGradOfPrompt(loss)(prompt); // the batch is read twice
  const r = await trainStep({ prompt, opt }, batch, { loss: (p) => loss(p), optimizer });
  const figures = {
    loss: r.loss,
    gradNorm: r.gradNorm,
    grad: await grad.data() as Float32Array,
    prompt: await r.state.prompt.data() as Float32Array,
  };
  assert.equal((await value.data())[0], r.loss, `${backend}: the same loss twice`);
  tf.dispose([value, grad, prompt, r.state.prompt]);
  disposeState(opt);
  disposeState(r.state.opt);
  disposeTensors(batch);
  disposeTree(model.params);
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  return figures;
}

const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
const largest = (a: Float32Array) => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
const largestDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

/** Runs the step on WASM, then on WebGPU, and compares. */
async function checkParity(label: string, dir: string, examples: readonly TokenExample[]) {
  const want = await step("wasm", dir, examples);
  const got = await step("webgpu", dir, examples);
  const dLoss = relative(got.loss, want.loss);
  const dNorm = relative(got.gradNorm, want.gradNorm);
  const dGrad = largestDiff(got.grad, want.grad) / largest(want.grad);
  const dPrompt = largestDiff(got.prompt, want.prompt);
  console.log(
    `  ${label}: loss ${got.loss} (WASM ${want.loss}, relative ${dLoss.toExponential(2)}), ` +
      `gradient norm ${got.gradNorm} (WASM ${want.gradNorm}, relative ${
        dNorm.toExponential(2)
      }), ` +
      `gradient max |diff| / max |g| ${dGrad.toExponential(2)}, ` +
      `updated prompt max |diff| ${dPrompt.toExponential(2)}`,
  );
  assert.ok(dLoss <= 1e-6, `${label}: loss ${got.loss} vs WASM ${want.loss}`);
  assert.ok(dNorm <= 1e-5, `${label}: gradient norm ${got.gradNorm} vs WASM ${want.gradNorm}`);
  assert.ok(dGrad <= 1e-4, `${label}: gradient differs by ${dGrad} of its largest entry`);
  assert.ok(dPrompt <= 1e-5, `${label}: updated prompt differs by ${dPrompt}`);
  await use("webgpu");
}

Deno.test("the tiny embedded T5's prompt loss, gradient and step on WebGPU equal WASM's", async () => {
  const dir = path("assets/embedded/lm_adapted");
  const tok = orThrow(await loadTokenizer(dir));
  const examples = [
    ["sst2 sentence: a gripping, funny and moving film", "positive"],
    ["sst2 sentence: it never finds its footing", "negative"],
    ["spam: win a free cruise now, reply to claim your prize", "spam"],
  ].map(([input, target]) => ({
    inputIds: tok.encodeWithSpecial(input),
    targetIds: tok.encodeWithSpecial(target),
  }));
  await checkParity("embedded lm_adapted", dir, examples);
});

const fixtureExamples = [
  { inputIds: [5, 12, 7, 30, 1], targetIds: [5, 12, 1] },
  { inputIds: [40, 41, 1], targetIds: [9, 8, 7, 1] },
];

for (const name of ["t5_v1_1", "gpt2_tiny", "llama_gqa"]) {
  Deno.test(`the prompt loss, gradient and step of ${name} on WebGPU equal WASM's`, () =>
    checkParity(name, path(`tests/fixtures/models/${name}`), fixtureExamples));
}
