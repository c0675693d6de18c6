import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { initBackend } from "../backend.ts";
import { hostTensor, openTensorFile, type TensorSource } from "../io/mod.ts";
import {
  gpt2Embed,
  gpt2Forward,
  gpt2ParamShapes,
  loadGpt2FromHuggingFace,
  parseGpt2Config,
} from "../model/gpt2/mod.ts";
import { orThrow, problem } from "../problem.ts";
import { disposeTree, flatten } from "../tree/tree.ts";
import {
  assertOneLine,
  decoderHarness,
  editedCopy,
  fixtureDir,
  withoutLeaks,
} from "./decoder_parity.ts";

await initBackend("wasm");

// ---- helpers (shared with the other decoder-only tests: decoder_parity.ts) ----

const { loadFrom, forward, checkFixture, checkUpcast, checkTruncated } = decoderHarness({
  load: loadGpt2FromHuggingFace,
  parseConfig: parseGpt2Config,
  forward: gpt2Forward,
  embed: gpt2Embed,
});

// ---- parity with transformers ----

for (const name of ["gpt2_tiny", "gpt2_variant"]) {
  Deno.test(`gpt2Forward() matches transformers on ${name}: padded batches, a prompt, cached decoding`, () =>
    checkFixture(name));
}

// ---- configs ----

Deno.test("parseGpt2Config() reads a Hugging Face config and lists every problem at once", () => {
  const ok = orThrow(
    parseGpt2Config(
      JSON.parse(Deno.readTextFileSync(`${fixtureDir("gpt2_tiny")}/config.json`)),
      "c",
    ),
  );
  assert.equal(ok.numHeads, 3);
  assert.equal(ok.headDim, 8);
  assert.equal(ok.innerSize, 96);
  assert.equal(ok.activation, "gelu_new");
  const bad = parseGpt2Config(
    { model_type: "gpt2", n_embd: 25, n_head: 3, n_layer: -1, layer_norm_epsilon: "x" },
    "dir/config.json",
  );
  assert.ok(E.isLeft(bad));
  assert.equal(bad.left._tag, "Invalid");
  assert.equal(bad.left.where, "dir/config.json");
  assert.match(bad.left.message, /^GPT-2 config has 3 problems: /);
  assert.match(bad.left.message, /n_layer must be an integer ≥ 1 and ≤ 1024, got -1/);
  assert.match(bad.left.message, /n_embd 25 is not a multiple of n_head 3/);
  assert.match(bad.left.message, /layer_norm_epsilon must be a positive number, got "x"/);
  assertOneLine(bad.left);
  const cross = parseGpt2Config({ add_cross_attention: true }, "c");
  assert.ok(E.isLeft(cross) && cross.left._tag === "Unsupported");
  assert.ok(E.isLeft(parseGpt2Config([1], "c")));
});

Deno.test("gpt2ParamShapes() lists the tree the loader makes", async () => {
  await withoutLeaks(async () => {
    const model = orThrow(await loadFrom(fixtureDir("gpt2_variant")));
    const config = orThrow(parseGpt2Config(model.config, "c"));
    const shapes = gpt2ParamShapes(config);
    const flat = flatten(model.params);
    assert.deepEqual(flat.map(([p]) => p).sort(), [...shapes.keys()].sort());
    for (const [path, t] of flat) {
      assert.deepEqual(t.shape, shapes.get(path), path);
      assert.equal(t.dtype, "float32", path);
    }
    disposeTree(model.params);
  });
});

// ---- loading ----

Deno.test("loadGpt2FromHuggingFace() takes names without transformer. and ignores attn.bias buffers", async () => {
  await withoutLeaks(async () => {
    const dir = await editedCopy("gpt2_tiny", (m) => {
      const out = new Map([...m].map(([k, v]) => [k.replace(/^transformer\./, ""), v]));
      out.set("h.0.attn.bias", hostTensor("float32", [1, 1, 2, 2], new Float32Array(4)));
      out.set("h.1.attn.masked_bias", hostTensor("float32", [], new Float32Array(1)));
      return out;
    });
    const renamed = orThrow(await loadFrom(dir));
    const original = orThrow(await loadFrom(fixtureDir("gpt2_tiny")));
    const a = flatten(renamed.params), b = new Map(flatten(original.params));
    for (const [path, t] of a) assert.deepEqual(t.dataSync(), b.get(path)!.dataSync(), path);
    disposeTree(renamed.params);
    disposeTree(original.params);
    await Deno.remove(dir, { recursive: true });
  });
});

