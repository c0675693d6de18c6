import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { encode, ExtData } from "@msgpack/msgpack";
import { gzipSync, zlibSync } from "fflate";
import * as E from "fp-ts/Either";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { initBackend } from "../backend.ts";
import type { Problem } from "../problem.ts";
import { float16Bits, type HostTensor, toFloat64 } from "../io/host_tensor.ts";
import { readNpy } from "../io/npy.ts";
import { disposeTree, flatten, type ParamTree } from "../tree/tree.ts";
import {
  loadT5x,
  readT5xCheckpoint,
  readZarrArray,
  readZarray,
  t5xSizes,
  t5xSizesFromTree,
  t5xToTree,
  t5xTreePath,
} from "../model/t5x/mod.ts";

await initBackend("wasm");

const DATA = new URL("./data/prompt-tuning/test_data/", import.meta.url);
const CKPT = fileURLToPath(new URL("test_t5_1_1_tiny/checkpoint_3/", DATA));
const EMBEDDINGS = new URL("tiny_embeddings_32128x4.npy", DATA);

// ---- helpers ----

function right<A>(r: E.Either<Problem, A>): A {
  if (E.isLeft(r)) {
    assert.fail(`Expected Right, got ${r.left._tag}: ${r.left.where}: ${r.left.message}`);
  }
  return r.right;
}

function left<A>(r: E.Either<Problem, A>, tag: Problem["_tag"], pattern: RegExp): Problem {
  if (E.isRight(r)) assert.fail(`Expected a ${tag} problem matching ${pattern}, got a value`);
  assert.equal(r.left._tag, tag, `${r.left.where}: ${r.left.message}`);
  assert.match(r.left.message, pattern);
  assert.ok(!r.left.message.includes("\n"), "one line");
  assert.match(r.left.message, /^[A-Z']/, "starts with a capital");
  assert.ok(!r.left.message.endsWith("."), "no final period");
  return r.left;
}

async function withTempDir(f: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "t5x_test_" });
  try {
    await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Copies a directory tree (as fresh, writable files). */
async function copyDir(src: string, dst: string): Promise<void> {
  await Deno.mkdir(dst, { recursive: true });
  for await (const e of Deno.readDir(src)) {
    const s = join(src, e.name);
    const d = join(dst, e.name);
    if (e.isDirectory) await copyDir(s, d);
    else await Deno.writeFile(d, await Deno.readFile(s));
  }
}

/** A flax-encoded array: msgpack extension 1 (or 3 for a scalar) holding (shape, dtype, bytes). */
function ndarray(shape: number[], dtype: string, bytes: Uint8Array, type = 1): ExtData {
  return new ExtData(type, encode([shape, dtype, bytes]));
}

const f32 = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);

async function writeCheckpoint(dir: string, target: unknown, step?: unknown): Promise<void> {
  const state = step === undefined ? {} : { step };
  await Deno.writeFile(
    join(dir, "checkpoint"),
    encode({ version: 3, optimizer: { target, state } }),
  );
}

const ZARRAY_4x4 = {
  zarr_format: 2,
  shape: [4, 4],
  chunks: [4, 4],
  dtype: "<f4",
  compressor: { id: "gzip", level: 1 },
  fill_value: null,
  filters: null,
  order: "C",
};

function spec(path: string, shape: number[]) {
  return {
    driver: "zarr",
    kvstore: { driver: "file", path },
    metadata: { chunks: shape, compressor: { id: "gzip" }, dtype: "<f4", shape },
  };
}

/** The tiny checkpoint's parameters (T5X names) and shapes: T5 1.1, d_model 4, 2 heads of 2. */
function tinyShapes(): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const attention = (p: string) => {
    for (const k of ["query", "key", "value", "out"]) m.set(`${p}/${k}/kernel`, [4, 4]);
  };
  const mlp = (p: string) => {
    m.set(`${p}/wi_0/kernel`, [4, 8]);
    m.set(`${p}/wi_1/kernel`, [4, 8]);
    m.set(`${p}/wo/kernel`, [8, 4]);
  };
  m.set("token_embedder/embedding", [32128, 4]);
  for (const stack of ["encoder", "decoder"]) m.set(`${stack}/relpos_bias/rel_embedding`, [2, 4]);
  m.set("encoder/encoder_norm/scale", [4]);
  m.set("decoder/decoder_norm/scale", [4]);
  m.set("decoder/logits_dense/kernel", [4, 32128]);
  for (const i of [0, 1]) {
    const e = `encoder/layers_${i}`;
    attention(`${e}/attention`);
    mlp(`${e}/mlp`);
    m.set(`${e}/pre_attention_layer_norm/scale`, [4]);
    m.set(`${e}/pre_mlp_layer_norm/scale`, [4]);
    const d = `decoder/layers_${i}`;
    attention(`${d}/self_attention`);
    attention(`${d}/encoder_decoder_attention`);
    mlp(`${d}/mlp`);
    for (const n of ["pre_self_attention", "pre_cross_attention", "pre_mlp"]) {
      m.set(`${d}/${n}_layer_norm/scale`, [4]);
    }
  }
  return m;
}

