import assert from "node:assert/strict";
import { assemble, BUILDS } from "../model/kernels/wasm/build.ts";
import { type Product, startGemm } from "../model/kernels/wasm/gemm.ts";

/** A memory of its own with a bump allocator, as tfjs's module would give. */
function arena(shared: boolean) {
  const memory = new WebAssembly.Memory({ initial: 512, maximum: 4096, shared });
  let top = 64;
  const malloc = (bytes: number) => {
    const at = top;
    top += (bytes + 63) & ~63;
    if (top > memory.buffer.byteLength) memory.grow(Math.ceil(top / 65536));
    return at;
  };
  return { memory, malloc };
}

/** C = op(A) · op(B) for each entry, in float64, from row-major arrays. */
function reference(
  a: Float32Array,
  b: Float32Array,
  [batch, m, n, k]: number[],
  ta: boolean,
  tb: boolean,
): Float64Array {
  const out = new Float64Array(batch * m * n);
  for (let e = 0; e < batch; e++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let l = 0; l < k; l++) {
          s += a[e * m * k + (ta ? l * m + i : i * k + l)] *
            b[e * k * n + (tb ? j * k + l : l * n + j)];
        }
        out[e * m * n + i * n + j] = s;
      }
    }
  }
  return out;
}

const CASES: [number, number, number, number, boolean, boolean][] = [
  [1, 1, 1, 1, false, false],
  [1, 7, 13, 5, false, false],
  [1, 67, 130, 300, false, false], // columns split between threads, k past one block
  [1, 300, 67, 130, true, true],
  [1, 10, 1030, 260, false, true], // dot products (few rows), columns past one block
  [1, 20, 1040, 600, false, false], // B read where it lies (few rows)
  [3, 30, 70, 50, true, false], // the batch split
  [1, 200, 20, 300, false, true], // rows split (few columns)
];

for (const shared of [false, true]) {
  Deno.test(`startGemm() on a ${shared ? "shared" : "plain"} memory gives plain products on ${shared ? 2 : 1} thread${shared ? "s" : ""}`, async () => {
    const mem = arena(shared);
    const gemm = await startGemm(mem, 2);
    assert.equal(gemm.threads, shared ? 2 : 1);
    CASES.forEach(([batch, m, n, k, ta, tb], c) => {
      const a = mem.malloc(4 * batch * m * k), b = mem.malloc(4 * batch * k * n);
      const out = mem.malloc(4 * batch * m * n);
      const av = Float32Array.from({ length: batch * m * k }, (_, i) => Math.sin(i * 0.37 + c));
      const bv = Float32Array.from({ length: batch * k * n }, (_, i) => Math.cos(i * 0.11 - c));
      new Float32Array(mem.memory.buffer, a, av.length).set(av);
      new Float32Array(mem.memory.buffer, b, bv.length).set(bv);
      const p: Product = {
        batch,
        m,
        n,
        k,
        a,
        ars: ta ? 4 : 4 * k,
        acs: ta ? 4 * m : 4,
        sa: 4 * m * k,
        b,
        brs: tb ? 4 : 4 * n,
        bcs: tb ? 4 * k : 4,
        sb: 4 * k * n,
        c: out,
        ldc: 4 * n,
        sc: 4 * m * n,
      };
      gemm.run(p);
      const got = new Float32Array(mem.memory.buffer, out, batch * m * n);
      const want = reference(av, bv, [batch, m, n, k], ta, tb);
      let err = 0;
      want.forEach((w, i) => (err = Math.max(err, Math.abs(got[i] - w) / (1 + Math.abs(w)))));
      assert.ok(err < 1e-5, `case ${c} (${[batch, m, n, k, ta, tb]}): relative error ${err}`);
    });
  });
}

Deno.test("the committed .wasm kernels are what build.ts assembles from gemm_wat.ts", async () => {
  for (const build of BUILDS) {
    const committed = await Deno.readFile(
      new URL(`../model/kernels/wasm/${build.file}`, import.meta.url),
    );
    assert.deepEqual(
      committed,
      await assemble(build),
      `${build.file} is stale: run model/kernels/wasm/build.ts`,
    );
  }
});
