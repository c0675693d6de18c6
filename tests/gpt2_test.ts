import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { initBackend } from "../backend.ts";
import {
  bfloat16Bits,
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
  gpt2Embed,
  gpt2Forward,
  type Gpt2Params,
  gpt2ParamShapes,
  loadGpt2FromHuggingFace,
  parseGpt2Config,
} from "../model/gpt2/mod.ts";
import { disposeCache, type KVCache } from "../model/types.ts";
import { orThrow, type Problem, problem } from "../problem.ts";
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

type Model = { dir: string; config: unknown; params: Gpt2Params };

async function loadFrom(dir: string, configJson?: unknown): Promise<E.Either<Problem, Model>> {
  const config = configJson ?? JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
  const source = await openTensorFile(`${dir}/model.safetensors`);
  if (E.isLeft(source)) return source;
  const params = await loadGpt2FromHuggingFace(dir, config, source.right);
  source.right.close();
  return E.map((p: Gpt2Params) => ({ dir, config, params: p }))(params);
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
  const config = orThrow(parseGpt2Config(model.config, "config.json"));
  return gpt2Forward(model.params, config, options);
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
    const ids = gpt2Embed(model.params, r("right_ids")); // [B, T, H]
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
  assert.match(bad.left.message, /n_layer must be an integer ≥ 1, got -1/);
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

Deno.test("loadGpt2FromHuggingFace() upcasts bfloat16 weights to float32", async () => {
  await withoutLeaks(async () => {
    const dir = await editedCopy("gpt2_tiny", (m) =>
      new Map(
        [...m].map((
          [k, v],
        ) => [k, hostTensor("bfloat16", v.shape, bfloat16Bits(toFloat64(v)))]),
      ));
    const half = orThrow(await loadFrom(dir));
    const full = orThrow(await loadFrom(fixtureDir("gpt2_tiny")));
    const b = new Map(flatten(full.params));
    for (const [path, t] of flatten(half.params)) {
      assert.equal(t.dtype, "float32");
      const x = t.dataSync(), y = b.get(path)!.dataSync();
      for (let i = 0; i < x.length; i++) {
        assert.ok(Math.abs(x[i] - y[i]) <= Math.abs(y[i]) / 128, `${path}[${i}]`);
      }
    }
    disposeTree(half.params);
    disposeTree(full.params);
    await Deno.remove(dir, { recursive: true });
  });
});

Deno.test("loadGpt2FromHuggingFace() reports a truncated model.safetensors", async () => {
  await withoutLeaks(async () => {
    const dir = await Deno.makeTempDir();
    const from = fixtureDir("gpt2_tiny");
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