const TINY_SIZES = {
  vocabSize: 32128,
  dModel: 4,
  dKv: 2,
  dFf: 8,
  numLayers: 2,
  numDecoderLayers: 2,
  numHeads: 2,
  relativeAttentionNumBuckets: 4,
  gated: true,
  tied: false,
};

// ---- the real tiny checkpoint ----

Deno.test("readT5xCheckpoint() lists every parameter of the tiny T5 1.1 checkpoint with its dtype and shape", async () => {
  const ckpt = right(await readT5xCheckpoint(CKPT));
  const want = tinyShapes();
  assert.equal(ckpt.entries.length, want.size);
  for (const e of ckpt.entries) {
    assert.equal(e.dtype, "float32", e.name);
    assert.deepEqual([...e.shape], want.get(e.name), e.name);
  }
  const names = ckpt.entries.map((e) => e.name);
  assert.deepEqual(names, [...names].sort(), "sorted by name");
  assert.ok(!names.some((n) => /param_states|^state|step/.test(n)), "no optimizer state");
  assert.equal(ckpt.step, 3);
  assert.equal(ckpt.version, 3);
  const viaFile = right(await readT5xCheckpoint(join(CKPT, "checkpoint")));
  assert.deepEqual(viaFile.entries, ckpt.entries, "the checkpoint file names its directory");
});

Deno.test("readT5xCheckpoint() reads the embedding (8 gzip chunks, the last one padded) exactly as tiny_embeddings_32128x4.npy", async () => {
  const ckpt = right(await readT5xCheckpoint(CKPT));
  const got = right(await ckpt.read("token_embedder/embedding"));
  const want = right(await readNpy(EMBEDDINGS));
  assert.equal(got.dtype, want.dtype);
  assert.deepEqual([...got.shape], [...want.shape]);
  const a = new Uint8Array(got.data.buffer, got.data.byteOffset, got.data.byteLength);
  const b = new Uint8Array(want.data.buffer, want.data.byteOffset, want.data.byteLength);
  assert.ok(a.length === b.length && a.every((x, i) => x === b[i]), "bit-identical");
});

Deno.test("readT5xCheckpoint() reads inline and zarr parameters as float32 of their listed shape", async () => {
  const ckpt = right(await readT5xCheckpoint(CKPT));
  for (const e of ckpt.entries) {
    const h = right(await ckpt.read(e.name));
    assert.equal(h.dtype, "float32");
    assert.deepEqual([...h.shape], [...e.shape]);
    assert.ok(toFloat64(h).every(Number.isFinite), `${e.name} finite`);
  }
  left(await ckpt.read("encoder/layers_9/mlp/wo/kernel"), "NotFound", /No parameter named/);
});

Deno.test("t5xToTree() builds 2 encoder and 2 decoder layers of float32 tensors with the expected shapes", async () => {
  const before = tf.memory().numTensors;
  const ckpt = right(await readT5xCheckpoint(CKPT));
  const tree = right(await t5xToTree(ckpt));
  try {
    const t = tree as {
      encoder: { layers: ParamTree[] };
      decoder: { layers: ParamTree[] };
      token_embedder: { embedding: tf.Tensor };
    };
    assert.ok(Array.isArray(t.encoder.layers) && t.encoder.layers.length === 2);
    assert.ok(Array.isArray(t.decoder.layers) && t.decoder.layers.length === 2);
    const want = tinyShapes();
    const flat = flatten(tree);
    assert.equal(flat.length, want.size);
    for (const [name, shape] of want) {
      const leaf = flat.find(([p]) => p === t5xTreePath(name));
      assert.ok(leaf, `${t5xTreePath(name)} present`);
      assert.deepEqual(leaf[1].shape, shape, name);
      assert.equal(leaf[1].dtype, "float32", name);
    }
    const npy = right(await readNpy(EMBEDDINGS));
    const got = t.token_embedder.embedding.dataSync();
    let maxDiff = 0;
    (npy.data as Float32Array).forEach((x, i) => maxDiff = Math.max(maxDiff, Math.abs(x - got[i])));
    assert.equal(maxDiff, 0);
    assert.deepEqual(right(t5xSizesFromTree(tree)), TINY_SIZES);
  } finally {
    disposeTree(tree);
  }
  assert.equal(tf.memory().numTensors, before, "no tensor leaks");
});

