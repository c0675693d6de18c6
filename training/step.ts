/**
 * One training step as a pure function: from the prompt and the optimizer's state, and a batch,
 * to the next prompt and state, the loss and the gradient's norm. Only the prompt is
 * differentiated; the frozen model is a constant of the loss. The training loop (`loop.ts`), the
 * step benchmark and the profile all step with it.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { clipByGlobalNorm, globalNorm, type Optimizer, type OptimizerState } from "./optim/mod.ts";
import { valueAndGradOfPrompt } from "./grad.ts";

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * What a step changes: the prompt `[P, H]` float32 and the optimizer's state.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { adam, disposeState } from "./optim/mod.ts";
 * import type { StepState } from "./step.ts";
 * import assert from "node:assert/strict";
 * const prompt = tf.zeros([2, 3]);
 * const state: StepState = { prompt, opt: adam().init(prompt) };
 * assert(state.opt.step === 0);
 * disposeState(state.opt);
 * prompt.dispose();
 * ```
 */
export interface StepState {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** The prompt `[P, H]` float32. */
  readonly prompt: tf.Tensor;
  /** The optimizer's state for the prompt. */
  readonly opt: OptimizerState;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Options of {@link trainStep}: the loss, the optimizer, and gradient clipping.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { adafactor } from "./optim/mod.ts";
 * import type { TrainStepOptions } from "./step.ts";
 * import assert from "node:assert/strict";
 * const options: TrainStepOptions<tf.Tensor> = {
 *   loss: (p, b) => tf.mean(tf.square(tf.sub(tf.sum(p), b))),
 *   optimizer: adafactor(),
 *   clipNorm: 1,
 * };
 * assert(options.optimizer.name === "adafactor");
 * ```
 */
export interface TrainStepOptions<B> {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** The loss of a prompt on a batch, differentiable in the prompt; called inside a `tf.tidy`. */
  readonly loss: (prompt: tf.Tensor, batch: B) => tf.Scalar;
  /** The optimizer. */
  readonly optimizer: Optimizer;
  /** Clip the gradient to this global norm (default: no clipping). */
  readonly clipNorm?: number;
}

/**
 * What {@link trainStep} returns: the new state (the caller owns it), the loss of the prompt
 * before the update, and the gradient's global norm before clipping.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { adam, disposeState } from "./optim/mod.ts";
 * import { type StepResult, trainStep } from "./step.ts";
 * import assert from "node:assert/strict";
 * const prompt = tf.ones([1, 2]), optimizer = adam();
 * const r: StepResult = await trainStep({ prompt, opt: optimizer.init(prompt) }, null, {
 *   loss: (p) => tf.sum(p), // gradient [1, 1]
 *   optimizer,
 * });
 * assert(r.loss === 2 && r.gradNorm === Math.fround(Math.SQRT2) && r.state.opt.step === 1);
 * r.state.prompt.dispose();
 * disposeState(r.state.opt);
 * ```
 */
export interface StepResult {
  /** The prompt and optimizer state after the update. */
  readonly state: StepState;
  /** The loss of the prompt given (before the update); NaN or ±Infinity when it diverged. */
  readonly loss: number;
  /** `‖∂loss/∂prompt‖₂`, before clipping. */
  readonly gradNorm: number;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * One training step, in one `tf.tidy`: `loss, g = valueAndGrad(prompt ↦ loss(prompt, batch))
 * (prompt)`, `n = ‖g‖₂` (and `g` clipped to `clipNorm` when set), `prompt, state =
 * optimizer.update(g, state, prompt)`; then, outside the tidy, the loss and the norm are read.
 *
 * Pure: `state` and `batch` are neither disposed nor modified, and the new state is a value the
 * caller owns. The caller disposes the old state once it has the new one, or the new one when it
 * rejects the step (say, a NaN loss). Nothing else is left behind.
 *
 * @param state the prompt and the optimizer's state
 * @param batch the batch, passed to `loss`
 * @param options the loss, the optimizer and gradient clipping
 * @returns the new state, the loss and the gradient's norm
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { adam, disposeState } from "./optim/mod.ts";
 * import { trainStep } from "./step.ts";
 * import assert from "node:assert/strict";
 * const optimizer = adam({ learningRate: 0.1 });
 * const prompt = tf.zeros([1, 2]), target = tf.scalar(3);
 * const old = { prompt, opt: optimizer.init(prompt) };
 * const before = tf.memory().numTensors;
 * const { state, loss, gradNorm } = await trainStep(old, target, {
 *   loss: (p, t) => tf.square(tf.sub(tf.sum(p), t)),
 *   optimizer,
 *   clipNorm: 1,
 * });
 * // (0 + 0 - 3)² = 9, gradient [-6, -6]; Adam's first step moves each entry by the rate.
 * assert(loss === 9 && Math.abs(gradNorm - 6 * Math.SQRT2) < 1e-5);
 * assert(Math.abs(state.prompt.dataSync()[0] - 0.1) < 1e-6);
 * prompt.dispose(); // the caller disposes the old state
 * disposeState(old.opt);
 * assert(tf.memory().numTensors === before); // nothing left behind
 * tf.dispose([target, state.prompt]);
 * disposeState(state.opt);
 * ```
 */
export async function trainStep<B>(
  state: StepState,
  batch: B,
  options: TrainStepOptions<B>,
): Promise<StepResult> {
  const { loss, optimizer, clipNorm } = options;
  let optStep = 0;
  const out = tf.tidy(() => {
    const f = (p: tf.Tensor) => loss(p, batch);
    const { value, grad } = valueAndGradOfPrompt(f)(state.prompt);
    let g = grad, norm: tf.Scalar;
    if (clipNorm !== undefined) {
      const c = clipByGlobalNorm(grad, clipNorm);
      g = c.grads;
      norm = c.norm;
    } else norm = globalNorm(grad);
    const next = optimizer.update(g, state.opt, state.prompt);
    optStep = next.state.step;
    return { value, norm, params: next.params, slots: { ...next.state.slots } };
  });
  const value = (await out.value.data())[0];
  const norm = (await out.norm.data())[0];
  tf.dispose([out.value, out.norm]);
  return {
    state: { prompt: out.params, opt: { step: optStep, slots: out.slots } },
    loss: value,
    gradNorm: norm,
  };
}
