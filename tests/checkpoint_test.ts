import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { initBackend } from "../backend.ts";
import { hostTensor } from "../io/host_tensor.ts";
import { orThrow } from "../problem.ts";
import {
  type Checkpoint,
  checkpointDir,
  cleanTemporary,
  latestCheckpoint,
  listCheckpoints,
  readCheckpoint,
  writeCheckpoint,
} from "../training/checkpoint.ts";
import { train } from "../training/loop.ts";
import { readMetrics } from "../training/metrics_log.ts";
import { toyOptions } from "./fixtures/loop/toy.ts";

await initBackend("wasm");

const root = new URL("../", import.meta.url);
const u32 = (a: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(a).buffer));

function sample(step: number): Checkpoint {
  // Values that a lossy round trip would change: a subnormal, -0, the largest float32, NaN.
  const prompt = new Float32Array([1.5e-45, -0, 3.4028234663852886e38, step, NaN, 0.1]);
  return {
    meta: {
      step,
      key: [4294967295, 7],
      data: { epoch: 3, offset: 8 },
      optimizer: { name: "adafactor", step },
      best: {
        step: 2,
        metric: "accuracy",
        value: 0.1 + 0.2,
        metrics: { accuracy: 0.1 + 0.2, loss: 1 / 3 },
      },
      badEvals: 1,
    },
    prompt: hostTensor("float32", [2, 3], prompt),
    optimizer: { step, slots: { v: hostTensor("float32", [2, 3], prompt.map((x) => x * 2)) } },
    bestPrompt: hostTensor("float32", [2, 3], prompt.map((x) => -x)),
  };
}

Deno.test("writeCheckpoint() and readCheckpoint() round-trip every field bit for bit", async () => {
  const runDir = await Deno.makeTempDir();
  const c = sample(5);
  const dir = orThrow(await writeCheckpoint(runDir, c));
  assert.equal(dir, checkpointDir(runDir, 5));
  const back = orThrow(await readCheckpoint(dir));
  assert.deepEqual(back.meta, c.meta);
  assert.deepEqual(back.prompt.shape, [2, 3]);
  assert.deepEqual(u32(back.prompt.data as Float32Array), u32(c.prompt.data as Float32Array));
  assert.deepEqual(
    u32(back.optimizer.slots.v.data as Float32Array),
    u32(c.optimizer.slots.v.data as Float32Array),
  );
  assert.deepEqual(
    u32(back.bestPrompt!.data as Float32Array),
    u32(c.bestPrompt!.data as Float32Array),
  );
  assert.equal(back.optimizer.step, 5);
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assert.deepEqual(names, ["checkpoint.json", "state.safetensors"]);
  await Deno.remove(runDir, { recursive: true });
});

Deno.test("listCheckpoints() ignores temporary directories and cleanTemporary() removes them", async () => {
  const runDir = await Deno.makeTempDir();
  orThrow(await writeCheckpoint(runDir, sample(2)));
  await Deno.mkdir(`${runDir}/checkpoints/step_4.tmp-deadbeef`);
  await Deno.writeTextFile(`${runDir}/checkpoints/step_4.tmp-deadbeef/checkpoint.json`, "{");
  assert.deepEqual(await listCheckpoints(runDir), [2]);
  assert.equal(orThrow(await latestCheckpoint(runDir)).checkpoint?.meta.step, 2);
  assert.deepEqual(await cleanTemporary(runDir), ["step_4.tmp-deadbeef"]);
  assert.deepEqual([...Deno.readDirSync(`${runDir}/checkpoints`)].map((e) => e.name), ["step_2"]);
  await Deno.remove(runDir, { recursive: true });
});

