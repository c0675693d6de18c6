import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import { hostTensor } from "../io/host_tensor.ts";
import {
  adafactor,
  type AdafactorOptions,
  adafactorSlotShapes,
  adam,
  adamw,
  checkState,
  clipByGlobalNorm,
  constantSchedule,
  cosineDecaySchedule,
  disposeState,
  globalNorm,
  joinSchedules,
  linearSchedule,
  linearWarmup,
  type Optimizer,
  type OptimizerState,
  rsqrtDecaySchedule,
  type Schedule,
  stateFromHost,
  stateToHost,
} from "../training/optim/mod.ts";
import { orThrow } from "../problem.ts";

await initBackend("wasm");

const fixture = async (name: string) =>
  JSON.parse(
    await Deno.readTextFile(new URL(`./fixtures/optim/${name}`, import.meta.url)),
  );

/** Nested JSON lists of numbers, flattened in C order. */
const flat = (x: unknown): number[] => (x as unknown[]).flat(Infinity as 1) as number[];

function shapeOf(x: unknown): number[] {
  const s: number[] = [];
  let cur = x;
  while (Array.isArray(cur)) {
    s.push(cur.length);
    cur = cur[0];
  }
  return s;
}

const tensorOf = (x: unknown) => tf.tensor(flat(x), shapeOf(x), "float32");

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, "lengths differ");
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function withoutLeaks(body: () => void): void {
  const before = tf.memory().numTensors;
  body();
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
}

/** Steps the optimizer over the recorded gradients, calling `check` after each step. */
function replay(
  opt: Optimizer,
  initial: unknown,
  grads: unknown[],
  check: (i: number, prev: Float32Array, next: Float32Array, state: OptimizerState) => void,
): void {
  let p = tensorOf(initial);
  let state = opt.init(p);
  grads.forEach((gj, i) => {
    const g = tensorOf(gj);
    const next = opt.update(g, state, p);
    check(i, p.dataSync() as Float32Array, next.params.dataSync() as Float32Array, next.state);
    tf.dispose([g, p]);
    disposeState(state);
    p = next.params;
    state = next.state;
  });
  p.dispose();
  disposeState(state);
}

interface OptaxStep {
  grad: unknown;
  updates: unknown;
  params: unknown;
  v: unknown;
}

Deno.test("adafactor() matches optax.adafactor update for update (unfactored, 1e-6)", async () => {
  const fx = await fixture("adafactor_optax.json");
  for (const c of fx.cases) {
    const cfg = c.config;
    const lr = cfg.learning_rate;
    const options: AdafactorOptions = {
      learningRate: typeof lr === "number" ? lr : linearSchedule(
        ...(lr.linear as [
          number,
          number,
          number,
        ]),
      ),
      decayRate: cfg.decay_rate,
      multiplyByParameterScale: cfg.multiply_by_parameter_scale,
      clippingThreshold: cfg.clipping_threshold,
      momentum: cfg.momentum ?? null,
      weightDecay: cfg.weight_decay_rate,
      epsilon1: cfg.eps,
      factored: cfg.factored,
    };
    const steps: OptaxStep[] = c.steps;
    let worst = 0;
    withoutLeaks(() =>
      replay(adafactor(options), c.params, steps.map((s) => s.grad), (i, prev, next, state) => {
        const ref = steps[i];
        const ours = next.map((x, j) => x - prev[j]);
        const du = maxAbsDiff(ours, flat(ref.updates));
        const dp = maxAbsDiff(next, flat(ref.params));
        const dv = maxAbsDiff(state.slots.v.dataSync(), flat(ref.v));
        worst = Math.max(worst, du, dp);
        assert.ok(du <= 1e-6 && dp <= 1e-6, `${c.name} step ${i}: updates ${du}, params ${dp}`);
        assert.ok(dv <= 1e-6 * Math.max(1, ...flat(ref.v)), `${c.name} step ${i}: v ${dv}`);
      })
    );
    assert.ok(worst <= 1e-6);
  }
});

interface TorchParam {
  shape: number[];
  initial: unknown;
  steps: { grad: unknown; params: unknown }[];
}

