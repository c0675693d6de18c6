import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { initBackend } from "../backend.ts";
import {
  DTYPES,
  fromTensor,
  type HostTensor,
  hostTensor,
  isDType,
  parseNpy,
  stats,
  toTensor,
} from "../io/mod.ts";
import { allocData, bfloat16Bits, float16Bits, sizeOf, toFloat64 } from "../io/host_tensor.ts";
import { itemSize } from "../io/dtype.ts";
import type { Problem } from "../problem.ts";

const backend = await initBackend("wasm");
if (E.isLeft(backend)) throw new Error(backend.left.message);

const fixture = (p: string) => new URL(`./fixtures/io/${p}`, import.meta.url);

function right<A>(r: E.Either<Problem, A>): A {
  if (E.isLeft(r)) assert.fail(`Expected Right, got ${r.left._tag}: ${r.left.message}`);
  return r.right;
}

/** Runs `f` and checks that it leaves no tensor behind. */
async function noLeaks(f: () => Promise<void> | void): Promise<void> {
  const before = tf.memory().numTensors;
  await f();
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
}

// ---- construction ----

Deno.test("hostTensor() checks the array type and length against dtype and shape", () => {
  const ok = hostTensor("float32", [2, 3], new Float32Array(6));
  assert.ok(Object.isFrozen(ok) && Object.isFrozen(ok.shape));
  const bad: [() => unknown, RegExp][] = [
    [
      () => hostTensor("float32", [2, 3], new Float32Array(5)),
      /needs 6 elements but the data has 5/,
    ],
    [
      () => hostTensor("float32", [2], new Float64Array(2)),
      /is a Float64Array; expected Float32Array/,
    ],
    [
      () => hostTensor("float16", [2], new Float32Array(2)),
      /expected Uint16Array \(raw float16 bits\)/,
    ],
    [() => hostTensor("int64", [1], new Int32Array(1)), /expected BigInt64Array/],
    [() => hostTensor("bool", [1], new Int8Array(1)), /expected Uint8Array/],
    [
      () => hostTensor("int8", [-1], new Int8Array(0)),
      /has dimension -1; expected non-negative integers/,
    ],
    [() => hostTensor("int8", [1.5], new Int8Array(1)), /expected non-negative integers/],
  ];
  for (const [f, pattern] of bad) {
    assert.throws(f, (e: Error) => e instanceof RangeError && pattern.test(e.message));
  }
});

Deno.test("hostTensor() copies the shape it is given", () => {
  const shape = [2, 2];
  const h = hostTensor("int32", shape, new Int32Array(4));
  shape[0] = 9;
  assert.deepEqual(h.shape, [2, 2]);
});

Deno.test("sizeOf(), itemSize(), isDType() and allocData() agree on every dtype", () => {
  assert.equal(sizeOf([]), 1);
  assert.equal(sizeOf([0, 5]), 0);
  assert.equal(sizeOf([32128, 4]), 128512);
  for (const d of DTYPES) {
    assert.ok(isDType(d));
    const data = allocData(d, 3);
    assert.equal(data.byteLength, 3 * itemSize(d), d);
    hostTensor(d, [3], data); // the array type fits
  }
  assert.ok(!isDType("uint32") && !isDType("toString"));
});

// ---- half precision ----

Deno.test("float16Bits() rounds exactly like numpy", () => {
  const e = JSON.parse(Deno.readTextFileSync(fixture("npy/expected.json"))).float16;
  const values = e.values.map((v: number | string) =>
    v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : v === "-0" ? -0 : v
  );
  assert.deepEqual([...float16Bits(values)], e.bits);
});

Deno.test("float16Bits() and bfloat16Bits() invert decoding for every bit pattern", () => {
  for (const [dtype, encode] of [["float16", float16Bits], ["bfloat16", bfloat16Bits]] as const) {
    const all = new Uint16Array(65536).map((_, i) => i);
    const decoded = toFloat64(hostTensor(dtype, [65536], all));
    const again = encode(decoded);
    for (let i = 0; i < 65536; i++) {
      if (Number.isNaN(decoded[i])) {
        assert.ok(Number.isNaN(toFloat64(hostTensor(dtype, [1], again.subarray(i, i + 1)))[0]));
      } else assert.equal(again[i], i, `${dtype} bits ${i.toString(16)}`);
    }
  }
});

