import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { initBackend } from "../backend.ts";
import { openTensorFile, parseSafetensors, writeSafetensors } from "../io/mod.ts";
import {
  checkT5Params,
  loadT5FromHuggingFace,
  makeT5Params,
  parseT5Config,
  relativePositionBucket,
  shiftRight,
  t5Apply,
  t5Embed,
  t5HuggingFaceNames,
  t5ParamShapes,
} from "../model/t5/mod.ts";
import { crossAttendFolded, foldCrossAttention } from "../model/t5/cross_attention.ts";
import { attention, dense, mergeHeads, paddingBias, splitHeads } from "../model/layers.ts";
import { hashUniform } from "../perf/t5_small.ts";
import type { Problem } from "../problem.ts";
import { disposeTree, flatten } from "../tree/tree.ts";
import { ref } from "./model_helpers.ts";
import {
  checkCachedDecoding,
  checkEncoderStates,
  checkLogits,
  checkPromptLogits,
  type Fixture,
  fixtureDir,
  FIXTURES,
  load,
  open,
  readConfig,
  refs,
  right,
  withNoLeaks,
} from "./t5_parity.ts";

await initBackend("wasm");

// ---- helpers (the parity checks are shared with tests_webgpu/: t5_parity.ts) ----

function left<A>(r: E.Either<Problem, A>, tag: Problem["_tag"]): Problem {
  if (E.isRight(r)) assert.fail(`Expected a ${tag} problem, got a value`);
  assert.equal(r.left._tag, tag, r.left.message);
  assert.match(r.left.message, /^[A-Z]/, "a problem message starts with a capital");
  assert.doesNotMatch(r.left.message, /[.\n]$/, "and ends without a period");
  return r.left;
}

async function copyFixture(name: Fixture): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "t5_" });
  for (const f of ["config.json", "model.safetensors", "generation_config.json"]) {
    await Deno.copyFile(`${fixtureDir(name)}/${f}`, `${dir}/${f}`);
  }
  return dir;
}

// ---- config ----

Deno.test("parseT5Config() reads each fixture as transformers does", async () => {
  const original = right(parseT5Config(await readConfig(fixtureDir("original")), "original"));
  assert.equal(original.denseActFn, "relu");
  assert.equal(original.isGatedAct, false);
  assert.equal(original.tieWordEmbeddings, true);
  assert.equal(original.scaleDecoderOutputs, true);
  const v11 = right(parseT5Config(await readConfig(fixtureDir("v1_1")), "v1_1"));
  assert.equal(v11.denseActFn, "gelu_new");
  assert.equal(v11.isGatedAct, true);
  assert.equal(v11.tieWordEmbeddings, false);
  assert.equal(v11.scaleDecoderOutputs, false);
  const odd = right(parseT5Config(await readConfig(fixtureDir("odd")), "odd"));
  assert.deepEqual(
    [odd.dModel, odd.dKv, odd.numHeads, odd.numLayers, odd.numDecoderLayers],
    [24, 10, 3, 3, 2],
  );
  assert.deepEqual([odd.relativeAttentionNumBuckets, odd.relativeAttentionMaxDistance], [10, 12]);
  assert.equal(odd.denseActFn, "silu");
  assert.equal(odd.layerNormEpsilon, 1e-5);
  assert.equal(odd.scaleDecoderOutputs, false, "an explicit scale_decoder_outputs wins");
});