Deno.test("adafactor({ factored: true }) matches transformers' Adafactor (1e-6)", async () => {
  const fx = await fixture("adafactor_hf.json");
  for (const c of fx.cases) {
    const cfg = c.config;
    const options: AdafactorOptions = {
      learningRate: cfg.lr,
      decayRate: -cfg.decay_rate,
      clippingThreshold: cfg.clip_threshold,
      weightDecay: cfg.weight_decay,
      weightDecayScaling: "stepSize", // transformers multiplies the decay by its step size
      momentum: cfg.beta1 ?? null,
      multiplyByParameterScale: cfg.scale_parameter,
      factored: true,
    };
    for (const [name, prm] of Object.entries(c.params as Record<string, TorchParam>)) {
      withoutLeaks(() =>
        replay(adafactor(options), prm.initial, prm.steps.map((s) => s.grad), (i, _, next) => {
          const d = maxAbsDiff(next, flat(prm.steps[i].params));
          assert.ok(d <= 1e-6, `${c.name}/${name} step ${i}: ${d}`);
        })
      );
    }
  }
});

Deno.test("adam() and adamw() match torch.optim.Adam / AdamW with transformers' schedules (1e-6)", async () => {
  const fx = await fixture("adam_torch.json");
  for (const c of fx.cases) {
    const cfg = c.config;
    let lr: number | Schedule = cfg.lr;
    if (c.schedule !== null) {
      const { kind, warmup, total } = c.schedule;
      lr = linearWarmup(
        warmup,
        kind === "linear"
          ? linearSchedule(cfg.lr, 0, total - warmup)
          : cosineDecaySchedule(cfg.lr, total - warmup),
      );
    }
    const options = {
      learningRate: lr,
      beta1: cfg.betas[0],
      beta2: cfg.betas[1],
      eps: cfg.eps ?? 1e-8,
      weightDecay: cfg.weight_decay ?? (c.optimizer === "AdamW" ? 0.01 : 0),
    };
    const opt = c.optimizer === "AdamW" ? adamw(options) : adam(options);
    (c.lr as number[]).forEach((want, i) =>
      assert.ok(Math.abs(opt.learningRate(i) - want) < 1e-12, `${c.name} lr at ${i}`)
    );
    const prm: TorchParam = c.params.matrix;
    withoutLeaks(() =>
      replay(opt, prm.initial, prm.steps.map((s) => s.grad), (i, _, next) => {
        const d = maxAbsDiff(next, flat(prm.steps[i].params));
        assert.ok(d <= 1e-6, `${c.name} step ${i}: ${d}`);
      })
    );
  }
});

Deno.test("adafactor() makes an exact zero update where the gradient is zero", () => {
  withoutLeaks(() => {
    const opt = adafactor({ weightDecay: 0, factored: true });
    const p = tf.ones([3, 4]);
    const g = tf.tensor2d([[0, 1, 0, 2], [0, 0, 0, 0], [3, 0, 0, 1]]);
    const s = opt.init(p);
    const next = opt.update(g, s, p);
    const x = next.params.dataSync();
    const gx = g.dataSync();
    gx.forEach((gi, i) => gi === 0 && assert.equal(x[i], 1));
    tf.dispose([p, g, next.params]);
    disposeState(s);
    disposeState(next.state);
  });
});

Deno.test("adafactorSlotShapes() factors the last two axes only when asked", () => {
  assert.deepEqual(adafactorSlotShapes([5, 8]), { v: [5, 8] });
  assert.deepEqual(adafactorSlotShapes([5, 8], { factored: true, momentum: 0.9 }), {
    vRow: [5],
    vCol: [8],
    m: [5, 8],
  });
  assert.deepEqual(adafactorSlotShapes([7], { factored: true }), { v: [7] });
});