Deno.test("float16Bits() and bfloat16Bits() round ties to even and overflow to infinity", () => {
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1).
  assert.deepEqual([...float16Bits([1 + 2 ** -11, 1 + 3 * 2 ** -11, 65520, 2 ** -25, 2 ** -24])], [
    0x3c00,
    0x3c02,
    0x7c00,
    0x0000,
    0x0001,
  ]);
  assert.deepEqual([...bfloat16Bits([1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.4e38, -1e39, 2 ** -133])], [
    0x3f80,
    0x3f82,
    0x7f80,
    0xff80,
    0x0001,
  ]);
});

Deno.test("toFloat64() decodes every dtype", () => {
  const cases: [HostTensor, number[]][] = [
    [hostTensor("float16", [2], new Uint16Array([0x3c00, 0xc400])), [1, -4]],
    [hostTensor("bfloat16", [2], new Uint16Array([0x3f80, 0x4049])), [1, 3.140625]],
    [hostTensor("float32", [1], new Float32Array([0.1])), [Math.fround(0.1)]],
    [hostTensor("int64", [2], new BigInt64Array([-5n, 2n ** 53n])), [-5, 2 ** 53]],
    [hostTensor("bool", [2], new Uint8Array([1, 0])), [1, 0]],
    [hostTensor("int8", [1], new Int8Array([-7])), [-7]],
  ];
  for (const [h, want] of cases) assert.deepEqual([...toFloat64(h)], want, h.dtype);
});

// ---- stats ----

Deno.test("stats() gives numpy's mean, population std, min and max", () => {
  const s = stats(
    hostTensor("float64", [5], new Float64Array([2, 4, 4, 4, 5, 5, 7, 9].slice(0, 5))),
  );
  assert.equal(s.mean, 3.8);
  assert.ok(Math.abs(s.std - Math.sqrt(0.96)) < 1e-15);
  assert.deepEqual([s.min, s.max], [2, 5]);
  // Accumulated in float64: a float32 sum would lose the small values next to 1e8.
  const big = new Float32Array(1001).fill(1);
  big[0] = 1e8;
  assert.equal(stats(hostTensor("float32", [1001], big)).mean, (1e8 + 1000) / 1001);
});

Deno.test("stats() is NaN throughout when any value is NaN, and for an empty tensor", () => {
  for (
    const h of [
      hostTensor("float32", [3], new Float32Array([1, NaN, 3])),
      hostTensor("float16", [2], new Uint16Array([0x7e00, 0x3c00])),
      hostTensor("float32", [0], new Float32Array(0)),
    ]
  ) {
    const s = stats(h);
    assert.ok([s.mean, s.std, s.min, s.max].every(Number.isNaN), JSON.stringify(s));
  }
});

Deno.test("stats() follows IEEE arithmetic for infinities", () => {
  const s = stats(hostTensor("float32", [2], new Float32Array([1, Infinity])));
  assert.equal(s.mean, Infinity);
  assert.ok(Number.isNaN(s.std));
  assert.deepEqual([s.min, s.max], [1, Infinity]);
});

Deno.test("stats() reads bool and int64 as numbers", () => {
  assert.equal(stats(hostTensor("bool", [4], new Uint8Array([1, 0, 1, 1]))).mean, 0.75);
  assert.equal(stats(hostTensor("int64", [2], new BigInt64Array([-3n, 5n]))).max, 5);
});

// ---- TensorFlow.js ----