Deno.test("t5xSizes() infers the tiny checkpoint's sizes from its entries", async () => {
  const ckpt = right(await readT5xCheckpoint(CKPT));
  assert.deepEqual(right(t5xSizes(ckpt.entries)), TINY_SIZES);
});

Deno.test("loadT5x() returns the tree, its sizes and the step in one call", async () => {
  const before = tf.memory().numTensors;
  const r = right(await loadT5x(CKPT));
  assert.equal(r.step, 3);
  assert.deepEqual(r.sizes, TINY_SIZES);
  disposeTree(r.params);
  assert.equal(tf.memory().numTensors, before);
});

// ---- sizes and names, without files ----

function originalT5Entries(): { name: string; shape: number[] }[] {
  // Original T5: one ReLU `wi`, head tied to the embedding; 3 heads of 5 over d_model 6.
  const out: { name: string; shape: number[] }[] = [
    { name: "token_embedder/embedding", shape: [11, 6] },
    { name: "encoder/relpos_bias/rel_embedding", shape: [3, 8] },
    { name: "decoder/relpos_bias/rel_embedding", shape: [3, 8] },
    { name: "encoder/encoder_norm/scale", shape: [6] },
    { name: "decoder/decoder_norm/scale", shape: [6] },
  ];
  const attention = (p: string) => {
    for (const k of ["query", "key", "value"]) {
      out.push({ name: `${p}/${k}/kernel`, shape: [6, 15] });
    }
    out.push({ name: `${p}/out/kernel`, shape: [15, 6] });
  };
  const mlp = (p: string) => {
    out.push({ name: `${p}/wi/kernel`, shape: [6, 7] }, { name: `${p}/wo/kernel`, shape: [7, 6] });
  };
  const e = "encoder/layers_0";
  attention(`${e}/attention`);
  mlp(`${e}/mlp`);
  out.push({ name: `${e}/pre_attention_layer_norm/scale`, shape: [6] });
  out.push({ name: `${e}/pre_mlp_layer_norm/scale`, shape: [6] });
  for (const i of [0, 1, 2]) {
    const d = `decoder/layers_${i}`;
    attention(`${d}/self_attention`);
    attention(`${d}/encoder_decoder_attention`);
    mlp(`${d}/mlp`);
    for (const n of ["pre_self_attention", "pre_cross_attention", "pre_mlp"]) {
      out.push({ name: `${d}/${n}_layer_norm/scale`, shape: [6] });
    }
  }
  return out;
}

Deno.test("t5xSizes() recognises an original T5 (ReLU wi, tied head, d_kv ≠ d_model / heads)", () => {
  assert.deepEqual(right(t5xSizes(originalT5Entries())), {
    vocabSize: 11,
    dModel: 6,
    dKv: 5,
    dFf: 7,
    numLayers: 1,
    numDecoderLayers: 3,
    numHeads: 3,
    relativeAttentionNumBuckets: 8,
    gated: false,
    tied: true,
  });
});

Deno.test("t5xSizes() lists every missing, misshapen, non-float and unexpected parameter in one problem", () => {
  const entries = originalT5Entries()
    .filter((e) => e.name !== "decoder/layers_1/mlp/wo/kernel")
    .map((e) =>
      e.name === "encoder/encoder_norm/scale"
        ? { ...e, shape: [5] }
        : e.name === "decoder/decoder_norm/scale"
        ? { ...e, dtype: "int32" as const }
        : e
    );
  entries.push({ name: "encoder/prompt/prompt", shape: [5, 6] });
  const p = left(t5xSizes(entries), "Mismatch", /missing decoder\/layers_1\/mlp\/wo\/kernel/);
  assert.match(p.message, /encoder\/encoder_norm\/scale is \[5\], expected \[6\]/);
  assert.match(p.message, /decoder_norm\/scale has dtype int32/);
  assert.match(p.message, /unexpected encoder\/prompt\/prompt/);
  const ok = entries.filter((e) => !/norm\/scale|prompt/.test(e.name) || e.name.includes("layers"));
  left(t5xSizes(ok), "Mismatch", /missing .*encoder_norm/);
  left(t5xSizes([]), "Mismatch", /no 2-D token_embedder\/embedding/);
  const allowed = t5xSizes([...originalT5Entries(), { name: "x/y", shape: [1] }], {
    allowUnexpected: true,
  });
  assert.equal(right(allowed).numDecoderLayers, 3);
});

