import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { initBackend } from "../backend.ts";
import {
  float16Bits,
  type HostTensor,
  hostTensor,
  openTensorFile,
  type TensorSource,
  toFloat64,
  toTensor,
  writeSafetensors,
} from "../io/mod.ts";
import {
  type DecoderOptions,
  type DecoderOutput,
  llamaEmbed,
  llamaForward,
  type LlamaParams,
  llamaParamShapes,
  loadLlamaFromHuggingFace,
  parseLlamaConfig,
} from "../model/llama/mod.ts";
import { disposeCache, type KVCache } from "../model/types.ts";
import { orThrow, type Problem } from "../problem.ts";
import { disposeTree, flatten } from "../tree/tree.ts";

await initBackend("wasm");

// ---- helpers (each decoder test file keeps its own: tests import nothing but the library) ----

const TOLERANCE = 1e-4;
const fixtureDir = (name: string) =>
  new URL(`./fixtures/models/${name}/`, import.meta.url).pathname.replace(/\/$/, "");

async function withoutLeaks(body: () => Promise<void>): Promise<void> {
  const before = tf.memory().numTensors;
  await body();
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
}

async function readAll(source: TensorSource): Promise<Map<string, HostTensor>> {
  const out = new Map<string, HostTensor>();
  for (const e of source.entries) out.set(e.name, orThrow(await source.read(e.name)));
  return out;
}

async function readRefs(dir: string): Promise<Map<string, tf.Tensor>> {
  const source = orThrow(await openTensorFile(`${dir}/refs.safetensors`));
  const hosts = await readAll(source);
  source.close();
  return new Map([...hosts].map(([k, h]) => [k, orThrow(toTensor(h, k))]));
}

type Model = { dir: string; config: unknown; params: LlamaParams };

async function loadFrom(dir: string, configJson?: unknown): Promise<E.Either<Problem, Model>> {
  const config = configJson ?? JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
  const source = await openTensorFile(`${dir}/model.safetensors`);
  if (E.isLeft(source)) return source;
  const params = await loadLlamaFromHuggingFace(dir, config, source.right);
  source.right.close();
  return E.map((p: LlamaParams) => ({ dir, config, params: p }))(params);
}

/** Max |a - b| over the rows where `mask` is 1 (`a`, `b`: [B, T, V]; mask [B, T] or none). */
function maxDiff(a: tf.Tensor, b: tf.Tensor, mask?: tf.Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  const [bs, t, v] = a.shape as number[];
  const x = a.dataSync(), y = b.dataSync();
  const m = mask?.dataSync();
  let worst = 0;
  for (let i = 0; i < bs * t; i++) {
    if (m !== undefined && m[i] === 0) continue;
    for (let j = 0; j < v; j++) worst = Math.max(worst, Math.abs(x[i * v + j] - y[i * v + j]));
  }
  return worst;
}

function checkClose(label: string, got: tf.Tensor, want: tf.Tensor, mask?: tf.Tensor): number {
  const d = maxDiff(got, want, mask);
  assert.ok(d <= TOLERANCE, `${label}: max |difference| ${d} > ${TOLERANCE}`);
  return d;
}

function forward(model: Model, options: DecoderOptions): DecoderOutput {
  const config = orThrow(parseLlamaConfig(model.config, "config.json"));
  return llamaForward(model.params, config, options);
}

