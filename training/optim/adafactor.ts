/**
 * Adafactor (Shazeer & Stern 2018) as a pure state transition, with the defaults Lester et al.
 * (2021) used for prompt tuning through T5X: constant learning rate 0.3, decay rate 0.8, no
 * parameter scaling, update clipping at RMS 1.0, weight decay 1e-5, ε1 = 1e-30, no momentum, the
 * prompt not factored.
 *
 * ## The update
 *
 * For the update with 0-based index `t` (`state.step`), gradient `g`, parameter `p`, learning rate
 * `η = lr(t)`:
 *
 * ```text
 * β2  = 1 − max(1, t + 1 − decayOffset)^(−decayRate)   (0 at the first update)
 * G   = g² + ε1
 * not factored:  V ← β2·V + (1 − β2)·G                    U = g · V^(−½)
 * factored (rank ≥ 2, over the last two axes, rows × cols):
 *   R ← β2·R + (1 − β2)·mean_cols(G)                     [..., rows]
 *   C ← β2·C + (1 − β2)·mean_rows(G)                     [..., cols]
 *   U = g · (R / mean_rows(R))^(−½)[..., :, None] · C^(−½)[..., None, :]
 * clipping:      U ← U / max(1, RMS(U) / clippingThreshold)        RMS(x) = √mean(x²)
 * scale:         S = η·U,  times max(ε2, RMS(p)) with multiplyByParameterScale
 * momentum β1:   M ← β1·M + (1 − β1)·S;  S = M
 * weight decay:  λ = weightDecay            (weightDecayScaling "none", the default)
 *                λ = weightDecay·η          ("learningRate")
 *                λ = weightDecay·η·max(ε2, RMS(p)) with parameter scale, else weightDecay·η
 *                                           ("stepSize")
 * new p = p − (S + λ·p)
 * ```
 *
 * This is the order of optax's `adafactor` chain (`scale_by_factored_rms` → `clip_by_block_rms` →
 * `scale_by_learning_rate` → `scale_by_param_block_rms` → `ema` → `add_decayed_weights`) and of
 * T5X's `Adafactor.apply_param_gradient` (`(1 − λ)·p − S`). Neither multiplies the weight decay by
 * the learning rate: with `weightDecayScaling: "none"` (the default) `λ = weightDecay` as there.
 * Hugging Face's `transformers.optimization.Adafactor` multiplies it by its whole step size,
 * parameter scale included (`p −= weightDecay·lr·p`): `weightDecayScaling: "stepSize"`.
 * `"learningRate"` is T5X's `weight_decay_rate_lr_exponent: 1`. ε2 only bounds the parameter
 * scale, so it does nothing when `multiplyByParameterScale` is off.
 *
 * Factoring follows Hugging Face: with `factored: true` every parameter of rank ≥ 2 is factored
 * over its last two axes. optax and T5X factor only when the two largest axes are both at least
 * 128 long and pick those two; for a matrix the estimate `R_i·C_j / mean(R)` is the same either way.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { asSchedule, checkParamAndGrad, checkRange, checkSlots } from "./_checks.ts";
import type { LearningRate, Optimizer, OptimizerState } from "./types.ts";

/**
 * Adafactor's options; every one has the prompt-tuning default.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { adafactor, type AdafactorOptions } from "./adafactor.ts";
 * import { disposeState } from "./state.ts";
 * import assert from "node:assert/strict";
 * const options: AdafactorOptions = { learningRate: 1e-2, factored: true, momentum: 0.9 };
 * const p = tf.zeros([4, 6]);
 * const s = adafactor(options).init(p);
 * // Factored second moments (one per row, one per column) and a momentum slot.
 * assert(Object.keys(s.slots).sort().join() === "m,vCol,vRow");
 * assert(s.slots.vRow.shape.join() === "4" && s.slots.vCol.shape.join() === "6");
 * disposeState(s);
 * p.dispose();
 * ```
 */
