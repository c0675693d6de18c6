/**
 * The training loss: token cross-entropy over target tokens, with padding and ignored labels
 * masked out, optional label smoothing (PyTorch's) and optional z-loss (T5X's).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * Options of {@link crossEntropy}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { crossEntropy, type CrossEntropyOptions } from "./loss.ts";
 * import assert from "node:assert/strict";
 * const logits = tf.zeros([1, 2, 4]);
 * const labels = tf.tensor2d([[3, 1]], [1, 2], "int32");
 * const mask = tf.tensor2d([[1, 0]], [1, 2]); // the second position is not a target
 * const options: CrossEntropyOptions = { mask, labelSmoothing: 0.1 };
 * const { loss, tokens } = crossEntropy(logits, labels, options);
 * // Uniform logits cost ln 4 per target, smoothed or not.
 * assert(tokens.dataSync()[0] === 1 && Math.abs(loss.dataSync()[0] - Math.log(4)) < 1e-6);
 * tf.dispose([logits, labels, mask, loss, tokens]);
 * ```
 */
export interface CrossEntropyOptions {
  // deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
  /**
   * `[B, T]` weights, normally 0/1 (any dtype, cast to float32): a position with weight 0 is not a
   * target. Combined with `ignoreIndex` (both must let a position through).
   */
  readonly mask?: tf.Tensor;
  /** Label value that marks a non-target position (default -100, as transformers and torch). */
  readonly ignoreIndex?: number;
  /** ε of PyTorch's label smoothing, in [0, 1] (default 0). */
  readonly labelSmoothing?: number;
  /** Coefficient of T5X's z-loss `coef·logsumexp(x)²` per target (default 0: off; T5X uses 1e-4). */
  readonly zLoss?: number;
}

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * The loss and what it was averaged over; all scalars are new tensors the caller owns.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { type CrossEntropy, crossEntropy } from "./loss.ts";
 * import assert from "node:assert/strict";
 * const logits = tf.zeros([1, 1, 4]);
 * const labels = tf.tensor2d([[0]], [1, 1], "int32");
 * const r: CrossEntropy = crossEntropy(logits, labels, { zLoss: 1e-4 });
 * const z = r.zLoss!.dataSync()[0]; // 1e-4 · (ln 4)², already included in the loss
 * assert(Math.abs(z - 1e-4 * Math.log(4) ** 2) < 1e-9);
 * assert(Math.abs(r.loss.dataSync()[0] - (Math.log(4) + z)) < 1e-6);
 * tf.dispose([logits, labels, r.loss, r.tokens, r.zLoss!]);
 * ```
 */
export interface CrossEntropy {
  // deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
  /** Mean over target tokens of the per-token loss (cross-entropy plus z-loss); 0 with no target. */
  readonly loss: tf.Scalar;
  /** The number of target tokens (the sum of their weights), float32. */
  readonly tokens: tf.Scalar;
  /** The z-loss part of `loss` (its mean over targets), present when `zLoss > 0`. */
  readonly zLoss?: tf.Scalar;
}

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * Token cross-entropy, differentiable with respect to the logits.
 *
 * With `x` a position's logits over `V` classes, `y` its label, `lse = log Σ_v exp(x_v)` (computed
 * stably) and ε the label smoothing, the per-token loss is
 *
 * ```text
 * ce = (1 − ε)·(lse − x_y) + ε·mean_v(lse − x_v) = lse − (1 − ε)·x_y − ε·mean_v x_v
 * z  = zLoss · lse²
 * loss = Σ_targets w·(ce + z) / Σ_targets w          (0 when there is no target)
 * ```
 *
 * Targets are the positions whose label is not `ignoreIndex` and whose mask weight is not 0. The
 * mean is over target tokens of the whole batch, as `torch.nn.functional.cross_entropy` with
 * `reduction="mean"` and transformers' causal-LM and seq2seq losses (so PEFT losses compare). The
 * smoothing is PyTorch's (`label_smoothing`: ε spread uniformly over all V classes, the true one
 * included). T5X's differs: it puts ε/(V − 1) on the other classes and subtracts the targets'
 * entropy so a perfect prediction has loss 0. The z-loss is T5X's (`z_loss` in
 * `cross_entropy_with_logits`), added to the loss and also returned on its own.
 *
 * Labels must be int32 in [0, V) or equal to `ignoreIndex` (other values are not checked: they
 * would be read as an all-zero target).
 *
 * @param logits `[B, T, V]` float32 (any rank ≥ 2: the last axis is the classes)
 * @param labels `[B, T]` int32 (the logits' shape without its last axis)
 * @param options mask, ignored label, label smoothing, z-loss
 * @returns the mean loss, the number of target tokens and, with z-loss, its part
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { crossEntropy } from "./loss.ts";
 * import assert from "node:assert/strict";
 * const logits = tf.zeros([1, 2, 4]); // uniform over 4 classes: loss ln 4 per token
 * const labels = tf.tensor2d([[3, -100]], [1, 2], "int32");
 * const { loss, tokens } = crossEntropy(logits, labels);
 * assert(Math.abs(loss.dataSync()[0] - Math.log(4)) < 1e-6 && tokens.dataSync()[0] === 1);
 * tf.dispose([logits, labels, loss, tokens]);
 * ```
 */
