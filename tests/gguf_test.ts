import assert from "node:assert/strict";
import * as E from "fp-ts/Either";
import { GGUF_LIMITS, GGUF_TENSOR_TYPES, openGguf, readGgufMetadata } from "../io/gguf.ts";
import { openSafetensors } from "../io/safetensors.ts";
import { describeProblem, orThrow, type Problem } from "../problem.ts";
import { loadModel } from "../model/load.ts";
import { disposeTree, flatten } from "../tree/tree.ts";
import { inspectFile } from "../cli/inspect.ts";
import { initBackend } from "../backend.ts";

await initBackend("wasm");

const fixture = (name: string) => new URL(`./fixtures/gguf/${name}`, import.meta.url).pathname;

// ---- a GGUF writer for lying files: every field can be set to anything ----

const enc = new TextEncoder();

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}
function u64(n: number | bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}
function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
/** A GGUF string: its length (or a lie) and its bytes. */
const str = (s: string | Uint8Array, length?: number | bigint) => {
  const bytes = typeof s === "string" ? enc.encode(s) : s;
  return cat(u64(length ?? bytes.length), bytes);
};
/** A key-value pair with a value of type `type` already encoded. */
const kv = (key: string, type: number, value: Uint8Array) => cat(str(key), u32(type), value);
const kvU32 = (key: string, v: number) => kv(key, 4, u32(v));

interface Tensor {
  name: string;
  dims: (number | bigint)[];
  type?: number;
  offset?: number | bigint;
  nDims?: number;
}

interface Spec {
  magic?: string;
  version?: Uint8Array;
  tensorCount?: number | bigint;
  kvCount?: number | bigint;
  kvs?: Uint8Array[];
  tensors?: Tensor[];
  alignment?: number;
  data?: number; // bytes of tensor data
}

/** A GGUF file; tensors default to F32, offsets to back to back (aligned). */
function gguf(spec: Spec = {}): Uint8Array {
  const kvs = spec.kvs ?? [kv("general.architecture", 8, str("test"))];
  const tensors = spec.tensors ?? [{ name: "w", dims: [4, 2] }];
  const align = spec.alignment ?? 32;
  let next = 0;
  const infos = tensors.map((t) => {
    const size = t.dims.reduce((a: number, d) => a * Number(d), 4);
    const offset = t.offset ?? next;
    next = Math.ceil((next + size) / align) * align;
    return cat(
      str(t.name),
      u32(t.nDims ?? t.dims.length),
      ...t.dims.map((d) => u64(d)),
      u32(t.type ?? 0),
      u64(offset),
    );
  });
  const head = cat(
    enc.encode(spec.magic ?? "GGUF"),
    spec.version ?? u32(3),
    u64(spec.tensorCount ?? tensors.length),
    u64(spec.kvCount ?? kvs.length),
    ...kvs,
    ...infos,
  );
  const padded = Math.ceil(head.length / align) * align;
  const out = new Uint8Array(padded + (spec.data ?? next));
  out.set(head);
  return out;
}

async function withFile<A>(bytes: Uint8Array, f: (path: string) => Promise<A>): Promise<A> {
  const path = await Deno.makeTempFile({ suffix: ".gguf" });
  try {
    await Deno.writeFile(path, bytes);
    return await f(path);
  } finally {
    await Deno.remove(path);
  }
}

/** Opens the bytes and expects a one-line problem of `tag` whose message matches `pattern`. */
async function refused(bytes: Uint8Array, tag: Problem["_tag"], pattern: RegExp): Promise<void> {
  await withFile(bytes, async (path) => {
    const r = await openGguf(path);
    if (E.isRight(r)) r.right.close();
    assert(E.isLeft(r), `expected a problem matching ${pattern}`);
    const line = describeProblem(r.left);
    assert.equal(r.left._tag, tag, line);
    assert.match(r.left.message, pattern);
    assert(line.startsWith(`${path}: `), line);
    assert(!line.includes("\n"), line);
  });
}

// ---- reference values ----

