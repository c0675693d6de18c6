import assert from "node:assert/strict";
import * as E from "fp-ts/Either";
import { hostTensor, openTensorFile, type TensorSource, writeNpz } from "../io/mod.ts";
import type { Problem } from "../problem.ts";

const fixture = (p: string) => new URL(`./fixtures/io/${p}`, import.meta.url);

function right<A>(r: E.Either<Problem, A>): A {
  if (E.isLeft(r)) {
    assert.fail(`Expected Right, got ${r.left._tag}: ${r.left.where}: ${r.left.message}`);
  }
  return r.right;
}

async function withSource(
  path: string | URL,
  f: (s: TensorSource) => Promise<void>,
): Promise<void> {
  const s = right(await openTensorFile(path));
  try {
    await f(s);
  } finally {
    s.close();
  }
}

Deno.test("openTensorFile() opens an .npy file as one tensor named after the file", async () => {
  await withSource(fixture("npy/float32_be_f.npy"), async (s) => {
    assert.deepEqual(s.entries, [{ name: "float32_be_f", dtype: "float32", shape: [2, 3, 4] }]);
    assert.equal(right(await s.read("float32_be_f")).data.length, 24);
    const missing = await s.read("other");
    assert.ok(E.isLeft(missing) && missing.left._tag === "NotFound");
  });
});

Deno.test("openTensorFile() opens .npz, .safetensors and sharded index files", async () => {
  await withSource(fixture("npz/deflated.npz"), async (s) => {
    assert.deepEqual(s.entries.map((e) => e.name), ["prompt", "ids", "mask", "half"]);
    assert.equal(right(await s.read("ids")).dtype, "int64");
  });
  await withSource(fixture("st/all_dtypes.safetensors"), async (s) => {
    assert.equal(s.entries.length, 13);
    assert.equal(right(await s.read("t_bfloat16")).dtype, "bfloat16");
  });
  await withSource(fixture("st/sharded/model.safetensors.index.json"), async (s) => {
    assert.equal(s.entries.length, 4);
    assert.deepEqual(right(await s.read("layer/b")).shape, [4]);
  });
});

Deno.test("openTensorFile() matches extensions without regard to case", async () => {
  const dir = await Deno.makeTempDir();
  try {
    right(await writeNpz(`${dir}/A.NPZ`, { x: hostTensor("int8", [1], new Int8Array([1])) }));
    await withSource(`${dir}/A.NPZ`, (s) => Promise.resolve(assert.equal(s.entries[0].name, "x")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openTensorFile() reports a missing file as NotFound and an unknown extension as Unsupported", async () => {
  const missing = await openTensorFile("/nonexistent/prompt.safetensors");
  assert.ok(E.isLeft(missing));
  assert.equal(missing.left._tag, "NotFound");
  const unknown = await openTensorFile(fixture("real_summaries.json"));
  assert.ok(E.isLeft(unknown));
  assert.equal(unknown.left._tag, "Unsupported");
  assert.match(unknown.left.message, /Unknown tensor file extension; expected one of \.npy \.npz/);
});

Deno.test("openTensorFile() passes on the format's problem", async () => {
  const path = await Deno.makeTempFile({ suffix: ".npy" });
  try {
    await Deno.writeTextFile(path, "not numpy");
    const r = await openTensorFile(path);
    assert.ok(E.isLeft(r));
    assert.equal(r.left._tag, "Corrupt");
    assert.equal(r.left.where, path);
  } finally {
    await Deno.remove(path);
  }
});