Deno.test("parseT5Config() derives the activation and the head scale as transformers does", () => {
  const c = (json: Record<string, unknown>) => right(parseT5Config(json, "config.json"));
  assert.equal(c({}).dModel, 512, "missing fields take T5Config's defaults");
  assert.equal(c({ num_layers: 3 }).numDecoderLayers, 3);
  assert.equal(c({ feed_forward_proj: "gelu" }).denseActFn, "gelu");
  assert.equal(c({ feed_forward_proj: "gated-gelu" }).denseActFn, "gelu_new");
  assert.equal(c({ feed_forward_proj: "gated-silu" }).isGatedAct, true);
  assert.equal(c({ feed_forward_proj: "gated-gelu", dense_act_fn: "relu" }).denseActFn, "relu");
  assert.equal(c({ tie_word_embeddings: false }).scaleDecoderOutputs, false);
  assert.equal(c({ pad_token_id: 3, vocab_size: 10 }).decoderStartTokenId, 3);
  assert.deepEqual(c({ eos_token_id: [1, 2] }).eosTokenIds, [1, 2]);
});

Deno.test("parseT5Config() lists every invalid field in one problem", () => {
  const p = left(
    parseT5Config(
      {
        model_type: "gpt2",
        d_model: 0,
        num_heads: "8",
        feed_forward_proj: "fancy-gelu",
        relative_attention_num_buckets: 32,
        relative_attention_max_distance: 10,
        layer_norm_epsilon: -1,
        eos_token_id: [],
      },
      "dir/config.json",
    ),
    "Invalid",
  );
  assert.equal(p.where, "dir/config.json");
  for (
    const field of [
      "model_type",
      "d_model",
      "num_heads",
      "feed_forward_proj",
      "relative_attention_max_distance",
      "layer_norm_epsilon",
      "eos_token_id",
    ]
  ) {
    assert.match(p.message, new RegExp(`${field} is`), field);
  }
  assert.match(p.message, /^Invalid T5 config \(7 problems\)/);
  left(parseT5Config([1, 2], "config.json"), "Invalid");
});

Deno.test("t5ParamShapes() and t5HuggingFaceNames() cover the T5X layout", () => {
  const c = right(
    parseT5Config(
      { num_layers: 2, num_decoder_layers: 1, num_heads: 3, d_kv: 10, d_model: 24 },
      "c",
    ),
  );
  const shapes = t5ParamShapes(c);
  assert.deepEqual(shapes.get("encoder/layers/1/attention/out/kernel"), [30, 24]);
  assert.deepEqual(shapes.get("decoder/layers/0/encoder_decoder_attention/query/kernel"), [24, 30]);
  assert.deepEqual(shapes.get("decoder/relpos_bias/rel_embedding"), [3, 32]);
  assert.ok(shapes.has("encoder/layers/1/mlp/wi/kernel"));
  assert.ok(!shapes.has("decoder/layers/1/mlp/wi/kernel"));
  assert.ok(!shapes.has("decoder/logits_dense/kernel"), "tied by default");
  const names = t5HuggingFaceNames(c);
  assert.equal(names.size, shapes.size);
  assert.equal(
    names.get("decoder/layers/0/pre_cross_attention_layer_norm/scale"),
    "decoder.block.0.layer.1.layer_norm.weight",
  );
  assert.equal(
    names.get("encoder/relpos_bias/rel_embedding"),
    "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
  );
});

// ---- parity with transformers ----

for (const name of FIXTURES) {
  Deno.test(`relativePositionBucket() puts every distance in transformers' bucket (t5_${name})`, async () => {
    const r = await refs(name);
    const { relativeAttentionNumBuckets: nb, relativeAttentionMaxDistance: md } = right(
      parseT5Config(await readConfig(fixtureDir(name)), name),
    );
    for (
      const [key, bidirectional] of [["buckets_bidirectional", true], [
        "buckets_causal",
        false,
      ]] as const
    ) {
      const want = r.get(key)!.data as Int32Array;
      const got = Int32Array.from(
        { length: want.length },
        (_, i) => relativePositionBucket(i - 300, bidirectional, nb, md),
      );
      assert.deepEqual(got, want, key);
    }
  });

  Deno.test(`t5Encode() matches transformers' encoder states on a padded batch (t5_${name})`, () =>
    checkEncoderStates(name));
  Deno.test(`t5Apply() matches transformers' logits with and without a decoder mask (t5_${name})`, () =>
    checkLogits(name));
  Deno.test(`t5Apply() with inputs_embeds carrying a prompt matches transformers (t5_${name})`, () =>
    checkPromptLogits(name));
  Deno.test(`t5Decode() with a cache matches transformers' cached greedy decoding (t5_${name})`, () =>
    checkCachedDecoding(name));
}

