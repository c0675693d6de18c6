import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { initBackend } from "../backend.ts";
import {
  fromArray,
  fromEmbeddedList,
  fromEmbeddedString,
  fromFile,
  fromSampleOfEmbeddings,
  type Initializer,
  randomNormal,
  randomUniform,
} from "../initializers/mod.ts";
import { writeNpy } from "../io/npy.ts";
import { writeNpz } from "../io/npz.ts";
import { writeSafetensors } from "../io/safetensors.ts";
import { hostTensor } from "../io/host_tensor.ts";
import { key, split } from "../random/mod.ts";
import { writePeftAdapter } from "../training/peft.ts";
import type { Tokenizer } from "../tokenizer/tokenizer.ts";

await initBackend("wasm");

const fixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/jax_initializers.json", import.meta.url)),
) as {
  sampled: { seed: number; length: number; population: number; index: number[] }[];
  uniform_flax: { seed: number; shape: number[]; scale: number; bits: number[] }[];
  uniform_symmetric: { seed: number; shape: number[]; scale: number; bits: number[] }[];
};

const H = 3;
/** The original's test table: row i filled with i, so a sampled row names its index. */
const table = (rows: number) => tf.tidy(() => tf.range(0, rows).reshape([rows, 1]).tile([1, H]));

/** A tokenizer over the letters a…j: one id per letter, nothing for other characters. */
const letters: Tokenizer = {
  encode: (t) => [...t].map((c) => c.charCodeAt(0) - 97).filter((i) => i >= 0 && i < 10),
  decode: (ids) => ids.map((i) => String.fromCharCode(97 + i)).join(""),
  vocabSize: 10,
};

const bitsOf = (t: tf.Tensor) => Array.from(new Uint32Array((t.dataSync() as Float32Array).buffer));
const rows = (t: tf.Tensor) => t.arraySync() as number[][];

function leakFree(name: string, body: () => void | Promise<void>) {
  Deno.test(name, async () => {
    const before = tf.memory().numTensors;
    await body();
    assert.equal(tf.memory().numTensors, before, "tensors leaked");
  });
}

function sameKeySameValues(init: Initializer, shape: number[]) {
  const [a, b, c] = [init(key(3), shape), init(key(3), shape), init(key(4), shape)];
  assert.deepEqual(a.shape, shape);
  assert.equal(a.dtype, "float32");
  assert.deepEqual(a.dataSync(), b.dataSync());
  assert.notDeepEqual(a.dataSync(), c.dataSync());
  tf.dispose([a, b, c]);
}

leakFree("randomUniform() draws jax.random.uniform(key, shape, -scale, scale) bit for bit", () => {
  for (const c of fixture.uniform_symmetric) {
    const p = randomUniform(c.scale)(key(c.seed), c.shape);
    assert.deepEqual(bitsOf(p), c.bits);
    p.dispose();
  }
});

leakFree("randomUniform(scale, {range: 'flax'}) equals flax's uniform(scale) bit for bit", () => {
  for (const c of fixture.uniform_flax) {
    const p = randomUniform(c.scale, { range: "flax" })(key(c.seed), c.shape);
    assert.deepEqual(bitsOf(p), c.bits);
    const values = p.dataSync();
    assert.ok(values.every((v) => v >= 0 && v < c.scale));
    p.dispose();
  }
});

leakFree("randomUniform() stays in [-scale, scale) and the same key gives the same values", () => {
  const p = randomUniform(0.5)(key(0), [100, 64]);
  const v = p.dataSync();
  assert.ok(v.every((x) => x >= -0.5 && x < 0.5));
  assert.ok(Math.min(...v) < -0.45 && Math.max(...v) > 0.45);
  p.dispose();
  sameKeySameValues(randomUniform(0.5), [7, 5]);
});

Deno.test("randomUniform() rejects a bad scale, range or shape", () => {
  assert.throws(() => randomUniform(0), /scale must be a finite number > 0, got 0/);
  assert.throws(() => randomUniform(-1), /scale must be a finite number > 0/);
  assert.throws(() => randomUniform(NaN), /scale must be a finite number > 0/);
  assert.throws(
    () => randomUniform(0.5, { range: "wide" as "flax" }),
    /range must be "symmetric" or "flax"/,
  );
  assert.throws(() => randomUniform(0.5)(key(0), [2, -1]), /shape \[2,-1\] is not valid/);
  assert.throws(() => randomUniform(0.5)(key(0), [2.5]), /is not valid/);
});