Deno.test("schedules give their hand-computed values", () => {
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);
  const cases: [Schedule, number, number][] = [
    [constantSchedule(0.3), 0, 0.3],
    [constantSchedule(0.3), 10 ** 6, 0.3],
    [linearSchedule(0.1, 0.01, 10), 0, 0.1],
    [linearSchedule(0.1, 0.01, 10), 5, 0.055],
    [linearSchedule(0.1, 0.01, 10), 10, 0.01],
    [linearSchedule(0.1, 0.01, 10), 50, 0.01],
    [cosineDecaySchedule(1, 4), 1, 0.5 * (1 + Math.SQRT1_2)],
    [cosineDecaySchedule(1, 4, { alpha: 0.1 }), 4, 0.1],
    [cosineDecaySchedule(1, 4, { alpha: 0.1 }), 2, 0.55],
    [rsqrtDecaySchedule(0.01, 10_000), 0, 0.01],
    [rsqrtDecaySchedule(0.01, 10_000), 40_000, 0.005],
    [linearWarmup(10, constantSchedule(0.3)), 0, 0],
    [linearWarmup(10, constantSchedule(0.3)), 5, 0.15],
    [linearWarmup(10, constantSchedule(0.3)), 10, 0.3],
    [linearWarmup(10, constantSchedule(0.3), { from: 0.1 }), 5, 0.2],
    [linearWarmup(4, linearSchedule(1, 0, 6)), 7, 0.5],
    [linearWarmup(4, cosineDecaySchedule(1, 6)), 7, 0.5],
    // T5X's constant * linear_warmup * rsqrt_decay, base 1.0, warm-up 100: min(1, s/100)/√max(s, 100)
    [linearWarmup(100, rsqrtDecaySchedule(0.1, 100), { shift: false }), 50, 0.05],
    [linearWarmup(100, rsqrtDecaySchedule(0.1, 100), { shift: false }), 400, 0.05],
    [joinSchedules([constantSchedule(1), linearSchedule(1, 0, 2)], [3]), 4, 0.5],
  ];
  for (const [s, step, want] of cases) close(s(step), want);
  assert.throws(() => linearSchedule(1, 0, 0), {
    message: "Schedule steps is 0; expected a positive integer",
  });
  assert.throws(() => joinSchedules([constantSchedule(1)], [3]), {
    message:
      "joinSchedules got 1 schedules and 1 boundaries; expected one more schedule than boundaries",
  });
});

Deno.test("clipByGlobalNorm() scales a tree, an array or a tensor by one global factor", () => {
  withoutLeaks(() => {
    const tree = { a: tf.tensor1d([3, 0]), b: { c: tf.tensor2d([[4]]) } };
    const { grads, norm } = clipByGlobalNorm(tree, 2.5);
    assert.equal(norm.dataSync()[0], 5);
    assert.deepEqual([...grads.a.dataSync()], [1.5, 0]);
    assert.deepEqual([...grads.b.c.dataSync()], [2]);
    assert.deepEqual(grads.b.c.shape, [1, 1]);
    tf.dispose([tree.a, tree.b.c, grads.a, grads.b.c, norm]);

    const small = [tf.tensor1d([0.3]), tf.tensor1d([0.4])];
    const kept = clipByGlobalNorm(small, 1);
    assert.ok(Array.isArray(kept.grads));
    assert.deepEqual(kept.grads.map((t) => t.dataSync()[0]), [
      Math.fround(0.3),
      Math.fround(0.4),
    ]);
    tf.dispose([...small, ...kept.grads, kept.norm]);

    // PyTorch's clip_grad_norm_: coefficient max / (norm + 1e-6), clamped to 1.
    const one = tf.tensor1d([1]);
    const torchLike = clipByGlobalNorm(one, 1, { eps: 1e-6 });
    assert.ok(Math.abs(torchLike.grads.dataSync()[0] - 1 / (1 + 1e-6)) < 1e-7);
    const n = globalNorm({});
    assert.equal(n.dataSync()[0], 0);
    tf.dispose([one, torchLike.grads, torchLike.norm, n]);
  });
  assert.throws(() => clipByGlobalNorm([], 0), {
    message: "clipByGlobalNorm maxNorm is 0; expected a positive number",
  });
});

Deno.test("an optimizer state restored from host copies continues bit for bit", async () => {
  const before = tf.memory().numTensors;
  const opt = adafactor({ factored: true, momentum: 0.9 });
  const grad = (i: number) => tf.tidy(() => tf.mul(tf.sin(tf.range(0, 12).reshape([3, 4])), i + 1));
  const run = (p: tf.Tensor, s: OptimizerState, from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const g = grad(i);
      const next = opt.update(g, s, p);
      tf.dispose([g, p]);
      disposeState(s);
      p = next.params;
      s = next.state;
    }
    return { p, s };
  };
  const start = tf.ones([3, 4]);
  const half = run(start, opt.init(start), 0, 3);
  const host = await stateToHost(half.s);
  const hostParams = half.p.dataSync().slice();
  const restored = orThrow(stateFromHost(host));
  assert.equal(orThrow(checkState(opt, restored, half.p)), restored);
  const a = run(half.p, half.s, 3, 6);
  const b = run(tf.tensor(hostParams, [3, 4]), restored, 3, 6);
  assert.deepEqual(a.p.dataSync(), b.p.dataSync());
  for (const k of Object.keys(a.s.slots)) {
    assert.deepEqual(a.s.slots[k].dataSync(), b.s.slots[k].dataSync(), k);
  }
  assert.equal(a.s.step, 6);
  tf.dispose([a.p, b.p]);
  disposeState(a.s);
  disposeState(b.s);
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
});