export interface AdafactorOptions {
  /** Learning rate or schedule (default 0.3, constant). */
  readonly learningRate?: LearningRate;
  /** Exponent `c` of the second-moment decay `β2 = 1 − t^(−c)` (default 0.8). */
  readonly decayRate?: number;
  /**
   * Subtracted from the step in `β2` (optax's `decay_offset`, T5X's `step_offset`; default 0),
   * for fine-tuning from a checkpoint whose step count starts at the offset. Steps before the
   * offset count as the first step (β2 = 0), where optax would produce NaN.
   */
  readonly decayOffset?: number;
  /** Multiply the step by `max(ε2, RMS(p))` (default false, as for prompts in T5X). */
  readonly multiplyByParameterScale?: boolean;
  /** RMS threshold of the update before scaling; `null` turns clipping off (default 1.0). */
  readonly clippingThreshold?: number | null;
  /** Momentum `β1` of the scaled update; `null` for none (default `null`). */
  readonly momentum?: number | null;
  /** Decoupled weight decay rate (default 1e-5). */
  readonly weightDecay?: number;
  /**
   * What the weight decay rate is multiplied by: `"none"` (optax, T5X; the default),
   * `"learningRate"` (η), or `"stepSize"` (η times the parameter scale when that is on:
   * transformers' Adafactor).
   */
  readonly weightDecayScaling?: "none" | "learningRate" | "stepSize";
  /** ε1, added to the squared gradient (default 1e-30). */
  readonly epsilon1?: number;
  /** ε2, the smallest parameter scale (default 1e-3). */
  readonly epsilon2?: number;
  /** Factored second moments for parameters of rank ≥ 2 (default false: the prompt is not). */
  readonly factored?: boolean;
}

const WHO = "adafactor";

/**
 * The slots Adafactor keeps for a parameter of this shape: `v` (not factored) or `vRow`, `vCol`
 * (factored), and `m` with momentum.
 *
 * @param shape the parameter's shape
 * @param options the optimizer's options (`factored`, `momentum` matter)
 * @returns slot names and their shapes
 * @example
 * ```ts
 * import { adafactorSlotShapes } from "./adafactor.ts";
 * import assert from "node:assert/strict";
 * const s = adafactorSlotShapes([3, 4, 6], { factored: true });
 * assert(s.vRow.join() === "3,4" && s.vCol.join() === "3,6");
 * ```
 */
export function adafactorSlotShapes(
  shape: readonly number[],
  options: AdafactorOptions = {},
): Record<string, readonly number[]> {
  const out: Record<string, readonly number[]> = {};
  if ((options.factored ?? false) && shape.length >= 2) {
    out.vRow = shape.slice(0, -1); // [..., rows]
    out.vCol = [...shape.slice(0, -2), shape[shape.length - 1]]; // [..., cols]
  } else {
    out.v = [...shape];
  }
  if (options.momentum !== undefined && options.momentum !== null) out.m = [...shape];
  return out;
}

/**
 * Makes an Adafactor optimizer. See the module documentation for the update equations.
 *
 * @param options hyper-parameters; left out, the prompt-tuning defaults (LR 0.3, decay rate 0.8,
 * clipping 1.0, weight decay 1e-5, ε1 1e-30, no parameter scale, no momentum, not factored)
 * @returns the optimizer
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { adafactor } from "./adafactor.ts";
 * import { disposeState } from "./state.ts";
 * import assert from "node:assert/strict";
 * const opt = adafactor();
 * const p = tf.zeros([2, 3]);
 * const g = tf.fill([2, 3], 5);
 * const s0 = opt.init(p);
 * const { params, state } = opt.update(g, s0, p);
 * // First step: β2 = 0, so V = g² and U = sign(g); RMS 1 is not clipped; p − 0.3·U.
 * assert(Math.abs(params.dataSync()[0] + 0.3) < 1e-6);
 * disposeState(s0);
 * disposeState(state);
 * tf.dispose([p, g, params]);
 * ```
 */
