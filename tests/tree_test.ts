import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import {
  countParams,
  disposeTree,
  flatten,
  mapTree,
  matchAny,
  mergeTrees,
  type ParamTree,
  partition,
  select,
  treeBytes,
  unflatten,
  zipTrees,
} from "../tree/tree.ts";

await initBackend("wasm");

/** A small T5-like tree: row i of every leaf filled with i, so values are obvious. */
function sampleTree() {
  return {
    token_embedder: { embedding: tf.fill([4, 2], 1) },
    encoder: {
      layers: [
        { attention: { q: tf.fill([2, 2], 2), k: tf.fill([2, 2], 3) } },
        { attention: { q: tf.fill([2, 2], 4), k: tf.fill([2, 2], 5) } },
      ],
    },
    prompt: tf.fill([3, 2], 6),
  };
}

function withoutLeaks(body: () => void): void {
  const before = tf.memory().numTensors;
  body();
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
}

Deno.test("flatten() gives /-joined paths in sorted key order, arrays in index order", () =>
  withoutLeaks(() => {
    const tree = sampleTree();
    assert.deepEqual(flatten(tree).map(([p]) => p), [
      "encoder/layers/0/attention/k",
      "encoder/layers/0/attention/q",
      "encoder/layers/1/attention/k",
      "encoder/layers/1/attention/q",
      "prompt",
      "token_embedder/embedding",
    ]);
    disposeTree(tree);
  }));

Deno.test("unflatten() inverts flatten(), rebuilding arrays from 0…n-1 keys", () =>
  withoutLeaks(() => {
    const tree = sampleTree();
    const back = unflatten(flatten(tree)) as typeof tree;
    assert.ok(Array.isArray(back.encoder.layers));
    assert.equal(back.encoder.layers[1].attention.q, tree.encoder.layers[1].attention.q);
    assert.deepEqual(flatten(back).map(([p]) => p), flatten(tree).map(([p]) => p));
    disposeTree(tree);
  }));

Deno.test("unflatten() keeps records whose numeric keys are not 0…n-1", () =>
  withoutLeaks(() => {
    const a = tf.scalar(1), b = tf.scalar(2);
    const t = unflatten([["x/1", a], ["x/2", b]]) as { x: Record<string, tf.Tensor> };
    assert.ok(!Array.isArray(t.x));
    assert.deepEqual(Object.keys(t.x).sort(), ["1", "2"]);
    tf.dispose([a, b]);
  }));

Deno.test("unflatten() rejects duplicate paths and paths through leaves", () =>
  withoutLeaks(() => {
    const a = tf.scalar(1);
    assert.throws(() => unflatten([["x", a], ["x", a]]), /Duplicate path "x"/);
    assert.throws(() => unflatten([["x", a], ["x/y", a]]), /goes through the leaf "x"/);
    assert.throws(() => unflatten([["x//y", a]]), /keys must be non-empty/);
    a.dispose();
  }));

Deno.test("flatten() rejects keys containing / and non-tensor leaves", () => {
  const a = tf.scalar(1);
  assert.throws(() => flatten({ "a/b": a }), /contain no "\/"/);
  assert.throws(() => flatten({ a: 3 } as unknown as ParamTree), /expected a tensor/);
  a.dispose();
});

Deno.test("mapTree() applies the function with each leaf's path", () =>
  withoutLeaks(() => {
    const tree = sampleTree();
    const seen: string[] = [];
    const sums = mapTree(tree, (t, p) => {
      seen.push(p);
      return t.sum();
    });
    assert.equal(seen.length, 6);
    const flat = new Map(flatten(sums));
    assert.equal(flat.get("prompt")!.dataSync()[0], 36);
    assert.equal(flat.get("encoder/layers/1/attention/k")!.dataSync()[0], 20);
    disposeTree(sums);
    disposeTree(tree);
  }));

Deno.test("zipTrees() combines leaf by leaf and names paths when structures differ", () =>
  withoutLeaks(() => {
    const a = sampleTree(), b = sampleTree();
    const diff = zipTrees(a, b, (x, y) => tf.sub(x, y));
    assert.equal(
      flatten(diff).every(([, t]) => tf.tidy(() => t.abs().max().dataSync()[0]) === 0),
      true,
    );
    const extra = tf.scalar(0);
    assert.throws(
      () => zipTrees(a, { ...b, extra }, (x) => x),
      /only in the first \[\], only in the second \[extra\]/,
    );
    extra.dispose();
    disposeTree(diff);
    disposeTree(a);
    disposeTree(b);
  }));

Deno.test("countParams() and treeBytes() add up every leaf", () =>
  withoutLeaks(() => {
    const tree = sampleTree();
    assert.equal(countParams(tree), 8 + 4 * 4 + 6);
    assert.equal(treeBytes(tree), 4 * 30);
    const mixed = { i: tf.zeros([5], "int32"), b: tf.zeros([3], "bool") };
    assert.equal(treeBytes(mixed), 23);
    disposeTree(mixed);
    disposeTree(tree);
  }));

Deno.test("select() matches whole paths only, like T5X's match_any", () =>
  withoutLeaks(() => {
    const tree = sampleTree();
    assert.deepEqual(select(tree, ["prompt"]).map(([p]) => p), ["prompt"]);
    assert.deepEqual(select(tree, ["attention/q"]).map(([p]) => p), []);
    assert.deepEqual(
      select(tree, [/encoder\/layers\/\d+\/attention\/q/]).map(([p]) => p),
      ["encoder/layers/0/attention/q", "encoder/layers/1/attention/q"],
    );
    assert.equal(matchAny(["a|b"])("ab"), false);
    assert.equal(matchAny(["a|b"])("b"), true);
    disposeTree(tree);
  }));

Deno.test("partition() splits trainable from frozen and mergeTrees() joins them back", () =>
  withoutLeaks(() => {
    const tree = sampleTree();
    const [trainable, frozen] = partition(tree, matchAny(["prompt"]));
    assert.deepEqual(flatten(trainable).map(([p]) => p), ["prompt"]);
    assert.equal(countParams(frozen), 24);
    const whole = mergeTrees(trainable, frozen);
    assert.deepEqual(flatten(whole), flatten(tree));
    const [none, all] = partition(tree, () => false);
    assert.deepEqual(flatten(none), []);
    assert.equal(countParams(all), 30);
    assert.throws(() => mergeTrees(tree, trainable), /Duplicate path "prompt"/);
    disposeTree(tree);
  }));

Deno.test("disposeTree() frees every tensor of the tree", () => {
  const before = tf.memory().numTensors;
  const tree = sampleTree();
  assert.equal(tf.memory().numTensors, before + 6);
  disposeTree(tree);
  assert.equal(tf.memory().numTensors, before);
});
