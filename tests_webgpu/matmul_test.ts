/**
 * Products on WebGPU equal the WASM backend's, in particular `a · bᵀ` with a long inner dimension
 * (an output head's gradient), which tfjs-webgpu 4.22's split-K program gets wrong unless the
 * library's `BatchMatMul` (model/kernels/webgpu_matmul.ts) transposes `b` first.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { use } from "./_webgpu.ts";

await use("webgpu");

/** `matMul(a, b, transposeA, transposeB)` of seeded normal operands on `backend`. */
async function product(
  backend: "wasm" | "webgpu",
  a: number[],
  b: number[],
  transposeA: boolean,
  transposeB: boolean,
): Promise<Float32Array> {
  await use(backend);
  const before = tf.memory().numTensors;
  const c = tf.tidy(() =>
    tf.matMul(
      tf.randomNormal(a, 0, 1, "float32", 1),
      tf.randomNormal(b, 0, 1, "float32", 2),
      transposeA,
      transposeB,
    )
  );
  const values = await c.data() as Float32Array;
  c.dispose();
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  return values;
}

const cases: [number[], number[], boolean, boolean][] = [
  [[6, 8192], [128, 8192], false, true], // dy · Wᵀ of a head: the split-K case
  [[1, 6, 8192], [1, 128, 8192], false, true],
  [[8192, 6], [128, 8192], true, true],
  [[6, 8192], [8192, 128], false, false],
  [[8192, 6], [8192, 128], true, false],
  [[2, 4, 9, 32], [2, 4, 9, 32], false, true], // attention scores
];

for (const [a, b, ta, tb] of cases) {
  Deno.test(`matMul([${a}], [${b}], ${ta}, ${tb}) on WebGPU equals WASM's`, async () => {
    const want = await product("wasm", a, b, ta, tb);
    const got = await product("webgpu", a, b, ta, tb);
    assert.equal(got.length, want.length);
    const inner = ta ? a[a.length - 2] : a[a.length - 1];
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    // Entries are sums of `inner` unit normal products (|c| ~ √inner); f32 rounding, not errors.
    assert.ok(worst <= 1e-5 * inner, `max |diff| ${worst}`);
    await use("webgpu");
  });
}
