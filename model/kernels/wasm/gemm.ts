/**
 * Our own matrix products on the WASM backend's memory: the committed kernel (`gemm_wat.ts`,
 * built by `build.ts`) instantiated on tfjs's `WebAssembly.Memory`, driven in blocks (Goto's
 * loops: B in blocks of {@link KC} × {@link NC}, A in blocks of {@link MC} × {@link KC}), and, on
 * tfjs's threaded build (a shared memory), run by the calling thread and a pool of workers at
 * once, each on its share of the batch, the columns or the rows.
 *
 * Products are described by byte addresses and strides ({@link Product}), so a transposed
 * operand is only a change of strides: no copy of it is made.
 *
 * @module
 */
import { DN, MR, NR } from "./gemm_wat.ts";
import { plainNodeWorker } from "../../../_deno_pthreads.ts";

/** Depth of a packed block (k). */
export const KC = 256;
/** Rows of A per packed block. */
export const MC = 96;
/** Columns of B per packed block. */
export const NC = 512;

/** Floats of scratch one thread needs: A's block, B's block, the edge tile. */
const SCRATCH_FLOATS = MC * KC + KC * NC + MR * NR;

/**
 * `C[b] = op(A[b]) · op(B[b])` for each of `batch` entries, as byte addresses into the memory:
 * element (i, k) of entry `e`'s A at `a + e·sa + i·ars + k·acs`, element (k, j) of its B at
 * `b + e·sb + k·brs + j·bcs`, element (i, j) of its C at `c + e·sc + i·ldc + 4j`.
 */
export interface Product {
  /** Entries of the batch. */
  readonly batch: number;
  /** Rows of C. */
  readonly m: number;
  /** Columns of C. */
  readonly n: number;
  /** The inner dimension. */
  readonly k: number;
  /** A's first entry. */
  readonly a: number;
  /** Bytes between A's rows (i). */
  readonly ars: number;
  /** Bytes between A's columns (k). */
  readonly acs: number;
  /** Bytes between A's entries (0: one A for all). */
  readonly sa: number;
  /** B's first entry. */
  readonly b: number;
  /** Bytes between B's rows (k). */
  readonly brs: number;
  /** Bytes between B's columns (j). */
  readonly bcs: number;
  /** Bytes between B's entries (0: one B for all). */
  readonly sb: number;
  /** C's first entry. */
  readonly c: number;
  /** Bytes between C's rows. */
  readonly ldc: number;
  /** Bytes between C's entries. */
  readonly sc: number;
}

/** The kernel's exports. */
interface Kernel {
  pack_a(a: number, rs: number, cs: number, mc: number, kc: number, ap: number): void;
  pack_b(b: number, rs: number, cs: number, kc: number, nc: number, bp: number): void;
  block(
    mc: number,
    nc: number,
    kc: number,
    ap: number,
    bp: number,
    bks: number,
    bpanel: number,
    c: number,
    ldc: number,
    acc: number,
    tile: number,
  ): void;
  dot_block(
    m: number,
    n: number,
    k: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    c: number,
    ldc: number,
    acc: number,
  ): void;
}

/** Fields of a product as the control block holds them, in order. */
const FIELDS = [
  "batch",
  "m",
  "n",
  "k",
  "a",
  "ars",
  "acs",
  "sa",
  "b",
  "brs",
  "bcs",
  "sb",
  "c",
  "ldc",
  "sc",
] as const;

/**
 * Runs the part `[from, to)` of a product along `axis` (0 the batch, 1 the columns, 2 the rows)
 * on one thread with its scratch at `scratch`, B packed whole at `packed` (0: packed here block by
 * block), as dot products when `dot` is 1 (see {@link dotOf}). Self-contained: its text is also what the workers
 * run (so it names nothing outside itself).
 */
