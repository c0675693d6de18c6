/**
 * Task mixtures trained together: one optimizer state per prompt (`segmented`), the mixture's
 * epoch at its rates, `tuneMixture()` training every task's prompt in one run with its exports,
 * and a resumed mixture run equal to an uninterrupted one.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { initBackend } from "../backend.ts";
import { randomUniform } from "../initializers/mod.ts";
import { readNpy } from "../io/npy.ts";
import { key } from "../random/mod.ts";
import { adafactor, adam, disposeState } from "../training/optim/mod.ts";
import { segmented } from "../training/optim/segmented.ts";
import { readPeftAdapter } from "../training/peft.ts";
import { mixtureExamples, mixtureRates, taskPrompts } from "../training/mixture.ts";
import {
  type MixtureTask,
  tuneMixture,
  type TuneMixtureOptions,
} from "../training/tune_mixture.ts";
import { collateRank, type TokenExample } from "../data/batch.ts";
import { promptRankLoss } from "../training/rank_objective.ts";
import { maxDiff, withModel } from "./model_helpers.ts";

await initBackend("wasm");

Deno.test("segmented() gives each block the state and update it has alone (Adam, factored Adafactor)", () => {
  const before = tf.memory().numTensors;
  for (
    const base of [adam({ learningRate: 0.1 }), adafactor({ factored: true, learningRate: 0.3 })]
  ) {
    const lengths = [2, 3];
    const opt = segmented(base, lengths);
    let params = tf.randomNormal([5, 4], 0, 1, "float32", 3);
    let state = opt.init(params);
    const alone = tf.split(params, lengths, 0).map((p) => ({ p, s: base.init(p) }));
    for (let step = 0; step < 3; step++) {
      const grad = tf.randomNormal([5, 4], 0, 1, "float32", 10 + step);
      const u = opt.update(grad, state, params);
      tf.split(grad, lengths, 0).forEach((g, k) => {
        const a = base.update(g, alone[k].s, alone[k].p);
        tf.dispose([g, alone[k].p]);
        disposeState(alone[k].s);
        alone[k] = { p: a.params, s: a.state };
      });
      grad.dispose();
      params.dispose();
      disposeState(state);
      params = u.params;
      state = u.state;
    }
    const joined = tf.concat(alone.map((a) => a.p), 0);
    assert.ok(maxDiff(params, joined) < 1e-6, `${base.name}: blocks differ from alone`);
    assert.equal(state.step, 3);
    tf.dispose([params, joined, ...alone.map((a) => a.p)]);
    disposeState(state);
    alone.forEach((a) => disposeState(a.s));
  }
  assert.throws(
    () => segmented(adam(), [2, 0]),
    /block lengths \[2, 0\]; expected positive integers/,
  );
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("mixtureExamples() draws each task at its rate, the same for the same key", () => {
  const a = Array.from({ length: 30 }, (_, i) => `a${i}`), b = ["b0", "b1"];
  const proportional = mixtureExamples([{ examples: a }, { examples: b }], key(1));
  assert.deepEqual(proportional.map((e) => e.example).sort(), [...a, ...b].sort()); // each once
  const even = mixtureExamples([{ examples: a, rate: 1 }, { examples: b, rate: 1 }], key(1));
  assert.equal(even.filter((e) => e.task === 1).length, 16); // N = 32, half from b (cycled)
  assert.equal(new Set(even.filter((e) => e.task === 0).map((e) => e.example)).size, 16);
  assert.deepEqual(
    even,
    mixtureExamples([{ examples: a, rate: 1 }, { examples: b, rate: 1 }], key(1)),
  );
  assert.notDeepEqual(
    even,
    mixtureExamples([{ examples: a, rate: 1 }, { examples: b, rate: 1 }], key(2)),
  );
  assert.throws(
    () => mixtureRates([{ examples: a, rate: -1 }]),
    /task 0's rate is -1; expected a positive number/,
  );
  assert.throws(() => mixtureRates([{ examples: [] }]), /task 0 has no training examples/);
});

Deno.test("taskPrompts() concatenates or adds the shared prompt, with gradients to both", () => {
  const before = tf.memory().numTensors;
  const packed = tf.tensor2d([[1], [2], [3], [4]]); // shared [1], task 0 [2], task 1 [3, 4]
  const [g] = tf.tidy(() => [
    tf.grad((p: tf.Tensor) => {
      const [a, b] = taskPrompts(p, { tasks: [1, 2], shared: { length: 1, mode: "concat" } });
      assert.deepEqual(Array.from(b.dataSync()), [1, 3, 4]);
      return tf.add(tf.sum(a), tf.mul(tf.sum(b), 10));
    })(packed),
  ]);
  assert.deepEqual(Array.from(g.dataSync()), [11, 1, 10, 10]);
  tf.dispose([packed, g]);
  assert.equal(tf.memory().numTensors, before);
});

/** Task a: the target is the input's first token; task b: its second. Label words 3…7 / 10…16. */
const toy = (k: number, n: number): TokenExample[] =>
  Array.from({ length: n }, (_, i) => {
    const input = [3 + (i % 5), 10 + (i % 7), 20 + (i % 3), 1];
    return { inputIds: input, targetIds: [input[k], 1] };
  });
const classesOf = (k: number) =>
  (k === 0 ? [3, 4, 5, 6, 7] : [10, 11, 12, 13, 14, 15, 16]).map((id) => [id, 1]);

