import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import { type FrozenModel, loadModel } from "../model/load.ts";
import { gpt2Forward, type Gpt2Params } from "../model/gpt2/mod.ts";
import { llamaForward, type LlamaParams } from "../model/llama/mod.ts";
import { orThrow } from "../problem.ts";
import { disposeTree } from "../tree/tree.ts";
import {
  type Combine,
  combineAt,
  dropPrompt,
  moveLabels,
  prefix,
  prefixAfterBos,
  suffix,
} from "../model/combine.ts";

await initBackend("wasm");

function withoutLeaks(body: () => void): void {
  const before = tf.memory().numTensors;
  body();
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
}

// Fake embeddings whose every feature is the token's value, so each output row shows where it
// came from; the prompt's rows are 100, 101, … (P = 2, H = 2).
const PROMPT = () => tf.tensor2d([[100, 100], [101, 101]]);
function fake(rows: number[][]): tf.Tensor3D {
  return tf.tensor3d(rows.map((r) => r.map((v) => [v, v])));
}
function mask(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows, undefined, "int32");
}
/** Each output row's first feature, per batch row. */
function layout(e: tf.Tensor): number[][] {
  return (e.arraySync() as number[][][]).map((row) => row.map((x) => x[0]));
}

interface Case {
  readonly name: string;
  readonly combine: Combine;
  readonly embeds: number[][];
  readonly mask: number[][];
  readonly want: number[][];
  readonly wantMask: number[][];
}

const CASES: Case[] = [
  {
    name: "prefix() puts the prompt at column 0 of right-padded rows",
    combine: prefix,
    embeds: [[1, 2, 3], [4, 5, 0]],
    mask: [[1, 1, 1], [1, 1, 0]],
    want: [[100, 101, 1, 2, 3], [100, 101, 4, 5, 0]],
    wantMask: [[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]],
  },
  {
    name: "prefix() puts the prompt after the pads of left-padded rows",
    combine: prefix,
    embeds: [[1, 2, 3], [0, 0, 4]],
    mask: [[1, 1, 1], [0, 0, 1]],
    want: [[100, 101, 1, 2, 3], [0, 0, 100, 101, 4]],
    wantMask: [[1, 1, 1, 1, 1], [0, 0, 1, 1, 1]],
  },
  {
    name: "prefixAfterBos() puts the prompt after each row's first real token",
    combine: prefixAfterBos,
    embeds: [[9, 2, 3], [0, 9, 4]],
    mask: [[1, 1, 1], [0, 1, 1]],
    want: [[9, 100, 101, 2, 3], [0, 9, 100, 101, 4]],
    wantMask: [[1, 1, 1, 1, 1], [0, 1, 1, 1, 1]],
  },
  {
    name: "suffix() puts the prompt before each row's last real token (EOS)",
    combine: suffix,
    embeds: [[1, 2, 8], [4, 8, 0]],
    mask: [[1, 1, 1], [1, 1, 0]],
    want: [[1, 2, 100, 101, 8], [4, 100, 101, 8, 0]],
    wantMask: [[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]],
  },
  {
    name: "every combine puts the prompt at column 0 of a row with no real token",
    combine: suffix,
    embeds: [[0, 0]],
    mask: [[0, 0]],
    want: [[100, 101, 0, 0]],
    wantMask: [[1, 1, 0, 0]],
  },
];

for (const c of CASES) {
  Deno.test(c.name, () => {
    withoutLeaks(() => {
      const prompt = PROMPT();
      const embeds = fake(c.embeds);
      const m = mask(c.mask);
      const out = c.combine(prompt, embeds, m);
      assert.deepEqual(out.embeds.shape, [c.embeds.length, c.embeds[0].length + 2, 2]);
      assert.deepEqual(layout(out.embeds), c.want);
      assert.deepEqual(out.mask.arraySync(), c.wantMask);
      assert.equal(out.mask.dtype, "int32");
      tf.dispose([prompt, embeds, m, out.embeds, out.mask]);
    });
  });
}