Deno.test("openGguf() dequantizes every supported type exactly as gguf-py does", async () => {
  const file = orThrow(await openGguf(fixture("types.gguf")));
  const expected = orThrow(await openSafetensors(fixture("types_expected.safetensors")));
  try {
    const types = new Set<string>();
    for (const e of expected.entries) {
      const info = file.tensors.find((t) => t.name === e.name)!;
      types.add(info.type);
      const got = orThrow(await file.read(e.name));
      const want = orThrow(await expected.read(e.name));
      assert.equal(got.dtype, "float32");
      assert.deepEqual(got.shape, want.shape, e.name);
      assert.deepEqual(info.dims, [...want.shape].reverse(), `${e.name}: ne is the shape reversed`);
      // Bit for bit: compare the float32 patterns.
      const bits = (d: ArrayLike<number>) => [...new Uint32Array(new Float32Array(d).buffer)];
      assert.deepEqual(bits(got.data as Float32Array), bits(want.data as Float32Array), e.name);
    }
    assert.deepEqual([...types].sort(), [...GGUF_TENSOR_TYPES].sort());
  } finally {
    file.close();
    expected.close();
  }
});

Deno.test("openGguf() lists tensors as float32 entries with row-major shapes", async () => {
  const file = orThrow(await openGguf(fixture("types.gguf")));
  try {
    const f32 = file.entries.find((e) => e.name === "f32")!;
    assert.deepEqual(f32, { name: "f32", dtype: "float32", shape: [2, 3, 4, 8] });
    const info = file.tensors.find((t) => t.name === "q4_k")!;
    assert.deepEqual([info.type, info.dims, info.byteLength], ["Q4_K", [256, 2], 2 * 144]);
    assert.equal(info.offset % 32, 0);
  } finally {
    file.close();
  }
});

Deno.test("reading a tensor of an unsupported type names the tensor and the type", async () => {
  const file = orThrow(await openGguf(fixture("types.gguf")));
  try {
    const r = await file.read("i32");
    assert(E.isLeft(r));
    assert.equal(r.left._tag, "Unsupported");
    assert(r.left.where.endsWith("types.gguf#i32"));
    assert.match(r.left.message, /^Tensor type I32 is not supported; expected one of F32, /);
    const missing = await file.read("nope");
    assert(E.isLeft(missing) && missing.left._tag === "NotFound");
  } finally {
    file.close();
  }
  const closed = orThrow(await openGguf(fixture("types.gguf")));
  closed.close();
  const r = await closed.read("f32");
  assert(E.isLeft(r) && r.left._tag === "Io");
});

Deno.test("readGgufMetadata() reads every value type", async () => {
  const m = orThrow(await readGgufMetadata(fixture("types.gguf")));
  const expected: [string, unknown][] = [
    ["general.architecture", "fixture"],
    ["test.u8", 200],
    ["test.i8", -100],
    ["test.u16", 60000],
    ["test.i16", -30000],
    ["test.u32", 4000000000],
    ["test.i32", -2000000000],
    ["test.f32", Math.fround(0.1)],
    ["test.bool", true],
    ["test.string", "héllo ✓"],
    ["test.u64", 2 ** 53 - 1],
    ["test.u64_big", 2n ** 64n - 1n],
    ["test.i64", -(2 ** 53) + 1],
    ["test.i64_big", -(2n ** 63n)],
    ["test.f64", 1 / 3],
    ["test.strings", ["a", "", "ü"]],
    ["test.ints", [1, -2, 3]],
    ["test.floats", [0.5, -1.25]],
    ["test.bools", [true, false]],
    ["test.nested", [[1, 2], [3]]],
    ["test.deep", [[["x"]], [["y", "z"]]]],
    ["test.u8s", [1, 2, 255]],
  ];
  for (const [key, value] of expected) assert.deepEqual(m.get(key), value, key);
  assert.equal(typeof m.get("test.u64"), "number");
  assert.equal(typeof m.get("test.u64_big"), "bigint");
});

