import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import type { FrozenModel } from "../model/load.ts";
import { key, normal } from "../random/mod.ts";
import { promptLoss } from "../training/objective.ts";
import { beamSearch, greedy } from "../decode/mod.ts";
import { rankClassify } from "../eval/rank.ts";
import { generateAndMatch } from "../eval/generate.ts";
import {
  type EvalReport,
  generationPredictions,
  predictionsJsonl,
  rankPredictions,
  reportJson,
  reportTable,
  writePredictions,
  writeReport,
} from "../eval/report.ts";
import { int2d, MODELS, width, withModel } from "./model_helpers.ts";

await initBackend("wasm");

/** Inputs of different lengths; three labels of one, two and three tokens. */
const EXAMPLES = [[5, 17, 33, 1], [44, 9, 1], [60, 8, 71, 23, 1]];
const LABELS = [[30], [31, 40], [50, 12, 1]];

/**
 * The sum of the label's token log-probabilities by teacher forcing through `promptLoss` (the
 * training objective): its mean cross-entropy over the label's tokens, times their number.
 */
function teacherForced(
  model: FrozenModel,
  prompt: tf.Tensor,
  input: number[],
  label: number[],
): number {
  return tf.tidy(() => {
    if (model.architecture === "t5") {
      const batch = {
        inputIds: int2d([input]),
        inputMask: tf.ones([1, input.length], "int32"),
        targetIds: int2d([label]),
        targetMask: tf.ones([1, label.length], "int32"),
      };
      return -promptLoss(model, batch)(prompt).dataSync()[0] * label.length;
    }
    const ids = [...input, ...label];
    const batch = {
      inputIds: int2d([ids]),
      inputMask: tf.ones([1, ids.length], "int32"),
      labels: int2d([[...input.map(() => -100), ...label]]),
    };
    return -promptLoss(model, batch)(prompt).dataSync()[0] * label.length;
  });
}

// llama_mistral_window attends within a sliding window of 3: the packed labels keep to it too.
for (const name of [...MODELS, "llama_mistral_window"]) {
  Deno.test(`rankClassify() on ${name} scores labels as teacher forcing does and picks the best`, async () => {
    await withModel(name, async (model) => {
      const prompt = normal(key(3), [4, width(model)], { stddev: 0.5 });
      const none = tf.zeros([0, width(model)]);
      for (const [p, ref] of [[prompt, prompt], [undefined, none]] as const) {
        const ranked = await rankClassify(model, p, EXAMPLES, LABELS, { batchSize: 2 });
        const normalized = await rankClassify(model, p, EXAMPLES, LABELS, {
          batchSize: 3,
          lengthNormalize: true,
        });
        EXAMPLES.forEach((input, i) => {
          const expected = LABELS.map((label) => teacherForced(model, ref, input, label));
          ranked[i].scores.forEach((s, l) =>
            assert.ok(
              Math.abs(s - expected[l]) < 1e-4,
              `example ${i} label ${l}: ${s} vs ${expected[l]}`,
            )
          );
          assert.equal(ranked[i].predicted, expected.indexOf(Math.max(...expected)));
          normalized[i].scores.forEach((s, l) =>
            // (batches of 3 and of 2: their padding differs, so float32 rounding does too)
            assert.ok(Math.abs(s - ranked[i].scores[l] / LABELS[l].length) < 1e-5)
          );
        });
      }
      tf.dispose([prompt, none]);
    });
  });
}

Deno.test("rankClassify() depends on the prompt and is the same whatever the batch size", async () => {
  await withModel("t5_v1_1", async (model) => {
    const prompt = normal(key(5), [2, width(model)]);
    const a = await rankClassify(model, prompt, EXAMPLES, LABELS, { batchSize: 1 });
    const b = await rankClassify(model, prompt, EXAMPLES, LABELS, { batchSize: 16 });
    a.forEach((r, i) => r.scores.forEach((s, l) => assert.ok(Math.abs(s - b[i].scores[l]) < 1e-5)));
    const c = await rankClassify(model, undefined, EXAMPLES, LABELS);
    assert.ok(c.some((r, i) => r.scores.some((s, l) => Math.abs(s - a[i].scores[l]) > 1e-3)));
    prompt.dispose();
  });
});

Deno.test("rankClassify() rejects empty or invalid labels and inputs with one-line errors", async () => {
  await withModel("gpt2_tiny", async (model) => {
    await assert.rejects(
      rankClassify(model, undefined, EXAMPLES, []),
      /^RangeError: Rank classification: no labels/,
    );
    await assert.rejects(
      rankClassify(model, undefined, EXAMPLES, [[1], []]),
      /Rank classification: label 1 has no tokens; expected at least one$/,
    );
    await assert.rejects(
      rankClassify(model, undefined, EXAMPLES, [[1], [96]]),
      /label 1, token 0 is 96; expected an integer in \[0, 96\)$/,
    );
    await assert.rejects(
      rankClassify(model, undefined, [[1], []], [[1]], { batchSize: 1 }),
      /Rank classification: example 1 has no tokens/,
    );
    await assert.rejects(
      rankClassify(model, undefined, EXAMPLES, [[1]], { batchSize: 0 }),
      /batchSize is 0; expected a positive integer/,
    );
  });
});

const letters = {
  decode: (ids: readonly number[]) => ids.map((i) => String.fromCharCode(64 + (i % 58))).join(""),
};

