/**
 * The training loop's core, without files: one step of a run ({@link runStep}: draw the batch,
 * collate it, {@link trainStep}, free the batch) and a loop of such steps in memory
 * ({@link runSteps}: no checkpoints, no metrics file, no Ctrl-C), what a browser page or a
 * notebook runs. The Deno loop (`loop.ts`, with checkpoints, resume and early stopping) takes its
 * steps through {@link runStep} too, so a step is the same in both: same batches, same keys, same
 * update.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { foldIn, type Key, split } from "../random/mod.ts";
import { disposeState, type Optimizer } from "./optim/mod.ts";
import { type StepResult, type StepState, trainStep } from "./step.ts";
import { type DataPosition, nextBatch } from "./batches.ts";
import { disposeTensors, type StepContext } from "./evaluate.ts";

/**
 * What a step needs besides the state: the examples, how they become a batch, the loss, the
 * optimizer.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { StepOptions } from "./steps.ts";
 * import { adafactor } from "./optim/mod.ts";
 * import assert from "node:assert/strict";
 * const o: StepOptions<number, tf.Tensor> = {
 *   train: [1, 2], batchSize: 1, collate: (xs) => tf.tensor1d([...xs]),
 *   loss: (p, b) => tf.sum(tf.mul(p, tf.sum(b))), optimizer: adafactor(),
 * };
 * assert.equal(o.batchSize, 1);
 * ```
 */
export interface StepOptions<Ex, B> {
  /** The training examples. */
  readonly train: readonly Ex[];
  /** Examples per batch. */
  readonly batchSize: number;
  /** Skip an epoch's last partial batch (default true). */
  readonly dropLast?: boolean;
  /** Makes a batch from examples (tensors it makes are freed by `disposeBatch`). */
  readonly collate: (examples: readonly Ex[]) => B;
  /** Frees a batch (default: disposes every tensor found in it). */
  readonly disposeBatch?: (batch: B) => void;
  /** The number of tokens a batch trains on, for tokens/s (default: not counted). */
  readonly countTokens?: (batch: B) => number;
  // deno-doc-ignore private-type-ref -- tf.Tensor is an npm type (denoland/deno#27364)
  /** The loss, differentiable in the prompt; called inside a `tf.tidy`. */
  readonly loss: (prompt: tf.Tensor, batch: B, context: StepContext) => tf.Scalar;
  /** The optimizer. */
  readonly optimizer: Optimizer;
  /** Clip the gradient to this global norm (default: no clipping). */
  readonly clipNorm?: number;
}

/**
 * What {@link runStep} returns: the step's result, where the data goes on, and the batch's
 * epoch and tokens.
 *
 * @example
 * ```ts
 * import type { RunStepResult } from "./steps.ts";
 * import assert from "node:assert/strict";
 * const f = (r: RunStepResult) => r.next.offset;
 * assert.equal(typeof f, "function");
 * ```
 */
export interface RunStepResult {
  /** The new state (the caller disposes the old one), the loss and the gradient's norm. */
  readonly stepped: StepResult;
  /** Where the next batch starts. */
  readonly next: DataPosition;
  /** The epoch of this step's batch. */
  readonly epoch: number;
  /** Tokens in the batch, when `countTokens` was given. */
  readonly tokens?: number;
}

/**
 * One training step of a run: the batch at `data` (shuffled by `dataKey`), the loss with its
 * context key `foldIn(stepKey, step)`, the update. The batch is freed; the old state is not.
 *
 * @param state the prompt and optimizer state before the step
 * @param at the step number (1 for the first), the data position, the data and step keys
 * @param options examples, batching, loss and optimizer
 * @returns the step's result
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { runStep } from "./steps.ts";
 * import { adafactor, disposeState } from "./optim/mod.ts";
 * import { key, split } from "../random/mod.ts";
 * import assert from "node:assert/strict";
 * const optimizer = adafactor();
 * const prompt = tf.ones([1, 2]);
 * const opt = optimizer.init(prompt);
 * const [dataKey, stepKey] = split(key(1));
 * const r = await runStep({ prompt, opt }, { step: 1, data: { epoch: 0, offset: 0 }, dataKey, stepKey }, {
 *   train: [1, 2], batchSize: 1, collate: (xs) => tf.tensor1d([...xs]),
 *   loss: (p, b) => tf.sum(tf.mul(p, tf.sum(b))), optimizer,
 * });
 * assert(r.next.offset === 1 && r.stepped.loss > 0);
 * tf.dispose([prompt, r.stepped.state.prompt]);
 * disposeState(opt);
 * disposeState(r.stepped.state.opt);
 * ```
 */
export async function runStep<Ex, B>(
  state: StepState,
  at: {
    readonly step: number;
    readonly data: DataPosition;
    readonly dataKey: Key;
    readonly stepKey: Key;
  },
  options: StepOptions<Ex, B>,
): Promise<RunStepResult> {
  const drawn = nextBatch(at.dataKey, options.train.length, at.data, {
    batchSize: options.batchSize,
    dropLast: options.dropLast ?? true,
  });
  const batch = options.collate(Array.from(drawn.indices, (i) => options.train[i]));
  const context: StepContext = { step: at.step, key: foldIn(at.stepKey, at.step), training: true };
  try {
    const tokens = options.countTokens?.(batch);
    const stepped = await trainStep(state, batch, {
      loss: (p, b) => options.loss(p, b, context),
      optimizer: options.optimizer,
      clipNorm: options.clipNorm,
    });
    return { stepped, next: drawn.next, epoch: drawn.epoch, tokens };
  } finally {
    (options.disposeBatch ?? disposeTensors)(batch);
  }
}