function runPart(
  x: Kernel,
  p: Product,
  axis: number,
  from: number,
  to: number,
  scratch: number,
  sizes: readonly number[],
  packed: number,
  dot: number,
): void {
  const [mr, nr, mc, kc, nc] = sizes;
  const ap = scratch, bp = scratch + 4 * mc * kc, tile = bp + 4 * kc * nc;
  let { batch, m, n, a, b, c } = p;
  if (axis === 0) {
    a += from * p.sa, b += from * p.sb, c += from * p.sc, batch = to - from;
  } else if (axis === 1) {
    b += from * p.bcs, c += 4 * from, n = to - from;
  } else {
    a += from * p.ars, c += from * p.ldc, m = to - from;
  }
  const k = p.k;
  for (let e = 0; e < batch; e++) {
    const ae = a + e * p.sa, be = b + e * p.sb, ce = c + e * p.sc;
    if (dot === 1) {
      x.dot_block(m, n, k, ae, p.ars, be, p.bcs, ce, p.ldc, 0);
      continue;
    }
    if (packed !== 0) {
      // All of B packed before (panels [⌈N/NR⌉][K][NR]), shared by the threads: only A's rows.
      for (let pc = 0; pc < k; pc += kc) {
        const kcb = Math.min(kc, k - pc), acc = pc > 0 ? 1 : 0;
        for (let ic = 0; ic < m; ic += mc) {
          const mcb = Math.min(mc, m - ic);
          x.pack_a(ae + ic * p.ars + pc * p.acs, p.ars, p.acs, mcb, kcb, ap);
          const panels = packed + 4 * nr * pc;
          x.block(mcb, n, kcb, ap, panels, 4 * nr, 4 * k * nr, ce + ic * p.ldc, p.ldc, acc, tile);
        }
      }
      continue;
    }
    for (let jc = 0; jc < n; jc += nc) {
      const ncb = Math.min(nc, n - jc);
      for (let pc = 0; pc < k; pc += kc) {
        const kcb = Math.min(kc, k - pc);
        const bBlock = be + pc * p.brs + jc * p.bcs;
        // Few rows: B's panels read where they lie (a copy would cost more than it saves).
        const direct = p.bcs === 4 && m <= 8 * mr && ncb % nr === 0;
        if (!direct) x.pack_b(bBlock, p.brs, p.bcs, kcb, ncb, bp);
        for (let ic = 0; ic < m; ic += mc) {
          const mcb = Math.min(mc, m - ic);
          x.pack_a(ae + ic * p.ars + pc * p.acs, p.ars, p.acs, mcb, kcb, ap);
          const cBlock = ce + ic * p.ldc + 4 * jc, acc = pc > 0 ? 1 : 0;
          if (direct) x.block(mcb, ncb, kcb, ap, bBlock, p.brs, 4 * nr, cBlock, p.ldc, acc, tile);
          else x.block(mcb, ncb, kcb, ap, bp, 4 * nr, 4 * kcb * nr, cBlock, p.ldc, acc, tile);
        }
      }
    }
  }
}

/**
 * Takes parts of a product from a counter shared by the threads until none is left: part `t`
 * is `[t·unit, min(len, (t + 1)·unit))` along `axis`, of `count` parts. With B to be packed whole
 * (`packed`, its address), the first `packs` parts pack B's panels instead, `panels` each, and the
 * others start once every one of them is done (the counter's second word counts them).
 * Self-contained, like {@link runPart} (which it is given, so that the workers' copy calls theirs).
 */
function runTasks(
  part: typeof runPart,
  x: Kernel,
  p: Product,
  plan: readonly number[],
  counter: Int32Array,
  scratch: number,
  sizes: readonly number[],
): void {
  const [axis, unit, count, len, packed, packs, panels, dot] = plan;
  const nr = sizes[1];
  for (;;) {
    const t = Atomics.add(counter, 0, 1);
    if (t >= packs + count) return;
    if (t < packs) {
      const j0 = t * panels * nr, j1 = Math.min(p.n, j0 + panels * nr);
      if (j1 > j0) x.pack_b(p.b + j0 * p.bcs, p.brs, p.bcs, p.k, j1 - j0, packed + 4 * p.k * j0);
      Atomics.add(counter, 1, 1);
      Atomics.notify(counter, 1);
      continue;
    }
    for (let done = Atomics.load(counter, 1); done < packs; done = Atomics.load(counter, 1)) {
      Atomics.wait(counter, 1, done, 10);
    }
    const u = t - packs;
    part(x, p, axis, u * unit, Math.min(len, (u + 1) * unit), scratch, sizes, packed, dot);
  }
}

/**
 * Runs each kernel function on this thread's scratch (its contents are no matter) until V8 has
 * compiled it with its optimizing tier: a thread's first products would otherwise run on the
 * baseline code at a fraction of the speed. Self-contained, like {@link runPart}.
 */
