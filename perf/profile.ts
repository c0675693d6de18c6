/**
 * Profiles one prompt-tuning step, `trainStep` (forward, backward to the prompt, Adafactor
 * update), on the t5-small-shaped model (batch 8 × (20 + 128) encoder tokens, 4 targets): kernel
 * times grouped by kernel name, and by shapes. Every run steps from the same prompt and state.
 *
 * ```text
 * deno run -A perf/profile.ts [--top 25] [--runs 2] [--no-profile] [--recompute none|layer]
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { initBackend } from "../backend.ts";
import { orThrow } from "../problem.ts";
import { disposeTree } from "../tree/tree.ts";
import { promptLoss } from "../training/objective.ts";
import type { Seq2SeqBatch } from "../model/prompted.ts";
import { adafactor, disposeState } from "../training/optim/mod.ts";
import { type StepState, trainStep } from "../training/step.ts";
import { hashUniform, randomT5Small } from "./t5_small.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    top: { type: "string", default: "25" },
    runs: { type: "string", default: "2" },
    "no-profile": { type: "boolean", default: false },
    recompute: { type: "string", default: "none" },
  },
});
const B = 8, T = 128, P = 20, S = 4;
orThrow(await initBackend("wasm"));
tf.env().set("CHECK_COMPUTATION_FOR_ERRORS", false);
let t0 = performance.now();
const model = randomT5Small();
console.error(`built in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
const v = 32128;
const ids = Int32Array.from({ length: B * T }, (_, j) => 2 + ((j * 104729) % (v - 2)));
const tg = Int32Array.from({ length: B * S }, (_, j) => 2 + ((j * 17) % (v - 2)));
const batch: Seq2SeqBatch = {
  inputIds: tf.tensor2d(ids, [B, T], "int32"),
  inputMask: tf.ones([B, T], "int32"),
  targetIds: tf.tensor2d(tg, [B, S], "int32"),
  targetMask: tf.ones([B, S], "int32"),
};
const prompt = tf.tensor2d(hashUniform(P * 512, 1, 0.5), [P, 512]);
const lossOf = promptLoss(model, batch, { recompute: args.recompute as "none" | "layer" });
let afterForward = 0;
const loss = (p: tf.Tensor) => {
  const l = lossOf(p);
  afterForward = Math.max(afterForward, tf.memory().numBytes);
  return l;
};
const optimizer = adafactor();
const state: StepState = { prompt, opt: optimizer.init(prompt) };
/** One step from `state`; the new state is dropped, so that every run does the same work. */
const step = async () => {
  const r = await trainStep(state, batch, { loss, optimizer });
  r.state.prompt.dispose();
  disposeState(r.state.opt);
  return r;
};
const before = tf.memory().numTensors;
const times: number[] = [];
let peak = 0;
for (let r = 0; r < Number(args.runs); r++) {
  t0 = performance.now();
  const { loss, gradNorm } = await step();
  times.push((performance.now() - t0) / 1000);
  peak = Math.max(peak, Deno.memoryUsage().rss);
  console.error(`run ${r}: ${times.at(-1)!.toFixed(2)} s loss ${loss} |g| ${gradNorm}`);
}
console.error(`live tensors after forward ${(afterForward / 2 ** 20).toFixed(0)} MB`);
console.error(
  `leaked ${tf.memory().numTensors - before}; peak rss ${(peak / 2 ** 20).toFixed(0)} MB`,
);
if (!args["no-profile"]) {
  const info = await tf.profile(async () => {
    await step();
  });
  const byName = new Map<string, [number, number]>();
  const byShape = new Map<string, [number, number]>();
  let total = 0;
  for (const k of info.kernels) {
    const ms = k.kernelTimeMs as number;
    total += ms;
    const a = byName.get(k.name) ?? [0, 0];
    byName.set(k.name, [a[0] + ms, a[1] + 1]);
    const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
    const b = byShape.get(key) ?? [0, 0];
    byShape.set(key, [b[0] + ms, b[1] + 1]);
  }
  const top = Number(args.top);
  console.log(
    `total kernel ms ${
      total.toFixed(0)
    }, kernels ${info.kernels.length}, peakBytes ${info.peakBytes}`,
  );
  for (const [n, [ms, c]] of [...byName].sort((a, b) => b[1][0] - a[1][0]).slice(0, top)) {
    console.log(`${ms.toFixed(0).padStart(7)} ms ${String(c).padStart(5)}× ${n}`);
  }
  console.log("--- by shape");
  for (const [n, [ms, c]] of [...byShape].sort((a, b) => b[1][0] - a[1][0]).slice(0, top)) {
    console.log(`${ms.toFixed(0).padStart(7)} ms ${String(c).padStart(5)}× ${n}`);
  }
}
tf.dispose([batch.inputIds, batch.inputMask, batch.targetIds, batch.targetMask, prompt]);
disposeState(state.opt);
disposeTree(model.params);