Deno.test("loadGpt2FromHuggingFace() upcasts bfloat16 weights to float32", () =>
  checkUpcast("gpt2_tiny", "bfloat16", (y) => Math.abs(y) / 128));

Deno.test("loadGpt2FromHuggingFace() reports a truncated model.safetensors", () =>
  checkTruncated("gpt2_tiny"));

Deno.test("loadGpt2FromHuggingFace() lists tensors missing, unexpected and mis-shaped for the config", async () => {
  await withoutLeaks(async () => {
    const config = JSON.parse(Deno.readTextFileSync(`${fixtureDir("gpt2_tiny")}/config.json`));
    const deeper = await loadFrom(fixtureDir("gpt2_tiny"), { ...config, n_layer: 3 });
    assert.ok(E.isLeft(deeper));
    assert.equal(deeper.left._tag, "Mismatch");
    assert.match(
      deeper.left.message,
      /^GPT-2 checkpoint does not match its config: missing h\.2\./,
    );
    assert.match(deeper.left.message, /and 6 more/);
    assertOneLine(deeper.left);

    const vocab = await loadFrom(fixtureDir("gpt2_tiny"), { ...config, vocab_size: 97 });
    assert.ok(E.isLeft(vocab));
    assert.equal(
      vocab.left.message,
      "GPT-2 checkpoint does not match its config: mismatched transformer.wte.weight is [96, 24], expected [97, 24]",
    );
    const wider = await loadFrom(fixtureDir("gpt2_tiny"), { ...config, n_inner: 50 });
    assert.ok(E.isLeft(wider));
    assert.match(
      wider.left.message,
      /transformer\.h\.0\.mlp\.c_fc\.weight is \[24, 96\], expected \[24, 50\]/,
    );

    const dir = await editedCopy("gpt2_tiny", (m) => {
      m.delete("transformer.h.1.mlp.c_fc.bias");
      m.set("transformer.h.0.attn.extra", hostTensor("float32", [1], new Float32Array(1)));
      return m;
    });
    const edited = await loadFrom(dir);
    assert.ok(E.isLeft(edited));
    assert.equal(
      edited.left.message,
      "GPT-2 checkpoint does not match its config: missing h.1.mlp.c_fc.bias; unexpected transformer.h.0.attn.extra",
    );
    assert.equal(edited.left.where, dir);
    await Deno.remove(dir, { recursive: true });
  });
});

Deno.test("gpt2Forward() refuses bad inputs with a clear message", async () => {
  await withoutLeaks(async () => {
    const model = orThrow(await loadFrom(fixtureDir("gpt2_tiny")));
    const ids = tf.zeros([1, 3], "int32");
    const floats = tf.zeros([1, 3]);
    const shortMask = tf.ones([1, 2], "int32");
    const long = tf.zeros([1, 33], "int32");
    assert.throws(() => forward(model, {}), /exactly one of inputIds and inputsEmbeds/);
    assert.throws(
      () => forward(model, { inputIds: floats }),
      /Token ids must be an int32 \[B, T\] tensor, got float32/,
    );
    assert.throws(
      () => forward(model, { inputIds: ids, attentionMask: shortMask }),
      /attentionMask must be \[1, 3\] \(cached \+ new tokens\), got \[1, 2\]/,
    );
    assert.throws(() => forward(model, { inputIds: long }), /33 tokens exceed n_positions 32/);
    tf.dispose([ids, floats, shortMask, long]);
    disposeTree(model.params);
  });
});

Deno.test("loadGpt2FromHuggingFace() passes on a failed read and frees what it had loaded", async () => {
  await withoutLeaks(async () => {
    const dir = fixtureDir("gpt2_tiny");
    const source = orThrow(await openTensorFile(`${dir}/model.safetensors`));
    const failing: TensorSource = {
      entries: source.entries,
      read: (name) =>
        name === "transformer.h.1.ln_2.bias"
          ? Promise.resolve(E.left(problem("Io", `${dir}/model.safetensors`, "Disk went away")))
          : source.read(name),
      close: () => source.close(),
    };
    const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    const r = await loadGpt2FromHuggingFace(dir, config, failing);
    failing.close();
    assert.ok(E.isLeft(r));
    assert.deepEqual(r.left, problem("Io", `${dir}/model.safetensors`, "Disk went away"));
  });
});