Deno.test("t5Apply() is differentiable with respect to a prompt in inputsEmbeds", async () => {
  await withNoLeaks(async () => {
    const { config, params } = await load("v1_1");
    const r = await refs("v1_1");
    const [ids, mask, decIds, prompt] = ["enc_ids", "enc_mask", "dec_ids", "prompt"].map((k) =>
      ref(r, k)
    );
    const [b] = ids.shape as [number, number];
    const [p, h] = prompt.shape as [number, number];
    const embedded = t5Embed(params, ids); // [B, T, H]
    const fullMask = tf.tidy(() => tf.concat([tf.ones([b, p], "int32"), mask], 1)); // [B, P + T]
    const loss = (x: tf.Tensor) =>
      tf.tidy(() => {
        const rows = tf.broadcastTo(x.reshape([1, p, h]), [b, p, h]); // [B, P, H]
        const inputsEmbeds = tf.concat([rows, embedded], 1); // [B, P + T, H]
        const logits = t5Apply(params, config, {
          inputsEmbeds,
          attentionMask: fullMask,
          decoderInputIds: decIds,
        });
        return tf.mean(tf.square(logits)) as tf.Scalar;
      });
    const grad = tf.grad(loss)(prompt); // [P, H]
    assert.deepEqual(grad.shape, [p, h]);
    // A central difference along the gradient agrees with its squared norm.
    const eps = 1e-2;
    const [norm2, fd] = tf.tidy(() => {
      const u = tf.div(grad, tf.norm(grad));
      const plus = loss(tf.add(prompt, tf.mul(u, eps)));
      const minus = loss(tf.sub(prompt, tf.mul(u, eps)));
      return [tf.norm(grad).dataSync()[0], tf.div(tf.sub(plus, minus), 2 * eps).dataSync()[0]];
    });
    assert.ok(norm2 > 0);
    assert.ok(Math.abs(fd - norm2) / norm2 < 0.05, `directional derivative ${fd} vs ${norm2}`);
    tf.dispose([ids, mask, decIds, prompt, embedded, fullMask, grad]);
    disposeTree(params);
  });
});

Deno.test("shiftRight() matches transformers' _shift_right, -100 becoming padding", async () => {
  await withNoLeaks(async () => {
    const r = await refs("v1_1");
    const [labels, want] = ["labels", "dec_ids"].map((k) => ref(r, k));
    const got = shiftRight(labels, 0, 0);
    assert.deepEqual(got.arraySync(), want.arraySync());
    tf.dispose([labels, want, got]);
  });
});

// ---- loading ----

Deno.test("loadT5FromHuggingFace() keeps the head tied or untied as transformers does", async () => {
  await withNoLeaks(async () => {
    const original = await load("original"); // tied, with legacy embed_tokens copies, float16
    assert.ok(!("logits_dense" in original.params.decoder));
    const v11 = await load("v1_1"); // untied config
    assert.ok("logits_dense" in v11.params.decoder);
    const odd = await load("odd"); // tied config, but lm_head differs: transformers unties
    assert.ok("logits_dense" in odd.params.decoder);
    for (const { params } of [original, v11, odd]) {
      assert.ok(flatten(params).every(([, t]) => t.dtype === "float32"), "float32 after upcast");
    }
    assert.deepEqual(
      odd.params.encoder.relpos_bias.rel_embedding.shape,
      [3, 10],
      "[heads, buckets]",
    );
    assert.ok(E.isRight(checkT5Params(odd.params, odd.config, "odd")));
    [original, v11, odd].forEach(({ params }) => disposeTree(params));
  });
});

