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
export type { Initializer } from "./initializers/types.ts";
export { randomUniform } from "./initializers/random.ts";
export { fromSampleOfEmbeddings } from "./initializers/sampled.ts";
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
export { fromTensor, type HostTensor, hostTensor, toTensor } from "./io/host_tensor.ts";
export { embeddingTable, type FrozenModel, type ModelConfig } from "./model/frozen.ts";
export { loadHuggingFaceFiles } from "./model/load_files.ts";
export {
  EMBEDDED_FILES,
  EMBEDDED_MODELS,
  embeddedModelUrl,
  loadEmbedded,
  type LoadEmbeddedOptions,
  type ModelWithTokenizer,
} from "./model/embedded.ts";
export type { HfTokenizer } from "./tokenizer/hf.ts";
export { tokenizerFromJson } from "./tokenizer/hf.ts";
export { tokenizerFromFiles } from "./tokenizer/from_files.ts";
export { type Combine, prefix, prefixAfterBos, suffix } from "./model/combine.ts";
export { promptLoss } from "./training/objective.ts";
export { promptRankLoss } from "./training/rank_objective.ts";
export { promptObjective, type TuneBatch } from "./training/prompt_objective.ts";
export type { TokenExample } from "./data/batch.ts";
export {
  adafactor,
  adam,
  constantSchedule,
  cosineDecaySchedule,
  disposeState,
  type Optimizer,
} from "./training/optim/mod.ts";
export { type StepResult, type StepState, trainStep } from "./training/step.ts";
export {
  runStep,
  runSteps,
  type RunStepsOptions,
  type RunStepsResult,
  type StepReport,
} from "./training/steps.ts";
export { rankClassify, type RankOptions } from "./eval/rank.ts";
export { accuracy, f1Binary } from "./eval/metrics.ts";
export { decode } from "./decode/decode.ts";
export { specialIds } from "./decode/options.ts";
export {
  ADAPTER_CONFIG,
  ADAPTER_WEIGHTS,
  encodePeftAdapter,
  peftOptionsFor,
} from "./training/peft_adapter.ts";