Deno.test("generateAndMatch() decodes with the chosen mode, strips EOS and compares texts", async () => {
  await withModel("t5_v1_1", async (model) => {
    const prompt = normal(key(8), [3, width(model)], { stddev: 0.5 });
    const inputs = EXAMPLES.slice(0, 2);
    const batch = {
      inputIds: int2d([inputs[0], [...inputs[1], 0, 0]]),
      inputMask: int2d([[1, 1, 1, 1], [1, 1, 1, 0]]),
    };
    const eos = [39]; // a token greedy decoding emits early on this fixture
    const g = await greedy(model, prompt, batch, { maxNewTokens: 5, eosTokenIds: eos });
    const b = await beamSearch(model, prompt, batch, {
      maxNewTokens: 5,
      eosTokenIds: eos,
      numBeams: 3,
      lengthPenalty: 0.6,
    });
    tf.dispose([batch.inputIds, batch.inputMask]);
    const text = (ids: readonly number[]) =>
      letters.decode(ids.filter((i) => !eos.includes(i) && i !== 0));
    const examples = [
      { inputIds: inputs[0], target: ` ${text(g.tokens[0])}\n` }, // matches after trimming
      { inputIds: inputs[1], target: "something else" },
    ];
    const out = await generateAndMatch(model, prompt, examples, {
      tokenizer: letters,
      maxNewTokens: 5,
      eosTokenIds: eos,
      batchSize: 1,
    });
    assert.deepEqual(out.map((o) => o.ids), g.tokens);
    assert.deepEqual(out.map((o) => o.prediction), g.tokens.map(text));
    assert.deepEqual(out.map((o) => o.match), [true, false]);
    const beams = await generateAndMatch(model, prompt, examples, {
      tokenizer: letters,
      maxNewTokens: 5,
      eosTokenIds: eos,
      decoding: { mode: "beam", numBeams: 3, lengthPenalty: 0.6 },
    });
    assert.deepEqual(beams.map((o) => o.ids), b.tokens);
    assert.deepEqual(beams.map((o) => o.score), b.scores);
    const sampling = {
      tokenizer: letters,
      maxNewTokens: 5,
      decoding: { mode: "sample", topK: 10 },
    } as const;
    await assert.rejects(generateAndMatch(model, prompt, examples, sampling), /needs a PRNG key/);
    const s1 = await generateAndMatch(model, prompt, examples, { ...sampling, key: key(1) });
    const s2 = await generateAndMatch(model, prompt, examples, { ...sampling, key: key(1) });
    assert.deepEqual(s1, s2);
    prompt.dispose();
  });
});

Deno.test("reportJson() and reportTable() show metrics; NaN becomes null and nan", () => {
  const reports: EvalReport[] = [
    { task: "glue_sst2", split: "validation", examples: 872, metrics: { accuracy: 0.91056 } },
    {
      task: "glue_stsb",
      split: "validation",
      examples: 1500,
      metrics: { pearson: NaN, spearman: 0.5 },
    },
  ];
  assert.deepEqual(reportJson(reports[1]), {
    task: "glue_stsb",
    split: "validation",
    examples: 1500,
    metrics: { pearson: null, spearman: 0.5 },
  });
  assert.equal(
    reportTable(reports, { scale: 100, digits: 2 }),
    [
      "task       split       examples  accuracy  pearson  spearman",
      "glue_sst2  validation       872     91.06        -         -",
      "glue_stsb  validation      1500         -      nan     50.00",
    ].join("\n"),
  );
});

Deno.test("prediction rows are written as JSON Lines, atomically", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ranked = rankPredictions(
      [{ scores: [-1, -3], predicted: 0 }, { scores: [-5, -Infinity], predicted: 0 }],
      ["yes", "no"],
      [1, undefined],
    );
    const generated = generationPredictions([{
      ids: [3, 1],
      prediction: "x",
      target: "x",
      match: true,
      score: -0.5,
    }]);
    const text = predictionsJsonl([...ranked, ...generated]);
    assert.equal(
      text,
      '{"index":0,"prediction":"yes","scores":{"yes":-1,"no":-3},"target":"no"}\n' +
        '{"index":1,"prediction":"yes","scores":{"yes":-5,"no":null}}\n' +
        '{"index":0,"prediction":"x","target":"x","match":true,"score":-0.5,"ids":[3,1]}\n',
    );
    const path = `${dir}/predictions.jsonl`;
    await Deno.writeTextFile(path, "old");
    assert.equal((await writePredictions(path, ranked))._tag, "Right");
    assert.equal(await Deno.readTextFile(path), predictionsJsonl(ranked));
    const report = { task: "t", examples: 2, metrics: { accuracy: 0.5 }, info: { step: 100 } };
    assert.equal((await writeReport(`${dir}/metrics.json`, [report, report]))._tag, "Right");
    const back = JSON.parse(await Deno.readTextFile(`${dir}/metrics.json`));
    assert.equal(back.length, 2);
    assert.equal(back[1].info.step, 100);
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names.sort(), ["metrics.json", "predictions.jsonl"]); // no temporary files left
    const missing = await writePredictions(`${dir}/no/such/dir/p.jsonl`, ranked);
    assert.ok(missing._tag === "Left" && missing.left._tag === "NotFound");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
