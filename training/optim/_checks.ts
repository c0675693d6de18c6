/**
 * Private checks shared by the optimizers: argument validation at construction and shape checks at
 * each update (cheap: shapes only, no values are read).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { LearningRate, OptimizerState, Schedule } from "./types.ts";

const show = (shape: readonly number[]) => `[${shape.join(", ")}]`;

/** Throws unless `x` is finite and within [lo, hi] (or (lo, hi] when `openLow`). */
export function checkRange(
  who: string,
  what: string,
  x: number,
  lo: number,
  hi: number,
  openLow = false,
): void {
  const ok = Number.isFinite(x) && (openLow ? x > lo : x >= lo) && x <= hi;
  if (!ok) {
    throw new RangeError(
      `${who} option ${what} is ${x}; expected a number in ${openLow ? "(" : "["}${lo}, ${hi}]`,
    );
  }
}

/** A learning rate as a schedule, checking a constant one. */
export function asSchedule(who: string, lr: LearningRate): Schedule {
  if (typeof lr === "function") return lr;
  checkRange(who, "learningRate", lr, 0, Infinity);
  return () => lr;
}

/** Throws unless the parameter is float32 and the gradient has its shape. */
export function checkParamAndGrad(who: string, grad: tf.Tensor, params: tf.Tensor): void {
  if (params.dtype !== "float32") {
    throw new TypeError(`${who} got a ${params.dtype} parameter; expected float32`);
  }
  if (grad.dtype !== "float32") {
    throw new TypeError(`${who} got a ${grad.dtype} gradient; expected float32`);
  }
  if (!sameShape(grad.shape, params.shape)) {
    throw new RangeError(
      `${who} got a gradient of shape ${show(grad.shape)} for a parameter of shape ${
        show(params.shape)
      }; expected equal shapes`,
    );
  }
}

/** Throws unless the state has exactly the slots expected, with their shapes. */
export function checkSlots(
  who: string,
  state: OptimizerState,
  expected: Readonly<Record<string, readonly number[]>>,
): void {
  if (!Number.isSafeInteger(state.step) || state.step < 0) {
    throw new RangeError(`${who} state step is ${state.step}; expected a non-negative integer`);
  }
  const have = Object.keys(state.slots).sort().join(", ");
  const want = Object.keys(expected).sort().join(", ");
  if (have !== want) {
    throw new RangeError(`${who} state has slots [${have}]; expected [${want}]`);
  }
  for (const [name, shape] of Object.entries(expected)) {
    const t = state.slots[name];
    if (!sameShape(t.shape, shape)) {
      throw new RangeError(
        `${who} state slot ${name} has shape ${show(t.shape)}; expected ${show(shape)}`,
      );
    }
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
