/**
 * This suite runs on a real WebGPU adapter (a GPU, or Mesa's lavapipe on a machine without one)
 * and fails, never skips, where there is none.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import { adapterDescription, NO_ADAPTER } from "./_webgpu.ts";

Deno.test("initBackend('webgpu') starts WebGPU on this machine's adapter, without a fallback", async () => {
  const description = await adapterDescription();
  console.log(`  adapter: ${description}`);
  const notes: string[] = [];
  const started = await initBackend("webgpu", { onNotice: (m) => notes.push(m) });
  assert.deepEqual(notes, []);
  assert.ok(started._tag === "Right" && started.right === "webgpu");
  assert.equal(tf.getBackend(), "webgpu");
});

Deno.test("without an adapter a test file of this suite fails with the one-line hint", async () => {
  // Only Vulkan, and no Vulkan driver: requestAdapter() gives null.
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "test",
      "-A",
      "--unstable-webgpu",
      new URL("./matmul_test.ts", import.meta.url).pathname,
    ],
    env: {
      VK_ICD_FILENAMES: "/nonexistent/icd.json",
      DENO_WEBGPU_BACKEND: "vulkan",
      NO_COLOR: "1",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, text);
  assert.ok(text.includes(NO_ADAPTER), text);
  assert.match(text, /0 passed \| 1 failed/);
  assert.ok(!NO_ADAPTER.includes("\n"));
});