Deno.test("moveLabels() and dropPrompt() follow the same maps as the inputs", () => {
  withoutLeaks(() => {
    const prompt = PROMPT();
    const embeds = fake([[1, 2, 3], [0, 4, 5]]);
    const m = mask([[1, 1, 1], [0, 1, 1]]);
    const out = prefix(prompt, embeds, m);
    const labels = tf.tensor2d([[1, 2, 3], [-100, 4, 5]], undefined, "int32");
    const moved = moveLabels(labels, out.index, 2);
    assert.deepEqual(moved.arraySync(), [[-100, -100, 1, 2, 3], [-100, -100, -100, 4, 5]]);
    const back = dropPrompt(out.embeds, out.placed);
    assert.deepEqual(layout(back), [[1, 2, 3], [0, 4, 5]]);
    assert.deepEqual([...out.placed], [2, 3, 4, 5, 8, 9]);
    tf.dispose([prompt, embeds, m, out.embeds, out.mask, labels, moved, back]);
  });
});

Deno.test("prefix()'s gradient reaches the prompt summed over the batch (on WASM, without UnsortedSegmentSum)", () => {
  withoutLeaks(() => {
    const embeds = fake([[1, 2, 3], [0, 0, 4]]);
    const m = mask([[1, 1, 1], [0, 0, 1]]);
    // Weight each output row by its flat index: the prompt's gradient is the sum of the weights
    // at its positions in each batch row.
    const weights = tf.tidy(() => tf.reshape(tf.range(0, 10), [2, 5, 1]));
    const prompt = PROMPT();
    const grads = tf.grads((p: tf.Tensor, e: tf.Tensor) =>
      tf.sum(tf.mul(prefix(p, e, m).embeds, weights))
    )([prompt, embeds]);
    // Row 0 puts the prompt at 0, 1; row 1 at 2, 3 (flat 7, 8).
    assert.deepEqual(grads[0].arraySync(), [[7, 7], [9, 9]]);
    // Each input position gets its own output row's weight.
    assert.deepEqual(layout(grads[1]), [[2, 3, 4], [5, 6, 9]]);
    const back = tf.grad((v: tf.Tensor) =>
      tf.sum(tf.mul(dropPrompt(v, new Int32Array([2, 3])), tf.tensor3d([[[5], [7]]])))
    );
    const zeros = tf.zeros([1, 4, 1]);
    const g = back(zeros);
    assert.deepEqual(g.dataSync(), new Float32Array([0, 0, 5, 7]));
    tf.dispose([prompt, embeds, m, weights, ...grads, zeros, g]);
  });
});

Deno.test("combine functions name the wrong shape they were given", () => {
  withoutLeaks(() => {
    const prompt = PROMPT();
    const embeds = fake([[1, 2]]);
    const wide = tf.zeros([1, 2, 3]);
    const m = mask([[1, 1]]);
    const short = mask([[1]]);
    assert.throws(() => prefix(prompt, wide, m), /\[1, 2, 3\]; expected float32 \[B, T, 2\]/);
    assert.throws(
      () => prefix(prompt, embeds, short),
      /mask has shape \[1, 1\]; expected \[1, 2\]/,
    );
    assert.throws(() => combineAt(() => 5)(prompt, embeds, m), /placement of row 0 is 5/);
    const labels = tf.zeros([1, 2], "int32");
    assert.throws(() => moveLabels(labels, new Int32Array(3), 2), /expected 4 /);
    tf.dispose([prompt, embeds, wide, m, short, labels]);
  });
});

// ---- left padding on real decoder-only models (PEFT's huggingface/peft#1093) ----

const fixture = (name: string) => new URL(`./fixtures/models/${name}`, import.meta.url).pathname;

