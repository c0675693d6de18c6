/**
 * Prompt tuning: the losses of a prompt, gradients restricted to it, one training step, optimizers
 * as pure state transitions, and a resumable training loop with atomic checkpoints and PEFT
 * export. (How the prompt meets the input is `model/combine.ts`; batches are `data/batch.ts`.)
 *
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { adam, cosineDecaySchedule, disposeState } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const lr = cosineDecaySchedule(0.1, 10);
 * assert.equal(lr(0), 0.1);
 * assert(Math.abs(lr(10)) < 1e-12);
 * const opt = adam({ learningRate: 0.1 });
 * const prompt = tf.zeros([2, 3]); // [P, H]
 * const state = opt.init(prompt);
 * const grad = tf.onesLike(prompt);
 * const next = opt.update(grad, state, prompt);
 * // Adam's first step moves every entry by the learning rate against the gradient's sign.
 * assert(Array.from(next.params.dataSync()).every((x) => Math.abs(x + 0.1) < 1e-6));
 * tf.dispose([prompt, grad, next.params]);
 * disposeState(state);
 * disposeState(next.state);
 * ```
 *
 * @module
 */
export { type ObjectiveOptions, type OfPrompt, promptLogits, promptLoss } from "./objective.ts";
export { promptRankLoss, type RankObjectiveOptions } from "./rank_objective.ts";
export { type ValueAndGrad, valueAndGradOfPrompt } from "./grad.ts";
export {
  adafactor,
  type AdafactorOptions,
  adafactorSlotShapes,
  adam,
  type AdamOptions,
  adamw,
  checkState,
  clipByGlobalNorm,
  type Clipped,
  constantSchedule,
  cosineDecaySchedule,
  disposeState,
  globalNorm,
  type HostOptimizerState,
  joinSchedules,
  type LearningRate,
  linearSchedule,
  linearWarmup,
  type Optimizer,
  type OptimizerState,
  type OptimizerUpdate,
  rsqrtDecaySchedule,
  type Schedule,
  stateFromHost,
  stateToHost,
} from "./optim/mod.ts";
export {
  batchesPerEpoch,
  type BatchOptions,
  type DataPosition,
  type DrawnBatch,
  nextBatch,
} from "./batches.ts";
export {
  type BestSoFar,
  type Checkpoint,
  type CheckpointMeta,
  type LatestCheckpoint,
  latestCheckpoint,
  listCheckpoints,
  readCheckpoint,
  writeCheckpoint,
  type WriteCheckpointOptions,
} from "./checkpoint.ts";
export {
  type Evaluate,
  lossEvaluator,
  type LossEvaluatorOptions,
  type StepContext,
} from "./evaluate.ts";
export { type InterruptSource, sigint } from "./interrupt.ts";
export { appendMetrics, readMetrics, type StepMetrics } from "./metrics_log.ts";
export {
  formatDuration,
  type Progress,
  type ProgressInfo,
  type ProgressOptions,
  progressReporter,
} from "./progress.ts";
export { type StepResult, type StepState, trainStep, type TrainStepOptions } from "./step.ts";
export { type StopReason, train, type TrainOptions, type TrainResult } from "./loop.ts";
export {
  type PeftAdapter,
  type PeftAdapterConfig,
  type PeftAdapterOptions,
  type PeftTaskType,
  readPeftAdapter,
  writePeftAdapter,
} from "./peft.ts";
export {
  promptObjective,
  type PromptObjectiveOptions,
  type TuneBatch,
} from "./prompt_objective.ts";
export { tunePrompt, type TunePromptOptions, type TunePromptResult } from "./tune.ts";
export {
  type MixtureBatch,
  type MixtureTask,
  tuneMixture,
  type TuneMixtureOptions,
  type TuneMixtureResult,
} from "./tune_mixture.ts";
export {
  blockLengths,
  type MixtureExample,
  mixtureExamples,
  mixtureRates,
  type MixtureSource,
  type PromptLayout,
  taskPrompts,
} from "./mixture.ts";
export { segmented } from "./optim/segmented.ts";
export type { Initializer } from "../initializers/types.ts";
export type { DType, HostData } from "../io/dtype.ts";
export type { HostTensor } from "../io/host_tensor.ts";
export type { Combine, Combined, MixedPrompts, PromptInput } from "../model/combine.ts";
export type { CausalBatch, PromptBatch, Seq2SeqBatch } from "../model/prompted.ts";
export type { CrossEntropyOptions } from "../model/loss.ts";
export type { RankBatch, TokenExample } from "../data/batch.ts";
// The types the signatures above name, so that this entry point documents them too.
export type {
  Activation,
  FrozenModel,
  GenerationConfig,
  Gpt2Config,
  LlamaConfig,
  LlamaModelType,
  Recompute,
  T5Config,
} from "../model/mod.ts";
export type { Key } from "../random/key.ts";
export type { ParamTree } from "../tree/tree.ts";
export type { Problem, ProblemTag } from "../problem.ts";
export type { T5Params } from "../model/t5/params.ts";
export type { Gpt2Params } from "../model/gpt2/forward.ts";
export type { LlamaParams } from "../model/llama/forward.ts";