function warmUp(x: Kernel, scratch: number, sizes: readonly number[]): void {
  const [mr, nr, mc, kc] = sizes;
  const ap = scratch, bp = scratch + 4 * mc * kc, c = bp + 4 * kc * 256;
  for (let r = 0; r < 200; r++) {
    x.pack_a(c, 4 * kc, 4, mc, kc, ap);
    x.pack_b(c, 4 * 256, 4, kc, 256, bp);
    x.block(mc, 256, kc, ap, bp, 4 * nr, 4 * kc * nr, c, 4 * 256, 0, c + 4 * mc * 256);
    x.dot_block(2 * mr, 64, kc, ap, 4 * kc, bp, 4 * kc, c, 4 * 64, 0);
  }
}

/**
 * Whether a product runs as dot products (few rows, both operands read along k): 1 or 0, chosen
 * on the whole product, so that every part sums in the same order on any number of threads.
 */
const dotOf = (p: Product) => p.acs === 4 && p.brs === 4 && p.m <= 3 * MR ? 1 : 0;

/** The blocking sizes, as {@link runPart} takes them. */
const SIZES = [MR, NR, MC, KC, NC] as const;

/**
 * How a product is shared between `parts` threads: `[axis, unit, count, len, packed, packs,
 * panels, dot]` (see {@link runTasks}), parts of
 * `unit` along `axis` (0 the batch, 1 the columns, 2 the rows), `count` of them over `len`, taken
 * in turn by whichever thread is free (so that a thread the machine slows holds up no other);
 * `packed` 1 when B is packed whole first and the parts are blocks of rows.
 */
function plan(
  p: Product,
  parts: number,
  canPack: boolean,
): number[] {
  const ceil = (a: number, b: number) => Math.ceil(a / b);
  const of = (axis: number, len: number, unit: number, packed = 0) => {
    // B's panels packed in about 2 parts a thread.
    const packs = packed === 0 ? 0 : Math.min(ceil(p.n, NR), 2 * parts);
    const panels = packed === 0 ? 0 : ceil(ceil(p.n, NR), packs);
    return [axis, unit, ceil(len, unit), len, packed, packs, panels, dotOf(p)];
  };
  if (p.batch >= parts) return of(0, p.batch, 1);
  const few = dotOf(p) === 1 ? DN : p.m <= 8 * MR ? NR : 0;
  // Few rows: columns in turn (about 8 parts a thread), each reading B where it lies.
  if (few > 0) return of(1, p.n, Math.max(few, Math.round(p.n / (8 * parts) / few) * few));
  // Rows in turn (about 8 parts a thread, at most MC rows), against B packed once for all.
  const rows = Math.max(MR, Math.min(MC, Math.floor(p.m / (8 * parts) / MR) * MR));
  if (canPack) return of(2, p.m, rows, 1);
  return of(1, p.n, Math.max(NR, ceil(ceil(p.n, parts), NR) * NR));
}

/** Products smaller than this (in multiply-adds) stay on the calling thread. */
const THREADED_WORK = 1 << 18;

/** Words of the control block shared with the workers. */
const CONTROL_WORDS = 32;
/**
 * Control words: the job's sequence number, the last one done, a worker's failure, its start,
 * the plan (8 words), the address of the shared part counter, and the product's fields.
 */
const SEQ = 0, DONE = 1, FAILED = 2, READY = 3, PLAN = 4, COUNTER = 12, JOB = 13;

/** B is packed whole for a product only up to this many bytes (else parts along the columns). */
const PACK_CAP = 64 << 20;

/** How long a new worker may take to instantiate the kernel before the pool does without it. */
const START_MS = 20_000;

/** Memory and allocator of tfjs-backend-wasm 4.22's module. */
export interface WasmModule {
  /** The module's memory (shared in the threaded build). */
  readonly memory: WebAssembly.Memory;
  /** Allocates `bytes` in it, returning their address. */
  malloc(bytes: number): number;
  /** Frees what {@link WasmModule.malloc} gave (where the allocator can). */
  free?(at: number): void;
}

/** One worker of the pool and its control block (a byte address). */
interface Helper {
  readonly control: number;
}