Deno.test("openGguf() follows general.alignment", async () => {
  const file = orThrow(await openGguf(fixture("aligned64.gguf")));
  try {
    assert.equal(file.alignment, 64);
    assert(file.tensors.every((t) => t.offset % 64 === 0));
    const b = orThrow(await file.read("b"));
    assert.deepEqual([...b.data as Float32Array], [0, 1, 2, 3, 4]);
    assert.deepEqual(b.shape, [5, 1]);
  } finally {
    file.close();
  }
});

// ---- untrusted input ----

Deno.test("the test writer makes a file openGguf() reads, in versions 2 and 3", async () => {
  for (const version of [2, 3]) {
    await withFile(gguf({ version: u32(version) }), async (path) => {
      const f = orThrow(await openGguf(path));
      try {
        assert.equal(f.version, version);
        assert.deepEqual(f.entries, [{ name: "w", dtype: "float32", shape: [2, 4] }]);
        assert.deepEqual([...(orThrow(await f.read("w")).data as Float32Array)], Array(8).fill(0));
      } finally {
        f.close();
      }
    });
  }
  await withFile(gguf({ kvs: [], tensors: [] }), async (path) => {
    const m = orThrow(await readGgufMetadata(path));
    assert.equal(m.size, 0);
  });
});

Deno.test("openGguf() refuses a missing, short or foreign file", async () => {
  const r = await openGguf("no/such/file.gguf");
  assert(E.isLeft(r) && r.left._tag === "NotFound");
  await refused(new Uint8Array(10), "Truncated", /^File is 10 bytes; a GGUF header takes/);
  await refused(
    gguf({ magic: "GGML" }),
    "Corrupt",
    /^Not a GGUF file: expected the magic "GGUF", got "GGML"$/,
  );
});

Deno.test("openGguf() refuses other versions and big-endian files", async () => {
  await refused(
    gguf({ version: u32(1) }),
    "Unsupported",
    /^GGUF version 1 is not supported; expected 2 or 3$/,
  );
  await refused(gguf({ version: u32(4) }), "Unsupported", /^GGUF version 4 /);
  await refused(
    gguf({ version: new Uint8Array([0, 0, 0, 3]) }),
    "Unsupported",
    /^Big-endian GGUF files are not supported/,
  );
});

Deno.test("openGguf() checks the counts against the file", async () => {
  await refused(
    gguf({ tensorCount: 2n ** 40n }),
    "TooLarge",
    /^Tensor count 1099511627776 is over the limit/,
  );
  await refused(
    gguf({ tensorCount: 1000 }),
    "Corrupt",
    /^Tensor count 1000 cannot fit in the \d+ bytes left/,
  );
  await refused(
    gguf({ kvCount: 2n ** 63n }),
    "Corrupt",
    /^Metadata count \d+ is impossibly large$/,
  );
  await refused(gguf({ kvCount: 100 }), "Corrupt", /^Metadata count 100 cannot fit/);
  // One key-value pair too few: the tensor info is read as a key-value pair and fails.
  // One pair too many: the tensor info is read as a pair, and what follows as its name.
  await refused(
    gguf({ kvCount: 2 }),
    "TooLarge",
    /^Tensor info 0 name length \d+ is over the limit/,
  );
});

Deno.test("openGguf() checks string lengths", async () => {
  const lie = (length: number | bigint) => gguf({ kvs: [kv("a", 8, str("hi", length))] });
  await refused(lie(2n ** 60n), "Corrupt", /^Metadata 'a' length \d+ is impossibly large$/);
  await refused(
    lie(GGUF_LIMITS.maxStringBytes + 1),
    "TooLarge",
    /^Metadata 'a' length 4194305 is over the limit of 4194304 bytes$/,
  );
  await refused(lie(100_000), "Truncated", /^Metadata 'a' length 100000 runs past the end/);
  const badKey = gguf({ kvs: [cat(str("k", 2n ** 20n), u32(4), u32(1))] });
  await refused(badKey, "TooLarge", /^Metadata key 0 length 1048576 is over the limit of 65535/);
  const utf8 = gguf({ kvs: [kv("a", 8, str(new Uint8Array([0xff, 0xfe])))] });
  await refused(utf8, "Corrupt", /^Metadata 'a' is not valid UTF-8$/);
  await refused(
    gguf({ kvs: [kvU32("a", 1), kvU32("a", 2)] }),
    "Corrupt",
    /^Metadata key 'a' is given twice$/,
  );
});