/** Every reference of one fixture; returns the largest difference seen. */
function checkAllReferences(model: Model, refs: Map<string, tf.Tensor>): number {
  const r = (k: string) => refs.get(k)!;
  const diffs: number[] = [];
  const logitsOf = (options: DecoderOptions) => {
    const out = forward(model, options);
    disposeCache(out.cache);
    return out.logits;
  };
  const compare = (label: string, options: DecoderOptions, want: string, mask?: tf.Tensor) => {
    const got = logitsOf(options);
    diffs.push(checkClose(label, got, r(want), mask));
    got.dispose();
  };
  compare(
    "right-padded batch",
    { inputIds: r("right_ids"), attentionMask: r("right_mask") },
    "right_logits",
    r("right_mask"),
  );
  compare(
    "left-padded batch, default positions",
    { inputIds: r("left_ids"), attentionMask: r("left_mask") },
    "left_logits",
    r("left_mask"),
  );
  compare(
    "left-padded batch, given positions",
    { inputIds: r("left_ids"), attentionMask: r("left_mask"), positionIds: r("left_positions") },
    "left_logits",
    r("left_mask"),
  );
  const embeds = tf.tidy(() => {
    const [b] = r("right_ids").shape;
    const [p, h] = r("prompt").shape as number[];
    const prompt = tf.tile(r("prompt").reshape([1, p, h]), [b, 1, 1]); // [B, P, H]
    const ids = llamaEmbed(model.params, r("right_ids")); // [B, T, H]
    return tf.concat([prompt, ids], 1); // [B, P + T, H]
  });
  compare(
    "prompt through inputs_embeds",
    { inputsEmbeds: embeds, attentionMask: r("embeds_mask") },
    "embeds_logits",
    r("embeds_mask"),
  );
  embeds.dispose();
  diffs.push(checkDecoding(model, refs));
  return Math.max(...diffs);
}

/** Three cached greedy steps after the left-padded batch, each against transformers. */
function checkDecoding(model: Model, refs: Map<string, tf.Tensor>): number {
  const r = (k: string) => refs.get(k)!;
  const [b, t] = r("left_ids").shape as number[];
  const steps = (r("decode_tokens").shape as number[])[1];
  let out = forward(model, { inputIds: r("left_ids"), attentionMask: r("left_mask") });
  out.logits.dispose();
  let worst = 0;
  for (let s = 0; s < steps; s++) {
    const token = r("decode_tokens").slice([0, s], [b, 1]); // [B, 1]
    const mask = tf.tidy(() => tf.concat([r("left_mask"), tf.ones([b, s + 1], "int32")], 1)); // [B, T + s + 1]
    const next = forward(model, { inputIds: token, attentionMask: mask, cache: out.cache });
    disposeCache(out.cache);
    tf.dispose([token, mask]);
    assert.equal((next.cache[0].key.shape as number[])[2], t + s + 1);
    const want = tf.tidy(() => r("decode_logits").slice([s, 0, 0], [1, b, -1]).reshape([b, 1, -1]));
    worst = Math.max(worst, checkClose(`decoding step ${s + 1}`, next.logits, want));
    tf.dispose([want, next.logits]);
    out = next;
  }
  disposeCache(out.cache);
  return worst;
}

/** Logits of the whole sequence at once equal those of a prefix plus cached steps. */
function checkCachedEqualsUncached(model: Model, refs: Map<string, tf.Tensor>, masked: boolean) {
  const r = (k: string) => refs.get(k)!;
  const [b, t] = r("left_ids").shape as number[];
  const steps = (r("decode_tokens").shape as number[])[1];
  const ids = tf.concat([r("left_ids"), r("decode_tokens")], 1); // [B, T + S]
  const fullMask = masked
    ? tf.tidy(() => tf.concat([r("left_mask"), tf.ones([b, steps], "int32")], 1))
    : tf.ones([b, t + steps], "int32");
  const whole = forward(model, { inputIds: ids, attentionMask: masked ? fullMask : undefined });
  disposeCache(whole.cache);
  let cache: KVCache = [];
  const pieces: tf.Tensor[] = [];
  for (const [start, size] of [[0, t], ...Array.from({ length: steps }, (_, s) => [t + s, 1])]) {
    const piece = ids.slice([0, start], [b, size]);
    const mask = fullMask.slice([0, 0], [b, start + size]);
    const out = forward(model, {
      inputIds: piece,
      attentionMask: masked ? mask : undefined,
      cache,
    });
    disposeCache(cache);
    tf.dispose([piece, mask]);
    cache = out.cache;
    pieces.push(out.logits);
  }
  disposeCache(cache);
  const stepwise = tf.concat(pieces, 1); // [B, T + S, V]
  tf.dispose(pieces);
  const d = maxDiff(stepwise, whole.logits, fullMask);
  tf.dispose([stepwise, whole.logits, ids, fullMask]);
  assert.ok(d <= 1e-5, `cached and uncached logits differ by ${d}`);
}