export function adafactor(options: AdafactorOptions = {}): Optimizer {
  const lr = asSchedule(WHO, options.learningRate ?? 0.3);
  const decayRate = options.decayRate ?? 0.8;
  const decayOffset = options.decayOffset ?? 0;
  const scaleByParam = options.multiplyByParameterScale ?? false;
  const clip = options.clippingThreshold === undefined ? 1.0 : options.clippingThreshold;
  const momentum = options.momentum ?? null;
  const weightDecay = options.weightDecay ?? 1e-5;
  const wdScaling = options.weightDecayScaling ?? "none";
  const eps1 = options.epsilon1 ?? 1e-30;
  const eps2 = options.epsilon2 ?? 1e-3;
  checkRange(WHO, "decayRate", decayRate, 0, Infinity, true);
  if (!Number.isSafeInteger(decayOffset) || decayOffset < 0) {
    throw new RangeError(`${WHO} option decayOffset is ${decayOffset}; expected an integer ≥ 0`);
  }
  if (clip !== null) checkRange(WHO, "clippingThreshold", clip, 0, Infinity, true);
  if (momentum !== null) checkRange(WHO, "momentum", momentum, 0, 1);
  checkRange(WHO, "weightDecay", weightDecay, 0, Infinity);
  if (!["none", "learningRate", "stepSize"].includes(wdScaling)) {
    throw new RangeError(
      `${WHO} option weightDecayScaling is ${wdScaling}; expected "none", "learningRate" or "stepSize"`,
    );
  }
  checkRange(WHO, "epsilon1", eps1, 0, Infinity);
  checkRange(WHO, "epsilon2", eps2, 0, Infinity);
  const slotShapes = (shape: readonly number[]) => adafactorSlotShapes(shape, options);

  return {
    name: WHO,
    learningRate: lr,
    init(params) {
      const shapes = slotShapes(params.shape);
      const slots: Record<string, tf.Tensor> = {};
      for (const [k, s] of Object.entries(shapes)) slots[k] = tf.zeros([...s], "float32");
      return { step: 0, slots };
    },
    update(grad, state, params) {
      checkParamAndGrad(WHO, grad, params);
      checkSlots(WHO, state, slotShapes(params.shape));
      const eta = lr(state.step);
      const beta2 = 1 - Math.pow(Math.max(1, state.step + 1 - decayOffset), -decayRate);
      const lambda = wdScaling === "none" ? weightDecay : weightDecay * eta;
      const factored = "vRow" in state.slots;
      const names = Object.keys(state.slots).sort();
      const [newParams, ...newSlots] = tf.tidy(() => {
        const out: Record<string, tf.Tensor> = {};
        const g2 = tf.add(tf.square(grad), eps1); // G, same shape as p
        let u: tf.Tensor;
        if (factored) {
          const r = tf.add(
            tf.mul(state.slots.vRow, beta2),
            tf.mul(tf.mean(g2, -1), 1 - beta2),
          ); // [..., rows]
          const c = tf.add(
            tf.mul(state.slots.vCol, beta2),
            tf.mul(tf.mean(g2, -2), 1 - beta2),
          ); // [..., cols]
          out.vRow = r;
          out.vCol = c;
          const rowFactor = tf.expandDims(tf.rsqrt(tf.div(r, tf.mean(r, -1, true))), -1); // [..., rows, 1]
          const colFactor = tf.expandDims(tf.rsqrt(c), -2); // [..., 1, cols]
          u = tf.mul(tf.mul(rowFactor, colFactor), grad);
        } else {
          const v = tf.add(tf.mul(state.slots.v, beta2), tf.mul(g2, 1 - beta2));
          out.v = v;
          u = tf.mul(grad, tf.rsqrt(v));
        }
        if (clip !== null) {
          const rms = tf.sqrt(tf.mean(tf.square(u)));
          u = tf.div(u, tf.maximum(tf.div(rms, clip), 1));
        }
        let s: tf.Tensor = tf.mul(u, eta); // S
        let decay: number | tf.Tensor = lambda;
        if (scaleByParam) {
          const scale = tf.maximum(tf.sqrt(tf.mean(tf.square(params))), eps2); // scalar
          s = tf.mul(s, scale);
          if (wdScaling === "stepSize") decay = tf.mul(scale, lambda);
        }
        if (momentum !== null) {
          s = tf.add(tf.mul(state.slots.m, momentum), tf.mul(s, 1 - momentum)); // M
          out.m = s;
        }
        if (lambda !== 0) s = tf.add(s, tf.mul(params, decay));
        return [tf.sub(params, s), ...names.map((k) => out[k])];
      });
      const slots: Record<string, tf.Tensor> = {};
      names.forEach((k, i) => (slots[k] = newSlots[i]));
      return { params: newParams, state: { step: state.step + 1, slots } satisfies OptimizerState };
    },
  };
}