leakFree("randomNormal() scales a standard normal by stddev", () => {
  const p = randomNormal(0.02)(key(1), [200, 50]);
  const v = Array.from(p.dataSync());
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  assert.ok(Math.abs(mean) < 0.002, `mean ${mean}`);
  assert.ok(Math.abs(std - 0.02) < 0.001, `std ${std}`);
  p.dispose();
  sameKeySameValues(randomNormal(1), [4, 6]);
  assert.throws(() => randomNormal(0), /stddev must be a finite number > 0, got 0/);
});

leakFree("fromSampleOfEmbeddings() draws the rows the original draws for the same key", () => {
  const embeddings = table(5000);
  for (const c of fixture.sampled) {
    const pop = Math.min(c.population, 5000);
    const init = fromSampleOfEmbeddings(embeddings, {
      populationSize: pop,
      onWarning: () => {},
    });
    const p = init(key(c.seed), [c.length, H]);
    assert.deepEqual(rows(p).map((r) => r[0]), c.index, `seed ${c.seed}`);
    p.dispose();
  }
  embeddings.dispose();
});

leakFree("fromSampleOfEmbeddings() samples without replacement from the first rows", () => {
  const embeddings = table(50);
  const p = fromSampleOfEmbeddings(embeddings, { populationSize: 20 })(key(0), [20, H]);
  const drawn = rows(p).map((r) => r[0]);
  assert.equal(new Set(drawn).size, 20);
  assert.ok(drawn.every((i) => i < 20));
  assert.ok(rows(p).every((r) => r.every((x) => x === r[0])));
  p.dispose();
  sameKeySameValues(fromSampleOfEmbeddings(embeddings, { populationSize: 20 }), [5, H]);
  embeddings.dispose();
});

leakFree("fromSampleOfEmbeddings() draws with replacement, warning, when P > population", () => {
  const embeddings = table(50);
  const warnings: string[] = [];
  const init = fromSampleOfEmbeddings(embeddings, {
    populationSize: 4,
    onWarning: (m) => warnings.push(m),
  });
  const p = init(key(0), [30, H]);
  assert.ok(rows(p).every((r) => r[0] < 4));
  assert.match(warnings.join("\n"), /prompt length 30 is larger than the population \(4\)/);
  p.dispose();
  embeddings.dispose();
});

leakFree(
  "fromSampleOfEmbeddings() clamps a population above the vocabulary, with a warning",
  () => {
    const embeddings = table(10);
    const warnings: string[] = [];
    const init = fromSampleOfEmbeddings(embeddings, {
      populationSize: 5000,
      onWarning: (m) => warnings.push(m),
    });
    assert.match(warnings[0], /populationSize 5000 is larger than the vocabulary \(10\); using 10/);
    const p = init(key(2), [10, H]);
    assert.deepEqual(rows(p).map((r) => r[0]).sort((a, b) => a - b), [...Array(10).keys()]);
    p.dispose();
    embeddings.dispose();
  },
);

leakFree(
  "fromSampleOfEmbeddings() rejects a population ≤ 0, a bad table and a width mismatch",
  () => {
    const embeddings = table(10);
    assert.throws(() => fromSampleOfEmbeddings(embeddings, { populationSize: 0 }), /> 0, got 0/);
    assert.throws(() => fromSampleOfEmbeddings(embeddings, { populationSize: -3 }), /> 0, got -3/);
    const flat = tf.zeros([10]);
    assert.throws(() => fromSampleOfEmbeddings(flat), /must be a \[V, H\] table/);
    flat.dispose();
    const init = fromSampleOfEmbeddings(embeddings);
    assert.throws(
      () => init(key(0), [4, 5]),
      /the prompt width 5 does not match the embedding width 3/,
    );
    assert.throws(() => init(key(0), [4]), /expected a prompt shape \[P, H\], got \[4\]/);
    embeddings.dispose();
  },
);

