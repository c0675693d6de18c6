/**
 * One optimizer state per prompt, for prompts trained together as the row blocks of one packed
 * `[ΣP_k, H]` matrix: the wrapped optimizer sees each block as its own parameter (Adafactor's
 * factored moments and update clipping are per prompt, as when each is trained alone), and the
 * state's slots are named `<k>/<slot>` (block `k`, the wrapped optimizer's slot).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Optimizer, OptimizerState } from "./types.ts";

function checkLengths(lengths: readonly number[]): void {
  if (lengths.length === 0 || lengths.some((n) => !Number.isSafeInteger(n) || n <= 0)) {
    throw new RangeError(
      `Segmented optimizer: block lengths [${
        lengths.join(", ")
      }]; expected positive integers, at least one`,
    );
  }
}

/** The blocks of a packed `[ΣP_k, ...]` tensor, `[P_k, ...]` each (new tensors). */
function blocks(t: tf.Tensor, lengths: readonly number[]): tf.Tensor[] {
  const total = lengths.reduce((a, b) => a + b, 0);
  if (t.shape[0] !== total) {
    throw new RangeError(
      `Segmented optimizer: a tensor of ${t.shape[0]} rows; expected ${total} (blocks of ${
        lengths.join(" + ")
      })`,
    );
  }
  return lengths.length === 1 ? [tf.clone(t)] : tf.split(t, [...lengths], 0);
}

/** Block `k`'s slots of a segmented state, under their own names. */
function blockState(state: OptimizerState, k: number): OptimizerState {
  const prefix = `${k}/`;
  const slots = Object.fromEntries(
    Object.entries(state.slots)
      .filter(([name]) => name.startsWith(prefix))
      .map(([name, t]) => [name.slice(prefix.length), t]),
  );
  return { step: state.step, slots };
}

/**
 * Wraps an optimizer so that each row block of the parameter has its own state.
 *
 * @param base the optimizer of each block (its name and learning rate are the wrapper's)
 * @param lengths `[K]` the blocks' rows, in order (`P_k`)
 * @returns an optimizer of the packed `[ΣP_k, H]` parameter
 * @throws {RangeError} for an empty or non-positive length, or a parameter of other rows
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { adam } from "./adam.ts";
 * import { segmented } from "./segmented.ts";
 * import { disposeState } from "./state.ts";
 * import assert from "node:assert/strict";
 * const opt = segmented(adam({ learningRate: 0.1 }), [1, 2]);
 * const p = tf.zeros([3, 2]);
 * const s = opt.init(p);
 * assert.deepEqual(Object.keys(s.slots).sort(), ["0/m", "0/v", "1/m", "1/v"]);
 * const u = opt.update(tf.ones([3, 2]), s, p);
 * assert.equal(u.state.step, 1);
 * assert.equal(u.params.shape.join(), "3,2");
 * tf.dispose([p, u.params]);
 * disposeState(s);
 * disposeState(u.state);
 * ```
 */
export function segmented(base: Optimizer, lengths: readonly number[]): Optimizer {
  checkLengths(lengths);
  return {
    name: base.name,
    learningRate: (step) => base.learningRate(step),
    init(params) {
      const parts = blocks(params, lengths);
      const slots: Record<string, tf.Tensor> = {};
      parts.forEach((part, k) => {
        const s = base.init(part);
        for (const [name, t] of Object.entries(s.slots)) slots[`${k}/${name}`] = t;
      });
      tf.dispose(parts);
      return { step: 0, slots };
    },
    update(grad, state, params) {
      return tf.tidy(() => {
        const gs = blocks(grad, lengths), ps = blocks(params, lengths);
        const slots: Record<string, tf.Tensor> = {};
        const updated = ps.map((p, k) => {
          const u = base.update(gs[k], blockState(state, k), p);
          for (const [name, t] of Object.entries(u.state.slots)) slots[`${k}/${name}`] = t;
          return u.params; // [P_k, H]
        });
        return { params: tf.concat(updated, 0), state: { step: state.step + 1, slots } };
      });
    },
  };
}
