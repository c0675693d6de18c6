import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";

Deno.test("initBackend('webgpu') falls back to WASM with a one-line notice where there is no GPU", async () => {
  // This test machine has no GPU and the tests run without --unstable-webgpu.
  const notes: string[] = [];
  const started = await initBackend("webgpu", { onNotice: (m) => notes.push(m) });
  assert.ok(started._tag === "Right");
  if (started.right === "webgpu") return; // a machine with WebGPU: nothing to fall back from
  assert.equal(started.right, "wasm");
  assert.equal(tf.getBackend(), "wasm");
  assert.equal(notes.length, 1);
  assert.match(notes[0], /^WebGPU is not available \(.+\); using the WASM backend$/);
  assert.doesNotMatch(notes[0], /\n/);
});

Deno.test("initBackend() starts the WASM backend with SIMD", async () => {
  const started = await initBackend("wasm");
  assert.ok(started._tag === "Right" && started.right === "wasm");
  assert.equal(tf.env().getBool("WASM_HAS_SIMD_SUPPORT"), true);
});