/** A started kernel: products run with {@link Gemm.run}. */
export interface Gemm {
  /** The threads a product runs on. */
  readonly threads: number;
  /** Runs a product (synchronously; workers, if any, take their parts). */
  run(p: Product): void;
}

/** What a worker runs: a `node:worker_threads` worker, so that it never keeps Deno alive. */
const WORKER = (part: string, tasks: string, warm: string) => `
import { parentPort } from "node:worker_threads";
const runPart = ${part};
const runTasks = ${tasks};
const warmUp = ${warm};
parentPort.once("message", ({ module, memory, control, scratch, sizes, fields }) => {
  const x = new WebAssembly.Instance(module, { env: { memory } }).exports;
  warmUp(x, scratch, sizes);
  Atomics.store(new Int32Array(memory.buffer, control, ${CONTROL_WORDS}), ${READY}, 1);
  let seen = 0;
  for (;;) {
    Atomics.wait(new Int32Array(memory.buffer, control, ${CONTROL_WORDS}), ${SEQ}, seen);
    const ctl = new Int32Array(memory.buffer, control, ${CONTROL_WORDS});
    seen = Atomics.load(ctl, ${SEQ});
    try {
      const p = Object.fromEntries(fields.map((f, i) => [f, ctl[${JOB} + i] >>> 0]));
      const plan = Array.from(ctl.subarray(${PLAN}, ${PLAN} + 8), (v) => v >>> 0);
      const counter = new Int32Array(memory.buffer, ctl[${COUNTER}] >>> 0, 2);
      runTasks(runPart, x, p, plan, counter, scratch, sizes);
    } catch (e) {
      Atomics.store(ctl, ${FAILED}, 1);
    }
    Atomics.store(ctl, ${DONE}, seen);
    Atomics.notify(ctl, ${DONE});
  }
});
`;

/** The bytes of the build for this memory, from beside this file or from `base`. */
async function kernelBytes(shared: boolean, base?: string): Promise<Uint8Array> {
  const name = `gemm-${relaxedSimd() ? "relaxed" : "split"}${shared ? "-shared" : ""}.wasm`;
  const url = base === undefined ? new URL(name, import.meta.url) : new URL(name, base);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Whether this runtime validates `f32x4.relaxed_madd` (a module of one function using it), so
 * that the relaxed build of the kernel can run.
 *
 * @returns whether relaxed SIMD is there
 * @example
 * ```ts
 * import { relaxedSimd } from "./gemm.ts";
 * import assert from "node:assert/strict";
 * assert.equal(typeof relaxedSimd(), "boolean");
 * ```
 */
export function relaxedSimd(): boolean {
  // (module (func (result v128) (f32x4.relaxed_madd (v128.const 0) (v128.const 0) (v128.const 0))))
  const zero = [253, 12, ...new Array(16).fill(0)];
  const body = [0, ...zero, ...zero, ...zero, 253, 133, 2, 11];
  // deno-fmt-ignore
  const bytes = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, // magic, version
    1, 5, 1, 96, 0, 1, 123, // type: () -> v128
    3, 2, 1, 0, // one function of type 0
    10, body.length + 2, 1, body.length, ...body, // its code
  ]);
  return WebAssembly.validate(bytes);
}

/**
 * Starts the kernel on a WASM module's memory, with `threads - 1` workers when the memory is
 * shared (and `node:worker_threads` is there to start them).
 *
 * @param wasm the memory and allocator of tfjs's module
 * @param threads the threads to compute with
 * @param base where the `.wasm` files are served (a URL prefix ending in `/`); default: beside
 *   this module
 * @returns the started kernel
 * @example
 * ```ts
 * import { startGemm } from "./gemm.ts";
 * import assert from "node:assert/strict";
 * // A memory of one's own with a bump allocator; tfjs's module gives its own.
 * const memory = new WebAssembly.Memory({ initial: 64 });
 * let top = 0;
 * const malloc = (bytes: number) => (top += bytes + 64) - bytes - 64;
 * const gemm = await startGemm({ memory, malloc }, 1);
 * const [a, b, c] = [malloc(4 * 6), malloc(4 * 6), malloc(4 * 4)];
 * const f = new Float32Array(memory.buffer);
 * f.set([1, 2, 3, 4, 5, 6], a / 4); // A [2, 3]
 * f.set([1, 0, 0, 1, 1, 1], b / 4); // B [3, 2]
 * gemm.run({
 *   batch: 1, m: 2, n: 2, k: 3,
 *   a, ars: 12, acs: 4, sa: 0,
 *   b, brs: 8, bcs: 4, sb: 0,
 *   c, ldc: 8, sc: 0,
 * });
 * assert.deepEqual([...f.subarray(c / 4, c / 4 + 4)], [4, 5, 10, 11]);
 * ```
 */