Deno.test("toTensor() maps every dtype to float32, int32 or bool without leaking", async () => {
  await noLeaks(async () => {
    const cases: [HostTensor, string, number[]][] = [
      [hostTensor("float16", [2], float16Bits([1.5, -2])), "float32", [1.5, -2]],
      [hostTensor("bfloat16", [2], bfloat16Bits([3, -0.5])), "float32", [3, -0.5]],
      [hostTensor("float32", [1, 2], new Float32Array([1, 2])), "float32", [1, 2]],
      [hostTensor("float64", [1], new Float64Array([0.1])), "float32", [Math.fround(0.1)]],
      [hostTensor("int8", [2], new Int8Array([-128, 127])), "int32", [-128, 127]],
      [hostTensor("int16", [1], new Int16Array([-300])), "int32", [-300]],
      [hostTensor("int32", [], new Int32Array([7])), "int32", [7]],
      [hostTensor("int64", [2], new BigInt64Array([-(2n ** 31n), 2n ** 31n - 1n])), "int32", [
        -(2 ** 31),
        2 ** 31 - 1,
      ]],
      [hostTensor("uint8", [2], new Uint8Array([0, 255])), "int32", [0, 255]],
      [hostTensor("bool", [3], new Uint8Array([1, 0, 1])), "bool", [1, 0, 1]],
      [hostTensor("float32", [0, 3], new Float32Array(0)), "float32", []],
    ];
    for (const [h, dtype, values] of cases) {
      const t = right(toTensor(h));
      assert.equal(t.dtype, dtype, h.dtype);
      assert.deepEqual(t.shape, [...h.shape], h.dtype);
      assert.deepEqual([...(await t.data())], values, h.dtype);
      t.dispose();
    }
  });
});

Deno.test("toTensor() refuses int64 values outside int32", () => {
  const r = toTensor(hostTensor("int64", [3], new BigInt64Array([1n, 2n, 2n ** 31n])), "ids.npy");
  assert.ok(E.isLeft(r));
  assert.equal(r.left._tag, "Unsupported");
  assert.equal(r.left.where, "ids.npy");
  assert.match(r.left.message, /Value 2147483648 at flat index 2 is outside the int32 range/);
});

Deno.test("toTensor() does not share memory with the host tensor", async () => {
  await noLeaks(async () => {
    const data = new Float32Array([1, 2]);
    const t = right(toTensor(hostTensor("float32", [2], data)));
    data[0] = 99;
    assert.deepEqual([...(await t.data())], [1, 2]);
    t.dispose();
  });
});

Deno.test("fromTensor() downloads float32, int32 and bool tensors without leaking", async () => {
  await noLeaks(async () => {
    const f = tf.tensor2d([[1, 2], [3, 4]]);
    const i = tf.tensor1d([5, -6], "int32");
    const b = tf.tensor1d([true, false], "bool");
    const s = tf.scalar(2.5);
    const hf = await fromTensor(f);
    const hi = await fromTensor(i);
    const hb = await fromTensor(b);
    const hs = await fromTensor(s);
    tf.dispose([f, i, b, s]);
    assert.deepEqual([hf.dtype, [...hf.shape], [...hf.data]], ["float32", [2, 2], [1, 2, 3, 4]]);
    assert.deepEqual([hi.dtype, [...hi.data]], ["int32", [5, -6]]);
    assert.deepEqual([hb.dtype, [...hb.data]], ["bool", [1, 0]]);
    assert.deepEqual([hs.dtype, [...hs.shape], [...hs.data]], ["float32", [], [2.5]]);
  });
});

Deno.test("fromTensor() refuses string tensors", async () => {
  await noLeaks(async () => {
    const c = tf.tensor(["a", "b"]);
    await assert.rejects(
      () => fromTensor(c),
      (e: Error) => e instanceof RangeError && /Cannot download a string tensor/.test(e.message),
    );
    c.dispose();
  });
});

Deno.test("toTensor() then fromTensor() returns a real prompt unchanged", async () => {
  const url = new URL(
    "./data/prompt-tuning/pretrained_prompts/t5_1_1_lm100k_base/rte.npy",
    import.meta.url,
  );
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(url);
  } catch {
    throw new Error(
      `Reference file ${url.pathname} is missing from tests/data/ (see tests/data/README.md)`,
    );
  }
  const h = right(parseNpy(bytes, "rte.npy"));
  await noLeaks(async () => {
    const t = right(toTensor(h));
    const back = await fromTensor(t);
    t.dispose();
    assert.deepEqual(back.shape, h.shape);
    assert.deepEqual(back.data, h.data);
  });
});
