/**
 * Tests for random/: keys and samplers against known answers from jax.random (0.10.2,
 * partitionable Threefry, x64 off), written by tools/jax_prng_vectors.py.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import {
  choice,
  foldIn,
  isKey,
  type Key,
  key,
  keyData,
  keyFromData,
  normal,
  permutation,
  permutationIndices,
  randint,
  split,
  uniform,
} from "../random/mod.ts";
import { bits, bitsInto } from "../random/key.ts";
import { threefry2x32 } from "../random/threefry.ts";
import { fmaF32 } from "../random/fma.ts";
import { stableOrder } from "../random/sort.ts";

await initBackend("wasm");

interface Fixture {
  readonly jax: string;
  readonly threefry_partitionable: boolean;
  readonly key: readonly { seed: number; data: [number, number] }[];
  readonly split: readonly { seed: number; num: number; keys: [number, number][] }[];
  readonly fold_in: readonly { seed: number; data: number; key: [number, number] }[];
  readonly bits: readonly { seed: number; shape: number[]; values: number[] }[];
  readonly uniform: readonly {
    seed: number;
    shape: number[];
    minval: number;
    maxval: number;
    bits: number[];
  }[];
  readonly normal: readonly {
    seed: number;
    shape: number[];
    mean: number;
    stddev: number;
    bits: number[];
  }[];
  readonly randint: readonly {
    seed: number;
    shape: number[];
    minval: number;
    maxval: number;
    values: number[];
  }[];
  readonly permutation: readonly { seed: number; n: number; rounds: number; values: number[] }[];
  readonly permutation_rows: readonly {
    seed: number;
    rows: number;
    cols: number;
    values: number[];
  }[];
  readonly choice: readonly {
    seed: number;
    n: number;
    shape: number[];
    replace: boolean;
    values: number[];
  }[];
  readonly choice_rows: readonly {
    seed: number;
    rows: number;
    cols: number;
    shape: number[];
    replace: boolean;
    values: number[];
  }[];
}

const fixture: Fixture = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/jax_prng.json", import.meta.url)),
);

/** float32 values as their uint32 bit patterns. */
function f32Bits(values: Float32Array): number[] {
  return [...new Uint32Array(values.buffer, values.byteOffset, values.length)];
}

/** The float32 value of a uint32 bit pattern. */
function fromBits(patterns: readonly number[]): Float32Array {
  return new Float32Array(Uint32Array.from(patterns).buffer);
}

/** Runs `body` and asserts that it leaves as many tensors as it found. */
function noLeak(body: () => void): void {
  const before = tf.memory().numTensors;
  body();
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
}

/** Reads a tensor's values and shape, then disposes it. */
function take(t: tf.Tensor): { shape: number[]; dtype: string; values: number[] } {
  const out = { shape: t.shape, dtype: t.dtype, values: [...t.dataSync()] };
  t.dispose();
  return out;
}

/** A [rows, cols] float32 matrix whose row i is filled with i. */
function rowsOfIndex(rows: number, cols: number): tf.Tensor {
  return tf.tidy(() => tf.tile(tf.reshape(tf.range(0, rows, 1, "float32"), [rows, 1]), [1, cols]));
}

Deno.test("the fixture comes from partitionable jax.random", () => {
  assert.equal(fixture.jax, "0.10.2");
  assert.equal(fixture.threefry_partitionable, true);
});

Deno.test("threefry2x32() matches the Random123 known-answer vectors", () => {
  assert.deepEqual(threefry2x32([0, 0], [0, 0]), [0x6b200159, 0x99ba4efe]);
  assert.deepEqual(
    threefry2x32([0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]),
    [0x1cb996fc, 0xbb002be7],
  );
  assert.deepEqual(
    threefry2x32([0x13198a2e, 0x03707344], [0x243f6a88, 0x85a308d3]),
    [0xc4923a9c, 0x483df7a0],
  );
});

Deno.test("key() matches jax.random.key bit for bit", () => {
  for (const c of fixture.key) assert.deepEqual(keyData(key(c.seed)), c.data, `seed ${c.seed}`);
});

Deno.test("key() rejects seeds that are not integers in [-2^31, 2^32)", () => {
  for (const bad of [1.5, -(2 ** 31) - 1, 2 ** 32, NaN, Infinity]) {
    assert.throws(() => key(bad), RangeError, `seed ${bad}`);
  }
  assert.throws(() => key("1" as unknown as number), RangeError);
  assert.throws(() => key(2 ** 32), {
    message: "Seed must be an integer in [-2^31, 2^32), got 4294967296",
  });
});

