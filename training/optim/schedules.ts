/**
 * Learning-rate schedules: pure functions from an update's 0-based index to a rate. They follow
 * optax's definitions (`constant_schedule`, `linear_schedule`, `cosine_decay_schedule`,
 * `join_schedules`); warm-up composes with any of them, and the composition reproduces
 * transformers' `get_linear_schedule_with_warmup` / `get_cosine_schedule_with_warmup` and T5X's
 * `linear_warmup * rsqrt_decay`.
 *
 * Arguments are checked when a schedule is made; a bad one throws a `RangeError`.
 *
 * @module
 */
import type { Schedule } from "./types.ts";

function finite(x: number, what: string): void {
  if (!Number.isFinite(x)) {
    throw new RangeError(`Schedule ${what} is ${x}; expected a finite number`);
  }
}

function positiveInt(x: number, what: string): void {
  if (!Number.isSafeInteger(x) || x < 1) {
    throw new RangeError(`Schedule ${what} is ${x}; expected a positive integer`);
  }
}

/**
 * The same rate at every step.
 *
 * @param value the learning rate
 * @returns `step ↦ value`
 * @example
 * ```ts
 * import { constantSchedule } from "./schedules.ts";
 * import assert from "node:assert/strict";
 * assert(constantSchedule(0.3)(1000) === 0.3);
 * ```
 */
export function constantSchedule(value: number): Schedule {
  finite(value, "value");
  return () => value;
}

/**
 * Linear interpolation from `init` to `end` over `steps` updates, then `end` (optax's
 * `linear_schedule`): `lr(s) = (init − end)·(1 − min(max(s, 0), steps)/steps) + end`.
 * With `end = 0` it is a linear decay; with `init = 0` a linear warm-up.
 *
 * @param init the rate at step 0
 * @param end the rate from step `steps` on
 * @param steps the number of updates the transition takes (a positive integer)
 * @returns the schedule
 * @example
 * ```ts
 * import { linearSchedule } from "./schedules.ts";
 * import assert from "node:assert/strict";
 * const s = linearSchedule(1, 0, 4);
 * assert(s(0) === 1 && s(1) === 0.75 && s(4) === 0 && s(9) === 0);
 * ```
 */
export function linearSchedule(init: number, end: number, steps: number): Schedule {
  finite(init, "init");
  finite(end, "end");
  positiveInt(steps, "steps");
  return (s) => (init - end) * (1 - Math.min(Math.max(s, 0), steps) / steps) + end;
}

/**
 * Cosine decay from `init` to `alpha·init` over `steps` updates, then `alpha·init` (optax's
 * `cosine_decay_schedule`): `lr(s) = init·((1 − α)·½(1 + cos(π·min(s, steps)/steps)) + α)`.
 *
 * @param init the rate at step 0
 * @param steps the number of updates the decay takes (a positive integer)
 * @param options `alpha`: the final rate as a fraction of `init` (default 0)
 * @returns the schedule
 * @example
 * ```ts
 * import { cosineDecaySchedule } from "./schedules.ts";
 * import assert from "node:assert/strict";
 * const s = cosineDecaySchedule(2, 10);
 * assert(s(0) === 2 && Math.abs(s(5) - 1) < 1e-12 && s(10) === 0);
 * ```
 */
export function cosineDecaySchedule(
  init: number,
  steps: number,
  options: { readonly alpha?: number } = {},
): Schedule {
  const alpha = options.alpha ?? 0;
  finite(init, "init");
  finite(alpha, "alpha");
  positiveInt(steps, "steps");
  return (s) => {
    const cosine = 0.5 * (1 + Math.cos(Math.PI * Math.min(Math.max(s, 0), steps) / steps));
    return init * ((1 - alpha) * cosine + alpha);
  };
}

/**
 * Inverse-square-root decay, constant for the first `warmupSteps` updates (T5's `rsqrt_decay`,
 * normalized so that the rate starts at `peak`):
 * `lr(s) = peak·min(1, 1/√(s/warmupSteps)) = peak·√(warmupSteps / max(s, warmupSteps))`.
 *
 * T5X's `constant * rsqrt_decay` with `base_learning_rate = b` and `warmup_steps = w` is
 * `b / √max(s, w)`, which is this schedule with `peak = b/√w` (T5's 1.0 and 10 000 give 0.01).
 * For T5X's `constant * linear_warmup * rsqrt_decay` wrap it in
 * `linearWarmup(w, rsqrtDecaySchedule(peak, w), { shift: false })`.
 *
 * @param peak the rate during the first `warmupSteps` updates
 * @param warmupSteps where the decay starts (a positive integer)
 * @returns the schedule
 * @example
 * ```ts
 * import { rsqrtDecaySchedule } from "./schedules.ts";
 * import assert from "node:assert/strict";
 * const s = rsqrtDecaySchedule(0.01, 100);
 * assert(s(0) === 0.01 && s(100) === 0.01 && s(400) === 0.005);
 * ```
 */
