import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { fileURLToPath } from "node:url";
import { initBackend } from "../backend.ts";
import { describeProblem } from "../problem.ts";
import { loadModel } from "../model/load.ts";
import { loadT5x, readT5xCheckpoint, t5xSizes } from "../model/t5x/mod.ts";
import { disposeTree } from "../tree/tree.ts";
import { left, right } from "./_io_helpers.ts";

await initBackend("wasm");

const FINDING = fileURLToPath(
  new URL("./data/fuzz-findings/t5x_dropped_encoder_layer/", import.meta.url),
);
const TINY = fileURLToPath(
  new URL("./data/prompt-tuning/test_data/test_t5_1_1_tiny/checkpoint_3/", import.meta.url),
);

/** The tiny checkpoint's entries (symlinked) in a temp dir, with a config.json holding `config`. */
async function withConfig(config: Record<string, unknown>): Promise<string> {
  const dir = await Deno.makeTempDir();
  for await (const e of Deno.readDir(TINY)) {
    await Deno.symlink(`${TINY}${e.name}`, `${dir}/${e.name}`);
  }
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config));
  return dir;
}

Deno.test("loadT5x() refuses the fuzzed checkpoint whose file no longer lists encoder layer 1", async () => {
  const before = tf.memory().numTensors;
  const problems = [await loadT5x(FINDING), await loadModel(FINDING)].map((r) =>
    E.isLeft(r) ? E.left(r.left) : E.right(undefined)
  );
  for (const r of problems) {
    const p = left(
      r,
      "Mismatch",
      /does not list: target\.encoder\.layers_1\.attention\.key\.kernel, /,
    );
    assert.match(p.message, /… \(7 in all\); expected the file to list every target\.\* array$/);
    assert.ok(p.where.endsWith("checkpoint"), p.where);
    assert.ok(!describeProblem(p).includes("\n"), "one line");
  }
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("t5xSizes() refuses layers that are not contiguous from 0, naming the gap", async () => {
  const entries = right(await readT5xCheckpoint(TINY)).entries;
  for (const stack of ["encoder", "decoder"]) {
    const without0 = entries.filter((e) => !e.name.startsWith(`${stack}/layers_0/`));
    left(
      t5xSizes(without0),
      "Mismatch",
      new RegExp(
        `^Parameters do not form a T5 model: ${stack} layers are not contiguous from 0: layers_0 missing of 2`,
      ),
    );
  }
  const renumbered = entries.map((e) => ({
    ...e,
    name: e.name.replace("decoder/layers_1/", "decoder/layers_3/"),
  }));
  left(
    t5xSizes(renumbered),
    "Mismatch",
    /decoder layers are not contiguous from 0: layers_1, layers_2 missing of 4/,
  );
});

Deno.test("loadModel() refuses a config.json beside a T5X checkpoint that disagrees with it, naming each field", async () => {
  const before = tf.memory().numTensors;
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { num_layers: 3 },
      /num_layers is 3, the checkpoint has 2 encoder layers; num_layers \(for the decoder\) is 3, the checkpoint has 2 decoder layers$/,
    ],
    [
      { num_layers: 2, num_decoder_layers: 1 },
      /: num_decoder_layers is 1, the checkpoint has 2 decoder layers$/,
    ],
    [
      { feed_forward_proj: "relu" },
      /feed_forward_proj is "relu", the checkpoint has a gated feed-forward \(wi_0, wi_1\)$/,
    ],
    [
      { tie_word_embeddings: true },
      /tie_word_embeddings is true, the checkpoint has a decoder\/logits_dense head$/,
    ],
    [
      { d_model: 8, vocab_size: 32100 },
      /vocab_size is 32100, the checkpoint has 32128 embedding rows; d_model is 8, the checkpoint has 4 d_model$/,
    ],
  ];
  for (const [config, pattern] of cases) {
    const dir = await withConfig(config);
    try {
      const p = left(await loadModel(dir), "Mismatch", pattern);
      assert.match(p.message, /^Disagrees with the T5X checkpoint beside it: /);
      assert.equal(p.where, `${dir}/config.json`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("loadModel() takes a T5X checkpoint's activation from a config.json that agrees with it", async () => {
  const before = tf.memory().numTensors;
  const dir = await withConfig({ feed_forward_proj: "gated-silu", num_layers: 2, d_model: 4 });
  try {
    const m = right(await loadModel(dir));
    assert.ok(m.architecture === "t5");
    if (m.architecture === "t5") {
      assert.equal(m.config.feedForwardProj, "gated-silu");
      assert.equal(m.config.denseActFn, "silu");
      assert.equal(m.config.isGatedAct, true);
    }
    disposeTree(m.params);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(tf.memory().numTensors, before);
});