export async function startGemm(wasm: WasmModule, threads: number, base?: string): Promise<Gemm> {
  const shared = typeof SharedArrayBuffer !== "undefined" &&
    wasm.memory.buffer instanceof SharedArrayBuffer;
  const module = await WebAssembly.compile(await kernelBytes(shared, base) as BufferSource);
  const memory = wasm.memory;
  const x = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Kernel;
  const scratchOf = () => wasm.malloc(4 * SCRATCH_FLOATS + 64);
  const mine = scratchOf();
  warmUp(x, mine, SIZES);
  const helpers: Helper[] = [];
  const Worker = plainNodeWorker() as
    | (new (url: URL) => { unref(): void; postMessage(m: unknown): void })
    | undefined;
  if (shared && threads > 1 && Worker !== undefined) {
    const src = WORKER(runPart.toString(), runTasks.toString(), warmUp.toString());
    const url = new URL(`data:text/javascript,${encodeURIComponent(src)}`);
    for (let t = 1; t < threads; t++) {
      const control = wasm.malloc(4 * CONTROL_WORDS);
      new Int32Array(memory.buffer, control, CONTROL_WORDS).fill(0);
      const worker = new Worker(url);
      worker.unref();
      worker.postMessage({
        module,
        memory,
        control,
        scratch: scratchOf(),
        sizes: SIZES,
        fields: FIELDS,
      });
      helpers.push({ control });
    }
    // Workers that have not started in time are left out (their parts run here).
    const started = async (h: Helper) => {
      for (let waited = 0; waited < START_MS; waited += 5) {
        if (Atomics.load(new Int32Array(memory.buffer, h.control, CONTROL_WORDS), READY) === 1) {
          return true;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return false;
    };
    const ok = await Promise.all(helpers.map(started));
    helpers.splice(0, helpers.length, ...helpers.filter((_, i) => ok[i]));
  }
  let seq = 0;
  const counterAt = wasm.malloc(64);
  /** B packed whole for the threads (grown as products need). */
  let packedAt = 0, packedBytes = 0;
  return {
    threads: helpers.length + 1,
    run(p: Product): void {
      const work = p.batch * p.m * p.n * p.k;
      if (helpers.length === 0 || work < THREADED_WORK) {
        runPart(x, p, 0, 0, p.batch, mine, SIZES, 0, dotOf(p));
        return;
      }
      const bytes = 4 * p.k * Math.ceil(p.n / NR) * NR;
      const parts = plan(p, helpers.length + 1, bytes <= PACK_CAP);
      if (parts[4] === 1) {
        if (bytes > packedBytes) {
          if (packedAt !== 0) wasm.free?.(packedAt);
          packedAt = wasm.malloc(bytes), packedBytes = bytes;
        }
        parts[4] = packedAt;
      }
      seq++;
      const counter = new Int32Array(memory.buffer, counterAt, 2);
      Atomics.store(counter, 0, 0);
      Atomics.store(counter, 1, 0);
      for (const h of helpers) {
        const ctl = new Int32Array(memory.buffer, h.control, CONTROL_WORDS);
        FIELDS.forEach((f, i) => (ctl[JOB + i] = p[f]));
        ctl.set(parts, PLAN);
        ctl[COUNTER] = counterAt;
        Atomics.store(ctl, SEQ, seq);
        Atomics.notify(ctl, SEQ);
      }
      runTasks(runPart, x, p, parts, counter, mine, SIZES);
      let failed = false;
      for (const h of helpers) {
        for (;;) {
          const ctl = new Int32Array(memory.buffer, h.control, CONTROL_WORDS);
          const done = Atomics.load(ctl, DONE);
          if (done === seq) {
            failed ||= Atomics.exchange(ctl, FAILED, 0) !== 0;
            break;
          }
          Atomics.wait(ctl, DONE, done, 1000);
        }
      }
      if (failed) throw new Error("a matrix-product worker failed");
    },
  };
}