Deno.test("checkState() and stateFromHost() report what does not fit", () => {
  withoutLeaks(() => {
    const p = tf.zeros([2, 3]);
    const s = adam().init(p);
    const r = checkState(adafactor(), s, p);
    assert.equal(r._tag, "Left");
    assert.equal(r._tag === "Left" && r.left.message, "Slot m is not one of adafactor's");
    const f = adafactor({ factored: true }).init(p);
    const r2 = checkState(adam(), f, p);
    assert.equal(
      r2._tag === "Left" && r2.left.message,
      "Slot m is missing; slot v is missing; slot vCol is not one of adam's; slot vRow is not one of adam's",
    );
    disposeState(f);
    disposeState(s);
    p.dispose();
  });
  const bad = stateFromHost({
    step: 1,
    slots: { v: hostTensor("float64", [1], new Float64Array([1])) },
  });
  assert.equal(bad._tag === "Left" && bad.left.message, "Slot is float64; expected float32");
});

Deno.test("update() rejects a gradient or state that does not fit the parameter", () => {
  withoutLeaks(() => {
    const opt = adafactor();
    const p = tf.zeros([2, 3]);
    const g = tf.zeros([3, 2]);
    const s = opt.init(p);
    assert.throws(() => opt.update(g, s, p), {
      message:
        "adafactor got a gradient of shape [3, 2] for a parameter of shape [2, 3]; expected equal shapes",
    });
    const g2 = tf.zeros([2, 3]);
    const wrong = adam().init(p);
    assert.throws(() => opt.update(g2, wrong, p), {
      message: "adafactor state has slots [m, v]; expected [v]",
    });
    tf.dispose([p, g, g2]);
    disposeState(s);
    disposeState(wrong);
  });
  assert.throws(() => adafactor({ decayRate: 0 }), {
    message: "adafactor option decayRate is 0; expected a number in (0, Infinity]",
  });
  assert.throws(() => adamw({ beta2: 1 }), {
    message: "adamw options beta1 and beta2 are 0.9, 1; expected < 1",
  });
});

Deno.test("optimizers leak no tensors over 50 steps with global-norm clipping", () => {
  const optimizers = [
    adafactor(),
    adafactor({ factored: true, momentum: 0.9, multiplyByParameterScale: true }),
    adam({ weightDecay: 0.1 }),
    adamw({ learningRate: linearWarmup(5, cosineDecaySchedule(1e-2, 45)) }),
  ];
  for (const opt of optimizers) {
    withoutLeaks(() => {
      let p = tf.randomNormal([4, 6], 0, 1, "float32", 7);
      let s = opt.init(p);
      for (let i = 0; i < 50; i++) {
        const g = tf.tidy(() => tf.sub(p, 0.5)); // gradient of ½‖p − 0.5‖²
        const { grads, norm } = clipByGlobalNorm(g, 1);
        const next = opt.update(grads, s, p);
        tf.dispose([g, grads, norm, p]);
        disposeState(s);
        p = next.params;
        s = next.state;
      }
      assert.equal(s.step, 50);
      assert.ok(p.dataSync().every(Number.isFinite), opt.name);
      p.dispose();
      disposeState(s);
    });
  }
});

Deno.test("adafactor() with a decay offset treats steps before it as the first, not NaN", () => {
  const before = tf.memory().numTensors;
  const opt = adafactor({ decayOffset: 5 });
  const p = tf.tensor2d([[0.5, -0.25], [1, 2]]);
  const g = tf.tensor2d([[0.1, -0.2], [0.3, 0.05]]);
  const s0 = opt.init(p);
  const r = opt.update(g, s0, p);
  const plain = adafactor().update(g, s0, p);
  assert.ok(Array.from(r.params.dataSync()).every(Number.isFinite));
  assert.deepEqual(Array.from(r.params.dataSync()), Array.from(plain.params.dataSync()));
  tf.dispose([p, g, r.params, plain.params]);
  disposeState(s0);
  disposeState(r.state);
  disposeState(plain.state);
  assert.equal(tf.memory().numTensors, before);
});