async function checkFixture(name: string): Promise<void> {
  await withoutLeaks(async () => {
    const model = orThrow(await loadFrom(fixtureDir(name)));
    const refs = await readRefs(model.dir);
    const worst = checkAllReferences(model, refs);
    checkCachedEqualsUncached(model, refs, true);
    checkCachedEqualsUncached(model, refs, false);
    console.log(`${name}: max |difference| from transformers ${worst.toExponential(2)}`);
    tf.dispose([...refs.values()]);
    disposeTree(model.params);
  });
}

/** A temp copy of a fixture whose tensors are rewritten by `edit`. */
async function editedCopy(
  name: string,
  edit: (tensors: Map<string, HostTensor>) => Map<string, HostTensor>,
): Promise<string> {
  const from = fixtureDir(name);
  const dir = await Deno.makeTempDir();
  await Deno.copyFile(`${from}/config.json`, `${dir}/config.json`);
  const source = orThrow(await openTensorFile(`${from}/model.safetensors`));
  const tensors = edit(await readAll(source));
  source.close();
  orThrow(await writeSafetensors(`${dir}/model.safetensors`, tensors));
  return dir;
}

function assertOneLine(p: Problem): void {
  assert.ok(!p.message.includes("\n"), "one line");
  assert.match(p.message, /^[A-Z]/);
  assert.doesNotMatch(p.message, /\.$/);
}

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

Deno.test("loadLlamaFromHuggingFace() upcasts float16 weights to float32", async () => {
  await withoutLeaks(async () => {
    const dir = await editedCopy("qwen2_gqa", (m) =>
      new Map(
        [...m].map(([k, v]) => [k, hostTensor("float16", v.shape, float16Bits(toFloat64(v)))]),
      ));
    const half = orThrow(await loadFrom(dir));
    const full = orThrow(await loadFrom(fixtureDir("qwen2_gqa")));
    const b = new Map(flatten(full.params));
    for (const [path, t] of flatten(half.params)) {
      assert.equal(t.dtype, "float32");
      const x = t.dataSync(), y = b.get(path)!.dataSync();
      for (let i = 0; i < x.length; i++) {
        assert.ok(Math.abs(x[i] - y[i]) <= Math.abs(y[i]) / 1024 + 1e-7, `${path}[${i}]`);
      }
    }
    disposeTree(half.params);
    disposeTree(full.params);
    await Deno.remove(dir, { recursive: true });
  });
});

Deno.test("loadLlamaFromHuggingFace() reports a truncated model.safetensors", async () => {
  await withoutLeaks(async () => {
    const dir = await Deno.makeTempDir();
    const from = fixtureDir("llama_gqa");
    await Deno.copyFile(`${from}/config.json`, `${dir}/config.json`);
    const bytes = await Deno.readFile(`${from}/model.safetensors`);
    await Deno.writeFile(`${dir}/model.safetensors`, bytes.slice(0, bytes.length - 1000));
    const r = await loadFrom(dir);
    assert.ok(E.isLeft(r));
    assert.equal(r.left._tag, "Truncated");
    assert.match(r.left.where, /model\.safetensors/);
    assertOneLine(r.left);
    await Deno.remove(dir, { recursive: true });
  });
});

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
    assert.ok(maxDiff(next.logits, want) <= 1e-5);
    tf.dispose([ids, head, last, want, whole.logits, first.logits, next.logits]);
    [whole.cache, first.cache, next.cache].forEach(disposeCache);
    disposeTree(model.params);
  });
});
