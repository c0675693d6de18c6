import assert from "node:assert/strict";
import * as E from "fp-ts/Either";
import {
  encodeSafetensors,
  type HostTensor,
  hostTensor,
  openSafetensors,
  openSafetensorsIndex,
  parseSafetensors,
  type SafetensorsFile,
  writeSafetensors,
} from "../io/mod.ts";
import { bfloat16Bits, float16Bits } from "../io/host_tensor.ts";
import type { Problem } from "../problem.ts";
import { assertValues, type Expected, fixture, left, right } from "./_io_helpers.ts";

// ---- helpers ----

interface FileExpected {
  metadata: Record<string, string>;
  tensors: Record<string, Expected>;
}
const expected: Record<string, FileExpected> = JSON.parse(
  Deno.readTextFileSync(fixture("st/expected.json")),
);

/** A safetensors file from a header (object or raw text) and a data section. */
function st(header: unknown, data: Uint8Array | number = 0, lengthOverride?: bigint): Uint8Array {
  const text = typeof header === "string" ? header : JSON.stringify(header);
  const json = new TextEncoder().encode(text);
  const body = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

/** Runs a check on both the in-memory parser and the file reader. */
async function bothReaders(
  bytes: Uint8Array,
  check: (r: E.Either<Problem, unknown>, how: string) => void,
): Promise<void> {
  check(parseSafetensors(bytes, "mem"), "parseSafetensors");
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  try {
    await Deno.writeFile(path, bytes);
    const f = await openSafetensors(path);
    if (E.isRight(f)) f.right.close();
    check(f, "openSafetensors");
  } finally {
    await Deno.remove(path);
  }
}

async function readAll(f: SafetensorsFile): Promise<Map<string, HostTensor>> {
  const out = new Map<string, HostTensor>();
  for (const e of f.entries) out.set(e.name, right(await f.read(e.name)));
  return out;
}

// ---- files written by the Python safetensors package ----

Deno.test("openSafetensors() reads every dtype and the metadata the Python library wrote", async () => {
  const f = right(await openSafetensors(fixture("st/all_dtypes.safetensors")));
  try {
    const e = expected.all_dtypes;
    assert.deepEqual({ ...f.metadata }, e.metadata);
    assert.deepEqual(f.entries.map((x) => x.name).sort(), Object.keys(e.tensors).sort());
    for (const entry of f.entries) {
      assert.equal(entry.dtype, e.tensors[entry.name].dtype, entry.name);
      assert.deepEqual([...entry.shape], e.tensors[entry.name].shape, entry.name);
      assertValues(right(await f.read(entry.name)), e.tensors[entry.name], entry.name);
    }
  } finally {
    f.close();
  }
});

Deno.test("parseSafetensors() reads the same file from memory", () => {
  const c = right(parseSafetensors(Deno.readFileSync(fixture("st/all_dtypes.safetensors")), "mem"));
  assert.deepEqual({ ...c.metadata }, expected.all_dtypes.metadata);
  for (const [name, e] of Object.entries(expected.all_dtypes.tensors)) {
    assertValues(c.tensors.get(name)!, e, name);
  }
});

Deno.test("openSafetensorsIndex() reads a sharded checkpoint as one file", async () => {
  const f = right(await openSafetensorsIndex(fixture("st/sharded/model.safetensors.index.json")));
  try {
    const e = expected.sharded;
    assert.deepEqual({ ...f.metadata }, e.metadata);
    assert.deepEqual(f.entries.map((x) => x.name), ["embed", "prompt", "layer/w", "layer/b"]);
    const all = await readAll(f);
    for (const [name, want] of Object.entries(e.tensors)) assertValues(all.get(name)!, want, name);
    left(await f.read("missing"), "NotFound", /No tensor named 'missing'; the file holds 'embed'/);
  } finally {
    f.close();
  }
});

Deno.test("openSafetensors() refuses a dtype it cannot hold", async () => {
  left(
    await openSafetensors(fixture("st/unsupported_u32.safetensors")),
    "Unsupported",
    /Tensor 'u' has dtype 'U32'; expected one of F32 F16 BF16/,
  );
});

// ---- round trips ----

const all = new Map<string, HostTensor>([
  ["f16", hostTensor("float16", [2], float16Bits([1.5, -Infinity]))],
  ["bf16", hostTensor("bfloat16", [2, 1], bfloat16Bits([3.0e38, -0.0078125]))],
  ["f32", hostTensor("float32", [3], new Float32Array([NaN, -0, 1e-45]))],
  ["f64", hostTensor("float64", [1], new Float64Array([Math.E]))],
  ["i8", hostTensor("int8", [2], new Int8Array([-128, 127]))],
  ["i16", hostTensor("int16", [1], new Int16Array([-300]))],
  ["i32", hostTensor("int32", [], new Int32Array([7]))],
  ["i64", hostTensor("int64", [2], new BigInt64Array([2n ** 62n, -1n]))],
  ["u8", hostTensor("uint8", [1, 1, 1], new Uint8Array([200]))],
  ["b", hostTensor("bool", [3], new Uint8Array([0, 1, 1]))],
  ["empty", hostTensor("float32", [0, 7], new Float32Array(0))],
  ["__proto__", hostTensor("int8", [1], new Int8Array([5]))],
]);

Deno.test("writeSafetensors() then openSafetensors() round-trips every dtype", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/all.safetensors`;
    right(await writeSafetensors(path, all, { format: "np", "": "empty key" }));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["all.safetensors"]);
    const f = right(await openSafetensors(path));
    try {
      assert.deepEqual({ ...f.metadata }, { format: "np", "": "empty key" });
      const back = await readAll(f);
      assert.equal(back.size, all.size);
      for (const [k, t] of all) {
        assert.equal(back.get(k)!.dtype, t.dtype, k);
        assert.deepEqual(back.get(k)!.shape, t.shape, k);
        assert.deepEqual(back.get(k)!.data, t.data, k);
      }
    } finally {
      f.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("encodeSafetensors() pads the header to 8 bytes and aligns every tensor", () => {
  const bytes = encodeSafetensors(all);
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  for (
    const [name, info] of Object.entries(header) as [
      string,
      { dtype: string; data_offsets: number[] },
    ][]
  ) {
    const size = {
      F64: 8,
      I64: 8,
      F32: 4,
      I32: 4,
      F16: 2,
      BF16: 2,
      I16: 2,
      I8: 1,
      U8: 1,
      BOOL: 1,
    }[info.dtype]!;
    assert.equal(info.data_offsets[0] % size, 0, `${name} is aligned`);
  }
  assert.deepEqual(
    right(parseSafetensors(bytes, "mem")).tensors.get("i64")!.data,
    all.get("i64")!.data,
  );
});

Deno.test("writeSafetensors() refuses a tensor named __metadata__", async () => {
  left(
    await writeSafetensors("/tmp/never.safetensors", { __metadata__: all.get("i8")! }),
    "Invalid",
    /not allowed/,
  );
});

Deno.test("openSafetensors() serves concurrent reads correctly", async () => {
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  try {
    const many = new Map<string, HostTensor>();
    for (let i = 0; i < 20; i++) {
      many.set(`t${i}`, hostTensor("int32", [64], new Int32Array(64).fill(i)));
    }
    right(await writeSafetensors(path, many));
    const f = right(await openSafetensors(path));
    const got = await Promise.all([...many.keys()].reverse().map((k) => f.read(k)));
    f.close();
    got.reverse().forEach((r, i) => assert.ok(right(r).data.every((x) => x === i)));
    left(await f.read("t0"), "Io", /File is closed/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("openSafetensors() reads one tensor of a 5 GB file without reading the rest", async () => {
  // A sparse file: 5e9 bytes of 'big', then 4 bytes of 'small'. Only the header and 'small' are read.
  const big = 5_000_000_000;
  const header = {
    big: { dtype: "U8", shape: [big], data_offsets: [0, big] },
    small: { dtype: "F32", shape: [1], data_offsets: [big, big + 4] },
  };
  const head = st(header);
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  try {
    const file = await Deno.open(path, { write: true });
    await file.write(head);
    await file.seek(head.length + big, Deno.SeekMode.Start);
    await file.write(new Uint8Array(new Float32Array([2.5]).buffer));
    file.close();
    const f = right(await openSafetensors(path));
    assert.deepEqual(f.entries.map((e) => [e.name, e.shape[0]]), [["big", big], ["small", 1]]);
    assert.equal(right(await f.read("small")).data[0], 2.5);
    f.close();
  } finally {
    await Deno.remove(path);
  }
});

// ---- untrusted input ----

const f32 = (begin: number, end: number, shape = [(end - begin) / 4]) => ({
  dtype: "F32",
  shape,
  data_offsets: [begin, end],
});

Deno.test("openSafetensors() and parseSafetensors() accept a valid hand-made file", async () => {
  await bothReaders(st({ a: f32(0, 8), b: f32(8, 16) }, 16), (r) => assert.ok(E.isRight(r)));
});

const corrupt: [string, Uint8Array, Problem["_tag"], RegExp][] = [
  [
    "overlapping offsets",
    st({ a: f32(0, 8), b: f32(4, 12) }, 12),
    "Corrupt",
    /starts at data byte 4, inside tensor 'a' \(which ends at 8\)/,
  ],
  [
    "a gap between tensors",
    st({ a: f32(0, 8), b: f32(12, 20) }, 20),
    "Corrupt",
    /the 4-byte gap is not allowed/,
  ],
  [
    "data not starting at 0",
    st({ a: f32(4, 8) }, 8),
    "Corrupt",
    /starts at data byte 4 but the start of the data ends at 0/,
  ],
  [
    "bytes after the last tensor",
    st({ a: f32(0, 8) }, 12),
    "Corrupt",
    /Found 4 bytes after the last tensor/,
  ],
  [
    "truncated data",
    st({ a: f32(0, 8), b: f32(8, 16) }, 12),
    "Truncated",
    /up to byte 16 but the file holds only 12/,
  ],
  [
    "an unknown dtype",
    st({ a: { dtype: "Q7", shape: [1], data_offsets: [0, 1] } }, 1),
    "Unsupported",
    /dtype 'Q7'/,
  ],
  [
    "a size that disagrees with the offsets",
    st({ a: f32(0, 8, [3]) }, 8),
    "Corrupt",
    /needs 12 bytes but data_offsets \[0,8\] span 8/,
  ],
  [
    "a negative dimension",
    st({ a: f32(0, 8, [-2]) }, 8),
    "Corrupt",
    /shape \[-2\]; expected a list of non-negative integers/,
  ],
  [
    'a missing shape (the fuzzer\'s "has shape undefined")',
    st({ a: { dtype: "F32", data_offsets: [0, 8] } }, 8),
    "Corrupt",
    /^Tensor 'a' has no shape; expected a list of non-negative integers$/,
  ],
  [
    "a fractional dimension",
    st({ a: f32(0, 8, [2.5]) }, 8),
    "Corrupt",
    /shape \[2\.5\]; expected a list of non-negative integers/,
  ],
  [
    "reversed offsets",
    st({ a: { dtype: "F32", shape: [0], data_offsets: [8, 0] } }, 8),
    "Corrupt",
    /expected \[begin, end\]/,
  ],
  [
    "a missing dtype",
    st({ a: { shape: [2], data_offsets: [0, 8] } }, 8),
    "Corrupt",
    /^Tensor 'a' has dtype missing; expected a string such as "F32"$/,
  ],
  [
    "non-string metadata",
    st({ __metadata__: { n: 3 }, a: f32(0, 4) }, 4),
    "Corrupt",
    /Value 'n' of __metadata__ is a number; expected a string/,
  ],
  ["a header that is not JSON", st("{not json", 0), "Corrupt", /Header is not valid JSON/],
  ["a header that does not start with {", st("[1, 2]", 0), "Corrupt", /does not start with '\{'/],
  [
    "a header that is not UTF-8",
    st('{"\xff"}', 0).map((b, i) => (i === 10 ? 0xff : b)),
    "Corrupt",
    /not valid UTF-8/,
  ],
  [
    "an absurd header length (2^60)",
    st({}, 0, 2n ** 60n),
    "TooLarge",
    /Header length 1152921504606846976 is over the limit of 100000000/,
  ],
  [
    "a header length past the end of the file",
    st({}, 0, 1000n),
    "Corrupt",
    /Header length 1000 runs past the end of the file \(10 bytes\)/,
  ],
  ["a file shorter than 8 bytes", new Uint8Array(5), "Truncated", /File has 5 bytes/],
];

for (const [what, bytes, tag, pattern] of corrupt) {
  Deno.test(`openSafetensors() and parseSafetensors() report ${what}`, async () => {
    await bothReaders(bytes, (r, how) => {
      const p = left(r, tag, pattern);
      assert.ok(p.where.length > 0, how);
    });
  });
}

Deno.test("openSafetensors() reports a missing file as NotFound", async () => {
  left(await openSafetensors("/nonexistent/model.safetensors"), "NotFound", /No such file/);
});

Deno.test("openSafetensors() reports a file that shrank after opening as Truncated", async () => {
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  try {
    await Deno.writeFile(path, st({ a: f32(0, 8) }, 8));
    const f = right(await openSafetensors(path));
    await Deno.truncate(path, 20);
    left(await f.read("a"), "Truncated", /short of this tensor's data/);
    f.close();
  } finally {
    await Deno.remove(path);
  }
});

// ---- sharded checkpoints ----

async function shardedDir(index: unknown): Promise<string> {
  const dir = await Deno.makeTempDir();
  await writeSafetensors(`${dir}/a.safetensors`, { x: all.get("f32")! });
  await Deno.writeTextFile(
    `${dir}/model.safetensors.index.json`,
    typeof index === "string" ? index : JSON.stringify(index),
  );
  return dir;
}

const indexCases: [string, unknown, Problem["_tag"], RegExp][] = [
  [
    "a shard path that climbs out of the directory",
    { weight_map: { x: "../a.safetensors" } },
    "Invalid",
    /expected a plain file name/,
  ],
  [
    "an absolute shard path",
    { weight_map: { x: "/etc/passwd" } },
    "Invalid",
    /expected a plain file name/,
  ],
  [
    "a shard in a subdirectory",
    { weight_map: { x: "sub/a.safetensors" } },
    "Invalid",
    /expected a plain file name/,
  ],
  [
    "a shard that is not a string",
    { weight_map: { x: 3 } },
    "Invalid",
    /Tensor 'x' is mapped by weight_map to 3/,
  ],
  ["a missing shard", { weight_map: { x: "b.safetensors" } }, "NotFound", /No such file/],
  [
    "a tensor its shard does not hold",
    { weight_map: { y: "a.safetensors" } },
    "Mismatch",
    /Tensor 'y' is mapped by weight_map to a\.safetensors, which does not hold it/,
  ],
  ["no weight_map", { metadata: {} }, "Corrupt", /no weight_map object/],
  ["an index that is not JSON", "{weight_map", "Corrupt", /Index is not valid JSON/],
];

for (const [what, index, tag, pattern] of indexCases) {
  Deno.test(`openSafetensorsIndex() reports ${what}`, async () => {
    const dir = await shardedDir(index);
    try {
      left(await openSafetensorsIndex(`${dir}/model.safetensors.index.json`), tag, pattern);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("openSafetensorsIndex() reports a missing index as NotFound", async () => {
  left(
    await openSafetensorsIndex("/nonexistent/model.safetensors.index.json"),
    "NotFound",
    /No such file/,
  );
});