Deno.test("t5xTreePath() maps layers_<i> to layers/<i> and leaves other names alone", () => {
  assert.equal(
    t5xTreePath("encoder/layers_10/attention/out/kernel"),
    "encoder/layers/10/attention/out/kernel",
  );
  assert.equal(t5xTreePath("decoder/logits_dense/kernel"), "decoder/logits_dense/kernel");
  assert.equal(t5xTreePath("encoder/layers_01/x"), "encoder/layers_01/x");
});

// ---- zarr arrays ----

interface ZarrCase {
  label: string;
  dtype: string;
  shape: number[];
  chunks: number[];
  order?: "C" | "F";
  compressor?: "gzip" | "zlib" | null;
  separator?: "." | "/";
  fill?: unknown;
  missing?: number[][];
  value: (i: number) => number;
  want?: (i: number, missing: boolean) => number;
}

const ITEM: Record<string, number> = {
  "<f4": 4,
  ">f8": 8,
  bfloat16: 2,
  "<f2": 2,
  "<i8": 8,
  "|b1": 1,
  "|u1": 1,
  "<i4": 4,
  ">i2": 2,
};

function encodeItem(dtype: string, v: number, out: DataView, at: number): void {
  switch (dtype) {
    case "<f4":
      return out.setFloat32(at, v, true);
    case ">f8":
      return out.setFloat64(at, v, false);
    case "bfloat16":
      return out.setUint16(at, new Uint32Array(new Float32Array([v]).buffer)[0] >>> 16, true);
    case "<f2":
      return out.setUint16(at, float16Bits([v])[0], true);
    case "<i8":
      return out.setBigInt64(at, BigInt(v), true);
    case "|b1":
    case "|u1":
      return out.setUint8(at, v);
    case "<i4":
      return out.setInt32(at, v, true);
    case ">i2":
      return out.setInt16(at, v, false);
  }
  throw new Error(dtype);
}

/** Writes a zarr array as zarr does: full chunks, the padding outside the array set to 0xAB. */
async function writeZarr(dir: string, c: ZarrCase): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const meta = {
    zarr_format: 2,
    shape: c.shape,
    chunks: c.chunks,
    dtype: c.dtype,
    compressor: c.compressor === null ? null : { id: c.compressor ?? "gzip", level: 1 },
    fill_value: c.fill ?? null,
    filters: null,
    order: c.order ?? "C",
    ...(c.separator ? { dimension_separator: c.separator } : {}),
  };
  await Deno.writeTextFile(join(dir, ".zarray"), JSON.stringify(meta));
  const size = ITEM[c.dtype];
  const nd = c.shape.length;
  const grid = c.shape.map((d, k) => Math.ceil(d / c.chunks[k]));
  const chunkItems = c.chunks.reduce((a, b) => a * b, 1);
  const gridCount = c.shape.includes(0) ? 0 : grid.reduce((a, b) => a * b, 1);
  for (let g = 0; g < gridCount; g++) {
    const gi: number[] = [];
    for (let k = nd - 1, r = g; k >= 0; k--) {
      gi[k] = r % grid[k];
      r = Math.floor(r / grid[k]);
    }
    if (c.missing?.some((m) => m.join() === gi.join())) continue;
    const bytes = new Uint8Array(chunkItems * size).fill(0xab);
    const view = new DataView(bytes.buffer);
    for (let j = 0; j < chunkItems; j++) {
      // Local index of storage position j: C order (last axis fastest) or F (first fastest).
      const local: number[] = [];
      let r = j;
      const axes = [...Array(nd).keys()];
      for (const k of c.order === "F" ? axes : axes.reverse()) {
        local[k] = r % c.chunks[k];
        r = Math.floor(r / c.chunks[k]);
      }
      const global = local.map((l, k) => gi[k] * c.chunks[k] + l);
      if (global.some((x, k) => x >= c.shape[k])) continue;
      const flat = global.reduce((acc, x, k) => acc * c.shape[k] + x, 0);
      encodeItem(c.dtype, c.value(flat), view, j * size);
    }
    const data = c.compressor === null
      ? bytes
      : c.compressor === "zlib"
      ? zlibSync(bytes)
      : gzipSync(bytes);
    const key = nd === 0 ? "0" : gi.join(c.separator ?? ".");
    await Deno.mkdir(join(dir, key, ".."), { recursive: true });
    await Deno.writeFile(join(dir, key), data);
  }
}