export function crossEntropy(
  logits: tf.Tensor,
  labels: tf.Tensor,
  options: CrossEntropyOptions = {},
): CrossEntropy {
  const ignoreIndex = options.ignoreIndex ?? -100;
  const eps = options.labelSmoothing ?? 0;
  const zCoef = options.zLoss ?? 0;
  check(logits, labels, options.mask, ignoreIndex, eps, zCoef);
  const v = logits.shape[logits.rank - 1];
  const n = labels.size;
  return tf.tidy(() => {
    const x = tf.reshape(logits, [n, v]); // [N, V], N = B·T
    const y = tf.reshape(labels, [n]); // [N]
    let w: tf.Tensor = tf.cast(tf.notEqual(y, ignoreIndex), "float32"); // [N]
    if (options.mask !== undefined) {
      w = tf.mul(w, tf.cast(tf.reshape(options.mask, [n]), "float32"));
    }
    const lse = logSumExpRows(x); // [N]
    // x_y by a one-hot product: differentiable on every backend (an ignored label such as -100
    // has an all-zero row; its weight is 0 anyway).
    const picked = tf.sum(tf.mul(x, tf.oneHot(y, v)), -1); // [N]
    let perToken = tf.sub(lse, tf.mul(picked, 1 - eps)); // [N]
    if (eps !== 0) perToken = tf.sub(perToken, tf.mul(tf.mean(x, -1), eps));
    const tokens = tf.sum(w);
    // A safe denominator: with no target the sum is 0 and so is the loss (and its gradient).
    const denom = tf.where(tf.greater(tokens, 0), tokens, tf.onesLike(tokens));
    if (zCoef === 0) {
      return { loss: tf.div(tf.sum(tf.mul(perToken, w)), denom) as tf.Scalar, tokens };
    }
    const z = tf.mul(tf.square(lse), zCoef); // [N]
    const zMean = tf.div(tf.sum(tf.mul(z, w)), denom) as tf.Scalar;
    const loss = tf.div(tf.sum(tf.mul(tf.add(perToken, z), w)), denom) as tf.Scalar;
    return { loss, tokens, zLoss: zMean };
  }) as CrossEntropy;
}

function check(
  logits: tf.Tensor,
  labels: tf.Tensor,
  mask: tf.Tensor | undefined,
  ignoreIndex: number,
  eps: number,
  zCoef: number,
): void {
  const show = (s: readonly number[]) => `[${s.join(", ")}]`;
  if (logits.dtype !== "float32") {
    throw new TypeError(`crossEntropy logits are ${logits.dtype}; expected float32`);
  }
  if (labels.dtype !== "int32") {
    throw new TypeError(`crossEntropy labels are ${labels.dtype}; expected int32 token ids`);
  }
  const want = logits.shape.slice(0, -1);
  if (logits.rank < 2 || labels.shape.join() !== want.join()) {
    throw new RangeError(
      `crossEntropy labels have shape ${show(labels.shape)} for logits ${
        show(logits.shape)
      }; expected the logits' shape without the last axis`,
    );
  }
  if (mask !== undefined && mask.shape.join() !== labels.shape.join()) {
    throw new RangeError(
      `crossEntropy mask has shape ${show(mask.shape)}; expected the labels' ${show(labels.shape)}`,
    );
  }
  if (!Number.isSafeInteger(ignoreIndex)) {
    throw new RangeError(`crossEntropy ignoreIndex is ${ignoreIndex}; expected an integer`);
  }
  if (!(eps >= 0 && eps <= 1)) {
    throw new RangeError(`crossEntropy labelSmoothing is ${eps}; expected a number in [0, 1]`);
  }
  if (!(zCoef >= 0 && Number.isFinite(zCoef))) {
    throw new RangeError(`crossEntropy zLoss is ${zCoef}; expected a number ≥ 0`);
  }
}

/**
 * `logSumExp(x, -1)` of `[N, V]` logits whose gradient is `softmax(x)` directly (tfjs's own
 * also back-propagates through its stabilizing max: an `[N, V]` comparison, slow on WASM).
 */
