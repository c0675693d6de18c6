/**
 * The training loop: a soft prompt, a loss differentiable in it, an optimizer, shuffled batches,
 * periodic evaluation with early stopping, atomic checkpoints, exact resume, a metrics log,
 * progress, Ctrl-C. It knows nothing about models: examples are opaque values that the caller's
 * `collate` turns into a batch, and the loss closes over the frozen model.
 *
 * A step is `trainStep` (`step.ts`): the loss and its gradient in the prompt, the gradient's norm
 * (clipped to `clipNorm` when set) and the optimizer's update, in one `tf.tidy`; the loop then
 * disposes the old prompt and state. Frozen tensors are constants of the loss: never
 * differentiated, copied or updated. The loop itself draws the batches, and keeps the metrics,
 * the checkpoints, early stopping and interrupts.
 *
 * What a run directory holds (see `checkpoint.ts` for the checkpoint layout):
 *
 * ```text
 * runDir/checkpoints/step_<N>/   every `checkpointEvery` steps and at the end; the last `keep`
 * runDir/prompts/step_<N>.npy    the prompt at each checkpoint, [P, H] float32
 * runDir/metrics.jsonl           one JSON line per step (see StepMetrics)
 * runDir/best.npy, best.json     the best prompt by the evaluation metric, and its step and metrics
 * ```
 *
 * Determinism: batches depend only on the run key and the data position, the loss's key on the
 * run key and the step, and the optimizer on its state, all of which a checkpoint stores bit for
 * bit, so `resume: true` reproduces an uninterrupted run exactly (same losses, same prompt) on the
 * same backend.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { join } from "node:path";
import { errorText } from "../io/files.ts";
import type { ModelFingerprint } from "../io/fingerprint.ts";
import { fromTensor } from "../io/host_tensor.ts";
import { type Problem, problem } from "../problem.ts";
import { foldIn, type Key, keyData, split } from "../random/mod.ts";
import { disposeState, type Optimizer, stateToHost } from "./optim/mod.ts";
import { runStep } from "./steps.ts";
import { batchesPerEpoch } from "./batches.ts";
import { type BestSoFar, type Checkpoint, writeCheckpoint } from "./checkpoint.ts";
import { disposeTensors, type Evaluate, improves, type StepContext } from "./evaluate.ts";
import { type InterruptSource, sigint } from "./interrupt.ts";
import { appendMetrics, type StepMetrics } from "./metrics_log.ts";
import { type Progress, progressReporter } from "./progress.ts";
import { saveBest, start } from "./resume.ts";

/**
 * Why a run stopped.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import { adam } from "./optim/mod.ts";
 * import { type StopReason, train } from "./loop.ts";
 * import assert from "node:assert/strict";
 * const runDir = await Deno.makeTempDir();
 * const r = await train({
 *   prompt: () => tf.zeros([1, 2]), key: key(0), train: [1, 2], runDir,
 *   collate: (xs: readonly number[]) => tf.tensor1d([...xs]),
 *   loss: (p) => tf.mul(tf.sum(p), NaN), // a diverged loss
 *   optimizer: adam(), batchSize: 2, steps: 5, progress: false, interrupts: false,
 * });
 * const why: StopReason | null = r._tag === "Right" ? r.right.stopped : null;
 * assert(why === "nan");
 * if (r._tag === "Right") r.right.prompt.dispose();
 * await Deno.remove(runDir, { recursive: true });
 * ```
 */
