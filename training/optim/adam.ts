/**
 * Adam and AdamW with PyTorch's semantics (`torch.optim.Adam` / `torch.optim.AdamW`, the
 * single-tensor path), so that a run here matches one with PEFT and torch.
 *
 * ## The update
 *
 * For the update with 0-based index `t` (`state.step`), gradient `g`, parameter `p`, learning rate
 * `η = lr(t)`, and `k = t + 1`:
 *
 * ```text
 * Adam (L2):      g ← g + λ·p
 * AdamW:          p ← p·(1 − η·λ)                       (decoupled weight decay)
 * m ← m + (1 − β1)·(g − m)                              (= β1·m + (1 − β1)·g)
 * v ← β2·v + (1 − β2)·g²
 * p ← p − (η / (1 − β1^k)) · m / (√v / √(1 − β2^k) + ε)    (ε outside the square root)
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { asSchedule, checkParamAndGrad, checkRange, checkSlots } from "./_checks.ts";
import type { LearningRate, Optimizer } from "./types.ts";

/**
 * Adam's options, with torch's defaults.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { adam, type AdamOptions } from "./adam.ts";
 * import { disposeState } from "./state.ts";
 * import assert from "node:assert/strict";
 * const options: AdamOptions = { learningRate: 0.1, weightDecay: 1 }; // L2: g + 1·p
 * const opt = adam(options);
 * const p = tf.ones([1]), g = tf.fill([1], -1); // the penalty cancels the gradient
 * const s0 = opt.init(p);
 * const { params, state } = opt.update(g, s0, p);
 * assert(params.dataSync()[0] === 1);
 * disposeState(s0);
 * disposeState(state);
 * tf.dispose([p, g, params]);
 * ```
 */
export interface AdamOptions {
  /** Learning rate or schedule (default 1e-3). */
  readonly learningRate?: LearningRate;
  /** β1, the first-moment decay (default 0.9). */
  readonly beta1?: number;
  /** β2, the second-moment decay (default 0.999). */
  readonly beta2?: number;
  /** ε, added to the bias-corrected √v (default 1e-8). */
  readonly eps?: number;
  /** λ: L2 penalty for {@link adam} (default 0), decoupled decay for {@link adamw} (default 0.01). */
  readonly weightDecay?: number;
}

function makeAdam(name: string, decoupled: boolean, options: AdamOptions): Optimizer {
  const lr = asSchedule(name, options.learningRate ?? 1e-3);
  const beta1 = options.beta1 ?? 0.9;
  const beta2 = options.beta2 ?? 0.999;
  const eps = options.eps ?? 1e-8;
  const lambda = options.weightDecay ?? (decoupled ? 0.01 : 0);
  checkRange(name, "beta1", beta1, 0, 1);
  checkRange(name, "beta2", beta2, 0, 1);
  if (beta1 === 1 || beta2 === 1) {
    throw new RangeError(`${name} options beta1 and beta2 are ${beta1}, ${beta2}; expected < 1`);
  }
  checkRange(name, "eps", eps, 0, Infinity);
  checkRange(name, "weightDecay", lambda, 0, Infinity);
  const shapes = (shape: readonly number[]) => ({ m: shape, v: shape });

  return {
    name,
    learningRate: lr,
    init(params) {
      return {
        step: 0,
        slots: { m: tf.zeros(params.shape, "float32"), v: tf.zeros(params.shape, "float32") },
      };
    },
    update(grad, state, params) {
      checkParamAndGrad(name, grad, params);
      checkSlots(name, state, shapes(params.shape));
      const eta = lr(state.step);
      const k = state.step + 1;
      const stepSize = eta / (1 - Math.pow(beta1, k));
      const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, k));
      const [p, m, v] = tf.tidy(() => {
        let g = grad;
        let p0 = params;
        if (lambda !== 0 && !decoupled) g = tf.add(g, tf.mul(params, lambda));
        if (lambda !== 0 && decoupled) p0 = tf.mul(params, 1 - eta * lambda);
        const m = tf.add(state.slots.m, tf.mul(tf.sub(g, state.slots.m), 1 - beta1));
        const v = tf.add(tf.mul(state.slots.v, beta2), tf.mul(tf.square(g), 1 - beta2));
        const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), eps);
        const p = tf.sub(p0, tf.mul(tf.div(m, denom), stepSize));
        return [p, m, v];
      });
      return { params: p, state: { step: k, slots: { m, v } } };
    },
  };
}

/**
 * Makes an Adam optimizer (`torch.optim.Adam`; `weightDecay` is an L2 term added to the gradient).
 * See the module documentation for the update equations.
 *
 * @param options hyper-parameters (torch's defaults: LR 1e-3, β 0.9/0.999, ε 1e-8, no decay)
 * @returns the optimizer, with slots `m` and `v`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { adam } from "./adam.ts";
 * import { disposeState } from "./state.ts";
 * import assert from "node:assert/strict";
 * const opt = adam({ learningRate: 0.1 });
 * const p = tf.zeros([3]), g = tf.tensor1d([1, -2, 0]);
 * const s0 = opt.init(p);
 * const { params, state } = opt.update(g, s0, p);
 * // First step moves each coordinate by η·sign(g) (up to ε).
 * const x = params.dataSync();
 * assert(Math.abs(x[0] + 0.1) < 1e-6 && Math.abs(x[1] - 0.1) < 1e-6 && x[2] === 0);
 * disposeState(s0);
 * disposeState(state);
 * tf.dispose([p, g, params]);
 * ```
 */
export function adam(options: AdamOptions = {}): Optimizer {
  return makeAdam("adam", false, options);
}

/**
 * Makes an AdamW optimizer (`torch.optim.AdamW`: decoupled weight decay `p ← p·(1 − η·λ)` before
 * the Adam step). See the module documentation for the update equations.
 *
 * @param options hyper-parameters (torch's defaults: LR 1e-3, β 0.9/0.999, ε 1e-8, λ 0.01)
 * @returns the optimizer, with slots `m` and `v`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { adamw } from "./adam.ts";
 * import { disposeState } from "./state.ts";
 * import assert from "node:assert/strict";
 * const opt = adamw({ learningRate: 0.1, weightDecay: 0.5 });
 * const p = tf.ones([1]), g = tf.zeros([1]);
 * const s0 = opt.init(p);
 * const { params, state } = opt.update(g, s0, p);
 * // A zero gradient leaves only the decay: 1·(1 − 0.1·0.5).
 * assert(Math.abs(params.dataSync()[0] - 0.95) < 1e-6);
 * disposeState(s0);
 * disposeState(state);
 * tf.dispose([p, g, params]);
 * ```
 */
export function adamw(options: AdamOptions = {}): Optimizer {
  return makeAdam("adamw", true, options);
}