Deno.test("openGguf() checks value types, bools and arrays", async () => {
  await refused(
    gguf({ kvs: [kv("a", 13, u32(0))] }),
    "Corrupt",
    /^Metadata 'a' has value type 13; expected 0 to 12 \(uint8, /,
  );
  await refused(
    gguf({ kvs: [kv("a", 7, new Uint8Array([2]))] }),
    "Corrupt",
    /^Metadata 'a' is a bool of byte 2; expected 0 or 1$/,
  );
  const array = (type: number, length: number | bigint, body = new Uint8Array(0)) =>
    gguf({ kvs: [kv("a", 9, cat(u32(type), u64(length), body))] });
  await refused(array(99, 1), "Corrupt", /^Metadata 'a' element has value type 99/);
  await refused(
    array(4, GGUF_LIMITS.maxArrayLength + 1),
    "TooLarge",
    /^Metadata 'a' array length 4194305 is over the limit of 4194304$/,
  );
  await refused(
    array(4, 1000),
    "Corrupt",
    /^Metadata 'a' array length 1000 cannot fit in the \d+ bytes left \(at least 4 bytes each\)$/,
  );
  await refused(array(8, 2n ** 62n), "Corrupt", /impossibly large/);
  // Arrays nested deeper than the limit.
  let deep = cat(u32(4), u64(0));
  for (let i = 0; i < GGUF_LIMITS.maxArrayDepth; i++) deep = cat(u32(9), u64(1), deep);
  await refused(
    gguf({ kvs: [kv("a", 9, deep)] }),
    "TooLarge",
    /^Metadata 'a' nests arrays over 4 deep$/,
  );
  // An empty array and nested empty arrays are fine.
  await withFile(
    gguf({ kvs: [kv("a", 9, cat(u32(9), u64(2), u32(4), u64(0), u32(8), u64(0)))] }),
    async (path) => {
      assert.deepEqual(orThrow(await readGgufMetadata(path)).get("a"), [[], []]);
    },
  );
});

Deno.test("openGguf() checks general.alignment", async () => {
  for (const bad of [0, 3, 48]) {
    await refused(
      gguf({ kvs: [kvU32("general.alignment", bad)] }),
      "Corrupt",
      new RegExp(`^general.alignment ${bad} is not a power of two`),
    );
  }
  await refused(
    gguf({ kvs: [kv("general.alignment", 8, str("32"))] }),
    "Corrupt",
    /^general.alignment "32" is not a power of two/,
  );
  await withFile(gguf({ kvs: [kvU32("general.alignment", 8)], alignment: 8 }), async (path) => {
    assert.equal(orThrow(await openGguf(path)).alignment, 8);
  });
});

Deno.test("openGguf() checks tensor dimensions and types", async () => {
  const one = (t: Partial<Tensor>) =>
    gguf({ tensors: [{ name: "w", dims: [4, 2], ...t }], data: 64 });
  await refused(
    one({ nDims: 5, dims: [1, 1, 1, 1, 1] }),
    "Corrupt",
    /^Tensor 'w' has 5 dimensions; expected 1 to 4$/,
  );
  await refused(one({ nDims: 0, dims: [] }), "Corrupt", /^Tensor 'w' has 0 dimensions/);
  await refused(one({ dims: [4, 0] }), "Corrupt", /^Tensor 'w' has dimension 1 of size 0/);
  await refused(
    one({ dims: [2n ** 30n, 2n ** 30n, 2n ** 30n] }),
    "Corrupt",
    /^Tensor 'w' has over 2\^53 elements/,
  );
  await refused(
    one({ dims: [2n ** 60n] }),
    "Corrupt",
    /^Tensor 'w' dimension 0 \d+ is impossibly large$/,
  );
  await refused(one({ type: 99 }), "Unsupported", /^Tensor 'w' has unknown ggml type id 99$/);
  await refused(
    one({ type: 2, dims: [10] }),
    "Corrupt",
    /^Tensor 'w' of type Q4_0 has a first dimension of 10; expected a multiple of 32$/,
  );
  await refused(
    gguf({ tensors: [{ name: "w", dims: [1] }, { name: "w", dims: [1] }] }),
    "Corrupt",
    /^Tensor 'w' is given twice$/,
  );
  await refused(
    // A lying dimension count: the type and the offset are read as dimensions.
    gguf({ tensors: [{ name: "w", dims: [4], nDims: 4 }] }),
    "Corrupt",
    /^Tensor 'w' has dimension 1 of size 0/,
  );
});

Deno.test("openGguf() checks tensor data offsets", async () => {
  await refused(
    gguf({ tensors: [{ name: "w", dims: [4], offset: 4 }] }),
    "Corrupt",
    /^Tensor 'w' offset 4 is not a multiple of the alignment 32$/,
  );
  await refused(
    gguf({ tensors: [{ name: "w", dims: [4], offset: 2n ** 40n }] }),
    "Truncated",
    /^Tensor 'w' data \(16 bytes at offset 1099511627776 .*\) runs past the end of the file/,
  );
  await refused(
    gguf({ tensors: [{ name: "w", dims: [64] }], data: 100 }),
    "Truncated",
    /^Tensor 'w' data \(256 bytes/,
  );
  await refused(
    gguf({
      tensors: [{ name: "a", dims: [16], offset: 0 }, { name: "b", dims: [16], offset: 32 }],
      data: 128,
    }),
    "Corrupt",
    /^Tensor 'b' data overlaps that of 'a'$/,
  );
});

Deno.test("openGguf() reports a file cut anywhere in its header as truncated", async () => {
  const whole = gguf({
    kvs: [kv("a", 8, str("text")), kv("b", 9, cat(u32(4), u64(2), u32(1), u32(2)))],
    tensors: [{ name: "w", dims: [4, 2] }],
  });
  const headerEnd = whole.length - 32; // the data: 8 float32, padded to 32 bytes
  for (let cut = 24; cut < headerEnd; cut += 3) {
    await withFile(whole.subarray(0, cut), async (path) => {
      const r = await openGguf(path);
      assert(E.isLeft(r), `cut at ${cut}`);
      assert(["Truncated", "Corrupt"].includes(r.left._tag), `cut at ${cut}: ${r.left.message}`);
      assert(!describeProblem(r.left).includes("\n"));
    });
  }
});

// ---- models ----

for (const arch of ["llama", "qwen2", "gpt2"]) {
  Deno.test(`loadModel() reads ${arch}.gguf as transformers' GGUF loader does`, async () => {
    const fromGguf = orThrow(await loadModel(fixture(`${arch}.gguf`)));
    const reference = orThrow(await loadModel(fixture(`${arch}_hf`)));
    try {
      assert.equal(fromGguf.format, "gguf");
      assert.equal(fromGguf.architecture, reference.architecture);
      assert.deepEqual(fromGguf.config, reference.config);
      const got = flatten(fromGguf.params), want = flatten(reference.params);
      assert.deepEqual(got.map(([p]) => p), want.map(([p]) => p));
      for (let i = 0; i < got.length; i++) {
        assert.deepEqual(got[i][1].shape, want[i][1].shape, got[i][0]);
        assert.deepEqual(got[i][1].dataSync(), want[i][1].dataSync(), got[i][0]);
      }
    } finally {
      disposeTree(fromGguf.params);
      disposeTree(reference.params);
    }
  });
}

Deno.test("loadModel() takes a directory holding one .gguf file, and refuses two", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.copyFile(fixture("qwen2.gguf"), `${dir}/a.gguf`);
    const one = orThrow(await loadModel(dir));
    assert(one.architecture === "llama" && one.config.modelType === "qwen2");
    assert(one.config.tieWordEmbeddings && one.config.qkvBias);
    disposeTree(one.params);
    await Deno.copyFile(fixture("llama.gguf"), `${dir}/b.gguf`);
    const two = await loadModel(dir);
    assert(E.isLeft(two) && two.left._tag === "Invalid");
    assert.match(
      two.left.message,
      /^The directory holds 2 \.gguf files \(a\.gguf, b\.gguf\); pass one/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A GGUF model file from metadata pairs and tensors (all zero F32 unless typed). */
const model = (
  kvs: Uint8Array[],
  tensors: Tensor[] = [{ name: "token_embd.weight", dims: [8, 4] }],
) => gguf({ kvs, tensors });
const arch = (name: string) => kv("general.architecture", 8, str(name));

Deno.test("loadModel() refuses GGUF metadata it cannot read as a config, in one line", async () => {
  const expect = async (bytes: Uint8Array, tag: Problem["_tag"], pattern: RegExp) => {
    await withFile(bytes, async (path) => {
      const r = await loadModel(path);
      if (E.isRight(r)) disposeTree(r.right.params);
      assert(E.isLeft(r));
      assert.equal(r.left._tag, tag, r.left.message);
      assert.match(r.left.message, pattern);
      assert(!describeProblem(r.left).includes("\n"));
    });
  };
  await expect(
    model([arch("mamba")]),
    "Unsupported",
    /^general.architecture "mamba" is not supported; expected one of llama, qwen2, gpt2$/,
  );
  await expect(model([]), "Unsupported", /^general.architecture absent is not supported/);
  await expect(
    model([arch("llama"), kvU32("llama.block_count", 1)]),
    "Invalid",
    /^GGUF metadata lacks llama.embedding_length, llama.feed_forward_length, llama.attention.head_count, llama.attention.layer_norm_rms_epsilon, tokenizer.ggml.tokens$/,
  );
  const llama = [
    arch("llama"),
    kvU32("llama.block_count", 1),
    kvU32("llama.embedding_length", 8),
    kvU32("llama.feed_forward_length", 8),
    kvU32("llama.attention.head_count", 2),
    kv("llama.attention.layer_norm_rms_epsilon", 6, u32(0x3727c5ac)), // 1e-5 as float32
    kvU32("llama.vocab_size", 4),
  ];
  await expect(
    model([...llama, kv("llama.rope.scaling.type", 8, str("yarn"))]),
    "Unsupported",
    /^llama.rope.scaling.type "yarn" is not supported/,
  );
  await expect(
    model([...llama, kvU32("llama.rope.dimension_count", 2)]),
    "Unsupported",
    /^llama.rope.dimension_count 2 is not the head dimension 4/,
  );
  await expect(
    model([...llama, kvU32("llama.attention.head_count_kv", 3)]),
    "Invalid",
    /num_attention_heads 2 is not a multiple of num_key_value_heads 3/,
  );
  // The config is read; the tensors do not match it.
  await expect(
    model(llama),
    "Mismatch",
    /^LLaMA-family checkpoint does not match its config: missing /,
  );
  await expect(
    model(llama, [{ name: "token_embd.weight", dims: [8, 4], type: 26 }]),
    "Unsupported",
    /^Tensor types not supported: token_embd.weight \(I32\); expected one of F32, /,
  );
});

Deno.test("inspectFile() lists a GGUF file's tensors as float32", async () => {
  const lines: string[] = [];
  orThrow(await inspectFile(fixture("llama.gguf"), (line) => lines.push(line)));
  assert.equal(lines.length, 1 + 2 + 2 * 9 + 1); // header, embedding and head, layers, norm
  assert.match(lines[1], /^token_embd\.weight\s+float32\s+\[32, 16\]/);
});