Deno.test("a truncated model.safetensors gives a Truncated problem", async () => {
  await withNoLeaks(async () => {
    const dir = await copyFixture("v1_1");
    const path = `${dir}/model.safetensors`;
    const bytes = await Deno.readFile(path);
    await Deno.writeFile(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const p = left(await openTensorFile(path), "Truncated");
    assert.match(p.message, /holds only \d+ data bytes/);
    await Deno.remove(dir, { recursive: true });
  });
});

Deno.test("loadT5FromHuggingFace() reports a file cut after it was opened, leaking nothing", async () => {
  await withNoLeaks(async () => {
    const dir = await copyFixture("v1_1");
    const path = `${dir}/model.safetensors`;
    const source = await open(path);
    const bytes = await Deno.readFile(path);
    await Deno.writeFile(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const p = left(await loadT5FromHuggingFace(dir, await readConfig(dir), source), "Truncated");
    assert.match(p.where, /#/, "the problem names the tensor");
    source.close();
    await Deno.remove(dir, { recursive: true });
  });
});

Deno.test("loadT5FromHuggingFace() lists every shape that disagrees with the config", async () => {
  await withNoLeaks(async () => {
    const dir = fixtureDir("v1_1");
    const json = { ...(await readConfig(dir)), d_ff: 64, num_decoder_layers: 1 };
    const source = await open(`${dir}/model.safetensors`);
    const p = left(await loadT5FromHuggingFace(dir, json, source), "Mismatch");
    source.close();
    assert.equal(p.where, dir);
    assert.match(p.message, /^Checkpoint tensors do not fit the T5 config: /);
    assert.match(
      p.message,
      /9 with the wrong shape: encoder\.block\.0\.layer\.1\.DenseReluDense\.wi_0\.weight is \[48, 32\], expected \[64, 32\], /,
    );
    assert.match(p.message, /14 unexpected: decoder\.block\.1\./);
    assert.match(p.message, /\(14 in all\).*\(9 in all\)$/, "long lists are cut");
    assert.doesNotMatch(p.message, /\n/);
  });
});

Deno.test("loadT5FromHuggingFace() lists missing and unexpected tensors together", async () => {
  await withNoLeaks(async () => {
    const src = fixtureDir("original");
    const contents = right(
      parseSafetensors(await Deno.readFile(`${src}/model.safetensors`), "model.safetensors"),
    );
    const tensors = new Map(contents.tensors);
    tensors.delete("decoder.final_layer_norm.weight");
    tensors.delete("encoder.block.1.layer.0.SelfAttention.k.weight");
    tensors.set("encoder.block.7.layer.0.layer_norm.weight", tensors.get("shared.weight")!);
    const dir = await Deno.makeTempDir({ prefix: "t5_" });
    await writeSafetensors(`${dir}/model.safetensors`, tensors);
    const source = await open(`${dir}/model.safetensors`);
    const p = left(await loadT5FromHuggingFace(dir, await readConfig(src), source), "Mismatch");
    source.close();
    assert.match(
      p.message,
      /2 missing: encoder\.block\.1\.layer\.0\.SelfAttention\.k\.weight, decoder\.final_layer_norm\.weight; 1 unexpected: encoder\.block\.7\.layer\.0\.layer_norm\.weight$/,
    );
    await Deno.remove(dir, { recursive: true });
  });
});

Deno.test("loadT5FromHuggingFace() requires lm_head.weight when the config says untied", async () => {
  await withNoLeaks(async () => {
    const dir = fixtureDir("original");
    const json = { ...(await readConfig(dir)), tie_word_embeddings: false };
    const source = await open(`${dir}/model.safetensors`);
    const p = left(await loadT5FromHuggingFace(dir, json, source), "Mismatch");
    source.close();
    assert.match(p.message, /1 missing: lm_head\.weight/);
  });
});

Deno.test("loadT5FromHuggingFace() reports an invalid config before reading weights", async () => {
  const dir = fixtureDir("original");
  const source = await open(`${dir}/model.safetensors`);
  const p = left(await loadT5FromHuggingFace(dir, { d_model: -1 }, source), "Invalid");
  source.close();
  assert.match(p.where, /config\.json$/);
});

Deno.test("checkT5Params() accepts a built tree and lists what a wrong one lacks", async () => {
  await withNoLeaks(() => {
    const c = right(
      parseT5Config(
        { vocab_size: 10, d_model: 4, d_kv: 2, d_ff: 8, num_layers: 1, num_heads: 2 },
        "c",
      ),
    );
    const params = makeT5Params(c, (_, shape) => tf.zeros(shape));
    assert.ok(E.isRight(checkT5Params(params, c, "tree")));
    const other = right(
      parseT5Config(
        { vocab_size: 10, d_model: 4, d_kv: 2, d_ff: 8, num_layers: 2, num_heads: 2 },
        "c",
      ),
    );
    const p = left(checkT5Params(params, other, "tree"), "Mismatch");
    assert.match(
      p.message,
      /^Parameters do not fit the T5 config: 21 missing: encoder\/layers\/1\//,
    );
    disposeTree(params);
    return Promise.resolve();
  });
});

Deno.test("T5 cross-attention folded into the queries equals attending to projected keys and values, with gradients", () => {
  const [b, n, s, d, t, h] = [2, 3, 4, 5, 11, 8];
  const uniform = (shape: number[], seed: number) =>
    tf.tensor(hashUniform(shape.reduce((x, y) => x * y), seed, 1), shape);
  const q = uniform([b, n, s, d], 1), encoder = uniform([b, t, h], 2);
  const attn = {
    key: { kernel: uniform([h, n * d], 3) },
    value: { kernel: uniform([h, n * d], 4) },
    out: { kernel: uniform([n * d, h], 5) },
  };
  const mask = tf.tensor2d(
    Array.from({ length: b * t }, (_, i) => (i % t < t - 2 || i < t ? 1 : 0)),
    [b, t],
    "int32",
  );
  const bias = tf.tidy(() => paddingBias(mask));
  const before = tf.memory().numTensors;
  const projected = (q: tf.Tensor, e: tf.Tensor) => {
    const [k, v] = [attn.key, attn.value].map((w) => splitHeads(dense(e, w.kernel), n));
    const o = attention(q, k, v, { scale: 1, bias }); // [B, N, S, D]
    return tf.sum(tf.square(dense(mergeHeads(o), attn.out.kernel)));
  };
  const folded = (q: tf.Tensor, e: tf.Tensor) =>
    tf.sum(tf.square(crossAttendFolded(q, e, attn, bias)));
  const want = tf.valueAndGrads(projected)([q, encoder]);
  const got = tf.valueAndGrads(folded)([q, encoder]);
  const close = (x: tf.Tensor, y: tf.Tensor) => {
    const [a, c] = [x.dataSync(), y.dataSync()];
    const scale = Math.max(...Array.from(c, Math.abs));
    a.forEach((v, i) => assert.ok(Math.abs(v - c[i]) <= 1e-5 * scale, `${v} vs ${c[i]} at ${i}`));
  };
  close(got.value, want.value);
  got.grads.forEach((g, i) => close(g, want.grads[i]));
  tf.dispose([got.value, ...got.grads, want.value, ...want.grads]);
  assert.equal(tf.memory().numTensors, before);
  assert.ok(foldCrossAttention(4, 148, 64), "4 targets over 148 encoder positions fold");
  assert.ok(!foldCrossAttention(64, 148, 64), "64 decoded positions do not");
  tf.dispose([q, encoder, mask, bias, ...Object.values(attn).map((k) => k.kernel)]);
});
