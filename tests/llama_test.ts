import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { initBackend } from "../backend.ts";
import { hostTensor } from "../io/mod.ts";
import {
  llamaEmbed,
  llamaForward,
  llamaParamShapes,
  loadLlamaFromHuggingFace,
  parseLlamaConfig,
} from "../model/llama/mod.ts";
import { disposeCache } from "../model/types.ts";
import { orThrow } from "../problem.ts";
import { disposeTree, flatten } from "../tree/tree.ts";
import {
  assertOneLine,
  decoderHarness,
  editedCopy,
  fixtureDir,
  maxDiff,
  withoutLeaks,
} from "./decoder_parity.ts";

await initBackend("wasm");

// ---- helpers (shared with the other decoder-only tests: decoder_parity.ts) ----

const { loadFrom, forward, checkFixture, checkUpcast, checkTruncated } = decoderHarness({
  load: loadLlamaFromHuggingFace,
  parseConfig: parseLlamaConfig,
  forward: llamaForward,
  embed: llamaEmbed,
});

// ---- parity with transformers ----

for (const name of ["llama_gqa", "llama_tied", "qwen2_gqa", "llama_mistral_window"]) {
  Deno.test(`llamaForward() matches transformers on ${name}: padded batches, a prompt, cached decoding`, () =>
    checkFixture(name));
}

// ---- configs ----

const fixtureConfig = (name: string) =>
  JSON.parse(Deno.readTextFileSync(`${fixtureDir(name)}/config.json`));

Deno.test("parseLlamaConfig() reads LLaMA, Qwen2 and Mistral configs", () => {
  const gqa = orThrow(parseLlamaConfig(fixtureConfig("llama_gqa"), "c"));
  assert.deepEqual(
    [gqa.numHeads, gqa.numKvHeads, gqa.headDim, gqa.tieWordEmbeddings, gqa.qkvBias],
    [4, 2, 8, false, false],
  );
  const tied = orThrow(parseLlamaConfig(fixtureConfig("llama_tied"), "c"));
  assert.deepEqual(
    [tied.headDim, tied.numKvHeads, tied.qkvBias, tied.outBias, tied.mlpBias, tied.ropeTheta],
    [12, 1, true, true, true, 500],
  );
  const qwen = orThrow(parseLlamaConfig(fixtureConfig("qwen2_gqa"), "c"));
  assert.deepEqual([qwen.qkvBias, qwen.outBias, qwen.ropeTheta], [true, false, 1e6]);
  assert.deepEqual(qwen.slidingWindows, [null, null]);
  const mistral = orThrow(parseLlamaConfig(fixtureConfig("llama_mistral_window"), "c"));
  assert.deepEqual(mistral.slidingWindows, [3, 3]);
  // An older config.json: top-level rope_theta, rope_scaling null, Qwen2's window switched on.
  const older = orThrow(parseLlamaConfig({
    model_type: "qwen2",
    num_hidden_layers: 3,
    rope_theta: 1000000.0,
    rope_scaling: null,
    use_sliding_window: true,
    sliding_window: 16,
    max_window_layers: 1,
  }, "c"));
  assert.equal(older.ropeTheta, 1e6);
  assert.deepEqual(older.slidingWindows, [null, 16, 16]);
});

Deno.test("parseLlamaConfig() lists every problem at once", () => {
  const bad = parseLlamaConfig({
    model_type: "llama",
    hidden_size: 30,
    num_attention_heads: 4,
    num_key_value_heads: 3,
    rms_norm_eps: -1,
    tie_word_embeddings: "yes",
  }, "dir/config.json");
  assert.ok(E.isLeft(bad));
  assert.equal(bad.left._tag, "Invalid");
  assert.equal(bad.left.where, "dir/config.json");
  assert.equal(
    bad.left.message,
    "LLaMA-family config has 4 problems: num_attention_heads 4 is not a multiple of num_key_value_heads 3; " +
      "hidden_size 30 is not a multiple of num_attention_heads 4 and no head_dim is given; " +
      'rms_norm_eps must be a positive number, got -1; tie_word_embeddings must be true or false, got "yes"',
  );
  const scaled = parseLlamaConfig({ rope_scaling: { rope_type: "linear", factor: 2 } }, "c");
  assert.ok(E.isLeft(scaled));
  assert.equal(scaled.left._tag, "Unsupported");
  assert.match(
    scaled.left.message,
    /rope_scaling \{"rope_type":"linear","factor":2\} is not supported/,
  );
  const yarn = parseLlamaConfig({ rope_parameters: { rope_type: "yarn", rope_theta: 1e4 } }, "c");
  assert.ok(E.isLeft(yarn) && /rope_type "yarn" is not supported/.test(yarn.left.message));
  const unknown = parseLlamaConfig({ model_type: "gemma" }, "c");
  assert.ok(E.isLeft(unknown));
  assert.equal(unknown.left._tag, "Unsupported");
  assert.match(unknown.left.message, /model_type "gemma" is not one of llama, qwen2, mistral/);
});