const logSumExpRows = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor, save = args[1] as tf.GradSaveFunc;
  const lse = tf.logSumExp(x, -1); // [N]
  save([x, lse]);
  return {
    value: lse,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], [xs, l]: tf.Tensor[]) =>
      tf.mul(tf.exp(tf.sub(xs, tf.expandDims(l, -1))), tf.expandDims(dy as tf.Tensor, -1)), // [N, V]
  };
}) as (x: tf.Tensor) => tf.Tensor;

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * The log-likelihood of each row's target tokens: `Σ_t log softmax(logits[b, t])[labels[b, t]]`
 * over the positions whose label is not `ignoreIndex` (divided by their number with
 * `lengthNormalize`; a row with no target scores 0). Differentiable with respect to the logits.
 *
 * @param logits `[B, T, V]` float32
 * @param labels `[B, T]` int32 token ids, or `ignoreIndex`
 * @param options the ignored label (default -100) and length normalization (default off)
 * @returns `[B]` float32, a new tensor
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { sequenceLogLikelihood } from "./loss.ts";
 * import assert from "node:assert/strict";
 * const logits = tf.zeros([1, 3, 4]); // uniform over 4 tokens: ln ¼ per target
 * const labels = tf.tensor2d([[2, 0, -100]], [1, 3], "int32");
 * const ll = sequenceLogLikelihood(logits, labels);
 * assert(Math.abs(ll.dataSync()[0] - 2 * Math.log(0.25)) < 1e-6);
 * tf.dispose([logits, labels, ll]);
 * ```
 */
export function sequenceLogLikelihood(
  logits: tf.Tensor,
  labels: tf.Tensor,
  options: { readonly ignoreIndex?: number; readonly lengthNormalize?: boolean } = {},
): tf.Tensor {
  const ignoreIndex = options.ignoreIndex ?? -100;
  check(logits, labels, undefined, ignoreIndex, 0, 0);
  if (logits.rank !== 3) {
    throw new RangeError(
      `sequenceLogLikelihood logits have shape [${logits.shape.join(", ")}]; expected [B, T, V]`,
    );
  }
  const [b, t, v] = logits.shape;
  return tf.tidy(() => {
    const x = tf.reshape(logits, [b * t, v]); // [N, V], N = B·T
    const y = tf.reshape(labels, [b * t]); // [N]
    const w = tf.cast(tf.notEqual(y, ignoreIndex), "float32"); // [N]
    const picked = tf.sum(tf.mul(x, tf.oneHot(y, v)), -1); // [N]
    const logp = tf.mul(tf.sub(picked, logSumExpRows(x)), w); // [N]
    const sums = tf.sum(tf.reshape(logp, [b, t]), -1); // [B]
    if (!options.lengthNormalize) return sums;
    const n = tf.sum(tf.reshape(w, [b, t]), -1); // [B]
    return tf.div(sums, tf.maximum(n, 1));
  });
}

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * Cross-entropy over classes from unnormalized scores: the mean over rows of
 * `logsumexp_c scores[b, c] − scores[b, classes[b]]`. With rank-classification scores (each
 * label's log-likelihood) this is the loss of a softmax restricted to the label words.
 *
 * @param scores `[B, C]` float32
 * @param classes `[B]` int32 in [0, C)
 * @returns the mean loss, a new scalar
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { classCrossEntropy } from "./loss.ts";
 * import assert from "node:assert/strict";
 * const scores = tf.tensor2d([[0, 0], [3, 3]]); // two ties: ln 2 each
 * const classes = tf.tensor1d([1, 0], "int32");
 * const loss = classCrossEntropy(scores, classes);
 * assert(Math.abs(loss.dataSync()[0] - Math.log(2)) < 1e-6);
 * tf.dispose([scores, classes, loss]);
 * ```
 */
export function classCrossEntropy(scores: tf.Tensor, classes: tf.Tensor): tf.Scalar {
  if (scores.rank !== 2 || classes.rank !== 1 || classes.shape[0] !== scores.shape[0]) {
    throw new RangeError(
      `classCrossEntropy scores [${scores.shape.join(", ")}] and classes [${
        classes.shape.join(", ")
      }]; expected [B, C] and [B]`,
    );
  }
  if (classes.dtype !== "int32") {
    throw new TypeError(`classCrossEntropy classes are ${classes.dtype}; expected int32`);
  }
  const c = scores.shape[1] as number;
  return tf.tidy(() => {
    const picked = tf.sum(tf.mul(scores, tf.oneHot(classes, c)), -1); // [B]
    return tf.mean(tf.sub(logSumExpRows(scores), picked)) as tf.Scalar;
  });
}