Deno.test("keys are frozen values that survive JSON", () => {
  const k = key(42);
  assert.ok(Object.isFrozen(k) && Object.isFrozen(k.data));
  const back = keyFromData(JSON.parse(JSON.stringify(k)).data);
  assert.deepEqual(back, k);
  assert.ok(isKey(JSON.parse(JSON.stringify(k))));
  assert.deepEqual(keyData(keyFromData([-1, -2])), [4294967295, 4294967294]);
  assert.throws(() => keyFromData([1]), RangeError);
  assert.throws(() => keyFromData([1, 2 ** 32]), RangeError);
  assert.throws(() => keyFromData([1, 0.5]), RangeError);
  assert.ok(!isKey({ _tag: "Key", data: [1, 2, 3] }));
  assert.ok(!isKey(null));
  assert.throws(() => split({ _tag: "Key", data: [1, -1] } as unknown as Key), TypeError);
});

Deno.test("split() matches jax.random.split bit for bit", () => {
  for (const c of fixture.split) {
    assert.deepEqual(split(key(c.seed), c.num).map(keyData), c.keys, `seed ${c.seed} num ${c.num}`);
  }
  assert.equal(split(key(0)).length, 2);
  assert.deepEqual(split(key(0), 0), []);
  assert.throws(() => split(key(0), -1), RangeError);
  assert.throws(() => split(key(0), 1.5), RangeError);
});

Deno.test("foldIn() matches jax.random.fold_in bit for bit", () => {
  for (const c of fixture.fold_in) {
    assert.deepEqual(keyData(foldIn(key(c.seed), c.data)), c.key, `seed ${c.seed} data ${c.data}`);
  }
  for (const bad of [-1, 2 ** 32, 0.5]) assert.throws(() => foldIn(key(0), bad), RangeError);
});

Deno.test("bits() matches jax.random.bits bit for bit", () => {
  for (const c of fixture.bits) {
    assert.deepEqual([...bits(key(c.seed), c.shape)], c.values, `seed ${c.seed} [${c.shape}]`);
  }
});

Deno.test("bits() rejects shapes that are not non-negative integers", () => {
  for (const bad of [[-1], [2, 1.5], [NaN], [2 ** 31]]) {
    assert.throws(() => bits(key(0), bad), RangeError, `shape [${bad}]`);
  }
  assert.throws(() => bits(key(0), [-1]), {
    message: "Shape for bits() must be an array of non-negative integers, got [-1]",
  });
});

Deno.test("uniform() matches jax.random.uniform bit for bit", () => {
  noLeak(() => {
    for (const c of fixture.uniform) {
      const got = take(uniform(key(c.seed), c.shape, { minval: c.minval, maxval: c.maxval }));
      const where = `seed ${c.seed} [${c.shape}] [${c.minval}, ${c.maxval})`;
      assert.equal(got.dtype, "float32");
      assert.deepEqual(got.shape, c.shape, where);
      assert.deepEqual(f32Bits(Float32Array.from(got.values)), c.bits, where);
    }
  });
});

Deno.test("uniform() rejects bad bounds and shapes", () => {
  noLeak(() => {
    assert.throws(() => uniform(key(0), [2], { minval: NaN }), RangeError);
    assert.throws(() => uniform(key(0), [2], { maxval: Infinity }), RangeError);
    assert.throws(() => uniform(key(0), [2, -3]), RangeError);
  });
});

Deno.test("normal() is within 1e-6 of jax.random.normal", () => {
  noLeak(() => {
    let exact = 0;
    let total = 0;
    for (const c of fixture.normal) {
      const got = take(normal(key(c.seed), c.shape, { mean: c.mean, stddev: c.stddev }));
      const want = fromBits(c.bits);
      assert.equal(got.dtype, "float32");
      assert.deepEqual(got.shape, c.shape);
      for (let i = 0; i < want.length; i++) {
        const err = Math.abs(got.values[i] - want[i]);
        // 1e-6 for the standard normal, scaled by stddev plus one float32 rounding of the result.
        const tol = 1e-6 * Math.abs(c.stddev) + Math.abs(want[i]) * 2 ** -23;
        assert.ok(err <= tol, `seed ${c.seed} [${i}]: ${got.values[i]} vs ${want[i]}`);
        if (got.values[i] === want[i]) exact++;
        total++;
      }
    }
    // Replaying XLA's float32 erfinv lands on JAX's exact value almost always.
    assert.ok(exact / total > 0.95, `only ${exact} of ${total} exact`);
  });
});