function isMissing(c: ZarrCase, flat: number): boolean {
  const idx: number[] = [];
  for (let k = c.shape.length - 1, r = flat; k >= 0; k--) {
    idx[k] = r % c.shape[k];
    r = Math.floor(r / c.shape[k]);
  }
  const g = idx.map((x, k) => Math.floor(x / c.chunks[k]));
  return c.missing?.some((m) => m.join() === g.join()) ?? false;
}

function values(h: HostTensor): number[] {
  return h.dtype === "int64" ? [...(h.data as BigInt64Array)].map(Number) : [...toFloat64(h)];
}

const ZARR_CASES: ZarrCase[] = [
  {
    label: "3-D float32, C order, padded edge chunks, a missing chunk filled with 7.5",
    dtype: "<f4",
    shape: [5, 3, 7],
    chunks: [2, 2, 3],
    fill: 7.5,
    missing: [[1, 0, 1]],
    value: (i) => i - 20,
  },
  {
    label: "3-D float32 in Fortran order",
    dtype: "<f4",
    shape: [5, 3, 7],
    chunks: [2, 2, 3],
    order: "F",
    value: (i) => i * 0.5,
  },
  {
    label: "big-endian float64, zlib, nested '/' chunk keys",
    dtype: ">f8",
    shape: [4, 5],
    chunks: [3, 2],
    compressor: "zlib",
    separator: "/",
    value: (i) => i / 3,
  },
  {
    label: "bfloat16, uncompressed",
    dtype: "bfloat16",
    shape: [3, 3],
    chunks: [2, 2],
    compressor: null,
    value: (i) => i - 4,
  },
  {
    label: "float16 with a NaN fill",
    dtype: "<f2",
    shape: [6],
    chunks: [4],
    fill: "NaN",
    missing: [[1]],
    value: (i) => i * 0.25,
  },
  {
    label: "int64 with a negative fill",
    dtype: "<i8",
    shape: [2, 3],
    chunks: [1, 2],
    fill: -3,
    missing: [[1, 1]],
    value: (i) => i * 1000 - 2500,
  },
  { label: "bool", dtype: "|b1", shape: [5], chunks: [2], value: (i) => i % 2 },
  { label: "a 0-d uint8 scalar", dtype: "|u1", shape: [], chunks: [], value: () => 200 },
  { label: "an empty int32 array", dtype: "<i4", shape: [0, 3], chunks: [2, 2], value: (i) => i },
  {
    label: "big-endian int16, null fill: missing chunks read as zero",
    dtype: ">i2",
    shape: [4],
    chunks: [2],
    missing: [[0]],
    value: (i) => -i - 1,
  },
];

Deno.test("readZarrArray() assembles arrays from their chunks", async (t) => {
  for (const c of ZARR_CASES) {
    await t.step(c.label, () =>
      withTempDir(async (dir) => {
        await writeZarr(dir, c);
        const meta = right(await readZarray(dir));
        const h = right(await readZarrArray(dir, meta));
        assert.deepEqual([...h.shape], c.shape);
        const n = c.shape.reduce((a, b) => a * b, 1);
        const fill = c.fill === "NaN" ? NaN : typeof c.fill === "number" ? c.fill : 0;
        const want = Array.from({ length: n }, (_, i) => isMissing(c, i) ? fill : c.value(i));
        assert.deepEqual(values(h), want);
      }));
  }
});

