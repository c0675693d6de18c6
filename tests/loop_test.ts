import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { initBackend } from "../backend.ts";
import { readNpy } from "../io/npy.ts";
import { orThrow } from "../problem.ts";
import { key } from "../random/mod.ts";
import { batchesPerEpoch, nextBatch } from "../training/batches.ts";
import { listCheckpoints, readCheckpoint } from "../training/checkpoint.ts";
import { lossEvaluator } from "../training/evaluate.ts";
import type { InterruptSource } from "../training/interrupt.ts";
import { train, type TrainResult } from "../training/loop.ts";
import { readMetrics } from "../training/metrics_log.ts";
import { adafactor } from "../training/optim/mod.ts";
import { collate, toyExamples, toyLoss, toyOptions } from "./fixtures/loop/toy.ts";

await initBackend("wasm");

async function tempRun(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "loop_test_" });
}

/** Trains, expects success, and hands back the summary with the prompt's values (disposed). */
async function run(options: Parameters<typeof toyOptions>[1] & { runDir: string }) {
  const r = orThrow(await train(toyOptions(options.runDir, options)));
  const prompt = Float32Array.from(await r.prompt.data<"float32">());
  r.prompt.dispose();
  return { ...r, prompt } as Omit<TrainResult, "prompt"> & { prompt: Float32Array };
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

async function npy(path: string): Promise<Float32Array> {
  return orThrow(await readNpy(path)).data as Float32Array;
}

/** An interrupt source the test fires by hand; records whether it was unsubscribed. */
function manualInterrupts() {
  let handler: (() => void) | undefined;
  let subscribed = 0;
  const source: InterruptSource = {
    listen(h) {
      handler = h;
      subscribed += 1;
      return () => {
        handler = undefined;
        subscribed -= 1;
      };
    },
  };
  return { source, fire: () => handler?.(), subscribed: () => subscribed };
}

Deno.test("nextBatch() shuffles each epoch with its own key and drops or keeps the last partial batch", () => {
  const k = key(3);
  const seen: number[][] = [];
  let pos = { epoch: 0, offset: 0 };
  for (let i = 0; i < 4; i++) {
    const b = nextBatch(k, 5, pos, { batchSize: 2 });
    seen.push([b.epoch, ...b.indices]);
    pos = b.next;
  }
  // Two batches per epoch, the fifth example of each epoch dropped; epochs differ in order.
  assert.deepEqual(seen.map((s) => s[0]), [0, 0, 1, 1]);
  assert.equal(new Set(seen.slice(0, 2).flatMap((s) => s.slice(1))).size, 4);
  assert.notDeepEqual(seen.slice(0, 2), seen.slice(2).map((s) => [0, ...s.slice(1)]));
  const kept = nextBatch(k, 5, { epoch: 0, offset: 4 }, { batchSize: 2, dropLast: false });
  assert.equal(kept.indices.length, 1);
  assert.deepEqual(kept.next, { epoch: 0, offset: 5 });
  assert.equal(batchesPerEpoch(5, { batchSize: 2, dropLast: false }), 3);
  assert.throws(() => nextBatch(k, 1, pos, { batchSize: 2 }), /Cannot draw a batch of 2 from 1/);
});

Deno.test("train() resumed from a checkpoint reproduces an uninterrupted run step for step", async () => {
  const before = tf.memory().numTensors;
  const whole = await tempRun(), split = await tempRun();
  const a = await run({ runDir: whole, steps: 12 });
  const first = await run({ runDir: split, steps: 8 });
  assert.equal(first.steps, 8);
  const b = await run({ runDir: split, steps: 12, resume: true });
  assert.equal(b.resumedFrom, 8);
  assert.equal(b.stepsRun, 4);
  assert.equal(a.stopped, "done");
  assert.deepEqual(bits(b.prompt), bits(a.prompt));
  const ma = await readMetrics(`${whole}/metrics.jsonl`);
  const mb = await readMetrics(`${split}/metrics.jsonl`);
  assert.deepEqual(ma.map((m) => m.step), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.deepEqual(
    mb.map((m) => [m.step, m.loss, m.gradNorm, m.epoch]),
    ma.map((m) => [m.step, m.loss, m.gradNorm, m.epoch]),
  );
  assert.ok((ma[11].loss as number) < (ma[0].loss as number), "the toy loss goes down");
  assert.equal(tf.memory().numTensors, before);
  await Deno.remove(whole, { recursive: true });
  await Deno.remove(split, { recursive: true });
});

Deno.test("train() stops on an interrupt after the step, writes a checkpoint, and resumes exactly", async () => {
  const before = tf.memory().numTensors;
  const whole = await tempRun(), cut = await tempRun();
  const a = await run({ runDir: whole, steps: 12, dropLast: false, optimizer: adafactor() });
  const sig = manualInterrupts();
  const stopped = await run({
    runDir: cut,
    steps: 12,
    dropLast: false,
    optimizer: adafactor(),
    interrupts: sig.source,
    onProgress: (m) => {
      if (m.step === 6) sig.fire();
    },
  });
  assert.equal(stopped.stopped, "interrupted");
  assert.equal(stopped.steps, 6);
  assert.equal(stopped.lastCheckpoint, 6);
  assert.equal(sig.subscribed(), 0, "the listener is removed");
  assert.deepEqual(await listCheckpoints(cut), [4, 6]);
  const b = await run({
    runDir: cut,
    steps: 12,
    dropLast: false,
    optimizer: adafactor(),
    resume: true,
  });
  assert.deepEqual(bits(b.prompt), bits(a.prompt));
  const la = (await readMetrics(`${whole}/metrics.jsonl`)).map((m) => m.loss);
  const lb = (await readMetrics(`${cut}/metrics.jsonl`)).map((m) => m.loss);
  assert.deepEqual(lb, la);
  assert.equal(tf.memory().numTensors, before);
  await Deno.remove(whole, { recursive: true });
  await Deno.remove(cut, { recursive: true });
});

Deno.test("train() keeps the last `keep` checkpoints and exports each one's prompt as .npy", async () => {
  const runDir = await tempRun();
  const r = await run({ runDir, steps: 10, checkpointEvery: 3, keep: 2 });
  assert.deepEqual(await listCheckpoints(runDir), [9, 10]); // 10: the final one
  const exported = [...Deno.readDirSync(`${runDir}/prompts`)].map((e) => e.name).sort();
  assert.deepEqual(exported, ["step_10.npy", "step_3.npy", "step_6.npy", "step_9.npy"]);
  for (const step of [9, 10]) {
    const c = orThrow(await readCheckpoint(`${runDir}/checkpoints/step_${step}`));
    const n = orThrow(await readNpy(`${runDir}/prompts/step_${step}.npy`));
    assert.equal(n.dtype, "float32");
    assert.deepEqual(n.shape, [3, 4]);
    assert.deepEqual(bits(n.data as Float32Array), bits(c.prompt.data as Float32Array));
    assert.equal(c.meta.optimizer.name, "adam");
    assert.equal(c.meta.optimizer.step, step);
  }
  assert.deepEqual(bits(await npy(`${runDir}/prompts/step_10.npy`)), bits(r.prompt));
  await Deno.remove(runDir, { recursive: true });
});

Deno.test("train() stops on a NaN loss naming the step and keeps the last good checkpoint", async () => {
  const before = tf.memory().numTensors;
  const runDir = await tempRun();
  const r = await run({
    runDir,
    steps: 12,
    loss: (p, b, ctx) => {
      const l = toyLoss(p, b);
      return ctx.step >= 6 ? tf.mul(l, NaN) : l;
    },
  });
  assert.equal(r.stopped, "nan");
  assert.equal(r.steps, 5);
  assert.ok(Number.isNaN(r.finalLoss));
  assert.match(r.message!, /^Loss is NaN at step 6; .*last good checkpoint is step 4 /);
  assert.ok(r.prompt.every(Number.isFinite), "the returned prompt is the last good one");
  assert.deepEqual(await listCheckpoints(runDir), [4]);
  assert.ok(E.isRight(await readCheckpoint(`${runDir}/checkpoints/step_4`)));
  assert.equal((await readMetrics(`${runDir}/metrics.jsonl`)).length, 5);
  assert.equal(tf.memory().numTensors, before);
  await Deno.remove(runDir, { recursive: true });
});

Deno.test("train() stops early after `patience` evaluations without improvement and keeps the best prompt", async () => {
  const before = tf.memory().numTensors;
  const runDir = await tempRun();
  // A metric that is best after step 6: evaluations at 2, 4, 6, 8, 10 give 16, 4, 0, 4, 16.
  const r = await run({
    runDir,
    steps: 20,
    checkpointEvery: 2,
    validation: toyExamples(3),
    evaluate: (_p, _xs, ctx) => Promise.resolve({ score: (ctx.step - 6) ** 2, other: ctx.step }),
    metric: "score",
    mode: "min",
    patience: 2,
  });
  assert.equal(r.stopped, "early-stopped");
  assert.equal(r.steps, 10);
  assert.deepEqual(r.best, { step: 6, metric: "score", value: 0, metrics: { score: 0, other: 6 } });
  const best = await npy(`${runDir}/best.npy`);
  assert.deepEqual(bits(best), bits(await npy(`${runDir}/prompts/step_6.npy`)));
  assert.notDeepEqual(bits(best), bits(r.prompt));
  assert.equal(JSON.parse(await Deno.readTextFile(`${runDir}/best.json`)).step, 6);
  const evals = (await readMetrics(`${runDir}/metrics.jsonl`)).filter((m) => m.eval !== undefined);
  assert.deepEqual(evals.map((m) => m.step), [2, 4, 6, 8, 10]);
  // Resuming an early-stopped run stops at once, best intact.
  const again = await run({
    runDir,
    steps: 20,
    resume: true,
    validation: toyExamples(3),
    evaluate: () => Promise.resolve({ score: 1 }),
    metric: "score",
    patience: 2,
  });
  assert.equal(again.stopped, "early-stopped");
  assert.equal(again.stepsRun, 0);
  assert.equal(again.best?.step, 6);
  assert.equal(tf.memory().numTensors, before);
  await Deno.remove(runDir, { recursive: true });
});

Deno.test("train() leaks no tensors over 50 steps with clipping and a loss evaluation", async () => {
  const runDir = await tempRun();
  const before = tf.memory().numTensors;
  const r = orThrow(
    await train(toyOptions(runDir, {
      steps: 50,
      checkpointEvery: 10,
      keep: 1,
      clipNorm: 0.5,
      validation: toyExamples(5),
      evaluate: lossEvaluator({ loss: toyLoss, collate, batchSize: 2 }),
    })),
  );
  assert.equal(r.steps, 50);
  assert.ok(r.best !== null && r.best.metric === "loss");
  r.prompt.dispose();
  assert.equal(tf.memory().numTensors, before);
  const m = await readMetrics(`${runDir}/metrics.jsonl`);
  assert.equal(m.length, 50);
  assert.ok(m.every((x) => x.tokens === 12 && typeof x.gradNorm === "number"));
  await Deno.remove(runDir, { recursive: true });
});

Deno.test("train() reports every invalid option at once and refuses to overwrite a run", async () => {
  const runDir = await tempRun();
  const bad = await train(toyOptions(runDir, { steps: 0, batchSize: 20, keep: -1, clipNorm: 0 }));
  assert.ok(E.isLeft(bad));
  assert.equal(bad.left._tag, "Invalid");
  for (const part of ["steps is 0", "keep is -1", "clipNorm is 0", "train has 10 examples"]) {
    assert.ok(bad.left.message.includes(part), `${bad.left.message} lacks ${part}`);
  }
  await run({ runDir, steps: 4 });
  const again = await train(toyOptions(runDir, { steps: 8 }));
  assert.ok(E.isLeft(again));
  assert.match(again.left.message, /already holds checkpoints \(up to step 4\); pass resume: true/);
  const other = await train(toyOptions(runDir, { steps: 8, resume: true, optimizer: adafactor() }));
  assert.ok(E.isLeft(other));
  assert.equal(other.left._tag, "Mismatch");
  assert.match(other.left.message, /trained with adam; resume with the same optimizer/);
  await Deno.remove(runDir, { recursive: true });
});

Deno.test("train() draws a progress bar on a terminal and plain lines elsewhere", async () => {
  const runDir = await tempRun();
  let bar = "";
  await run({ runDir, steps: 4, progress: { terminal: true, write: (s) => bar += s } });
  assert.equal(bar.split("\r").length - 1 >= 4, true);
  assert.match(
    bar,
    /\rstep 4\/4 ▕█{20}▏ loss \d\.\d{4} · [\d.k]+ steps\/s · [\d.k]+ tok\/s · ETA 0:00/,
  );
  assert.ok(
    bar.includes("ETA 0:00\x1b[K") && bar.endsWith("\n"),
    "clears to the end, ends the line",
  );
  let plain = "";
  await run({
    runDir: `${runDir}/b`,
    steps: 6,
    progress: { terminal: false, every: 3, write: (s) => plain += s },
  });
  const lines = plain.trimEnd().split("\n").filter((l) => l.startsWith("step "));
  assert.deepEqual(lines.map((l) => l.split(" ")[1]), ["3/6", "6/6"]);
  assert.ok(!plain.includes("\r"));
  await Deno.remove(runDir, { recursive: true });
});

Deno.test("train() with the default Ctrl-C listener removes it when done", async () => {
  // Deno's sanitizers fail this test if the SIGINT listener outlives the call.
  const runDir = await tempRun();
  const { interrupts: _, ...rest } = toyOptions(runDir, { steps: 2 });
  const r = orThrow(await train(rest));
  r.prompt.dispose();
  await Deno.remove(runDir, { recursive: true });
});

Deno.test("train() tunes a prompt for the tiny T5 1.1 fixture and resumes it exactly", async () => {
  const { loadModel } = await import("../model/load.ts");
  const { promptLoss } = await import("../training/objective.ts");
  const { disposeTree } = await import("../tree/tree.ts");
  const model = orThrow(
    await loadModel(new URL("./fixtures/models/t5_v1_1", import.meta.url).pathname),
  );
  const before = tf.memory().numTensors;
  type Pair = { readonly input: readonly number[]; readonly target: readonly number[] };
  // Plain id lists (the fixture has no tokenizer): copy the first two ids of the input, then EOS.
  const data: Pair[] = Array.from({ length: 8 }, (_, i) => {
    const input = Array.from({ length: 3 + (i % 3) }, (_, j) => 2 + ((i * 7 + j * 5) % 90));
    return { input: [...input, 1], target: [input[0], input[1], 1] };
  });
  const pad = (rows: readonly (readonly number[])[]) => {
    const width = Math.max(...rows.map((r) => r.length));
    const ids = rows.map((r) => [...r, ...Array(width - r.length).fill(0)]);
    const mask = rows.map((r) => Array.from({ length: width }, (_, j) => (j < r.length ? 1 : 0)));
    return [
      tf.tensor2d(ids, [rows.length, width], "int32"),
      tf.tensor2d(mask, [rows.length, width], "int32"),
    ];
  };
  const collateT5 = (xs: readonly Pair[]) => {
    const [inputIds, inputMask] = pad(xs.map((x) => x.input));
    const [targetIds, targetMask] = pad(xs.map((x) => x.target));
    return { inputIds, inputMask, targetIds, targetMask };
  };
  const options = (runDir: string, steps: number, resume = false) => ({
    prompt: () => tf.fill([4, 32], 0.5), // [P = 4, H = 32]
    key: key(11),
    train: data,
    collate: collateT5,
    loss: (p: tf.Tensor, b: ReturnType<typeof collateT5>) => promptLoss(model, b)(p),
    countTokens: (b: ReturnType<typeof collateT5>) =>
      tf.tidy(() => tf.sum(b.targetMask).arraySync() as number),
    optimizer: adafactor(),
    batchSize: 8, // the whole set each step (in a new order), so losses compare across steps
    steps,
    checkpointEvery: 3,
    runDir,
    resume,
    progress: false as const,
    interrupts: false as const,
  });
  const whole = await tempRun(), cut = await tempRun();
  const a = orThrow(await train(options(whole, 6)));
  orThrow(await train(options(cut, 3))).prompt.dispose();
  const b = orThrow(await train(options(cut, 6, true)));
  assert.deepEqual(
    bits(await b.prompt.data() as Float32Array),
    bits(await a.prompt.data() as Float32Array),
  );
  tf.dispose([a.prompt, b.prompt]);
  const ma = await readMetrics(`${whole}/metrics.jsonl`);
  const mb = await readMetrics(`${cut}/metrics.jsonl`);
  assert.deepEqual(mb.map((m) => m.loss), ma.map((m) => m.loss));
  assert.ok(ma.every((m) => Number.isFinite(m.loss) && (m.tokens as number) > 0));
  assert.ok((ma[5].loss as number) < (ma[0].loss as number), `loss ${ma[0].loss} → ${ma[5].loss}`);
  assert.equal(tf.memory().numTensors, before);
  disposeTree(model.params);
  await Deno.remove(whole, { recursive: true });
  await Deno.remove(cut, { recursive: true });
});
