/**
 * The library's core without Deno: what runs in a browser tab (and in Deno, Node or a worker)
 * from bytes or `fetch`. Backend, keys, initializers, models loaded from a {@link FileSet} (in
 * memory, behind a URL: a page's server, the Hugging Face Hub, JSR), the embedded models,
 * tokenizers, losses, optimizers, the training step and an in-memory loop, rank
 * classification, decoding, and the prompt's exports as bytes (`.npy`, a PEFT adapter).
 *
 * No module this one imports uses `Deno.*` or `node:` built-ins (tests/web_core_test.ts checks
 * the import graph). The path-based loaders of `mod.ts` read files through the same parsers.
 *
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { disposeTree, initBackend, loadEmbedded, orThrow, rankClassify } from "./web.ts";
 * import assert from "node:assert/strict";
 * orThrow(await initBackend("cpu"));
 * const before = tf.memory().numTensors;
 * const { model, tokenizer } = orThrow(await loadEmbedded("default"));
 * const labels = tokenizer.encodeBatch(["ordinary", "commercial"], { padding: false }).ids;
 * const inputs = tokenizer.encodeBatch(["Buy now, cheap pills!"], { padding: false }).ids;
 * const [ranked] = await rankClassify(model, undefined, inputs, labels);
 * assert.equal(ranked.scores.length, 2);
 * disposeTree(model.params);
 * assert.equal(tf.memory().numTensors, before);
 * ```
 *
 * @module
 */
export { orThrow, type Problem, problem, type ProblemTag } from "./problem.ts";
export { type BackendName, initBackend, type InitBackendOptions } from "./backend.ts";
export { type Key, key, split } from "./random/key.ts";
export { countParams, disposeTree, type ParamTree } from "./tree/tree.ts";
export type { Initializer, WarningSink } from "./initializers/types.ts";
export { randomUniform, type RandomUniformOptions } from "./initializers/random.ts";
export { fromSampleOfEmbeddings, type SampleOptions } from "./initializers/sampled.ts";
export { fromEmbeddedList } from "./initializers/embedded.ts";
export {
  bytesFileSet,
  bytesReader,
  fetchFileSet,
  type FetchFileSetOptions,
  type FileSet,
  type RandomAccess,
} from "./io/file_set.ts";
export {
  encodeSafetensors,
  openSafetensorsFrom,
  openSafetensorsIndexIn,
  parseSafetensors,
} from "./io/safetensors_read.ts";
export { encodeNpy, parseNpy } from "./io/npy_bytes.ts";
export {
  fromTensor,
  type HostTensor,
  hostTensor,
  type NamedTensors,
  type TensorEntry,
  toTensor,
} from "./io/host_tensor.ts";
export type { DType, HostData } from "./io/dtype.ts";
export type { SafetensorsContents, SafetensorsFile } from "./io/safetensors_read.ts";
export type { TensorSource } from "./io/tensor_source.ts";
export { embeddingTable, type FrozenModel, type ModelConfig } from "./model/frozen.ts";
export type { T5Params } from "./model/t5/params.ts";
export type { Gpt2Params } from "./model/gpt2/forward.ts";
export type { LlamaParams } from "./model/llama/forward.ts";
export type { T5Config } from "./model/t5/config.ts";
export type { Gpt2Config } from "./model/gpt2/config.ts";
export type { LlamaConfig, LlamaModelType } from "./model/llama/config.ts";
export type { GenerationConfig } from "./model/generation_config.ts";
export type { Activation } from "./model/layers.ts";
export type { CausalBatch, PromptBatch, Seq2SeqBatch } from "./model/prompted.ts";
export { loadHuggingFaceFiles } from "./model/load_files.ts";
export {
  EMBEDDED_FILES,
  EMBEDDED_MODELS,
  embeddedModelUrl,
  loadEmbedded,
  type LoadEmbeddedOptions,
  type ModelWithTokenizer,
} from "./model/embedded.ts";
export type { DecodeOptions, HfTokenizer, TokenizerConfigFiles } from "./tokenizer/hf.ts";
export type { Tokenizer } from "./tokenizer/tokenizer.ts";
export { tokenizerFromJson } from "./tokenizer/hf.ts";
export { type TokenizerFilesOptions, tokenizerFromFiles } from "./tokenizer/from_files.ts";
export { type Combine, prefix, prefixAfterBos, suffix } from "./model/combine.ts";
export { promptLoss } from "./training/objective.ts";
export { promptRankLoss } from "./training/rank_objective.ts";
export { promptObjective, type TuneBatch } from "./training/prompt_objective.ts";
export type { BatchEncoding, EncodeBatchOptions, RankBatch, TokenExample } from "./data/batch.ts";
export {
  adafactor,
  type AdafactorOptions,
  adam,
  type AdamOptions,
  constantSchedule,
  cosineDecaySchedule,
  disposeState,
  type LearningRate,
  type Optimizer,
  type OptimizerState,
  type OptimizerUpdate,
  type Schedule,
} from "./training/optim/mod.ts";
export type { DataPosition } from "./training/batches.ts";
export { type StepResult, type StepState, trainStep } from "./training/step.ts";
export {
  runStep,
  type RunStepResult,
  runSteps,
  type RunStepsOptions,
  type RunStepsResult,
  type StepOptions,
  type StepReport,
} from "./training/steps.ts";
export { rankClassify, type RankOptions } from "./eval/rank.ts";
export { accuracy, type BinaryF1Options, f1Binary, type MetricLabel } from "./eval/metrics.ts";
export { decode } from "./decode/decode.ts";
export { type DecodingOptions, type SpecialIds, specialIds } from "./decode/options.ts";
export {
  ADAPTER_CONFIG,
  ADAPTER_WEIGHTS,
  encodePeftAdapter,
  type PeftAdapterOptions,
  peftOptionsFor,
  type PeftTaskType,
} from "./training/peft_adapter.ts";
