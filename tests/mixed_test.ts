/**
 * Mixed-prompt batches: every row names its prompt (of its own length, or none), and each row's
 * loss, gradient, logits, rank scores and greedy decoding equal the same row run alone with its
 * own prompt, on T5 and on decoder-only models, left- and right-padded.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import type { FrozenModel } from "../model/load.ts";
import type { MixedPrompts } from "../model/combine.ts";
import { mixPrompts } from "../model/mixed.ts";
import { key, normal } from "../random/mod.ts";
import { promptLogits, promptLoss } from "../training/objective.ts";
import { promptRankLoss } from "../training/rank_objective.ts";
import { collateRank } from "../data/batch.ts";
import { type DecodeResult, greedy } from "../decode/mod.ts";
import { rankClassify } from "../eval/rank.ts";
import { generateAndMatch } from "../eval/generate.ts";
import { int2d, maxDiff, MODELS, width, withModel } from "./model_helpers.ts";

await initBackend("wasm");

const TOL = 1e-5;

/** Three prompts of lengths 2, 5 and 1 (different initializers: seeds and scales). */
function makePrompts(model: FrozenModel): tf.Tensor[] {
  const h = width(model);
  return [
    normal(key(11), [2, h], { stddev: 0.5 }),
    normal(key(12), [5, h], { stddev: 1 }),
    tf.fill([1, h], 0.25),
  ];
}

/** Row `i`'s prompt: index into the prompts, -1 for none. */
const ROWS = [1, 0, -1, 2, 1];
/** Inputs of different lengths (the last token 1 is T5's EOS; decoder-only models just read it). */
const INPUTS = [[5, 17, 33, 60, 1], [44, 9, 1], [60, 8, 71, 23, 1], [12, 1], [30, 31, 32, 1]];
const TARGETS = [[7, 8, 1], [9, 1], [11, 12, 13, 1], [14, 1], [15, 1]];
const LABELS = [[30], [31, 40], [50, 12, 1]];

type Side = "left" | "right";

/** Rows padded with 0 on one side to the longest, and their mask. */
function pad(rows: readonly (readonly number[])[], side: Side) {
  const t = Math.max(...rows.map((r) => r.length));
  const ids = rows.map((r) => {
    const pads = new Array(t - r.length).fill(0);
    return side === "left" ? [...pads, ...r] : [...r, ...pads];
  });
  const mask = rows.map((r) => {
    const pads = new Array(t - r.length).fill(0), ones = new Array(r.length).fill(1);
    return side === "left" ? [...pads, ...ones] : [...ones, ...pads];
  });
  return { ids, mask };
}

/** A loss batch of rows `which` (inputs padded on `side`): T5 seq2seq, else input + target. */
function lossBatch(model: FrozenModel, which: readonly number[], side: Side) {
  if (model.architecture === "t5") {
    const inputs = pad(which.map((i) => INPUTS[i]), side);
    const targets = pad(which.map((i) => TARGETS[i]), "right");
    return {
      inputIds: int2d(inputs.ids),
      inputMask: int2d(inputs.mask),
      targetIds: int2d(targets.ids),
      targetMask: int2d(targets.mask),
    };
  }
  const seqs = which.map((i) => [...INPUTS[i], ...TARGETS[i]]);
  const labelRows = which.map((i) => [...INPUTS[i].map(() => -100), ...TARGETS[i]]);
  const s = pad(seqs, side);
  const t = s.ids[0].length;
  const labels = labelRows.map((r) => {
    const pads = new Array(t - r.length).fill(-100);
    return side === "left" ? [...pads, ...r] : [...r, ...pads];
  });
  return { inputIds: int2d(s.ids), inputMask: int2d(s.mask), labels: int2d(labels) };
}

const promptOf = (prompts: readonly tf.Tensor[], i: number) =>
  ROWS[i] < 0 ? undefined : prompts[ROWS[i]];
/** The target tokens of row `i` (each model predicts every target token once). */
const tokensOf = (i: number) => TARGETS[i].length;
const all = ROWS.map((_, i) => i);

/** The loss of row `i` alone with its own prompt (or none, by the frozen model's logits). */
function aloneLoss(model: FrozenModel, prompts: readonly tf.Tensor[], i: number): tf.Scalar {
  const batch = lossBatch(model, [i], "right");
  const p = promptOf(prompts, i);
  const out = p === undefined
    ? promptLoss(model, batch)({ prompts: [prompts[0]], rows: [-1] })
    : promptLoss(model, batch)(p);
  tf.dispose(Object.values(batch));
  return out;
}