Deno.test("readZarray() refuses malformed, unsupported and oversized metadata", async (t) => {
  const cases: [string, unknown, Problem["_tag"], RegExp][] = [
    ["not JSON", "{not json", "Corrupt", /not valid JSON/],
    ["zarr v3", { ...ZARRAY_4x4, zarr_format: 3 }, "Unsupported", /zarr_format/],
    ["uint32", { ...ZARRAY_4x4, dtype: "<u4" }, "Unsupported", /'dtype' is "<u4"/],
    ["blosc", { ...ZARRAY_4x4, compressor: { id: "blosc" } }, "Unsupported", /compressor/],
    ["filters", { ...ZARRAY_4x4, filters: [{ id: "delta" }] }, "Unsupported", /filters/],
    ["negative shape", { ...ZARRAY_4x4, shape: [-1, 4] }, "Corrupt", /'shape'/],
    ["zero chunk", { ...ZARRAY_4x4, chunks: [0, 4] }, "Corrupt", /'chunks'/],
    ["axes differ", { ...ZARRAY_4x4, chunks: [4] }, "Corrupt", /different numbers of axes/],
    ["bad order", { ...ZARRAY_4x4, order: "K" }, "Corrupt", /'order'/],
    ["bad fill", { ...ZARRAY_4x4, dtype: "<i4", fill_value: 0.5 }, "Corrupt", /fill_value/],
    ["huge", { ...ZARRAY_4x4, shape: [2 ** 20, 2 ** 20] }, "TooLarge", /over the limit/],
    ["many chunks", { ...ZARRAY_4x4, shape: [2 ** 21], chunks: [1] }, "TooLarge", /chunks/],
  ];
  for (const [label, meta, tag, pattern] of cases) {
    await t.step(label, () =>
      withTempDir(async (dir) => {
        await Deno.writeTextFile(
          join(dir, ".zarray"),
          typeof meta === "string" ? meta : JSON.stringify(meta),
        );
        left(await readZarray(dir), tag, pattern);
      }));
  }
  await t.step("over maxMetadataBytes", () =>
    withTempDir(async (dir) => {
      await Deno.writeTextFile(join(dir, ".zarray"), JSON.stringify(ZARRAY_4x4));
      left(await readZarray(dir, { maxMetadataBytes: 10 }), "TooLarge", /over the limit/);
    }));
});

// ---- inline arrays in the msgpack file ----

Deno.test("readT5xCheckpoint() reads flax's inline arrays, scalars and chunked arrays", async () => {
  await withTempDir(async (dir) => {
    const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0xc000]).buffer); // 1, -2
    const target = {
      a: { b: ndarray([2, 2], "float32", f32([1, 2, 3, 4])) },
      c: ndarray([2], "bfloat16", bf16),
      d: ndarray([], "int64", new Uint8Array(new BigInt64Array([-5n]).buffer), 3),
      e: {
        __msgpack_chunked_array__: true,
        shape: { 0: 2, 1: 2 },
        chunks: {
          0: ndarray([3], "float32", f32([5, 6, 7])),
          1: ndarray([1], "float32", f32([8])),
        },
      },
      empty: {},
    };
    await writeCheckpoint(dir, target, ndarray([], "int32", new Uint8Array([41, 0, 0, 0])));
    const ckpt = right(await readT5xCheckpoint(dir));
    assert.equal(ckpt.step, 41);
    assert.deepEqual(
      ckpt.entries.map((e) => [e.name, e.dtype, e.shape.join("x")]),
      [["a/b", "float32", "2x2"], ["c", "bfloat16", "2"], ["d", "int64", ""], [
        "e",
        "float32",
        "2x2",
      ]],
    );
    assert.deepEqual(values(right(await ckpt.read("a/b"))), [1, 2, 3, 4]);
    assert.deepEqual(values(right(await ckpt.read("c"))), [1, -2]);
    assert.deepEqual(values(right(await ckpt.read("d"))), [-5]);
    assert.deepEqual(values(right(await ckpt.read("e"))), [5, 6, 7, 8]);
  });
});

// ---- damaged checkpoints ----

/** Copies the tiny checkpoint to a temporary directory, lets `damage` change it, then opens it. */
async function damaged(
  damage: (dir: string) => Promise<void>,
  options = {},
): Promise<
  { open: Awaited<ReturnType<typeof readT5xCheckpoint>>; dir: string; cleanup: () => Promise<void> }