/**
 * One step's numbers, as {@link runSteps} reports them.
 *
 * @example
 * ```ts
 * import type { StepReport } from "./steps.ts";
 * import assert from "node:assert/strict";
 * const r: StepReport = { step: 1, loss: 0.7, gradNorm: 1, epoch: 0, seconds: 0.5 };
 * assert.equal(r.step, 1);
 * ```
 */
export interface StepReport {
  /** The step just taken (1 for the first). */
  readonly step: number;
  /** The batch's loss before the update. */
  readonly loss: number;
  /** The gradient's norm before clipping. */
  readonly gradNorm: number;
  /** The batch's epoch. */
  readonly epoch: number;
  /** Wall-clock seconds the step took. */
  readonly seconds: number;
}

/**
 * Options of {@link runSteps}.
 *
 * @example
 * ```ts
 * import type { RunStepsOptions } from "./steps.ts";
 * import assert from "node:assert/strict";
 * const steps = (o: RunStepsOptions<number, unknown>) => o.steps;
 * assert.equal(typeof steps, "function");
 * ```
 */
export interface RunStepsOptions<Ex, B> extends StepOptions<Ex, B> {
  /** The run's key: split into the data key and the step key, as the Deno loop does. */
  readonly key: Key;
  /** Steps to take. */
  readonly steps: number;
  /** Called after each step (awaited: a page can draw, and the event loop runs). */
  readonly onStep?: (report: StepReport) => void | Promise<void>;
  /** Stops the run after the step in progress. */
  readonly signal?: AbortSignal;
}

/**
 * What {@link runSteps} returns.
 *
 * @example
 * ```ts
 * import type { RunStepsResult } from "./steps.ts";
 * import assert from "node:assert/strict";
 * const stopped = (r: RunStepsResult) => r.stopped;
 * assert.equal(typeof stopped, "function");
 * ```
 */
export interface RunStepsResult {
  /** The last good state (the caller disposes it). */
  readonly state: StepState;
  /** Steps taken. */
  readonly steps: number;
  /** `done`, `aborted` (by the signal) or `nan` (a non-finite loss or gradient; not applied). */
  readonly stopped: "done" | "aborted" | "nan";
}

/**
 * Trains a prompt for a number of steps in memory: no files, no signals, no checkpoints. Each
 * step is {@link runStep}; a non-finite loss or gradient stops the run without applying that
 * step. The state given is consumed (disposed as steps replace it).
 *
 * @param state the starting prompt and optimizer state (the run owns them)
 * @param options examples, batching, loss, optimizer, key, steps, a per-step callback
 * @returns the final state and why the run stopped
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { runSteps } from "./steps.ts";
 * import { adafactor, disposeState } from "./optim/mod.ts";
 * import { key } from "../random/mod.ts";
 * import assert from "node:assert/strict";
 * const before = tf.memory().numTensors;
 * const optimizer = adafactor({ learningRate: 0.1 });
 * const prompt = tf.ones([1, 2]);
 * const losses: number[] = [];
 * const r = await runSteps({ prompt, opt: optimizer.init(prompt) }, {
 *   train: [1, 2, 3], batchSize: 1, collate: (xs) => tf.tensor1d([...xs]), optimizer,
 *   loss: (p) => tf.sum(tf.square(p)), key: key(3), steps: 5, onStep: (s) => { losses.push(s.loss); },
 * });
 * assert(r.stopped === "done" && r.steps === 5 && losses[4] < losses[0]);
 * r.state.prompt.dispose();
 * disposeState(r.state.opt);
 * assert.equal(tf.memory().numTensors, before);
 * ```
 */
export async function runSteps<Ex, B>(
  state: StepState,
  options: RunStepsOptions<Ex, B>,
): Promise<RunStepsResult> {
  const [dataKey, stepKey] = split(options.key, 3); // as the Deno loop: data, step, evaluation
  let s = state;
  let data: DataPosition = { epoch: 0, offset: 0 };
  let steps = 0;
  while (steps < options.steps) {
    if (options.signal?.aborted) return { state: s, steps, stopped: "aborted" };
    const t0 = performance.now();
    const r = await runStep(s, { step: steps + 1, data, dataKey, stepKey }, options);
    const { loss, gradNorm } = r.stepped;
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
      r.stepped.state.prompt.dispose();
      disposeState(r.stepped.state.opt);
      return { state: s, steps, stopped: "nan" };
    }
    s.prompt.dispose();
    disposeState(s.opt);
    s = r.stepped.state;
    data = r.next;
    steps += 1;
    const seconds = (performance.now() - t0) / 1000;
    await options.onStep?.({ step: steps, loss, gradNorm, epoch: r.epoch, seconds });
  }
  return { state: s, steps, stopped: "done" };
}