leakFree("fromEmbeddedList() averages sub-token embeddings into one row per text", () => {
  const embeddings = table(10);
  const fallback: Initializer = (_k, shape) => tf.fill([...shape], -1);
  const p = fromEmbeddedList(embeddings, letters, ["ab", "j", "cde"], { fallback })(key(0), [5, H]);
  assert.deepEqual(rows(p).map((r) => r[0]), [0.5, 9, 3, -1, -1]);
  p.dispose();
  embeddings.dispose();
});

leakFree("fromEmbeddedList() aggregates by first, last or sum when asked", () => {
  const embeddings = table(10);
  const fallback: Initializer = (_k, shape) => tf.zeros([...shape]);
  for (const [aggregate, want] of [["first", 2], ["last", 4], ["sum", 9]] as const) {
    const p = fromEmbeddedList(embeddings, letters, ["cde"], { aggregate, fallback })(key(0), [
      1,
      H,
    ]);
    assert.equal(rows(p)[0][0], want, aggregate);
    p.dispose();
  }
  assert.throws(
    () => fromEmbeddedList(embeddings, letters, ["a"], { aggregate: "max" as "sum" }),
    /aggregate must be one of mean, first, last, sum/,
  );
  embeddings.dispose();
});

leakFree("fromEmbeddedList() keeps the fallback's rows for the same key, as the original", () => {
  const embeddings = table(10);
  const fallback = randomUniform(0.5);
  const [k] = split(key(11));
  const full = fallback(k, [4, H]);
  const p = fromEmbeddedList(embeddings, letters, ["a"], { fallback })(k, [4, H]);
  assert.deepEqual(rows(p).slice(1), rows(full).slice(1));
  assert.deepEqual(rows(p)[0], [0, 0, 0]);
  tf.dispose([full, p]);
  sameKeySameValues(fromEmbeddedList(embeddings, letters, ["a", "b"]), [6, H]);
  embeddings.dispose();
});

leakFree("fromEmbeddedList() drops extra texts with a warning and rejects empty texts", () => {
  const embeddings = table(10);
  const warnings: string[] = [];
  const init = fromEmbeddedList(embeddings, letters, ["a", "b", "c"], {
    onWarning: (m) => warnings.push(m),
  });
  const p = init(key(0), [2, H]);
  assert.deepEqual(rows(p).map((r) => r[0]), [0, 1]);
  assert.match(warnings.join(), /3 texts for a prompt of length 2; dropping \["c"\]/);
  p.dispose();
  assert.throws(
    () => fromEmbeddedList(embeddings, letters, ["a", "!!"]),
    /the text "!!" tokenizes to no tokens/,
  );
  const wide: Tokenizer = { ...letters, encode: () => [12] };
  assert.throws(() => fromEmbeddedList(embeddings, wide, ["a"]), /token id 12, outside/);
  embeddings.dispose();
});

leakFree("fromEmbeddedString() puts one row per token and truncates to the prompt length", () => {
  const embeddings = table(10);
  const fallback: Initializer = (_k, shape) => tf.fill([...shape], -1);
  const p = fromEmbeddedString(embeddings, letters, "cab", { fallback })(key(0), [5, H]);
  assert.deepEqual(rows(p).map((r) => r[0]), [2, 0, 1, -1, -1]);
  p.dispose();
  const warnings: string[] = [];
  const q = fromEmbeddedString(embeddings, letters, "abcdef", {
    fallback,
    onWarning: (m) => warnings.push(m),
  })(key(0), [2, H]);
  assert.deepEqual(rows(q).map((r) => r[0]), [0, 1]);
  assert.match(warnings.join(), /6 tokens for a prompt of length 2/);
  q.dispose();
  assert.throws(() => fromEmbeddedString(embeddings, letters, ""), /tokenizes to no tokens/);
  sameKeySameValues(fromEmbeddedString(embeddings, letters, "ab"), [5, H]);
  embeddings.dispose();
});