> {
  const dir = await Deno.makeTempDir({ prefix: "t5x_test_" });
  await copyDir(CKPT, dir);
  await damage(dir);
  return {
    open: await readT5xCheckpoint(dir, options),
    dir,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

const EMB = "target.token_embedder.embedding";
const QUERY = "target.encoder.layers_0.attention.query.kernel";

Deno.test("readT5xCheckpoint() reports a damaged checkpoint as one clear problem when opening", async (t) => {
  const cases: [string, (dir: string) => Promise<void>, Problem["_tag"], RegExp, object?][] = [
    [
      "missing checkpoint file",
      (d) => Deno.remove(join(d, "checkpoint")),
      "NotFound",
      /No 'checkpoint' file/,
    ],
    [
      "truncated msgpack",
      async (d) => {
        const b = await Deno.readFile(join(d, "checkpoint"));
        await Deno.writeFile(join(d, "checkpoint"), b.subarray(0, b.length >> 1));
      },
      "Corrupt",
      /not valid msgpack .*truncated/,
    ],
    [
      "trailing garbage after the msgpack value",
      async (d) => {
        const b = await Deno.readFile(join(d, "checkpoint"));
        await Deno.writeFile(join(d, "checkpoint"), new Uint8Array([...b, 0xc1]));
      },
      "Corrupt",
      /not valid msgpack/,
    ],
    [
      "checkpoint over maxCheckpointBytes",
      () => Promise.resolve(),
      "TooLarge",
      /over the limit/,
      { maxCheckpointBytes: 1000 },
    ],
    [
      "bad .zarray JSON",
      (d) => Deno.writeTextFile(join(d, QUERY, ".zarray"), '{"zarr_format": 2,'),
      "Corrupt",
      /not valid JSON/,
    ],
    [
      "missing zarr array",
      (d) => Deno.remove(join(d, QUERY), { recursive: true }),
      "NotFound",
      /No zarr array .*query/,
    ],
    [
      ".zarray disagreeing with the checkpoint file",
      (d) =>
        Deno.writeTextFile(
          join(d, QUERY, ".zarray"),
          JSON.stringify({ ...ZARRAY_4x4, shape: [4, 5], chunks: [4, 5] }),
        ),
      "Mismatch",
      /Zarr array is float32 \[4,5\]/,
    ],
    [
      "not a T5X train state",
      (d) => Deno.writeFile(join(d, "checkpoint"), encode({ version: 3 })),
      "Corrupt",
      /optimizer\/target/,
    ],
  ];
  for (const [label, damage, tag, pattern, options] of cases) {
    await t.step(label, async () => {
      const { open, cleanup } = await damaged(damage, options);
      try {
        left(open, tag, pattern);
      } finally {
        await cleanup();
      }
    });
  }
});

Deno.test("readT5xCheckpoint() reports damaged chunks as one clear problem when reading", async (t) => {
  const cases: [string, string, (dir: string) => Promise<void>, Problem["_tag"], RegExp][] = [
    [
      "a corrupted gzip chunk",
      "token_embedder/embedding",
      async (d) => {
        const p = join(d, EMB, "3.0");
        const b = await Deno.readFile(p);
        for (let i = 100; i < 400; i++) b[i] ^= 0x5a;
        await Deno.writeFile(p, b);
      },
      "Corrupt",
      /not valid gzip data|CRC-32/,
    ],
    [
      "a flipped byte (only the CRC-32 catches it)",
      "encoder/layers_0/attention/query/kernel",
      async (d) => {
        // A stored (uncompressed) block, so the flipped byte still inflates.
        const raw = new Uint8Array(64).fill(1);
        const gz = gzipSync(raw, { level: 0 });
        gz[gz.length - 8 - 10] ^= 1;
        await Deno.writeFile(join(d, QUERY, "0.0"), gz);
      },
      "Corrupt",
      /CRC-32/,
    ],
    [
      "a truncated gzip chunk",
      "token_embedder/embedding",
      async (d) => {
        const p = join(d, EMB, "0.0");
        const b = await Deno.readFile(p);
        await Deno.writeFile(p, b.subarray(0, b.length - 100));
      },
      "Corrupt",
      /not valid gzip data/,
    ],
    [
      "a chunk that is too small",
      "encoder/layers_0/attention/query/kernel",
      (d) => Deno.writeFile(join(d, QUERY, "0.0"), gzipSync(new Uint8Array(60))),
      "Mismatch",
      /holds 60 bytes; expected exactly 64/,
    ],
    [
      "a chunk that is too large",
      "encoder/layers_0/attention/query/kernel",
      (d) => Deno.writeFile(join(d, QUERY, "0.0"), gzipSync(new Uint8Array(4096))),
      "Mismatch",
      /more than 64 bytes/,
    ],
    [
      "a chunk that is not gzip at all",
      "encoder/layers_0/attention/query/kernel",
      (d) => Deno.writeFile(join(d, QUERY, "0.0"), new Uint8Array(64)),
      "Corrupt",
      /not valid gzip data/,
    ],
    [
      "a chunk file far larger than its chunk",
      "encoder/layers_0/attention/query/kernel",
      (d) => Deno.writeFile(join(d, QUERY, "0.0"), new Uint8Array(1 << 20)),
      "TooLarge",
      /over the limit/,
    ],
  ];
  for (const [label, name, damage, tag, pattern] of cases) {
    await t.step(label, async () => {
      const { open, cleanup } = await damaged(damage);
      try {
        const ckpt = right(open);
        const p = left(await ckpt.read(name), tag, pattern);
        assert.match(p.where, /\.\d$/, "names the chunk file");
      } finally {
        await cleanup();
      }
    });
  }
});

Deno.test("readT5xCheckpoint() refuses names and paths that could leave the checkpoint directory", async (t) => {
  const good = ndarray([1], "float32", f32([1]));
  const cases: [string, unknown, RegExp][] = [
    [
      "a TensorStore path with '../'",
      { w: spec("../evil", [4, 4]) },
      /path "\.\.\/evil" is refused/,
    ],
    ["an absolute TensorStore path", { w: spec("/etc/passwd", [4, 4]) }, /is refused/],
    ["a '..' key", { "..": good }, /Parameter name "\.\." is refused/],
    ["a key with '../'", { encoder: { "../x": good } }, /"encoder\/\.\.\/x" is refused/],
    ["a key with a backslash", { "a\\b": good }, /is refused/],
  ];
  for (const [label, target, pattern] of cases) {
    await t.step(label, () =>
      withTempDir(async (dir) => {
        await writeCheckpoint(dir, target);
        left(await readT5xCheckpoint(dir), "Corrupt", pattern);
      }));
  }
});

Deno.test("readT5xCheckpoint() reports malformed inline values", async (t) => {
  const cases: [string, unknown, Problem["_tag"], RegExp][] = [
    [
      "bytes that do not fit the shape",
      { w: ndarray([3], "float32", f32([1, 2])) },
      "Corrupt",
      /needs 12 bytes but holds 8/,
    ],
    [
      "an unsupported dtype",
      { w: ndarray([1], "uint32", f32([1])) },
      "Unsupported",
      /dtype "uint32"/,
    ],
    ["a complex number", { w: new ExtData(2, encode([1, 2])) }, "Unsupported", /Complex/],
    ["a string leaf", { w: "hello" }, "Corrupt", /'w' is a string/],
    [
      "an unknown extension type",
      { w: new ExtData(7, new Uint8Array(2)) },
      "Corrupt",
      /extension type 7/,
    ],
    ["a timestamp", { w: new Date(0) }, "Corrupt", /'w' is a timestamp/],
    [
      "a non-zarr TensorStore driver",
      { w: { ...spec("target.w", [4, 4]), driver: "n5" } },
      "Unsupported",
      /driver "n5"/,
    ],
    [
      "a chunked array whose pieces do not fill it",
      {
        w: {
          __msgpack_chunked_array__: true,
          shape: { 0: 3 },
          chunks: { 0: ndarray([1], "float32", f32([1])) },
        },
      },
      "Corrupt",
      /needs 12 bytes but its pieces hold 4/,
    ],
  ];
  for (const [label, target, tag, pattern] of cases) {
    await t.step(label, () =>
      withTempDir(async (dir) => {
        await writeCheckpoint(dir, target);
        left(await readT5xCheckpoint(dir), tag, pattern);
      }));
  }
});

Deno.test("t5xToTree() refuses a checkpoint that is not a T5 model and leaks no tensors", async () => {
  const before = tf.memory().numTensors;
  await withTempDir(async (dir) => {
    await writeCheckpoint(dir, {
      token_embedder: { embedding: ndarray([2, 2], "float32", f32([1, 2, 3, 4])) },
    });
    const ckpt = right(await readT5xCheckpoint(dir));
    left(await t5xToTree(ckpt), "Mismatch", /no 2-D encoder\/relpos_bias/);
  });
  // A read that fails midway disposes what was already made.
  const { open, cleanup } = await damaged((d) =>
    Deno.writeFile(
      join(d, "target.encoder.layers_1.mlp.wo.kernel", "0.0"),
      gzipSync(new Uint8Array(3)),
    )
  );
  try {
    left(await t5xToTree(right(open)), "Mismatch", /holds 3 bytes/);
    left(await loadT5x(join(CKPT, "no-such-dir")), "NotFound", /No such directory/);
  } finally {
    await cleanup();
  }
  assert.equal(tf.memory().numTensors, before);
});