Deno.test("randint() matches jax.random.randint bit for bit", () => {
  noLeak(() => {
    for (const c of fixture.randint) {
      const got = take(randint(key(c.seed), c.shape, c.minval, c.maxval));
      const where = `seed ${c.seed} [${c.shape}] [${c.minval}, ${c.maxval})`;
      assert.equal(got.dtype, "int32");
      assert.deepEqual(got.shape, c.shape, where);
      assert.deepEqual(got.values, c.values, where);
    }
  });
});

Deno.test("randint() rejects bounds that are not int32", () => {
  for (const [lo, hi] of [[0, 2 ** 31], [-(2 ** 31) - 1, 0], [0, 1.5]]) {
    assert.throws(() => randint(key(0), [2], lo, hi), RangeError, `[${lo}, ${hi})`);
  }
});

Deno.test("permutation() matches jax.random.permutation bit for bit", () => {
  noLeak(() => {
    for (const c of fixture.permutation) {
      const got = take(permutation(key(c.seed), c.n));
      assert.equal(got.dtype, "int32");
      assert.deepEqual(got.shape, [c.n]);
      assert.deepEqual(got.values, c.values, `seed ${c.seed} n ${c.n} (${c.rounds} rounds)`);
      assert.deepEqual([...permutationIndices(key(c.seed), c.n)], c.values);
    }
    assert.deepEqual(take(permutation(key(0), 0)).values, []);
  });
});

Deno.test("permutation() of a tensor permutes its rows as JAX does", () => {
  noLeak(() => {
    for (const c of fixture.permutation_rows) {
      const x = rowsOfIndex(c.rows, c.cols);
      const got = take(permutation(key(c.seed), x));
      x.dispose();
      assert.deepEqual(got.shape, [c.rows, c.cols]);
      const firstOfRow = got.values.filter((_, i) => i % c.cols === 0);
      assert.deepEqual(firstOfRow, c.values, `seed ${c.seed}`);
      // Each row stays whole: all of its entries name the same source row.
      got.values.forEach((v, i) => assert.equal(v, firstOfRow[Math.floor(i / c.cols)]));
    }
    const ints = tf.tensor1d([10, 11, 12], "int32");
    const p = take(permutation(key(1), ints));
    ints.dispose();
    assert.equal(p.dtype, "int32");
    assert.deepEqual([...p.values].sort(), [10, 11, 12]);
    const scalar = tf.scalar(3);
    assert.throws(() => permutation(key(0), scalar), RangeError);
    scalar.dispose();
  });
});

Deno.test("permutation() rejects a population that is not a non-negative integer", () => {
  for (const bad of [-1, 2.5, 2 ** 31]) assert.throws(() => permutation(key(0), bad), RangeError);
});

Deno.test("choice() matches jax.random.choice bit for bit", () => {
  noLeak(() => {
    for (const c of fixture.choice) {
      const got = take(choice(key(c.seed), c.n, c.shape, { replace: c.replace }));
      const where = `seed ${c.seed} n ${c.n} [${c.shape}] replace ${c.replace}`;
      assert.equal(got.dtype, "int32");
      assert.deepEqual(got.shape, c.shape, where);
      assert.deepEqual(got.values, c.values, where);
    }
  });
});

Deno.test("choice() of a tensor draws its rows as JAX does", () => {
  noLeak(() => {
    for (const c of fixture.choice_rows) {
      const x = rowsOfIndex(c.rows, c.cols);
      const got = take(choice(key(c.seed), x, c.shape, { replace: c.replace }));
      x.dispose();
      assert.deepEqual(got.shape, [...c.shape, c.cols]);
      assert.deepEqual(got.values.filter((_, i) => i % c.cols === 0), c.values, `seed ${c.seed}`);
    }
    const x = rowsOfIndex(4, 2);
    const none = take(choice(key(0), x, [0]));
    x.dispose();
    assert.deepEqual(none.shape, [0, 2]);
  });
});

Deno.test("choice() without replacement refuses more draws than items", () => {
  noLeak(() => {
    assert.throws(() => choice(key(0), 5, [6], { replace: false }), {
      name: "RangeError",
      message:
        "Cannot take a larger sample (size 6) than the population (size 5) without replacement",
    });
    assert.throws(() => choice(key(0), 0, [1]), RangeError);
    assert.throws(() => choice(key(0), 5, [-1]), RangeError);
    assert.deepEqual(take(choice(key(0), 0, [0])).shape, [0]);
  });
});