export function rsqrtDecaySchedule(peak: number, warmupSteps: number): Schedule {
  finite(peak, "peak");
  positiveInt(warmupSteps, "warmupSteps");
  return (s) => peak * Math.sqrt(warmupSteps / Math.max(s, warmupSteps));
}

/**
 * Runs `schedules[0]` until `boundaries[0]`, then `schedules[1]` counted from 0 again, and so on
 * (optax's `join_schedules`): at step `s` with `boundaries[i−1] ≤ s < boundaries[i]` the rate is
 * `schedules[i](s − boundaries[i−1])`.
 *
 * @param schedules one more schedule than boundaries
 * @param boundaries increasing positive integers
 * @returns the joined schedule
 * @example
 * ```ts
 * import { constantSchedule, joinSchedules } from "./schedules.ts";
 * import assert from "node:assert/strict";
 * const s = joinSchedules([constantSchedule(1), (t) => 10 + t], [5]);
 * assert(s(4) === 1 && s(5) === 10 && s(7) === 12);
 * ```
 */
export function joinSchedules(
  schedules: readonly Schedule[],
  boundaries: readonly number[],
): Schedule {
  if (schedules.length !== boundaries.length + 1) {
    throw new RangeError(
      `joinSchedules got ${schedules.length} schedules and ${boundaries.length} boundaries; expected one more schedule than boundaries`,
    );
  }
  boundaries.forEach((b, i) => {
    positiveInt(b, `boundary ${i}`);
    if (i > 0 && b <= boundaries[i - 1]) {
      throw new RangeError(`Schedule boundaries [${boundaries}] are not increasing`);
    }
  });
  const bs = [...boundaries], ss = [...schedules];
  return (s) => {
    let i = 0;
    while (i < bs.length && s >= bs[i]) i++;
    return ss[i](i === 0 ? s : s - bs[i - 1]);
  };
}

/**
 * Prepends a linear warm-up of `warmupSteps` updates to a schedule: for `s < warmupSteps`,
 * `lr(s) = from + (target − from)·s/warmupSteps`, after that the schedule itself.
 *
 * With `shift: true` (the default) the schedule starts from its own step 0 after the warm-up
 * (`target = then(0)`, `lr(s) = then(s − warmupSteps)`), as in transformers'
 * `get_linear_schedule_with_warmup(w, T)` = `linearWarmup(w, linearSchedule(peak, 0, T − w))`, its
 * cosine sibling = `linearWarmup(w, cosineDecaySchedule(peak, T − w))`, and optax's
 * `warmup_cosine_decay_schedule`. With `shift: false` the schedule sees the global step
 * (`target = then(warmupSteps)`, `lr(s) = then(s)`), as T5X's `linear_warmup * rsqrt_decay`.
 *
 * @param warmupSteps length of the warm-up (a positive integer)
 * @param then the schedule after it
 * @param options `from`: the rate at step 0 (default 0); `shift` (default true), as above
 * @returns the schedule
 * @example
 * ```ts
 * import { constantSchedule, linearWarmup } from "./schedules.ts";
 * import assert from "node:assert/strict";
 * const s = linearWarmup(4, constantSchedule(0.3));
 * assert(s(0) === 0 && Math.abs(s(2) - 0.15) < 1e-12 && s(4) === 0.3);
 * ```
 */
export function linearWarmup(
  warmupSteps: number,
  then: Schedule,
  options: { readonly from?: number; readonly shift?: boolean } = {},
): Schedule {
  const from = options.from ?? 0;
  const shift = options.shift ?? true;
  finite(from, "from");
  positiveInt(warmupSteps, "warmupSteps");
  const target = then(shift ? 0 : warmupSteps);
  return (s) =>
    s < warmupSteps
      ? from + (target - from) * Math.max(s, 0) / warmupSteps
      : then(shift ? s - warmupSteps : s);
}
