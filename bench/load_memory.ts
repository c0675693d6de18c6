/**
 * Measures the peak resident memory of loading a checkpoint directory with `loadModel`.
 *
 *     npx -y deno@2.9.6 run -A bench/load_memory.ts DIR
 *
 * Prints one JSON line: parameters, file bytes, resident memory before and at the peak (sampled
 * every 5 ms), and seconds. A t5-small-sized checkpoint for it can be made with
 * `tools/make_t5_small_checkpoint.py` (dev-time, Python).
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { initBackend } from "../backend.ts";
import { loadModel } from "../model/load.ts";
import { countParams, disposeTree } from "../tree/tree.ts";

const dir = Deno.args[0];
if (dir === undefined) {
  console.error("Usage: deno run -A bench/load_memory.ts DIR");
  Deno.exit(2);
}
await initBackend("wasm");
let fileBytes = 0;
for await (const entry of Deno.readDir(dir)) {
  if (entry.name.endsWith(".safetensors")) {
    fileBytes += (await Deno.stat(`${dir}/${entry.name}`)).size;
  }
}
const before = Deno.memoryUsage().rss;
let peak = before;
const timer = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 5);
const t0 = performance.now();
const loaded = await loadModel(dir);
clearInterval(timer);
peak = Math.max(peak, Deno.memoryUsage().rss);
if (E.isLeft(loaded)) {
  console.error(`Error: ${loaded.left.where}: ${loaded.left.message}`);
  Deno.exit(1);
}
const mb = (n: number) => Math.round(n / 2 ** 20);
console.log(JSON.stringify({
  parameters: countParams(loaded.right.params),
  fileMB: mb(fileBytes),
  rssBeforeMB: mb(before),
  rssPeakMB: mb(peak),
  peakOverFile: Number((peak / fileBytes).toFixed(2)),
  seconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
}));
disposeTree(loaded.right.params);
