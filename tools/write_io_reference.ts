/**
 * Writes reference files with our writers, for `tools/check_written_files.py` to load with numpy
 * and the Python safetensors package (dev-time only):
 *
 *     npx -y deno@2.9.6 run -A tools/write_io_reference.ts /tmp/io-written
 *     .venv/bin/python tools/check_written_files.py /tmp/io-written
 *
 * The values follow formulas both sides compute independently (see `sample` here and in the
 * Python script).
 */
import * as E from "fp-ts/Either";
import { type DType, DTYPES, type HostTensor, hostTensor, readNpy, writeNpy, writeNpz, writeSafetensors } from "../io/mod.ts";
import { bfloat16Bits, float16Bits } from "../io/host_tensor.ts";

function fail(message: string): never {
  console.error(message);
  Deno.exit(1);
}

const dir = Deno.args[0] ?? fail("Usage: deno run -A tools/write_io_reference.ts OUT_DIR");
const SHAPE = [2, 3, 4];
const N = 24;

/** Flat index i → value; floats carry NaN, -Infinity and -0 at the first three places. */
function sample(dtype: DType): HostTensor {
  const i = Array.from({ length: N }, (_, k) => k);
  const floats = i.map((
    k,
  ) => (k === 0 ? NaN : k === 1 ? -Infinity : k === 2 ? -0 : (k - 12) * 0.375));
  switch (dtype) {
    case "float16":
      return hostTensor(dtype, SHAPE, float16Bits(floats));
    case "bfloat16":
      return hostTensor(dtype, SHAPE, bfloat16Bits(floats));
    case "float32":
      return hostTensor(dtype, SHAPE, Float32Array.from(floats));
    case "float64":
      return hostTensor(dtype, SHAPE, Float64Array.from(floats));
    case "int8":
      return hostTensor(dtype, SHAPE, Int8Array.from(i, (k) => (k - 12) * 10));
    case "int16":
      return hostTensor(dtype, SHAPE, Int16Array.from(i, (k) => (k - 12) * 1000));
    case "int32":
      return hostTensor(dtype, SHAPE, Int32Array.from(i, (k) => (k - 12) * 100_000_000));
    case "int64":
      return hostTensor(
        dtype,
        SHAPE,
        BigInt64Array.from(i, (k) => BigInt(k - 12) * 10n ** 15n + 1n),
      );
    case "uint8":
      return hostTensor(dtype, SHAPE, Uint8Array.from(i, (k) => k * 10));
    case "bool":
      return hostTensor(dtype, SHAPE, Uint8Array.from(i, (k) => (k % 3 === 0 ? 1 : 0)));
  }
}

const ok = (r: E.Either<{ message: string }, unknown>) => {
  if (E.isLeft(r)) fail(r.left.message);
};

{
  {
    const out = dir;
    await Deno.mkdir(`${out}/npy`, { recursive: true });
    const all = new Map(DTYPES.map((d) => [d, sample(d)]));
    for (const [d, t] of all) ok(await writeNpy(`${out}/npy/${d}.npy`, t));
    const numpyable = new Map([...all].filter(([d]) => d !== "bfloat16"));
    ok(await writeNpz(`${out}/stored.npz`, numpyable));
    ok(await writeNpz(`${out}/deflated.npz`, numpyable, { compress: true }));
    const extra = new Map<string, HostTensor>([
      ["scalar", hostTensor("float32", [], new Float32Array([1.5]))],
      ["empty", hostTensor("float32", [0, 4], new Float32Array(0))],
      ["nested/name.with.dots", hostTensor("int32", [3], new Int32Array([0, 1, 2]))],
    ]);
    ok(
      await writeSafetensors(`${out}/all.safetensors`, new Map([...all, ...extra]), {
        format: "np",
        writer: "soft-prompt io",
      }),
    );
    // A real prompt, copied through our reader and writers.
    const sst2 = new URL(
      "../tests/data/prompt-tuning/pretrained_prompts/t5_1_1_lm100k_base/sst2.npy",
      import.meta.url,
    );
    const prompt = await readNpy(sst2);
    if (E.isLeft(prompt)) {
      fail(`Reference file missing or unreadable: ${prompt.left.message}`);
    }
    ok(await writeNpy(`${out}/sst2_copy.npy`, prompt.right));
    ok(await writeSafetensors(`${out}/sst2.safetensors`, { prompt: prompt.right }));
  }
}
console.log(`Wrote reference files to ${dir}`);
