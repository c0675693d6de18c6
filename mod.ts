/**
 * Soft prompt tuning (Lester, Al-Rfou, Constant, 2021) of frozen transformer language models on
 * TensorFlow.js: the common path, from a frozen model to a tuned, evaluated and saved prompt.
 *
 * {@link loadModel} + {@link loadTokenizer} → an initializer ({@link randomUniform},
 * {@link fromSampleOfEmbeddings}) under a {@link key} → the prompt meets the input by
 * {@link prefix} / {@link prefixAfterBos} / {@link suffix} → a loss ({@link promptLoss},
 * {@link promptRankLoss}) → {@link adafactor} → {@link tunePrompt} → {@link rankClassify} /
 * {@link decode} → {@link writeNpy}. Every function taking a prompt also takes one per row
 * ({@link MixedPrompts}, made by {@link mixPrompts}): many prompts over one frozen model in a batch.
 *
 * The rest sits behind subpath exports, one concern each: `./models` (T5, GPT-2, LLaMA, T5X),
 * `./io` (npy, npz, safetensors), `./tokenizer`, `./random`, `./tree`, `./initializers` (all of
 * them), `./training` (the loop, Adam, schedules, checkpoints, PEFT export), `./decode` (greedy,
 * beam search, sampling), `./eval` (metrics, reports), `./data` (tasks), `./config` (run
 * configurations), and the command line `./cli`.
 *
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend, key, prefix, randomUniform, split } from "./mod.ts";
 * import assert from "node:assert/strict";
 * await initBackend("cpu");
 * const [k] = split(key(42));
 * const prompt = randomUniform(0.5)(k, [2, 3]); // [P, H]
 * const embeds = tf.fill([1, 2, 3], 7); // [B, T, H]: two input tokens
 * const mask = tf.ones([1, 2], "int32"); // [B, T]
 * const c = prefix(prompt, embeds, mask); // [B, P + T, H]
 * assert.deepEqual(c.embeds.shape, [1, 4, 3]);
 * assert.deepEqual(Array.from(c.embeds.dataSync().slice(6)), [7, 7, 7, 7, 7, 7]); // then the input
 * assert.deepEqual(Array.from(c.mask.dataSync()), [1, 1, 1, 1]);
 * tf.dispose([prompt, embeds, mask, c.embeds, c.mask]);
 * ```
 *
 * @module
 */
export { orThrow, type Problem, type ProblemTag } from "./problem.ts";
export { type BackendName, initBackend, type InitBackendOptions, wasmThreads } from "./backend.ts";
export { type Key, key, split } from "./random/key.ts";
export { disposeTree, type ParamTree } from "./tree/tree.ts";
export type { Initializer, WarningSink } from "./initializers/types.ts";
export { randomUniform, type RandomUniformOptions } from "./initializers/random.ts";
export { fromSampleOfEmbeddings, type SampleOptions } from "./initializers/sampled.ts";
export { type FrozenModel, loadModel } from "./model/load.ts";
export type { T5Params } from "./model/t5/params.ts";
export type { Gpt2Params } from "./model/gpt2/forward.ts";
export type { LlamaParams } from "./model/llama/forward.ts";
export type { T5Config } from "./model/t5/config.ts";
export type { Gpt2Config } from "./model/gpt2/config.ts";
export type { LlamaConfig, LlamaModelType } from "./model/llama/config.ts";
export type { GenerationConfig } from "./model/generation_config.ts";
export type { Activation } from "./model/layers.ts";
export type { DecodeOptions, HfTokenizer } from "./tokenizer/hf.ts";
export { loadTokenizer } from "./tokenizer/load.ts";
export type { Tokenizer } from "./tokenizer/tokenizer.ts";
export { type Combine, prefix, prefixAfterBos, suffix } from "./model/combine.ts";
export type { MixedPrompts, PromptInput } from "./model/combine.ts";
export { mixPrompts } from "./model/mixed.ts";
export type { CausalBatch, PromptBatch, Seq2SeqBatch } from "./model/prompted.ts";
export { type ObjectiveOptions, promptLoss } from "./training/objective.ts";
export { promptRankLoss } from "./training/rank_objective.ts";
export type { CrossEntropyOptions } from "./model/loss.ts";
export type { Recompute } from "./model/kernels/recompute.ts";
export type {
  LearningRate,
  Optimizer,
  OptimizerState,
  OptimizerUpdate,
  Schedule,
} from "./training/optim/types.ts";
export { adafactor, type AdafactorOptions } from "./training/optim/adafactor.ts";
export type { BatchEncoding, EncodeBatchOptions, RankBatch, TokenExample } from "./data/batch.ts";
export { tunePrompt, type TunePromptOptions, type TunePromptResult } from "./training/tune.ts";
export type { PromptObjectiveOptions, TuneBatch } from "./training/prompt_objective.ts";
export {
  type StepResult,
  type StepState,
  trainStep,
  type TrainStepOptions,
} from "./training/step.ts";
export type { StopReason, TrainOptions, TrainResult } from "./training/loop.ts";
export type { Evaluate } from "./training/evaluate.ts";
export type { StepMetrics } from "./training/metrics_log.ts";
export type { InterruptSource } from "./training/interrupt.ts";
export type { BestSoFar } from "./training/checkpoint.ts";
export { rankClassify, type RankOptions } from "./eval/rank.ts";
export { decode, type Decoding } from "./decode/decode.ts";
export type { DecodingOptions } from "./decode/options.ts";
export type { DType, HostData } from "./io/dtype.ts";
export type { HostTensor } from "./io/host_tensor.ts";
export { readNpy, writeNpy } from "./io/npy.ts";
