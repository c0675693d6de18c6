import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { initBackend } from "../backend.ts";
import { loadModel } from "../model/load.ts";
import { countParams, disposeTree, flatten } from "../tree/tree.ts";
import { runCli } from "./_cli.ts";

await initBackend("wasm");

const fixtures = new URL("./fixtures/models/", import.meta.url).pathname;
const t5x = new URL(
  "./data/prompt-tuning/test_data/test_t5_1_1_tiny/checkpoint_3",
  import.meta.url,
).pathname;

const cli = (...args: string[]) => runCli(args);

/** A copy of a fixture directory in a temp dir, changed by `edit`. */
async function brokenCopy(name: string, edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = await Deno.makeTempDir();
  for await (const entry of Deno.readDir(`${fixtures}${name}`)) {
    await Deno.copyFile(`${fixtures}${name}/${entry.name}`, `${dir}/${entry.name}`);
  }
  await edit(dir);
  return dir;
}

async function expectOneLineError(dir: string, pattern: RegExp) {
  const r = await cli("inspect", dir);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/);
}

Deno.test("loadModel() recognises each architecture of the fixtures and leaks nothing", async () => {
  const before = tf.memory().numTensors;
  const want: Record<string, string> = {
    t5_original: "t5",
    t5_v1_1: "t5",
    t5_odd: "t5",
    gpt2_tiny: "gpt2",
    llama_gqa: "llama",
    qwen2_gqa: "llama",
  };
  for (const [name, architecture] of Object.entries(want)) {
    const r = await loadModel(`${fixtures}${name}`);
    assert.ok(E.isRight(r), `${name}: ${JSON.stringify(E.isLeft(r) && r.left)}`);
    assert.equal(r.right.architecture, architecture, name);
    assert.ok(flatten(r.right.params).some(([p]) => p === "token_embedder/embedding"), name);
    disposeTree(r.right.params);
  }
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("loadModel() reads the T5X checkpoint into a T5 tree with a derived config", async () => {
  const before = tf.memory().numTensors;
  const r = await loadModel(t5x);
  assert.ok(E.isRight(r), JSON.stringify(E.isLeft(r) && r.left));
  const m = r.right;
  assert.equal(m.architecture, "t5");
  assert.equal(m.format, "t5x");
  if (m.architecture === "t5") {
    assert.equal(m.config.vocabSize, 32128);
    assert.equal(m.config.dModel, 4);
    assert.equal(m.config.numLayers, 2);
    assert.equal(m.config.isGatedAct, true);
    assert.equal(m.config.tieWordEmbeddings, false);
  }
  assert.equal(countParams(m.params), 257_856);
  disposeTree(m.params);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("cli inspect DIR prints the architecture, parameter count and tensor table", async () => {
  for (
    const [dir, arch] of [[t5x, "t5 (t5x"], [`${fixtures}t5_v1_1`, "t5 (huggingface"], [
      `${fixtures}llama_gqa`,
      "llama (huggingface",
    ]]
  ) {
    const r = await cli("inspect", dir);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.ok(lines[0].startsWith(`architecture: ${arch}`), lines[0]);
    assert.match(lines[1], /^parameters: [\d,]+$/);
    assert.match(lines[2], /^name\s+dtype\s+shape\s+mean\s+std\s+min\s+max$/);
    assert.ok(lines.slice(3).some((l) => l.startsWith("token_embedder/embedding ")), dir);
    assert.ok(lines.slice(3).every((l) => l.split(/\s{2,}/).length === 7), dir);
  }
});

Deno.test("cli inspect reports a truncated model.safetensors in one line", async () => {
  const dir = await brokenCopy("t5_v1_1", async (d) => {
    const bytes = await Deno.readFile(`${d}/model.safetensors`);
    await Deno.writeFile(`${d}/model.safetensors`, bytes.subarray(0, bytes.length - 100));
  });
  try {
    await expectOneLineError(dir, /^Error: .*model\.safetensors: /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli inspect reports a config whose sizes disagree with the weights", async () => {
  const dir = await brokenCopy("llama_gqa", async (d) => {
    const config = JSON.parse(await Deno.readTextFile(`${d}/config.json`));
    config.intermediate_size += 8;
    await Deno.writeTextFile(`${d}/config.json`, JSON.stringify(config));
  });
  try {
    await expectOneLineError(dir, /^Error: .*does not match its config: mismatched .* expected \[/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli inspect reports a missing tensor, naming it", async () => {
  const dir = await brokenCopy("gpt2_tiny", async (d) => {
    // Rewrite the checkpoint without one tensor, with our own writer.
    const { openSafetensors, writeSafetensors } = await import("../io/safetensors.ts");
    const opened = await openSafetensors(`${d}/model.safetensors`);
    if (E.isLeft(opened)) throw new Error(opened.left.message);
    const kept = new Map();
    for (const e of opened.right.entries) {
      if (e.name.endsWith("h.1.mlp.c_fc.weight")) continue;
      const t = await opened.right.read(e.name);
      if (E.isLeft(t)) throw new Error(t.left.message);
      kept.set(e.name, t.right);
    }
    opened.right.close();
    await writeSafetensors(`${d}/model.safetensors`, kept);
  });
  try {
    await expectOneLineError(dir, /h\.1\.mlp\.c_fc\.weight/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli inspect reports an unknown architecture and a directory that is no checkpoint", async () => {
  const dir = await brokenCopy("gpt2_tiny", async (d) => {
    const config = JSON.parse(await Deno.readTextFile(`${d}/config.json`));
    config.model_type = "bert";
    await Deno.writeTextFile(`${d}/config.json`, JSON.stringify(config));
  });
  const empty = await Deno.makeTempDir();
  try {
    await expectOneLineError(dir, /Unknown model_type "bert"; expected one of: t5, gpt2, llama/);
    await expectOneLineError(empty, /Not a checkpoint directory/);
    await Deno.writeTextFile(`${empty}/config.json`, "{ not json");
    await expectOneLineError(empty, /config\.json: Not valid JSON/);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test("loadModel() reads generation_config.json and reports a malformed one", async () => {
  const r = await loadModel(`${fixtures}t5_v1_1`);
  assert.ok(E.isRight(r));
  assert.deepEqual(r.right.generation?.eosTokenIds, [1]);
  assert.equal(r.right.generation?.decoderStartTokenId, 0);
  disposeTree(r.right.params);
  const dir = await brokenCopy("gpt2_tiny", async (d) => {
    await Deno.writeTextFile(
      `${d}/generation_config.json`,
      JSON.stringify({ eos_token_id: "two", num_beams: 0 }),
    );
  });
  try {
    const bad = await loadModel(dir);
    assert.ok(E.isLeft(bad));
    assert.match(
      bad.left.message,
      /num_beams is 0, expected an integer ≥ 1; eos_token_id is "two", expected an id or a list of ids/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadModel() loads a sharded checkpoint to the same tree as the single file", async () => {
  const before = tf.memory().numTensors;
  const { openSafetensors, writeSafetensors } = await import("../io/safetensors.ts");
  const dir = await brokenCopy("llama_gqa", async (d) => {
    const opened = await openSafetensors(`${d}/model.safetensors`);
    if (E.isLeft(opened)) throw new Error(opened.left.message);
    const shards = [new Map(), new Map()];
    const weightMap: Record<string, string> = {};
    for (const [i, e] of opened.right.entries.entries()) {
      const t = await opened.right.read(e.name);
      if (E.isLeft(t)) throw new Error(t.left.message);
      shards[i % 2].set(e.name, t.right);
      weightMap[e.name] = `model-0000${i % 2 + 1}-of-00002.safetensors`;
    }
    opened.right.close();
    await writeSafetensors(`${d}/model-00001-of-00002.safetensors`, shards[0]);
    await writeSafetensors(`${d}/model-00002-of-00002.safetensors`, shards[1]);
    await Deno.writeTextFile(
      `${d}/model.safetensors.index.json`,
      JSON.stringify({ metadata: {}, weight_map: weightMap }),
    );
    await Deno.remove(`${d}/model.safetensors`);
  });
  try {
    const single = await loadModel(`${fixtures}llama_gqa`);
    const sharded = await loadModel(dir);
    assert.ok(E.isRight(single) && E.isRight(sharded));
    const a = flatten(single.right.params), b = new Map(flatten(sharded.right.params));
    assert.equal(a.length, b.size);
    for (const [path, t] of a) assert.deepEqual(b.get(path)!.dataSync(), t.dataSync(), path);
    disposeTree(single.right.params);
    disposeTree(sharded.right.params);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(tf.memory().numTensors, before);
});
