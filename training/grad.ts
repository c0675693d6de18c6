/**
 * Gradients restricted to the prompt: the loss is a function of the prompt alone, closing over
 * the frozen tree, and only the prompt is differentiated (in the manner of `jax.value_and_grad`
 * of the first argument).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { leanGrads } from "../model/kernels/backprop.ts";

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * A loss and its gradient with respect to the prompt; both new tensors the caller disposes.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { type ValueAndGrad, valueAndGradOfPrompt } from "./grad.ts";
 * import assert from "node:assert/strict";
 * const p = tf.ones([2]);
 * const r: ValueAndGrad = valueAndGradOfPrompt((x) => tf.sum(x))(p);
 * assert(r.value.dataSync()[0] === 2 && r.grad.dataSync()[1] === 1);
 * tf.dispose([p, r.value, r.grad]);
 * ```
 */
export interface ValueAndGrad {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** The loss. Read it (`await value.data()`) after the step, outside any tidy. */
  readonly value: tf.Scalar;
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `∂loss/∂prompt`, the prompt's shape. */
  readonly grad: tf.Tensor;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Turns a loss of the prompt into a function returning the loss and its gradient with respect to
 * the prompt. Nothing else is differentiated: the model's parameters are captured constants of
 * `loss` (the backward pass follows only the paths from the prompt), are never copied,
 * and need no optimizer state. The backward pass releases each gradient and saved activation as
 * soon as it is used (`leanGrads`). Every intermediate tensor is released inside one `tf.tidy`; only
 * the value and the gradient leave it. No `tf.Variable` is involved.
 *
 * @param loss `(prompt [P, H]) => scalar`, for example from `promptLoss`
 * @returns `(prompt) => {value, grad}`; the prompt is not disposed or modified
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { valueAndGradOfPrompt } from "./grad.ts";
 * import assert from "node:assert/strict";
 * const target = tf.tensor2d([[1, 2]]); // a frozen constant
 * const step = valueAndGradOfPrompt((p) => tf.sum(tf.square(tf.sub(p, target))));
 * const prompt = tf.zeros([1, 2]);
 * const { value, grad } = step(prompt);
 * assert(value.dataSync()[0] === 5 && grad.dataSync().join() === "-2,-4");
 * tf.dispose([target, prompt, value, grad]);
 * ```
 */
export function valueAndGradOfPrompt(
  loss: (prompt: tf.Tensor) => tf.Scalar,
): (prompt: tf.Tensor) => ValueAndGrad {
  const f = (p: tf.Tensor) => {
    const value = loss(p);
    if (value.rank !== 0) {
      throw new RangeError(
        `The loss returned shape [${value.shape.join(", ")}]; expected a scalar`,
      );
    }
    return value;
  };
  return (prompt) => {
    if (prompt.dtype !== "float32") {
      throw new TypeError(`The prompt is ${prompt.dtype}; expected float32`);
    }
    return tf.tidy(() => {
      const { value, grads } = leanGrads(f, [prompt]);
      return { value: value as tf.Scalar, grad: grads[0] };
    });
  };
}