export type StopReason = "done" | "early-stopped" | "interrupted" | "nan";

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Options of {@link train}. `Ex` is an example (opaque to the loop), `B` a batch.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import { adam } from "./optim/mod.ts";
 * import type { TrainOptions } from "./loop.ts";
 * import assert from "node:assert/strict";
 * const init = tf.zeros([2, 3]);
 * const options: TrainOptions<number, tf.Tensor> = {
 *   prompt: init, key: key(1), train: [1, 2, 3, 4], runDir: "runs/demo",
 *   collate: (xs) => tf.tensor1d([...xs]),
 *   loss: (p, b) => tf.mean(tf.square(tf.sub(tf.sum(p), b))),
 *   optimizer: adam({ learningRate: 0.1 }), batchSize: 2, steps: 10,
 * };
 * assert(options.steps === 10);
 * init.dispose();
 * ```
 */
export interface TrainOptions<Ex, B> {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /**
   * The initial prompt `[P, H]` float32: a tensor the caller keeps owning (the loop copies it), or
   * a function making one (called only on a fresh start; the loop owns its result). On resume the
   * checkpoint's prompt is used; a tensor given here must then have the same shape.
   */
  readonly prompt: tf.Tensor | (() => tf.Tensor);
  /**
   * The shape `[P, H]` the `prompt` function makes, when it is one: on resume a checkpoint whose
   * prompt has another shape is refused (default: not checked).
   */
  readonly promptShape?: readonly number[];
  /**
   * The run's PRNG key (fresh start). Split in three: the data key (batch order: epoch `e` is
   * shuffled with `foldIn(dataKey, e)`), the step key (the loss's `context.key` at step `s` is
   * `foldIn(stepKey, s)`) and the evaluation key (likewise). On resume the checkpoint's key is
   * used, whatever is given here.
   */
  readonly key: Key;
  /** The training examples. */
  readonly train: readonly Ex[];
  /** Makes a batch from examples (tensors it makes are freed by `disposeBatch`). */
  readonly collate: (examples: readonly Ex[]) => B;
  /** Frees a batch (default: disposes every tensor found in it). */
  readonly disposeBatch?: (batch: B) => void;
  /** The number of tokens a batch trains on, for tokens/s (default: not counted). */
  readonly countTokens?: (batch: B) => number;
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** The loss, differentiable in the prompt; called inside a `tf.tidy`. */
  readonly loss: (prompt: tf.Tensor, batch: B, context: StepContext) => tf.Scalar;
  /** The optimizer (its state is checkpointed). */
  readonly optimizer: Optimizer;
  /** Clip the gradient to this global norm (default: no clipping). */
  readonly clipNorm?: number;
  /** Validation examples for `evaluate`. */
  readonly validation?: readonly Ex[];
  /** Metrics of the prompt on `validation`, every `evalEvery` steps (see `lossEvaluator`). */
  readonly evaluate?: Evaluate<Ex>;
  /** Evaluate after every this many steps (default `checkpointEvery`). */
  readonly evalEvery?: number;
  /** The metric that picks the best prompt and drives early stopping (default `"loss"`). */
  readonly metric?: string;
  /** Whether lower or higher `metric` is better (default `"min"`). */
  readonly mode?: "min" | "max";
  /** Stop after this many evaluations in a row without improvement (default: never). */
  readonly patience?: number;
  /** Steps to train in all, counting those before a resume. Give `steps` or `epochs`. */
  readonly steps?: number;
  /** Epochs to train: `epochs × batchesPerEpoch` steps. */
  readonly epochs?: number;
  /** Examples per batch. */
  readonly batchSize: number;
  /** Skip each epoch's last partial batch (default true; see `batches.ts`). */
  readonly dropLast?: boolean;
  /** Write a checkpoint after every this many steps (default 1000), and always at the end. */
  readonly checkpointEvery?: number;
  /** Keep only the newest this many checkpoints (default: all). */
  readonly keep?: number;
  /** The run directory (created if missing). */
  readonly runDir: string;
  /**
   * Continue from the latest checkpoint in `runDir` (default false). Without a checkpoint the run
   * starts fresh; with `resume: false` a `runDir` that already holds checkpoints is refused.
   */
  readonly resume?: boolean;
  /** Called after each step with its metrics line. */
  readonly onProgress?: (metrics: StepMetrics) => void;
  /**
   * Progress printing: false for none, or the writer, terminal mode and line period (default:
   * stdout, a bar on a terminal, a line every 10 steps elsewhere).
   */
  readonly progress?:
    | false
    | {
      readonly write?: (text: string) => void;
      readonly terminal?: boolean;
      readonly every?: number;
    };
  /** What stops the run cleanly (default: Ctrl-C, {@link sigint}); false for nothing. */
  readonly interrupts?: InterruptSource | false;
  /** Called before each checkpoint's directory is committed (a seam for crash tests). */
  readonly beforeCheckpointCommit?: (tmpDir: string) => Promise<void> | void;
  // deno-doc-ignore private-type-ref -- ModelFingerprint is io/'s own type, exported from io/mod.ts
  /**
   * The model's files (`fingerprintModel` of io/fingerprint.ts): stored in each checkpoint, and a resume whose
   * checkpoint holds other files is refused, naming what changed (default: not checked).
   */
  readonly modelFingerprint?: ModelFingerprint;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * What {@link train} returns.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import { adam } from "./optim/mod.ts";
 * import { train, type TrainOptions, type TrainResult } from "./loop.ts";
 * import assert from "node:assert/strict";
 * const runDir = await Deno.makeTempDir();
 * const options: TrainOptions<number, tf.Tensor> = {
 *   prompt: () => tf.zeros([1, 2]), key: key(0), train: [1, 2, 3, 4], runDir,
 *   collate: (xs) => tf.tensor1d([...xs]),
 *   loss: (p, b) => tf.mean(tf.square(tf.sub(tf.sum(p), b))),
 *   optimizer: adam({ learningRate: 0.1 }), batchSize: 2, progress: false, interrupts: false,
 * };
 * const first = await train({ ...options, steps: 4 });
 * const again = await train({ ...options, steps: 6, resume: true }); // two more steps
 * for (const r of [first, again]) if (r._tag === "Right") r.right.prompt.dispose();
 * const res: TrainResult | null = again._tag === "Right" ? again.right : null;
 * assert(res?.resumedFrom === 4 && res.stepsRun === 2 && res.steps === 6);
 * assert(res?.stopped === "done" && res.lastCheckpoint === 6 && res.best === null);
 * await Deno.remove(runDir, { recursive: true });
 * ```
 */