leakFree("fromArray() returns the array whatever the key and checks the shape", () => {
  const src = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  const init = fromArray(src);
  src.dispose(); // values were copied
  const a = init(key(0), [2, 3]), b = init(key(9), [2, 3]);
  assert.deepEqual(rows(a), [[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(a.dataSync(), b.dataSync());
  tf.dispose([a, b]);
  assert.throws(
    () => init(key(0), [3, 2]),
    /the array has shape \[2, 3\] but the prompt is \[3, 2\]/,
  );
  const ints = tf.tensor1d([1], "int32");
  assert.throws(() => fromArray(ints), /expected a float32 tensor, got int32/);
  ints.dispose();
  const f64 = fromArray(hostTensor("float64", [1, 2], new Float64Array([0.5, -2])));
  const c = f64(key(0), [1, 2]);
  assert.deepEqual(rows(c), [[0.5, -2]]);
  c.dispose();
});

leakFree("fromFile() reads .npy, .npz, .safetensors and PEFT adapter directories", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const h = hostTensor("float32", [2, 3], new Float32Array([1, 2, 3, 4, 5, 6]));
    const other = hostTensor("float32", [1], new Float32Array([7]));
    await writeNpy(`${dir}/p.npy`, h);
    await writeNpz(`${dir}/p.npz`, new Map([["prompt", h], ["other", other]]));
    await writeSafetensors(`${dir}/p.safetensors`, new Map([["x", h], ["y", other]]));
    const peft = { tokenDim: 3, numLayers: 1, numAttentionHeads: 1 };
    await writePeftAdapter(`${dir}/adapter`, h, { taskType: "CAUSAL_LM", ...peft });
    for (const [path, name] of [["p.npy"], ["p.npz"], ["p.safetensors", "x"], ["adapter"]]) {
      const init = await fromFile(`${dir}/${path}`, { name });
      assert.ok(E.isRight(init), `${path}: ${JSON.stringify(init)}`);
      const p = init.right(key(0), [2, 3]);
      assert.deepEqual(rows(p), [[1, 2, 3], [4, 5, 6]], path);
      p.dispose();
      assert.throws(
        () => init.right(key(0), [3, 2]),
        /has shape \[2, 3\] but the prompt is \[3, 2\]/,
      );
    }
    // A seq2seq PEFT adapter keeps [2P, H]; the encoder's prompt is the first P rows.
    await writePeftAdapter(`${dir}/seq2seq`, h, {
      taskType: "SEQ_2_SEQ_LM",
      seq2seqLayout: "peft",
      ...peft,
    });
    const seq2seq = await fromFile(`${dir}/seq2seq`);
    assert.ok(E.isRight(seq2seq), JSON.stringify(seq2seq));
    const p = seq2seq.right(key(0), [2, 3]);
    assert.deepEqual(rows(p), [[1, 2, 3], [4, 5, 6]]);
    p.dispose();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fromFile() reports a missing file, a missing name and a non-float array", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = await fromFile(`${dir}/nope.npy`);
    assert.ok(E.isLeft(missing) && missing.left._tag === "NotFound");
    const h = hostTensor("float32", [1], new Float32Array([1]));
    await writeSafetensors(`${dir}/two.safetensors`, new Map([["a", h], ["b", h]]));
    const unnamed = await fromFile(`${dir}/two.safetensors`);
    assert.ok(E.isLeft(unnamed));
    assert.match(
      unnamed.left.message,
      /Several tensors and none chosen; pass a name, one of: a, b/,
    );
    const wrong = await fromFile(`${dir}/two.safetensors`, { name: "c" });
    assert.ok(E.isLeft(wrong) && /No tensor named "c"/.test(wrong.left.message));
    await writeNpy(`${dir}/ints.npy`, hostTensor("int32", [2], new Int32Array([1, 2])));
    const ints = await fromFile(`${dir}/ints.npy`);
    assert.ok(
      E.isLeft(ints) && /dtype int32; expected a floating-point type/.test(ints.left.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

leakFree("fromFile() loads the released SST-2 prompt as a [100, 768] initializer", async () => {
  const path = new URL(
    "./data/prompt-tuning/pretrained_prompts/t5_1_1_lm100k_base/sst2.npy",
    import.meta.url,
  ).pathname;
  const init = await fromFile(path);
  assert.ok(E.isRight(init), "tests/data/ holds the released prompts");
  const p = init.right(key(0), [100, 768]);
  assert.deepEqual(p.shape, [100, 768]);
  p.dispose();
});
