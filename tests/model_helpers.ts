/**
 * Test helpers shared by the tests that run the fixture models (`decode_test.ts`,
 * `objective_test.ts`, `rank_objective_test.ts`, `eval_rank_test.ts`): loading a model for one test
 * and checking that it leaks no tensors, reading its embedding table, building int32 batches,
 * checking a prompt gradient by finite differences, and comparing with reference tensors (also on
 * WebGPU, where only asynchronous reads work: {@link maxDiffOf}).
 *
 * Not a test file itself (no `_test` suffix); it imports nothing but the library.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { embeddingTable, type FrozenModel, loadModel } from "../model/load.ts";
import { type HostTensor, toTensor } from "../io/host_tensor.ts";
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
export const table = (model: FrozenModel): tf.Tensor => embeddingTable(model);
/** The model's hidden width. */
export const width = (model: FrozenModel) => table(model).shape[1] as number;
/** An int32 matrix from rows. */
export const int2d = (rows: number[][]) => tf.tensor2d(rows, undefined, "int32");

/**
 * Asserts that `grad` (the loss's gradient at `prompt`) gives the loss's derivative along random
 * unit directions v, one per seed: (L(p + εv) − L(p − εv)) / 2ε against ⟨g, v⟩, ε = 1e-2, within
 * 5e-4 + 1e-3·|⟨g, v⟩|.
 */
export function assertFiniteDifferences(
  loss: (prompt: tf.Tensor) => tf.Tensor,
  prompt: tf.Tensor,
  grad: tf.Tensor,
  seeds: readonly number[],
): void {
  const eps = 1e-2;
  for (const seed of seeds) {
    const [fd, analytic] = tf.tidy(() => {
      const raw = tf.randomNormal(prompt.shape, 0, 1, "float32", seed);
      const v = tf.div(raw, tf.norm(raw));
      const up = loss(tf.add(prompt, tf.mul(v, eps))).dataSync()[0];
      const down = loss(tf.sub(prompt, tf.mul(v, eps))).dataSync()[0];
      return [(up - down) / (2 * eps), tf.sum(tf.mul(grad, v)).dataSync()[0]];
    });
    assert.ok(
      Math.abs(fd - analytic) <= 5e-4 + 1e-3 * Math.abs(analytic),
      `direction ${seed}: finite difference ${fd}, gradient ${analytic}`,
    );
  }
}

/** The reference tensor `key` of a fixture's references (as read from its safetensors file). */
export function ref(refs: ReadonlyMap<string, HostTensor>, key: string): tf.Tensor {
  const h = refs.get(key);
  assert.ok(h, `refs hold ${key}`);
  return orThrow(toTensor(h, key));
}

/** The largest |a − b| over two tensors of one shape. */
export function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** {@link maxDiff}, read with `await data()`: it runs on WebGPU too (no synchronous read there). */
export async function maxDiffOf(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  assert.deepEqual(a.shape, b.shape);
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const [value] = await d.data();
  d.dispose();
  return value;
}