export interface TrainResult {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** The final prompt `[P, H]` (after a NaN: the last good one); the caller owns it. */
  readonly prompt: tf.Tensor;
  /** Steps done in all (a resumed run counts those before). */
  readonly steps: number;
  /** Steps done by this call. */
  readonly stepsRun: number;
  /** The loss of the last step run (NaN or ±Infinity after a NaN stop; null when none ran). */
  readonly finalLoss: number | null;
  /** The best evaluation (its prompt is `runDir/best.npy`), or null. */
  readonly best: BestSoFar | null;
  /** Why the run stopped. */
  readonly stopped: StopReason;
  /** The newest checkpoint's step, or null when there is none. */
  readonly lastCheckpoint: number | null;
  /** The checkpoint step this call resumed from, or null for a fresh start. */
  readonly resumedFrom: number | null;
  /** After a NaN stop: one line naming the step and the last good checkpoint. */
  readonly message?: string;
}

const isPositiveInt = (v: number | undefined) =>
  v === undefined || (Number.isSafeInteger(v) && v > 0);

function checkOptions<Ex, B>(o: TrainOptions<Ex, B>): string[] {
  const issues: string[] = [];
  const positive = (name: string, v: number | undefined) => {
    if (!isPositiveInt(v)) issues.push(`${name} is ${v}; expected a positive integer`);
  };
  if ((o.steps === undefined) === (o.epochs === undefined)) {
    issues.push("Give exactly one of steps and epochs");
  }
  positive("steps", o.steps);
  positive("epochs", o.epochs);
  positive("batchSize", o.batchSize);
  if (o.batchSize === undefined) issues.push("batchSize is missing; expected a positive integer");
  positive("checkpointEvery", o.checkpointEvery);
  positive("keep", o.keep);
  positive("evalEvery", o.evalEvery);
  if (o.patience !== undefined && !(Number.isSafeInteger(o.patience) && o.patience > 0)) {
    issues.push(`patience is ${o.patience}; expected a positive integer`);
  }
  if (o.clipNorm !== undefined && !(Number.isFinite(o.clipNorm) && o.clipNorm > 0)) {
    issues.push(`clipNorm is ${o.clipNorm}; expected a positive number`);
  }
  const dropLast = o.dropLast ?? true;
  const n = o.train.length;
  if (n === 0 || (dropLast && isPositiveInt(o.batchSize) && n < o.batchSize)) {
    issues.push(
      `train has ${n} examples; expected at least ${dropLast ? o.batchSize : 1} (one batch)`,
    );
  }
  if (o.evaluate !== undefined && (o.validation === undefined || o.validation.length === 0)) {
    issues.push("evaluate is given but validation has no examples");
  }
  if (o.patience !== undefined && o.evaluate === undefined) {
    issues.push("patience is given but there is no evaluate to measure improvement");
  }
  if (typeof o.prompt !== "function" && (o.prompt.rank !== 2 || o.prompt.dtype !== "float32")) {
    issues.push(
      `prompt is ${o.prompt.dtype} [${o.prompt.shape.join(", ")}]; expected float32 [P, H]`,
    );
  }
  return issues;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Trains a prompt (see the module doc). Stops after `steps` (or `epochs`), on early stopping, on
 * an interrupt (after finishing the current step and writing a checkpoint) or on a NaN or
 * infinite loss or gradient norm (without updating and without a checkpoint of the bad state:
 * the newest checkpoint stays the last good one). Every stop but NaN writes a final checkpoint.
 * Interrupt listeners are removed however the call ends; an exception thrown by `collate`,
 * `loss` or `evaluate` propagates after the loop's tensors are disposed.
 *
 * @param options the prompt, key, data, loss, optimizer and run options
 * @returns the summary and the final prompt (the caller owns it), or a problem: `Invalid`
 *   options (all listed), `Mismatch` between a checkpoint and the options, `Io` or `Corrupt`
 *   files in `runDir`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import { adam } from "./optim/mod.ts";
 * import { train } from "./loop.ts";
 * import assert from "node:assert/strict";
 * const runDir = await Deno.makeTempDir();
 * const r = await train({
 *   prompt: () => tf.zeros([1, 2]), key: key(0), train: [1, 2, 3, 4], runDir,
 *   collate: (xs: readonly number[]) => tf.tensor1d([...xs]),
 *   loss: (p, b) => tf.mean(tf.square(tf.sub(tf.sum(p), b))), // best sum(p): 2.5
 *   optimizer: adam({ learningRate: 0.1 }), batchSize: 2, steps: 30, progress: false,
 * });
 * if (r._tag === "Right") {
 *   assert(r.right.stopped === "done" && r.right.finalLoss! < 3);
 *   r.right.prompt.dispose();
 * }
 * await Deno.remove(runDir, { recursive: true });
 * ```
 */
export async function train<Ex, B>(
  options: TrainOptions<Ex, B>,
): Promise<E.Either<Problem, TrainResult>> {
  const issues = checkOptions(options);
  if (issues.length > 0) {
    return E.left(problem("Invalid", "train options", issues.join("; ")));
  }
  const { runDir, optimizer, batchSize } = options;
  const dropLast = options.dropLast ?? true;
  const n = options.train.length;
  const total = options.steps ?? options.epochs! * batchesPerEpoch(n, { batchSize, dropLast });
  const checkpointEvery = options.checkpointEvery ?? 1000;
  const evalEvery = options.evalEvery ?? checkpointEvery;
  const metric = options.metric ?? "loss";
  const mode = options.mode ?? "min";
  const disposeBatch = options.disposeBatch ?? disposeTensors;
  const metricsPath = join(runDir, "metrics.jsonl");

  const started = await start(options);
  if (E.isLeft(started)) return started;
  const { state: s, resumedFrom, skipped } = started.right;
  const progress: Progress | undefined = options.progress === false ? undefined : progressReporter({
    total,
    startStep: s.step,
    ...options.progress,
  });
  for (const p of skipped) {
    progress?.note(`Skipped an unreadable checkpoint: ${p.where}: ${p.message}`);
  }
  if (resumedFrom !== null) progress?.note(`Resumed from step ${resumedFrom} in ${runDir}`);

  let interrupted = false;
  const unlisten = options.interrupts === false
    ? () => {}
    : (options.interrupts ?? sigint).listen(() => {
      interrupted = true;
      progress?.note("Interrupted: finishing the step and writing a checkpoint");
    });
  const [dataKey, stepKey, evalKey] = split(s.key, 3);
  let lastCheckpoint: number | null = resumedFrom;
  let finalLoss: number | null = null;
  let message: string | undefined;
  let stopped: StopReason = "done";
  const firstStep = s.step;
  let handedOver = false;

  const checkpoint = async (): Promise<E.Either<Problem, void>> => {
    const c: Checkpoint = {
      meta: {
        step: s.step,
        key: keyData(s.key),
        data: s.data,
        optimizer: { name: optimizer.name, step: s.opt.step },
        best: s.best,
        badEvals: s.badEvals,
        ...(options.modelFingerprint === undefined ? {} : { model: options.modelFingerprint }),
      },
      prompt: await fromTensor(s.prompt),
      optimizer: await stateToHost(s.opt),
      ...(s.bestPrompt ? { bestPrompt: s.bestPrompt } : {}),
    };
    const w = await writeCheckpoint(runDir, c, {
      keep: options.keep,
      beforeCommit: options.beforeCheckpointCommit,
    });
    if (E.isLeft(w)) return w;
    lastCheckpoint = s.step;
    return E.right(undefined);
  };

  try {
    while (true) {
      if (s.step >= total) break;
      if (interrupted) {
        stopped = "interrupted";
        break;
      }
      if (options.patience !== undefined && s.badEvals >= options.patience) {
        stopped = "early-stopped";
        break;
      }
      // One step.
      const t0 = performance.now();
      const stepNo = s.step + 1;
      const lr = optimizer.learningRate(s.opt.step);
      const drawn = await runStep(s, { step: stepNo, data: s.data, dataKey, stepKey }, {
        ...options,
        batchSize,
        dropLast,
        disposeBatch,
      });
      const { stepped, tokens } = drawn;
      const { loss, gradNorm: norm } = stepped;
      finalLoss = loss;
      if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
        stepped.state.prompt.dispose();
        disposeState(stepped.state.opt);
        const what = Number.isFinite(loss) ? `Gradient norm is ${norm}` : `Loss is ${loss}`;
        const last = lastCheckpoint === null
          ? "there is no checkpoint"
          : `the last good checkpoint is step ${lastCheckpoint} (${
            join(runDir, "checkpoints", `step_${lastCheckpoint}`)
          })`;
        message = `${what} at step ${stepNo}; stopped without updating the prompt, ${last}`;
        stopped = "nan";
        break;
      }
      s.prompt.dispose();
      disposeState(s.opt);
      s.prompt = stepped.state.prompt;
      s.opt = stepped.state.opt;
      s.step = stepNo;
      s.data = drawn.next;
      const sec = (performance.now() - t0) / 1000;

      let evaluation: Record<string, number> | undefined;
      if (options.evaluate !== undefined && s.step % evalEvery === 0) {
        evaluation = await options.evaluate(s.prompt, options.validation!, {
          step: s.step,
          key: foldIn(evalKey, s.step),
          training: false,
        });
        const value = evaluation[metric];
        if (typeof value !== "number") {
          return E.left(
            problem(
              "Invalid",
              "evaluate",
              `Evaluation returned no number named '${metric}'; it returned ${
                Object.keys(evaluation).join(", ") || "nothing"
              }`,
            ),
          );
        }
        if (improves(value, s.best?.value ?? null, mode)) {
          s.best = { step: s.step, metric, value, metrics: { ...evaluation } };
          s.bestPrompt = await fromTensor(s.prompt);
          s.badEvals = 0;
          const saved = await saveBest(runDir, s.best, s.bestPrompt);
          if (E.isLeft(saved)) return saved;
        } else s.badEvals += 1;
        progress?.note(
          `Evaluation at step ${s.step}: ${
            Object.entries(evaluation).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(", ")
          }${s.badEvals === 0 ? " (best)" : ""}`,
        );
      }

      const line: StepMetrics = {
        step: s.step,
        epoch: drawn.epoch,
        loss,
        lr,
        gradNorm: norm,
        ...(tokens !== undefined ? { tokens } : {}),
        stepsPerSec: 1 / sec,
        ...(tokens !== undefined ? { tokensPerSec: tokens / sec } : {}),
        ...(evaluation !== undefined ? { eval: evaluation } : {}),
      };
      try {
        await appendMetrics(metricsPath, line);
      } catch (e) {
        return E.left(
          problem("Io", metricsPath, `Cannot append to the metrics log: ${errorText(e)}`),
        );
      }
      options.onProgress?.(line);
      progress?.update(s.step, loss, tokens);

      if (s.step % checkpointEvery === 0) {
        const w = await checkpoint();
        if (E.isLeft(w)) return w;
      }
    }
    if (stopped !== "nan" && lastCheckpoint !== s.step) {
      const w = await checkpoint();
      if (E.isLeft(w)) return w;
    }
    if (stopped === "nan") progress?.note(message!);
    const result: TrainResult = {
      prompt: s.prompt,
      steps: s.step,
      stepsRun: s.step - firstStep,
      finalLoss,
      best: s.best,
      stopped,
      lastCheckpoint,
      resumedFrom,
      ...(message !== undefined ? { message } : {}),
    };
    handedOver = true; // the caller owns the prompt now
    return E.right(result);
  } finally {
    unlisten();
    progress?.end();
    if (!handedOver) s.prompt.dispose();
    disposeState(s.opt);
  }
}