Deno.test("latestCheckpoint() skips a damaged newest checkpoint and says so", async () => {
  const runDir = await Deno.makeTempDir();
  orThrow(await writeCheckpoint(runDir, sample(2)));
  orThrow(await writeCheckpoint(runDir, sample(4)));
  await Deno.truncate(`${runDir}/checkpoints/step_4/state.safetensors`, 20);
  const latest = orThrow(await latestCheckpoint(runDir));
  assert.equal(latest.checkpoint?.meta.step, 2);
  assert.equal(latest.skipped.length, 1);
  assert.match(latest.skipped[0].where, /step_4\/state\.safetensors$/);
  await Deno.writeTextFile(
    `${runDir}/checkpoints/step_2/checkpoint.json`,
    JSON.stringify({ format: "soft-prompt-checkpoint", version: 99 }),
  );
  const none = await latestCheckpoint(runDir);
  assert.ok(E.isLeft(none));
  await Deno.remove(runDir, { recursive: true });
});

Deno.test("readCheckpoint() refuses another version and ill-typed fields", async () => {
  const runDir = await Deno.makeTempDir();
  const dir = orThrow(await writeCheckpoint(runDir, sample(1)));
  const json = JSON.parse(await Deno.readTextFile(`${dir}/checkpoint.json`));
  await Deno.writeTextFile(`${dir}/checkpoint.json`, JSON.stringify({ ...json, version: 2 }));
  const v = await readCheckpoint(dir);
  assert.ok(E.isLeft(v) && v.left._tag === "Unsupported");
  assert.match(v.left.message, /^Checkpoint version is 2; expected 1$/);
  await Deno.writeTextFile(`${dir}/checkpoint.json`, JSON.stringify({ ...json, key: [1] }));
  const k = await readCheckpoint(dir);
  assert.ok(E.isLeft(k) && k.left._tag === "Corrupt");
  assert.match(k.left.message, /key is not two uint32 words/);
  await Deno.remove(runDir, { recursive: true });
});

Deno.test("a training process killed (SIGKILL) during a checkpoint write leaves the previous one loadable, and resume is exact", async () => {
  const before = tf.memory().numTensors;
  const runDir = await Deno.makeTempDir({ prefix: "killed_" });
  const script = new URL("./fixtures/loop/train_toy.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, runDir, "8", "6"],
    cwd: root,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // Wait until the step-6 checkpoint sits complete in its temporary directory, then kill.
  const marker = `${runDir}/writing`;
  const deadline = Date.now() + 50_000;
  let tmp = "";
  while (tmp === "" && Date.now() < deadline) {
    tmp = await Deno.readTextFile(marker).catch(() => "");
    if (tmp === "") await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  const status = await child.status;
  const stderr = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
  assert.notEqual(tmp, "", `the child never reached the checkpoint write:\n${stderr}`);
  assert.equal(status.signal, "SIGKILL");

  // The write was cut between its temporary directory and the rename.
  assert.ok(Deno.statSync(tmp).isDirectory, "the temporary directory is left behind");
  assert.deepEqual(await listCheckpoints(runDir), [2, 4]);
  const latest = orThrow(await latestCheckpoint(runDir));
  assert.equal(latest.checkpoint?.meta.step, 4);
  assert.deepEqual(latest.skipped, []);

  // Resume to 8 steps and compare with an uninterrupted run of 8 steps.
  const resumed = orThrow(
    await train(toyOptions(runDir, { steps: 8, checkpointEvery: 2, resume: true })),
  );
  assert.equal(resumed.resumedFrom, 4);
  const whole = await Deno.makeTempDir();
  const uninterrupted = orThrow(await train(toyOptions(whole, { steps: 8, checkpointEvery: 2 })));
  assert.deepEqual(u32(await resumed.prompt.data()), u32(await uninterrupted.prompt.data()));
  tf.dispose([resumed.prompt, uninterrupted.prompt]);
  const la = (await readMetrics(`${whole}/metrics.jsonl`)).map((m) => [m.step, m.loss]);
  const lb = (await readMetrics(`${runDir}/metrics.jsonl`)).map((m) => [m.step, m.loss]);
  assert.deepEqual(lb, la);
  assert.deepEqual(await listCheckpoints(runDir), [2, 4, 6, 8]);
  assert.ok(![...Deno.readDirSync(`${runDir}/checkpoints`)].some((e) => e.name.includes(".tmp-")));
  assert.equal(tf.memory().numTensors, before);
  await Deno.remove(runDir, { recursive: true });
  await Deno.remove(whole, { recursive: true });
});
