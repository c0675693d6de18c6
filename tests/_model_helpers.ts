/**
 * Test helpers shared by the tests that run the fixture models (`decode_test.ts`,
 * `objective_test.ts`, `eval_rank_test.ts`): loading a model for one test and checking that it
 * leaks no tensors, reading its embedding table, and building int32 batches.
 *
 * Not a test file itself (no `_test` suffix); it imports nothing but the library.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { type FrozenModel, loadModel } from "../model/load.ts";
import { orThrow } from "../problem.ts";
import { disposeTree } from "../tree/tree.ts";

const fixture = (name: string) => new URL(`./fixtures/models/${name}`, import.meta.url).pathname;

/** The fixture models: one of each architecture. */
export const MODELS = ["t5_v1_1", "gpt2_tiny", "llama_gqa"] as const;

/** Loads fixture `name`, runs `body` on it, checks no tensors leaked and frees the parameters. */
export async function withModel(
  name: string,
  body: (model: FrozenModel) => Promise<void> | void,
) {
  const model = orThrow(await loadModel(fixture(name)));
  const before = tf.memory().numTensors;
  try {
    await body(model);
    assert.equal(tf.memory().numTensors, before, "tensors leaked");
  } finally {
    disposeTree(model.params);
  }
}

/** The token embedding table of a model. */
export const table = (model: FrozenModel) =>
  (model.params as unknown as { token_embedder: { embedding: tf.Tensor } }).token_embedder
    .embedding;
/** The model's hidden width. */
export const width = (model: FrozenModel) => table(model).shape[1] as number;
/** An int32 matrix from rows. */
export const int2d = (rows: number[][]) => tf.tensor2d(rows, undefined, "int32");
