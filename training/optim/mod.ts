/**
 * Optimizers as pure state transitions, for the soft prompt (one `[P, H]` float32 tensor).
 *
 * - {@link adafactor}: the prompt-tuning default (Lester et al. 2021 via T5X: LR 0.3, decay rate
 *   0.8, update clipping 1.0, weight decay 1e-5, not factored), matched against optax; factored as
 *   Hugging Face's `Adafactor`.
 * - {@link adam}, {@link adamw}: PyTorch's semantics, for PEFT parity.
 * - Schedules ({@link constantSchedule}, {@link linearSchedule}, {@link cosineDecaySchedule},
 *   {@link rsqrtDecaySchedule}, {@link linearWarmup}, {@link joinSchedules}): pure functions of the
 *   step.
 * - {@link clipByGlobalNorm} over a tensor or a tree.
 * - State as a value: {@link disposeState}, {@link stateToHost} / {@link stateFromHost} for
 *   checkpoints (bit for bit), {@link checkState} after a restore.
 *
 * Nothing is updated in place: `update(grad, state, params)` returns new parameters and a new
 * state; the caller disposes the old ones.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { adafactor, disposeState } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const opt = adafactor();
 * let prompt = tf.zeros([4, 8]);
 * let state = opt.init(prompt);
 * for (let i = 0; i < 3; i++) {
 *   const grad = tf.onesLike(prompt);
 *   const next = opt.update(grad, state, prompt);
 *   tf.dispose([grad, prompt]);
 *   disposeState(state);
 *   prompt = next.params;
 *   state = next.state;
 * }
 * assert(state.step === 3 && prompt.dataSync()[0] < 0);
 * disposeState(state);
 * prompt.dispose();
 * ```
 *
 * @module
 */
export type {
  LearningRate,
  Optimizer,
  OptimizerState,
  OptimizerUpdate,
  Schedule,
} from "./types.ts";
export { adafactor, type AdafactorOptions, adafactorSlotShapes } from "./adafactor.ts";
export { adam, type AdamOptions, adamw } from "./adam.ts";
export {
  constantSchedule,
  cosineDecaySchedule,
  joinSchedules,
  linearSchedule,
  linearWarmup,
  rsqrtDecaySchedule,
} from "./schedules.ts";
export { clipByGlobalNorm, type Clipped, globalNorm } from "./clip.ts";
export {
  checkState,
  disposeState,
  type HostOptimizerState,
  stateFromHost,
  stateToHost,
} from "./state.ts";
