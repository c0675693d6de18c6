/**
 * Matrix products of the step's shapes against this machine's WASM SIMD peak, on 1 and 2
 * threads (dev-time; `deno task bench:matmul`).
 *
 * - **Peak**: a WASM kernel of 8 independent `f32x4` multiply-adds per iteration (`f32x4.mul`
 *   then `f32x4.add`; and `f32x4.relaxed_madd` where V8 validates relaxed SIMD), timed on one
 *   thread, and on as many Deno workers at once as there are threads.
 * - **Products**: `tf.matMul` on the WASM backend for the shapes of a t5-small-shaped step
 *   (M = 8 × 148 encoder positions) and of SmolLM2-135M's (M = 8 × 85), plain and with an
 *   operand transposed as the backward pass uses them, through the kernel the model code installs
 *   (`model/kernels/matmul.ts`: our own kernel, `model/kernels/wasm/`, transposition by strides),
 *   each in a fresh process per thread count (the backend's threads are fixed when it starts).
 *
 * ```text
 * deno run -A bench/matmul.ts [--threads 1,2] [--reps 15]
 * ```
 *
 * Prints one JSON object: the peaks (GFLOP/s, each the best of 5 runs), and for each shape and
 * thread count the best and the median GFLOP/s over `--reps` runs (after 3 warm-up runs), the
 * best's share of the peak of that many threads (best against best: both are what the machine
 * gives when nothing else takes it) and the median's, and the 1 → 2 scaling of both.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { initBackend, wasmThreads } from "../backend.ts";
import { orThrow } from "../problem.ts";
import { fastMatMulThreads, useFastMatMul } from "../model/kernels/matmul.ts";

/** [name, M, K, N, transposeA, transposeB]: the step's products (forward and backward). */
const SHAPES: readonly [string, number, number, number, boolean, boolean][] = [
  ["t5-small attention q/k/v/o: x·W", 1184, 512, 384, false, false],
  ["t5-small FF in: x·W", 1184, 512, 1024, false, false],
  ["t5-small FF out backward: dY·Wᵀ", 1184, 512, 1024, false, true],
  ["t5-small Xᵀ·dY shape (a transposed left operand)", 512, 1184, 1024, true, false],
  ["SmolLM2 q/o: x·W", 680, 576, 576, false, false],
  ["SmolLM2 MLP gate/up: x·W", 680, 576, 1536, false, false],
  ["SmolLM2 MLP down backward: dY·Wᵀ", 680, 576, 1536, false, true],
  ["SmolLM2 tied head at 8 positions: h·Eᵀ", 8, 576, 49152, false, true],
];

// The kernel, in WebAssembly text: `iters` rounds of 8 accumulators a = a * m + c.
const WAT = (madd: "split" | "relaxed") => `
(module
  (func (export "run") (param $n i32) (result f32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local $m v128) (local $c v128)
    (local.set $m (v128.const f32x4 0.999 0.999 0.999 0.999))
    (local.set $c (v128.const f32x4 0.001 0.001 0.001 0.001))
    (loop $l
      ${
  [0, 1, 2, 3, 4, 5, 6, 7].map((i) =>
    madd === "relaxed"
      ? `(local.set $a${i} (f32x4.relaxed_madd (local.get $a${i}) (local.get $m) (local.get $c)))`
      : `(local.set $a${i} (f32x4.add (f32x4.mul (local.get $a${i}) (local.get $m)) (local.get $c)))`
  ).join("\n      ")
}
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0))))
    (f32x4.extract_lane 0 (f32x4.add (local.get $a0) (local.get $a7)))))
`;

const FLOP_PER_ITER = 8 * 4 * 2;

/**
 * The peak kernel as WebAssembly bytes, or undefined where this runtime does not validate it
 * (`"relaxed"` uses `f32x4.relaxed_madd`, so it says whether V8 here has relaxed SIMD).
 *
 * @param madd `"split"` (`f32x4.mul` then `f32x4.add`) or `"relaxed"`
 * @returns the module's bytes, or undefined when `WebAssembly.validate` refuses them
 * @example
 * ```ts
 * import { kernelBytes } from "./matmul.ts";
 * import assert from "node:assert/strict";
 * assert((await kernelBytes("split")) instanceof Uint8Array);
 * ```
 */
export async function kernelBytes(
  madd: "split" | "relaxed",
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const wabt = await (await import("wabt")).default();
  const features = { simd: true, relaxed_simd: true };
  const mod = wabt.parseWat("peak.wat", WAT(madd), features);
  const { buffer } = mod.toBinary({});
  mod.destroy();
  const bytes = new Uint8Array(buffer.slice().buffer as ArrayBuffer);
  return WebAssembly.validate(bytes) ? bytes : undefined;
}

/** GFLOP/s of the kernel on this thread (best of 5 runs of ~0.2 s). */
function peakHere(bytes: Uint8Array<ArrayBuffer>): number {
  const run = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.run as (
    n: number,
  ) => number;
  const iters = 20_000_000;
  run(iters / 10);
  let best = 0;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    run(iters);
    best = Math.max(best, (iters * FLOP_PER_ITER) / ((performance.now() - t) / 1000) / 1e9);
  }
  return best;
}

