/**
 * Per-block recomputation ({@link remat}, "gradient checkpointing" in other libraries; nothing to
 * do with a saved training checkpoint): run a block forward without keeping its intermediate
 * tensors for the backward pass, and recompute them when its gradient is needed. It trades one
 * more forward pass of the block for the memory of its activations.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { leanGrads } from "./backprop.ts";

/**
 * How much of the forward pass the backward pass recomputes: `"none"` keeps every activation
 * (fastest), `"layer"` keeps only each layer's input and recomputes the layer in the backward
 * pass (least memory).
 *
 * @example
 * ```ts
 * import type { Recompute } from "./recompute.ts";
 * import assert from "node:assert/strict";
 * const modes: Recompute[] = ["none", "layer"];
 * assert(modes.length === 2);
 * ```
 */
export type Recompute = "none" | "layer";

/** How many remats are recomputing their block (under a tape) right now. */
let recomputing = 0;

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Applies `f` to `inputs` so that a gradient pass keeps only the inputs: the forward pass runs
 * without recording, and the backward pass runs `f` again under a tape to get the gradients with
 * respect to every input. `constants` (tensors made in the caller's scope, such as an attention
 * bias) are kept alive for the backward pass but not differentiated; `f` may also close over
 * tensors that outlive the backward pass (the model's weights). Remats nested in `f` run
 * as plain functions while `f` is being recomputed (the enclosing block bounds the memory).
 *
 * @param f a pure block of tensor operations, `(...inputs, ...constants) => output`
 * @param inputs the tensors to differentiate with respect to
 * @param constants tensors `f` reads but is not differentiated with respect to
 * @returns `f(...inputs)`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { remat } from "./recompute.ts";
 * import assert from "node:assert/strict";
 * const x = tf.tensor1d([1, 2]);
 * const g = tf.grad((x: tf.Tensor) => tf.sum(remat((a) => tf.square(a), [x])))(x);
 * assert(g.dataSync().join() === "2,4");
 * tf.dispose([x, g]);
 * ```
 */
export function remat(
  f: (...inputs: tf.Tensor[]) => tf.Tensor,
  inputs: readonly tf.Tensor[],
  constants: readonly tf.Tensor[] = [],
): tf.Tensor {
  // Inside an enclosing remat's recomputation the enclosing block is already the unit of
  // memory: recomputing this one again in its backward pass would only cost time.
  if (recomputing > 0) return f(...inputs, ...constants);
  const n = inputs.length;
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xs = args.slice(0, n) as tf.Tensor[];
    const save = args[n] as tf.GradSaveFunc;
    save([...xs, ...constants]); // kept for the backward pass (the caller may dispose its own)
    return {
      value: f(...xs, ...constants),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const cs = saved.slice(n);
        // A gradient computed inside a backward pass replaces the engine's tape, then clears it;
        // the outer pass still needs its own (it disposes the tensors saved on it at the end).
        const state = (tf.engine() as unknown as { state: { activeTape: unknown } }).state;
        const outer = state.activeTape;
        recomputing++;
        try {
          const { value, grads } = leanGrads(
            (...zs: tf.Tensor[]) => f(...zs, ...cs),
            saved.slice(0, n),
            dy as tf.Tensor,
          );
          value.dispose();
          return grads;
        } finally {
          recomputing--;
          state.activeTape = outer;
        }
      },
    };
  });
  return run(...inputs);
}