function forward(model: FrozenModel, embeds: tf.Tensor, m: tf.Tensor, positions?: tf.Tensor) {
  const options = { inputsEmbeds: embeds, attentionMask: m, positionIds: positions };
  if (model.architecture === "gpt2") {
    return gpt2Forward(model.params as unknown as Gpt2Params, model.config, options).logits;
  }
  if (model.architecture === "llama") {
    return llamaForward(model.params as unknown as LlamaParams, model.config, options).logits;
  }
  throw new Error("a decoder-only model");
}

/** The logits at the real tokens of a row: `[n, V]` for the `n` real tokens, in order. */
function realLogits(
  model: FrozenModel,
  combine: Combine,
  prompt: tf.Tensor,
  ids: number[],
  pads: number,
  positions?: (m: tf.Tensor) => tf.Tensor,
): Float32Array {
  return tf.tidy(() => {
    const table = (model.params as unknown as { token_embedder: { embedding: tf.Tensor } })
      .token_embedder.embedding;
    const row = [...new Array(pads).fill(0), ...ids];
    const idT = tf.tensor2d([row], undefined, "int32");
    const m = tf.tensor2d([row.map((_, i) => (i < pads ? 0 : 1))], undefined, "int32");
    const c = combine(prompt, tf.gather(table, idT), m);
    const logits = forward(model, c.embeds, c.mask, positions?.(c.mask)); // [1, P + T, V]
    const real = dropPrompt(logits, c.placed).slice([0, pads, 0], [1, ids.length, -1]);
    return real.dataSync() as Float32Array;
  });
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
}

for (const name of ["gpt2_tiny", "llama_gqa"]) {
  Deno.test(`prefix() gives a left-padded row on ${name} the logits of the same row unpadded`, async () => {
    const model = orThrow(await loadModel(fixture(name)));
    const before = tf.memory().numTensors;
    const h = (model.params as unknown as { token_embedder: { embedding: tf.Tensor } })
      .token_embedder.embedding.shape[1] as number;
    const prompt = tf.randomNormal([3, h], 0, 1, "float32", 7);
    const ids = [1, 17, 42, 5, 9];
    const unpadded = realLogits(model, prefix, prompt, ids, 0);
    const padded = realLogits(model, prefix, prompt, ids, 3);
    assert.ok(maxDiff(unpadded, padded) <= 1e-5, `differs by ${maxDiff(unpadded, padded)}`);

    // Our placement: positions cumsum(mask) − 1 give the prompt 0…P−1 and the tokens P…,
    // whatever the padding. PEFT's (the prompt at column 0, before the pads) lays it out
    // differently, and with the positions transformers uses for inputs_embeds (0, 1, 2, … over
    // the whole sequence) its real tokens' logits change with the padding.
    tf.tidy(() => {
      const m = tf.tensor2d([[0, 0, 0, 1, 1]], undefined, "int32");
      const e = tf.zeros([1, 5, h]);
      const ours = prefix(prompt, e, m).mask.arraySync();
      const peft = combineAt(() => 0)(prompt, e, m).mask.arraySync();
      assert.deepEqual(ours, [[0, 0, 0, 1, 1, 1, 1, 1]]);
      assert.deepEqual(peft, [[1, 1, 1, 0, 0, 0, 1, 1]]);
    });
    const arange = (m: tf.Tensor) => tf.range(0, m.shape[1]!, 1, "int32").expandDims(0);
    const peftUnpadded = realLogits(model, combineAt(() => 0), prompt, ids, 0, arange);
    const peftPadded = realLogits(model, combineAt(() => 0), prompt, ids, 3, arange);
    assert.ok(maxDiff(peftUnpadded, unpadded) <= 1e-5, "same as ours without padding");
    assert.ok(maxDiff(peftUnpadded, peftPadded) > 1e-2, "PEFT's placement depends on padding");
    prompt.dispose();
    assert.equal(tf.memory().numTensors, before, "tensors leaked");
    disposeTree(model.params);
  });
}
