import assert from "node:assert/strict";
import { initBackend } from "../backend.ts";

const PROBE = new URL("./_threads_probe.ts", import.meta.url).pathname;

/** Runs the probe in its own process with `threads` WASM threads; it must exit by itself. */
async function probe(threads: string): Promise<Record<string, unknown>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", PROBE],
    env: { SOFT_PROMPT_THREADS: threads },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `the probe with ${threads} threads failed: ${err}`);
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
}

Deno.test("the WASM backend computes on 2 threads under Deno, bit for bit as on 1, and the process still exits", async () => {
  const one = await probe("1");
  const two = await probe("2");
  assert.equal(one.threads, 1);
  assert.equal(two.threads, 2);
  assert.equal(two.matmul, one.matmul, "a [300, 512] × [512, 1024]ᵀ product");
  assert.deepEqual(two.losses, one.losses, "3 steps of the tiny T5: loss and gradient norm");
  assert.equal(two.trained, one.trained, "the prompt after 3 steps");
  assert.equal(one.leaked, 0);
  assert.equal(two.leaked, 0);
});

Deno.test("initBackend() refuses a thread count out of range in one line", async () => {
  const r = await initBackend("wasm", { threads: 0 });
  assert.ok(r._tag === "Left");
  assert.equal(r.left.message, "threads must be an integer from 1 to 64, got 0");
});