/** The kernel on `n` workers at once: the sum of their GFLOP/s. */
async function peakOn(n: number, bytes: Uint8Array): Promise<number> {
  const src = `self.onmessage = (e) => {
    const run = new WebAssembly.Instance(new WebAssembly.Module(e.data)).exports.run;
    const iters = 20000000; run(iters / 10); let best = 0;
    for (let r = 0; r < 5; r++) { const t = performance.now(); run(iters);
      best = Math.max(best, iters * ${FLOP_PER_ITER} / ((performance.now() - t) / 1000) / 1e9); }
    self.postMessage(best); };`;
  const url = URL.createObjectURL(new Blob([src], { type: "text/javascript" }));
  const workers = Array.from({ length: n }, () => new Worker(url, { type: "module" }));
  const rates = await Promise.all(workers.map((w) =>
    new Promise<number>((resolve) => {
      w.onmessage = (e) => resolve(e.data as number);
      w.postMessage(bytes);
    })
  ));
  workers.forEach((w) => w.terminate());
  return rates.reduce((a, b) => a + b, 0);
}

/** In a child process: the products' best and median GFLOP/s on this process's threads. */
async function products(reps: number): Promise<Record<string, number>> {
  orThrow(await initBackend("wasm"));
  useFastMatMul(); // as the model code does before its first product
  const out: Record<string, number> = {
    threads: wasmThreads(),
    kernelThreads: fastMatMulThreads(),
  };
  for (const [name, m, k, n, ta, tb] of SHAPES) {
    const a = tf.randomNormal(ta ? [k, m] : [m, k], 0, 1, "float32", 1);
    const b = tf.randomNormal(tb ? [n, k] : [k, n], 0, 1, "float32", 2);
    const times: number[] = [];
    for (let r = 0; r < reps + 3; r++) {
      // The WASM backend computes in the call; reading the result back is not the product's time.
      const t = performance.now();
      const c = tf.matMul(a, b, ta, tb);
      const ms = performance.now() - t;
      await c.data();
      if (r > 2) times.push(ms);
      c.dispose();
    }
    tf.dispose([a, b]);
    times.sort((x, y) => x - y);
    const rate = (ms: number) => (2 * m * k * n) / (ms / 1000) / 1e9;
    out[name] = rate(times[0]);
    out[`${name} (median)`] = rate(times[Math.floor(times.length / 2)]);
  }
  return out;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      threads: { type: "string", default: "1,2" },
      reps: { type: "string", default: "15" },
      child: { type: "boolean", default: false },
    },
  });
  const reps = Number(values.reps);
  if (values.child) {
    console.log(JSON.stringify(await products(reps)));
    Deno.exit(0);
  }
  const threads = values.threads.split(",").map(Number);
  const split = (await kernelBytes("split"))!;
  const relaxed = await kernelBytes("relaxed");
  const peak: Record<string, number> = {};
  for (const t of threads) {
    peak[`mul+add, ${t} thread${t > 1 ? "s" : ""}`] = t === 1
      ? peakHere(split)
      : await peakOn(t, split);
    if (relaxed) {
      peak[`relaxed_madd, ${t} thread${t > 1 ? "s" : ""}`] = t === 1
        ? peakHere(relaxed)
        : await peakOn(t, relaxed);
    }
  }
  const runs: Record<number, Record<string, number>> = {};
  for (const t of threads) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL(import.meta.url).pathname, "--child", "--reps", String(reps)],
      env: { SOFT_PROMPT_THREADS: String(t) },
      stderr: "inherit",
    }).output();
    runs[t] = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  }
  const best = (t: number) =>
    Math.max(
      peak[`mul+add, ${t} thread${t > 1 ? "s" : ""}`],
      peak[`relaxed_madd, ${t} thread${t > 1 ? "s" : ""}`] ?? 0,
    );
  const shapes = SHAPES.map(([name, m, k, n, ta, tb]) => ({
    name,
    m,
    k,
    n,
    transposeA: ta,
    transposeB: tb,
    ...Object.fromEntries(threads.flatMap((t) => [
      [`gflops${t}`, Number(runs[t][name].toFixed(2))],
      [`ofPeak${t}`, Number((runs[t][name] / best(t)).toFixed(3))],
      [`medianGflops${t}`, Number(runs[t][`${name} (median)`].toFixed(2))],
      [`medianOfPeak${t}`, Number((runs[t][`${name} (median)`] / best(t)).toFixed(3))],
    ])),
    ...(threads.includes(1) && threads.includes(2)
      ? {
        scaling: Number((runs[2][name] / runs[1][name]).toFixed(2)),
        medianScaling: Number(
          (runs[2][`${name} (median)`] / runs[1][`${name} (median)`]).toFixed(2),
        ),
      }
      : {}),
  }));
  console.log(JSON.stringify(
    {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      tfjs: tf.version.tfjs,
      cores: navigator.hardwareConcurrency,
      relaxedSimd: relaxed !== undefined,
      threadsStarted: Object.fromEntries(threads.map((t) => [t, runs[t].threads])),
      kernelThreads: Object.fromEntries(threads.map((t) => [t, runs[t].kernelThreads])),
      peakGflops: Object.fromEntries(
        Object.entries(peak).map(([k, v]) => [k, Number(v.toFixed(2))]),
      ),
      shapes,
    },
    null,
    1,
  ));
}