for (const name of [...MODELS, "llama_mistral_window"]) {
  for (const side of ["left", "right"] as const) {
    Deno.test(`promptLoss() of a ${side}-padded mixed batch on ${name} is the rows' alone, and its gradients reach each row's own prompt`, async () => {
      await withModel(name, (model) => {
        const prompts = makePrompts(model);
        const batch = lossBatch(model, all, side);
        const mixed = (ps: tf.Tensor[]): MixedPrompts => ({ prompts: ps, rows: ROWS });
        const loss = promptLoss(model, batch);
        const grads = tf.grads((...ps: tf.Tensor[]) => loss(mixed(ps)))(prompts);
        const value = tf.tidy(() => loss(mixed(prompts)).dataSync()[0]);
        // The mean over every target token is the rows' means weighted by their token counts.
        const n = all.map(tokensOf);
        const total = n.reduce((a, b) => a + b, 0);
        const expected = tf.tidy(() =>
          all.reduce((acc, i) => acc + aloneLoss(model, prompts, i).dataSync()[0] * n[i], 0) / total
        );
        assert.ok(Math.abs(value - expected) < TOL, `${value} vs ${expected}`);
        // ∂/∂prompt_k: the alone gradients of the rows naming k, weighted the same way.
        prompts.forEach((prompt, k) => {
          const reference = tf.tidy(() => {
            let g: tf.Tensor = tf.zerosLike(prompt);
            all.filter((i) => ROWS[i] === k).forEach((i) => {
              const one = lossBatch(model, [i], "right");
              const gi = tf.grad((p: tf.Tensor) => promptLoss(model, one)(p))(prompt);
              g = tf.add(g, tf.mul(gi, n[i] / total));
              tf.dispose(Object.values(one));
            });
            return g;
          });
          const d = maxDiff(grads[k], reference);
          assert.ok(d < TOL, `prompt ${k}: gradients differ by ${d}`);
          assert.ok(tf.tidy(() => tf.max(tf.abs(reference)).dataSync()[0]) > 1e-4);
          reference.dispose();
        });
        tf.dispose([...grads, ...prompts, ...Object.values(batch)]);
      });
    });
  }

  Deno.test(`promptLogits() of a mixed batch on ${name} gives each row its logits alone`, async () => {
    await withModel(name, (model) => {
      const prompts = makePrompts(model);
      const batch = lossBatch(model, all, "left");
      const logits = promptLogits(model, batch)({ prompts, rows: ROWS }); // [B, T or S, V]
      all.forEach((i) => {
        const one = lossBatch(model, [i], "left");
        const p = promptOf(prompts, i);
        const alone = p === undefined
          ? promptLogits(model, one)({ prompts, rows: [-1] })
          : promptLogits(model, one)(p); // [1, T_i or S_i, V]
        const [, len, v] = alone.shape as number[];
        const width = logits.shape[1] as number;
        // Left padding: row i's last `len` positions (T5 targets are right-padded: its first).
        const from = model.architecture === "t5" ? 0 : width - len;
        const row = tf.slice(logits, [i, from, 0], [1, len, v]);
        const d = maxDiff(row, alone);
        assert.ok(d < TOL, `row ${i}: logits differ by ${d}`);
        tf.dispose([row, alone, ...Object.values(one)]);
      });
      tf.dispose([logits, ...prompts, ...Object.values(batch)]);
    });
  });

  Deno.test(`rank scores and promptRankLoss() of a mixed batch on ${name} are each row's alone`, async () => {
    await withModel(name, async (model) => {
      const prompts = makePrompts(model);
      const mixed: MixedPrompts = { prompts, rows: ROWS };
      const ranked = await rankClassify(model, mixed, INPUTS, LABELS, { batchSize: 2 });
      for (const i of all) {
        const [alone] = await rankClassify(model, promptOf(prompts, i), [INPUTS[i]], LABELS);
        alone.scores.forEach((s, l) =>
          assert.ok(Math.abs(s - ranked[i].scores[l]) < TOL, `row ${i} label ${l}`)
        );
        assert.equal(ranked[i].predicted, alone.predicted);
      }
      // The rank loss: the mean over rows of each row's alone.
      const examples = all.map((i) => ({ inputIds: INPUTS[i], targetIds: LABELS[i % 3] }));
      const rank = collateRank(model, examples, LABELS);
      const value = tf.tidy(() => promptRankLoss(model, rank)(mixed).dataSync()[0]);
      const expected = tf.tidy(() =>
        all.reduce((acc, i) => {
          const one = collateRank(model, [examples[i]], LABELS);
          const p = promptOf(prompts, i);
          const loss = promptRankLoss(model, one)(p ?? { prompts, rows: [-1] }).dataSync()[0];
          tf.dispose([...one.choices.flatMap((c) => Object.values(c)), one.labels]);
          return acc + loss / all.length;
        }, 0)
      );
      assert.ok(Math.abs(value - expected) < TOL, `${value} vs ${expected}`);
      tf.dispose([...prompts, ...rank.choices.flatMap((c) => Object.values(c)), rank.labels]);
    });
  });

  Deno.test(`greedy() of a mixed batch on ${name} decodes each row as alone, left- and right-padded`, async () => {
    await withModel(name, async (model) => {
      const prompts = makePrompts(model);
      const options = { maxNewTokens: 4, eosTokenIds: [1], padTokenId: 0 };
      const alone: DecodeResult[] = [];
      for (const i of all) {
        const one = { inputIds: int2d([INPUTS[i]]), inputMask: int2d([INPUTS[i].map(() => 1)]) };
        alone.push(await greedy(model, promptOf(prompts, i), one, options));
        tf.dispose(Object.values(one));
      }
      // A sliding window counts columns (as Hugging Face's does), so a row decoded after right
      // padding differs from the row alone even with one prompt: only left padding there.
      const sides = name === "llama_mistral_window"
        ? ["left"] as const
        : ["left", "right"] as const;
      for (const side of sides) {
        const rows = pad(INPUTS, side);
        const batch = { inputIds: int2d(rows.ids), inputMask: int2d(rows.mask) };
        const out = await greedy(model, { prompts, rows: ROWS }, batch, options);
        all.forEach((i) => {
          assert.deepEqual(out.tokens[i], alone[i].tokens[0], `${side}, row ${i}`);
          assert.ok(Math.abs(out.scores[i] - alone[i].scores[0]) < TOL, `${side}, row ${i}`);
        });
        tf.dispose(Object.values(batch));
      }
      // Different prompts decode differently (the test can fail).
      assert.ok(all.some((i) => alone[i].scores[0] !== alone[0].scores[0]));
      tf.dispose(prompts);
    });
  });
}

