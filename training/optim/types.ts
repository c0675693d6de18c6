/**
 * What every optimizer here is: a pair of pure functions over one parameter tensor and a state
 * value, in the manner of optax's `GradientTransformation` and Haiku's `init`/`apply`.
 *
 * Ownership: `init` and `update` return new tensors that the caller owns. `update` neither
 * disposes nor modifies its inputs (gradient, state, parameters); once the caller has the new
 * parameters and state it disposes the old ones (see `disposeState`).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";

/**
 * A learning-rate schedule: the rate used for an update, as a pure function of the update's
 * 0-based index (the number of updates applied before it, as optax's `count` and the `step` a
 * PyTorch `LambdaLR` passes on its first call).
 *
 * @example
 * ```ts
 * import type { Schedule } from "./types.ts";
 * import assert from "node:assert/strict";
 * const halveEvery10: Schedule = (step) => 0.1 * 0.5 ** Math.floor(step / 10);
 * assert(halveEvery10(0) === 0.1 && halveEvery10(9) === 0.1 && halveEvery10(25) === 0.025);
 * ```
 */
export type Schedule = (step: number) => number;

/**
 * A fixed learning rate or a {@link Schedule}.
 *
 * @example
 * ```ts
 * import { adam } from "./adam.ts";
 * import { linearSchedule } from "./schedules.ts";
 * import type { LearningRate } from "./types.ts";
 * import assert from "node:assert/strict";
 * const fixed: LearningRate = 0.3;
 * const warmUp: LearningRate = linearSchedule(0, 0.3, 10);
 * assert(adam({ learningRate: fixed }).learningRate(5) === 0.3);
 * assert(Math.abs(adam({ learningRate: warmUp }).learningRate(5) - 0.15) < 1e-12);
 * ```
 */
export type LearningRate = number | Schedule;

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * An optimizer's state as a value: the number of updates applied so far, and named float32
 * tensors (the "slots": moments, accumulators). Names and shapes depend on the optimizer and its
 * options; all are restored bit for bit by `stateToHost` / `stateFromHost`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { OptimizerState } from "./types.ts";
 * import assert from "node:assert/strict";
 * const s: OptimizerState = { step: 0, slots: { v: tf.zeros([2, 3]) } };
 * assert(s.slots.v.size === 6);
 * s.slots.v.dispose();
 * ```
 */
export interface OptimizerState {
  /** Updates applied so far (0 after `init`). */
  readonly step: number;
  // deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
  /** The optimizer's tensors by name. */
  readonly slots: Readonly<Record<string, tf.Tensor>>;
}

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * What an update returns: the new parameters and the new state, both owned by the caller.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { adamw } from "./adam.ts";
 * import { disposeState } from "./state.ts";
 * import type { OptimizerUpdate } from "./types.ts";
 * import assert from "node:assert/strict";
 * const opt = adamw();
 * const p = tf.ones([2]), g = tf.ones([2]);
 * const s = opt.init(p);
 * const next: OptimizerUpdate = opt.update(g, s, p);
 * assert(next.params.shape.join() === "2" && next.state.step === s.step + 1);
 * disposeState(s);
 * disposeState(next.state);
 * tf.dispose([p, g, next.params]);
 * ```
 */
export interface OptimizerUpdate {
  // deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
  /** The updated parameters, same shape as the old ones. */
  readonly params: tf.Tensor;
  /** The state after the update; `step` is one more than before. */
  readonly state: OptimizerState;
}

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * An optimizer for one float32 parameter tensor (the prompt, `[P, H]`). It holds only numbers
 * (its hyper-parameters), never tensors.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { adam } from "./adam.ts";
 * import { disposeState } from "./state.ts";
 * import assert from "node:assert/strict";
 * const opt = adam({ learningRate: 0.1 });
 * const p = tf.ones([2]);
 * const g = tf.ones([2]);
 * const s = opt.init(p);
 * const next = opt.update(g, s, p);
 * assert(next.state.step === 1 && next.params.dataSync()[0] < 1);
 * disposeState(s);
 * disposeState(next.state);
 * tf.dispose([p, g, next.params]);
 * ```
 */
export interface Optimizer {
  /** A short name for logs and checkpoints (`"adafactor"`, `"adam"`, `"adamw"`). */
  readonly name: string;
  /**
   * The learning rate the update with this 0-based index uses.
   *
   * @param step the number of updates applied before it
   * @returns the learning rate
   */
  learningRate(step: number): number;
  // deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
  /**
   * The initial state for a parameter: step 0 and zeroed slots.
   *
   * @param params the parameter (only its shape is read)
   * @returns a new state the caller owns
   */
  init(params: tf.Tensor): OptimizerState;
  /**
   * One update. Nothing passed in is modified or disposed.
   *
   * @param grad the gradient of the loss with respect to `params`, same shape
   * @param state the current state (from `init` or a previous `update`)
   * @param params the current parameter
   * @returns the new parameter and state, owned by the caller
   */
  update(grad: tf.Tensor, state: OptimizerState, params: tf.Tensor): OptimizerUpdate;
}