Deno.test("llamaParamShapes() lists the tree the loader makes, lm_head only when untied", async () => {
  await withoutLeaks(async () => {
    for (const name of ["llama_gqa", "llama_tied", "qwen2_gqa"]) {
      const model = orThrow(await loadFrom(fixtureDir(name)));
      const shapes = llamaParamShapes(orThrow(parseLlamaConfig(model.config, "c")));
      const flat = flatten(model.params);
      assert.deepEqual(flat.map(([p]) => p).sort(), [...shapes.keys()].sort(), name);
      for (const [path, t] of flat) {
        assert.deepEqual(t.shape, shapes.get(path), `${name} ${path}`);
        assert.equal(t.dtype, "float32");
      }
      assert.equal(shapes.has("lm_head/kernel"), name === "llama_gqa");
      assert.equal(shapes.has("layers/0/attention/out/bias"), name === "llama_tied");
      assert.equal(shapes.has("layers/0/attention/key/bias"), name !== "llama_gqa");
      disposeTree(model.params);
    }
  });
});

// ---- loading ----

Deno.test("loadLlamaFromHuggingFace() takes names without model. and a redundant tied lm_head", async () => {
  await withoutLeaks(async () => {
    const dir = await editedCopy("llama_tied", (m) => {
      const out = new Map([...m].map(([k, v]) => [k.replace(/^model\./, ""), v]));
      out.set("lm_head.weight", m.get("model.embed_tokens.weight")!);
      out.set(
        "layers.0.self_attn.rotary_emb.inv_freq",
        hostTensor("float32", [6], new Float32Array(6)),
      );
      return out;
    });
    const renamed = orThrow(await loadFrom(dir));
    const original = orThrow(await loadFrom(fixtureDir("llama_tied")));
    const b = new Map(flatten(original.params));
    for (const [path, t] of flatten(renamed.params)) {
      assert.deepEqual(t.dataSync(), b.get(path)!.dataSync(), path);
    }
    disposeTree(renamed.params);
    disposeTree(original.params);
    await Deno.remove(dir, { recursive: true });
  });
});

Deno.test("loadLlamaFromHuggingFace() upcasts float16 weights to float32", () =>
  checkUpcast("qwen2_gqa", "float16", (y) => Math.abs(y) / 1024 + 1e-7));

Deno.test("loadLlamaFromHuggingFace() reports a truncated model.safetensors", () =>
  checkTruncated("llama_gqa"));

Deno.test("loadLlamaFromHuggingFace() reports a config whose sizes disagree with the weights", async () => {
  await withoutLeaks(async () => {
    const config = fixtureConfig("llama_gqa");
    const r = await loadFrom(fixtureDir("llama_gqa"), { ...config, num_key_value_heads: 4 });
    assert.ok(E.isLeft(r));
    assert.equal(r.left._tag, "Mismatch");
    assert.equal(r.left.where, fixtureDir("llama_gqa"));
    assert.equal(
      r.left.message,
      "LLaMA-family checkpoint does not match its config: mismatched " +
        "model.layers.0.self_attn.k_proj.weight is [16, 32], expected [32, 32], " +
        "model.layers.0.self_attn.v_proj.weight is [16, 32], expected [32, 32], " +
        "model.layers.1.self_attn.k_proj.weight is [16, 32], expected [32, 32], " +
        "model.layers.1.self_attn.v_proj.weight is [16, 32], expected [32, 32]",
    );
    assertOneLine(r.left);
    const wide = await loadFrom(fixtureDir("llama_gqa"), { ...config, hidden_size: 40 });
    assert.ok(E.isLeft(wide));
    assert.match(
      wide.left.message,
      /^LLaMA-family checkpoint does not match its config: mismatched /,
    );
    assert.match(
      wide.left.message,
      /model\.embed_tokens\.weight is \[96, 32\], expected \[96, 40\]/,
    );
    assert.match(wide.left.message, / and \d+ more$/);
  });
});

Deno.test("loadLlamaFromHuggingFace() lists missing and unexpected tensors together", async () => {
  await withoutLeaks(async () => {
    const dir = await editedCopy("llama_gqa", (m) => {
      m.delete("lm_head.weight");
      m.delete("model.layers.1.mlp.up_proj.weight");
      m.set(
        "model.layers.0.self_attn.q_norm.weight",
        hostTensor("float32", [8], new Float32Array(8)),
      );
      return m;
    });
    const r = await loadFrom(dir);
    assert.ok(E.isLeft(r));
    assert.equal(
      r.left.message,
      "LLaMA-family checkpoint does not match its config: missing layers.1.mlp.up_proj.weight, " +
        "lm_head.weight; unexpected model.layers.0.self_attn.q_norm.weight",
    );
    const unknown = await loadFrom(dir, { ...fixtureConfig("llama_gqa"), model_type: "gemma" });
    assert.ok(E.isLeft(unknown) && unknown.left._tag === "Unsupported");
    await Deno.remove(dir, { recursive: true });
  });
});

Deno.test("llamaForward() uses the cache's length for positions when no mask is given", async () => {
  await withoutLeaks(async () => {
    const model = orThrow(await loadFrom(fixtureDir("llama_gqa")));
    const ids = tf.tensor2d([[5, 9, 14, 20]], [1, 4], "int32");
    const whole = forward(model, { inputIds: ids });
    const [head, last] = tf.split(ids, [3, 1], 1); // [1, 3], [1, 1]
    const first = forward(model, { inputIds: head });
    const next = forward(model, { inputIds: last, cache: first.cache });
    const want = tf.tidy(() => whole.logits.slice([0, 3, 0], [1, 1, -1]));
    assert.ok(await maxDiff(next.logits, want) <= 1e-5);
    tf.dispose([ids, head, last, want, whole.logits, first.logits, next.logits]);
    [whole.cache, first.cache, next.cache].forEach(disposeCache);
    disposeTree(model.params);
  });
});
