/**
 * Decoding and rank classification with a soft prompt on WebGPU give the WASM backend's tokens
 * and scores: greedy, beam and seeded sampling on the embedded T5 and the GPT-2 fixture, and
 * `rankClassify` on the embedded T5, leaking no tensor.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import type { BackendName } from "../backend.ts";
import { decode, DECODING_PRESETS } from "../decode/decode.ts";
import { loadEmbedded } from "../model/embedded.ts";
import { type FrozenModel, loadModel } from "../model/load.ts";
import { orThrow } from "../problem.ts";
import { key } from "../random/mod.ts";
import { rankClassify } from "../eval/rank.ts";
import { disposeTree } from "../tree/tree.ts";
import { width } from "../tests/model_helpers.ts";
import { use } from "./_webgpu.ts";

await use("webgpu");

const MODES = ["greedy", "beam", "sample"] as const;

/** Runs `body` on `backend` with a fresh model and a seeded prompt, checking for leaks. */
async function on<T>(
  backend: BackendName,
  load: () => Promise<FrozenModel>,
  body: (model: FrozenModel, prompt: tf.Tensor) => Promise<T>,
): Promise<T> {
  await use(backend);
  const before = tf.memory().numTensors;
  const model = await load();
  const prompt = tf.randomNormal([4, width(model)], 0, 0.5, "float32", 1); // [P, H]
  try {
    return await body(model, prompt);
  } finally {
    prompt.dispose();
    disposeTree(model.params);
    assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  }
}

/** The tokens of each decoding mode, on one backend. */
async function decodeAll(model: FrozenModel, prompt: tf.Tensor): Promise<number[][][]> {
  const all: number[][][] = [];
  for (const mode of MODES) {
    const inputIds = tf.tensor2d([[5, 12, 7, 30, 1], [40, 41, 42, 1, 0]], [2, 5], "int32");
    const inputMask = tf.tensor2d([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]], [2, 5], "int32");
    const out = await decode(model, prompt, { inputIds, inputMask }, DECODING_PRESETS[mode], {
      maxNewTokens: 4,
      key: key(3),
    });
    tf.dispose([inputIds, inputMask]);
    all.push(out.tokens.map((row) => [...row]));
  }
  return all;
}

const embedded = async () => orThrow(await loadEmbedded("default")).model;
const gpt2 = async () =>
  orThrow(await loadModel(new URL("../tests/fixtures/models/gpt2_tiny", import.meta.url).pathname));

for (const [name, load] of [["the embedded T5", embedded], ["gpt2_tiny", gpt2]] as const) {
  Deno.test(`greedy, beam and sampled decoding of ${name} on WebGPU give WASM's tokens`, async () => {
    const want = await on("wasm", load, decodeAll);
    const got = await on("webgpu", load, decodeAll);
    assert.deepEqual(got, want);
    await use("webgpu");
  });
}

/** Label words and inputs: the embedded T5's tokenizer's, or plain ids for the fixture. */
async function rankCase(name: string): Promise<{ inputs: number[][]; labels: number[][] }> {
  if (name === "gpt2_tiny") return { inputs: [[5, 12, 7], [40, 41]], labels: [[7], [9, 8]] };
  const { tokenizer } = orThrow(await loadEmbedded("default"));
  const ids = (texts: string[]) => tokenizer.encodeBatch(texts, { padding: false }).ids;
  return {
    inputs: ids(["Buy now, cheap pills!", "see you at lunch"]),
    labels: ids(["ordinary", "commercial"]),
  };
}

for (const [name, load] of [["the embedded T5", embedded], ["gpt2_tiny", gpt2]] as const) {
  Deno.test(`rankClassify() of ${name} on WebGPU gives WASM's scores`, async () => {
    const { inputs, labels } = await rankCase(name);
    const scores = (model: FrozenModel, prompt: tf.Tensor) =>
      rankClassify(model, prompt, inputs, labels).then((r) => r.map((x) => x.scores));
    const want = (await on("wasm", load, scores)).flat();
    const got = (await on("webgpu", load, scores)).flat();
    assert.equal(got.length, want.length);
    got.forEach((s, i) => {
      assert.ok(
        Math.abs(s - want[i]) <= 1e-5 * Math.abs(want[i]),
        `score ${i}: ${s} vs ${want[i]}`,
      );
    });
    await use("webgpu");
  });
}