Deno.test("generateAndMatch() takes one prompt per example, chunked into batches", async () => {
  await withModel("t5_v1_1", async (model) => {
    const prompts = makePrompts(model);
    const tokenizer = { decode: (ids: readonly number[]) => ids.join(" ") };
    const examples = INPUTS.map((inputIds) => ({ inputIds, target: "" }));
    const options = { tokenizer, maxNewTokens: 3, batchSize: 2 };
    const mixed = await generateAndMatch(model, { prompts, rows: ROWS }, examples, options);
    for (const i of all) {
      const [alone] = await generateAndMatch(model, promptOf(prompts, i), [examples[i]], options);
      assert.deepEqual(mixed[i].ids, alone.ids);
    }
    await assert.rejects(
      generateAndMatch(model, { prompts, rows: [0] }, examples, options),
      /^RangeError: Generation: 1 prompt rows; expected 5 \(one per example\)$/,
    );
    tf.dispose(prompts);
  });
});

Deno.test("mixed prompts reject bad rows and widths with one-line errors", async () => {
  await withModel("gpt2_tiny", (model) => {
    const prompts = makePrompts(model);
    const batch = lossBatch(model, [0, 1], "left");
    const loss = promptLoss(model, batch);
    assert.throws(
      () => loss({ prompts, rows: [0] }),
      /^RangeError: Combine: 1 prompt rows; expected 2/,
    );
    assert.throws(
      () => loss({ prompts, rows: [0, 3] }),
      /^RangeError: Combine: row 1 names prompt 3; expected -1 or an index in \[0, 3\)$/,
    );
    const narrow = tf.zeros([2, 3]);
    assert.throws(
      () => loss({ prompts: [prompts[0], narrow], rows: [0, 1] }),
      /^RangeError: Prompt 1 is float32 \[2, 3\]; expected float32 \[P, 24\] \(the model's width\)$/,
    );
    assert.throws(
      () => mixPrompts(new Map([["a", prompts[0]]]), ["a", "b"]),
      /^RangeError: Mixed prompts: row 1 names prompt "b"; expected one of "a"$/,
    );
    tf.dispose([narrow, ...prompts, ...Object.values(batch)]);
  });
});