function tasksFor(): MixtureTask[] {
  return [
    {
      name: "first",
      train: toy(0, 12),
      promptLength: 2,
      initializer: randomUniform(0.5),
      classes: classesOf(0),
    },
    {
      name: "second",
      train: toy(1, 6),
      promptLength: 3,
      initializer: randomUniform(0.5),
      classes: classesOf(1),
      rate: 6,
    },
  ];
}

for (const name of ["t5_v1_1", "gpt2_tiny"]) {
  Deno.test(`tuneMixture() trains two tasks' prompts in one run on ${name} (rank loss, shared prompt) and exports each`, async () => {
    await withModel(name, async (model) => {
      const runDir = await Deno.makeTempDir();
      try {
        const options: TuneMixtureOptions = {
          model,
          tasks: tasksFor(),
          shared: { length: 1, initializer: randomUniform(0.5), mode: "concat" },
          optimizer: adafactor({ learningRate: 0.3 }),
          loss: "rank",
          key: key(4),
          runDir,
          batchSize: 4,
          steps: 6,
          progress: false,
          interrupts: false,
        };
        const r = await tuneMixture(options);
        assert.ok(E.isRight(r), JSON.stringify(E.isLeft(r) && r.left));
        const { tasks, prompt } = r.right;
        assert.equal(r.right.steps, 6);
        assert.deepEqual(prompt.shape[0], 1 + 2 + 3); // shared, first, second
        assert.deepEqual(tasks.map((t) => t.prompt.shape[0]), [3, 4]); // shared + own
        const lines = (await Deno.readTextFile(`${runDir}/metrics.jsonl`)).trim().split("\n");
        assert.equal(lines.length, 6);
        for (const t of tasks) {
          const npy = await readNpy(t.promptFile);
          assert.ok(E.isRight(npy));
          assert.deepEqual(
            Array.from(npy.right.data as Float32Array),
            Array.from(t.prompt.dataSync()),
          );
          const adapter = await readPeftAdapter(t.adapterDir!);
          assert.ok(E.isRight(adapter));
          assert.deepEqual(adapter.right.prompt.shape, t.prompt.shape);
        }
        tf.dispose([prompt, ...tasks.map((t) => t.prompt)]);
      } finally {
        await Deno.remove(runDir, { recursive: true });
      }
    });
  });
}

Deno.test("tuneMixture() resumed from a checkpoint ends with the prompts of an uninterrupted run", async () => {
  await withModel("t5_v1_1", async (model) => {
    const whole = await Deno.makeTempDir(), parts = await Deno.makeTempDir();
    const run = async (runDir: string, steps: number, resume: boolean) => {
      const r = await tuneMixture({
        model,
        tasks: tasksFor(),
        optimizer: adafactor({ learningRate: 0.3, factored: true }),
        loss: "token",
        key: key(9),
        runDir,
        batchSize: 4,
        steps,
        checkpointEvery: 3,
        resume,
        progress: false,
        interrupts: false,
        peft: false,
      });
      assert.ok(E.isRight(r), JSON.stringify(E.isLeft(r) && r.left));
      return r.right;
    };
    try {
      const a = await run(whole, 6, false);
      const first = await run(parts, 3, false);
      tf.dispose([first.prompt, ...first.tasks.map((t) => t.prompt)]);
      const b = await run(parts, 6, true);
      assert.equal(b.resumedFrom, 3);
      assert.equal(b.stepsRun, 3);
      a.tasks.forEach((t, k) => {
        const d = maxDiff(t.prompt, b.tasks[k].prompt);
        assert.ok(d < 1e-6, `${t.name}: resumed differs by ${d}`);
      });
      tf.dispose([
        a.prompt,
        b.prompt,
        ...a.tasks.map((t) => t.prompt),
        ...b.tasks.map((t) => t.prompt),
      ]);
    } finally {
      await Deno.remove(whole, { recursive: true });
      await Deno.remove(parts, { recursive: true });
    }
  });
});

Deno.test("a mixture's rank loss ranks each row's own task's labels: the mean of the rows' alone", async () => {
  await withModel("gpt2_tiny", (model) => {
    const tasks = tasksFor();
    const prompts = [tf.fill([2, 24], 0.1), tf.fill([3, 24], -0.2)];
    const rows = [0, 1, 1, 0];
    const examples = [tasks[0].train[0], tasks[1].train[1], tasks[1].train[2], tasks[0].train[3]];
    // The union of both tasks' labels; row i may pick only its task's.
    const union = [...classesOf(0), ...classesOf(1)];
    const mask = rows.map((k) => union.map((_, c) => (k === 0 ? c < 5 : c >= 5) ? 1 : 0));
    const value = tf.tidy(() => {
      const batch = collateRank(model, examples, union);
      const masked = { ...batch, labelMask: tf.tensor2d(mask, undefined, "int32") };
      return promptRankLoss(model, masked)({ prompts, rows }).dataSync()[0];
    });
    const expected = tf.tidy(() =>
      examples.reduce((acc, e, i) => {
        const one = collateRank(model, [e], classesOf(rows[i]));
        return acc + promptRankLoss(model, one)(prompts[rows[i]]).dataSync()[0] / examples.length;
      }, 0)
    );
    assert.ok(Math.abs(value - expected) < 1e-5, `${value} vs ${expected}`);
    // Without the mask the other task's labels compete, and the loss differs.
    const unmasked = tf.tidy(() =>
      promptRankLoss(model, collateRank(model, examples, union))({ prompts, rows }).dataSync()[0]
    );
    assert.ok(Math.abs(unmasked - expected) > 1e-3);
    tf.dispose(prompts);
  });
});
