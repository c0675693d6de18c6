/**
 * Builds the committed matrix-product kernels from their generated text (dev-time; wabt from
 * npm, nothing else):
 *
 * ```sh
 * npx -y deno@2.9.6 run -A model/kernels/wasm/build.ts [--check]
 * ```
 *
 * Writes `gemm-relaxed.wasm`, `gemm-relaxed-shared.wasm`, `gemm-split.wasm` and
 * `gemm-split-shared.wasm` beside this file; with `--check`, writes nothing and fails when a
 * committed file differs from what it would write.
 *
 * @module
 */
import { gemmWat } from "./gemm_wat.ts";
import { writeFileAtomic } from "../../../io/files.ts";

/** The four builds: multiply-add kind × memory sharedness, by file name. */
export const BUILDS: readonly { file: string; relaxed: boolean; shared: boolean }[] = [
  { file: "gemm-relaxed.wasm", relaxed: true, shared: false },
  { file: "gemm-relaxed-shared.wasm", relaxed: true, shared: true },
  { file: "gemm-split.wasm", relaxed: false, shared: false },
  { file: "gemm-split-shared.wasm", relaxed: false, shared: true },
];

/**
 * One build's bytes, assembled by wabt.
 *
 * @param options the multiply-add kind and whether the memory is shared
 * @returns the module's bytes
 * @example
 * ```ts
 * import { assemble } from "./build.ts";
 * import assert from "node:assert/strict";
 * assert(WebAssembly.validate(await assemble({ relaxed: false, shared: false })));
 * ```
 */
export async function assemble(
  options: { relaxed: boolean; shared: boolean },
): Promise<Uint8Array<ArrayBuffer>> {
  const wabt = await (await import("wabt")).default();
  const features = { simd: true, relaxed_simd: true, threads: true };
  const mod = wabt.parseWat("gemm.wat", gemmWat(options), features);
  try {
    // wabt's own validator refuses shared memories whatever the features; V8 checks instead.
    const bytes = new Uint8Array(mod.toBinary({}).buffer.slice().buffer as ArrayBuffer);
    if (!WebAssembly.validate(bytes)) throw new Error("the kernel's module does not validate");
    return bytes;
  } finally {
    mod.destroy();
  }
}

if (import.meta.main) {
  const check = Deno.args.includes("--check");
  let stale = 0;
  for (const build of BUILDS) {
    const path = new URL(build.file, import.meta.url);
    const bytes = await assemble(build);
    if (check) {
      const now = await Deno.readFile(path).catch(() => new Uint8Array());
      const same = now.length === bytes.length && now.every((b, i) => b === bytes[i]);
      if (!same) {
        console.error(`${build.file} differs from its build: run model/kernels/wasm/build.ts`);
        stale++;
      }
    } else {
      await writeFileAtomic(path.pathname, bytes);
      console.log(`${build.file}: ${bytes.length} bytes`);
    }
  }
  if (stale > 0) Deno.exit(1);
}