Deno.test("the same key gives the same numbers, and different keys differ", () => {
  noLeak(() => {
    const a = take(uniform(key(7), [64]));
    const b = take(uniform(key(7), [64]));
    const c = take(uniform(key(8), [64]));
    assert.deepEqual(a.values, b.values);
    assert.notDeepEqual(a.values, c.values);
    const [k1, k2] = split(key(7));
    assert.notDeepEqual([...bits(k1, [8])], [...bits(k2, [8])]);
    assert.deepEqual(take(normal(k1, [5])).values, take(normal(k1, [5])).values);
    assert.deepEqual(take(randint(k2, [9], 0, 100)).values, take(randint(k2, [9], 0, 100)).values);
  });
});

Deno.test("split(k, n)[i] equals foldIn(k, i)", () => {
  const k = key(123);
  split(k, 6).forEach((s, i) => assert.deepEqual(s, foldIn(k, i)));
});

Deno.test("bitsInto() hashes a million words well under a second", () => {
  const out = new Uint32Array(1 << 20);
  bitsInto(key(0), out); // warm up
  const t0 = performance.now();
  bitsInto(key(1), out);
  const ms = performance.now() - t0;
  assert.ok(ms < 500, `took ${ms.toFixed(0)} ms`);
  assert.equal(out[0], bits(key(1), [1])[0]);
});

Deno.test("samplers stay fast on large draws", () => {
  noLeak(() => {
    const t0 = performance.now();
    tf.dispose([
      uniform(key(0), [1 << 20]),
      normal(key(1), [1 << 20]),
      randint(key(2), [1 << 20], 0, 1000),
      permutation(key(3), 1 << 18),
    ]);
    const ms = performance.now() - t0;
    assert.ok(ms < 3000, `took ${ms.toFixed(0)} ms`);
  });
});

/** fma(a, b, c) for float32 inputs, rounded once to float32, by exact BigInt arithmetic. */
function exactFmaF32(a: number, b: number, c: number): number {
  // Every finite float32 is an integer multiple of 2^-149.
  const m = (x: number) => BigInt(x * 2 ** 149);
  let n = m(a) * m(b) + (m(c) << 149n); // (a * b + c) * 2^298
  const negative = n < 0n;
  if (negative) n = -n;
  // Round to odd at 53 bits, then to float32: correct since 53 >= 24 + 2.
  const length = n.toString(2).length;
  let d: number;
  if (length <= 53) {
    d = Number(n);
  } else {
    const shift = BigInt(length - 53);
    const sticky = (n & ((1n << shift) - 1n)) !== 0n ? 1n : 0n;
    d = Number((n >> shift) | sticky) * 2 ** Number(shift);
  }
  return Math.fround((negative ? -d : d) * 2 ** -298);
}

Deno.test("fmaF32() rounds a * b + c once, as a fused multiply-add does", () => {
  // A double-rounding trap: a * b + c lies just below a float32 midpoint, and the float64 sum
  // lands on it exactly.
  const a = Math.fround((1 + 2 ** -23) * 2 ** -12);
  const b = Math.fround((1 - 2 ** -23) * 2 ** -12);
  const c = Math.fround(1 + 2 ** -23);
  assert.equal(Math.fround(a * b + c), 1 + 2 ** -22); // what a naive float64 sum gives
  assert.equal(fmaF32(a, b, c), c);
  assert.equal(fmaF32(-a, b, -c), -c);
  // Random float32 triples over a spread of exponents.
  const words = bits(key(5), [3, 20000]);
  const f = (w: number) => {
    const mantissa = 1 + (w >>> 9) * 2 ** -23;
    const exponent = ((w >>> 3) & 63) - 40;
    return Math.fround((w & 1 ? -1 : 1) * mantissa * 2 ** exponent);
  };
  for (let i = 0; i < 20000; i++) {
    const [x, y, z] = [f(words[i]), f(words[20000 + i]), f(words[40000 + i])];
    assert.equal(fmaF32(x, y, z), exactFmaF32(x, y, z), `fma(${x}, ${y}, ${z})`);
  }
});

Deno.test("stableOrder() gives the same stable order packed or with a comparator", () => {
  const words = bits(key(9), [5000]);
  const fewKeys = words.map((w) => w % 7); // many ties
  for (const keys of [words, fewKeys]) {
    const packed = stableOrder(keys, true);
    assert.deepEqual(packed, stableOrder(keys, false));
    for (let i = 1; i < packed.length; i++) {
      const [p, q] = [packed[i - 1], packed[i]];
      assert.ok(keys[p] < keys[q] || (keys[p] === keys[q] && p < q));
    }
  }
});
