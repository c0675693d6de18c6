/**
 * Optimizer state across the host boundary: disposing it, copying it to host memory for a
 * checkpoint and back, bit for bit, and checking a restored state against an optimizer.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { fromTensor, type HostTensor, toTensor } from "../../io/host_tensor.ts";
import { type Problem, problem } from "../../problem.ts";
import type { Optimizer, OptimizerState } from "./types.ts";

/**
 * An optimizer state in host memory: the step and float32 host tensors by slot name.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { disposeState, type HostOptimizerState, stateToHost } from "./state.ts";
 * import assert from "node:assert/strict";
 * const s = { step: 3, slots: { v: tf.tensor1d([0.25, 4]) } };
 * const host: HostOptimizerState = await stateToHost(s);
 * disposeState(s);
 * assert(host.step === 3 && host.slots.v.dtype === "float32" && host.slots.v.data[1] === 4);
 * ```
 */
export interface HostOptimizerState {
  /** Updates applied so far. */
  readonly step: number;
  // deno-doc-ignore private-type-ref -- HostTensor is io/'s own type, exported from io/mod.ts
  /** The slots, float32, by name. */
  readonly slots: Readonly<Record<string, HostTensor>>;
}

/**
 * Disposes every tensor of a state.
 *
 * @param state the state; it must not be used afterwards
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { disposeState } from "./state.ts";
 * import assert from "node:assert/strict";
 * const before = tf.memory().numTensors;
 * disposeState({ step: 3, slots: { m: tf.zeros([2]), v: tf.zeros([2]) } });
 * assert(tf.memory().numTensors === before);
 * ```
 */
export function disposeState(state: OptimizerState): void {
  for (const t of Object.values(state.slots)) t.dispose();
}

/**
 * Copies a state to host memory (the tensors are not disposed). Together with
 * {@link stateFromHost} it restores a state exactly, bit for bit.
 *
 * @param state the state
 * @returns its step and a float32 host copy of each slot
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { disposeState, stateToHost } from "./state.ts";
 * import assert from "node:assert/strict";
 * const s = { step: 2, slots: { v: tf.tensor1d([0.5, 1e-30]) } };
 * const h = await stateToHost(s);
 * disposeState(s);
 * assert(h.step === 2 && h.slots.v.data[1] === Math.fround(1e-30));
 * ```
 */
export async function stateToHost(state: OptimizerState): Promise<HostOptimizerState> {
  const slots: Record<string, HostTensor> = {};
  for (const name of Object.keys(state.slots).sort()) {
    slots[name] = await fromTensor(state.slots[name]);
  }
  return { step: state.step, slots };
}

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * Makes a state from its host copy (for example read back from a checkpoint). Only float32 slots
 * are accepted, so the values are exactly those saved.
 *
 * @param host the step and slots
 * @param where where it came from, for problems (default `"optimizer state"`)
 * @returns the state, owned by the caller, or an `Invalid` / `Mismatch` problem
 * @example
 * ```ts
 * import { hostTensor } from "../../io/host_tensor.ts";
 * import { disposeState, stateFromHost } from "./state.ts";
 * import assert from "node:assert/strict";
 * const v = hostTensor("float32", [2], new Float32Array([1, 2]));
 * const r = stateFromHost({ step: 4, slots: { v } });
 * assert(r._tag === "Right" && r.right.step === 4);
 * if (r._tag === "Right") disposeState(r.right);
 * assert(stateFromHost({ step: -1, slots: {} })._tag === "Left");
 * ```
 */
export function stateFromHost(
  host: HostOptimizerState,
  where = "optimizer state",
): E.Either<Problem, OptimizerState> {
  if (!Number.isSafeInteger(host.step) || host.step < 0) {
    return E.left(
      problem("Invalid", `${where} step`, `Step is ${host.step}; expected an integer ≥ 0`),
    );
  }
  for (const [name, h] of Object.entries(host.slots)) {
    if (h.dtype !== "float32") {
      return E.left(
        problem("Mismatch", `${where} slot ${name}`, `Slot is ${h.dtype}; expected float32`),
      );
    }
  }
  const slots: Record<string, tf.Tensor> = {};
  for (const [name, h] of Object.entries(host.slots)) {
    const t = toTensor(h, `${where} slot ${name}`);
    if (E.isLeft(t)) {
      Object.values(slots).forEach((x) => x.dispose());
      return t;
    }
    slots[name] = t.right;
  }
  return E.right({ step: host.step, slots });
}

const show = (shape: readonly number[]) => `[${shape.join(", ")}]`;

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * Checks that a state fits an optimizer and a parameter: the same slot names and shapes that
 * `optimizer.init(params)` makes. Use it on a state restored from a checkpoint before training on.
 *
 * @param optimizer the optimizer the state will be used with
 * @param state the state
 * @param params the parameter it belongs to
 * @returns the same state, or a `Mismatch` problem naming every difference
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { adafactor } from "./adafactor.ts";
 * import { adam } from "./adam.ts";
 * import { checkState, disposeState } from "./state.ts";
 * import assert from "node:assert/strict";
 * const p = tf.zeros([2, 3]);
 * const s = adam().init(p);
 * assert(checkState(adam(), s, p)._tag === "Right");
 * assert(checkState(adafactor(), s, p)._tag === "Left");
 * disposeState(s);
 * p.dispose();
 * ```
 */
export function checkState(
  optimizer: Optimizer,
  state: OptimizerState,
  params: tf.Tensor,
): E.Either<Problem, OptimizerState> {
  const fresh = optimizer.init(params);
  const want = Object.fromEntries(Object.entries(fresh.slots).map(([k, t]) => [k, t.shape]));
  disposeState(fresh);
  const issues: string[] = [];
  for (const name of Object.keys(want).sort()) {
    const shape = want[name];
    const t = state.slots[name];
    if (t === undefined) issues.push(`slot ${name} is missing`);
    else if (t.shape.join() !== shape.join()) {
      issues.push(`slot ${name} has shape ${show(t.shape)}, expected ${show(shape)}`);
    } else if (t.dtype !== "float32") issues.push(`slot ${name} is ${t.dtype}, expected float32`);
  }
  for (const name of Object.keys(state.slots).sort()) {
    if (!(name in want)) issues.push(`slot ${name} is not one of ${optimizer.name}'s`);
  }
  if (!Number.isSafeInteger(state.step) || state.step < 0) {
    issues.push(`step is ${state.step}, expected an integer ≥ 0`);
  }
  if (issues.length > 0) {
    const msg = issues.join("; ");
    return E.left(
      problem(
        "Mismatch",
        `${optimizer.name} state`,
        msg.charAt(0).toUpperCase() + msg.slice(1),
      ),
    );
  }
  return E.right(state);
}
