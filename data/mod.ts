/**
 * Data: reading JSONL, CSV/TSV and Parquet files; templates and label maps that turn records
 * into text-to-text examples; the GLUE and SuperGLUE tasks in T5's formats; loading a task's
 * split with bad records reported by `file:line`.
 *
 * ```ts
 * import { getTask, loadTaskSplit } from "./mod.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const sst2 = orThrow(getTask("glue_sst2"));
 * const r = await loadTaskSplit(sst2, "/no/such/dir", "validation");
 * assert(r._tag === "Left" && r.left._tag === "NotFound");
 * ```
 *
 * @module
 */

export {
  type CsvQuoting,
  type DataFormat,
  type DataRecord,
  formatFromPath,
  type ReadOptions,
  readRecords,
  type RecordVisitor,
  scanRecords,
} from "./read.ts";
export {
  type BatchEncoding,
  batchIds,
  type BatchSpecials,
  collateExamples,
  type CollateOptions,
  collateRank,
  type EncodeBatchOptions,
  type RankBatch,
  type TokenExample,
} from "./batch.ts";
export { compileTemplate, fillTemplate, type Template } from "./template.ts";
export { type LabelMap, labelMapFrom, mapLabel, parseLabelMap } from "./labels.ts";
export {
  checkTask,
  type Example,
  type ExampleMeta,
  METRIC_NAMES,
  type MetricName,
  PREPARE_NAMES,
  type PrepareName,
  type SplitFile,
  type TargetSpec,
  type Task,
} from "./task.ts";
export { type LoadedSplit, type LoadOptions, loadTaskSplit } from "./load.ts";
export {
  GLUE_COLA,
  GLUE_MNLI,
  GLUE_MRPC,
  GLUE_QNLI,
  GLUE_QQP,
  GLUE_RTE,
  GLUE_SST2,
  GLUE_STSB,
  GLUE_TASKS,
} from "./glue.ts";
export {
  SUPER_GLUE_BOOLQ,
  SUPER_GLUE_CB,
  SUPER_GLUE_COPA,
  SUPER_GLUE_MULTIRC,
  SUPER_GLUE_RECORD,
  SUPER_GLUE_RTE,
  SUPER_GLUE_TASKS,
  SUPER_GLUE_WIC,
  SUPER_GLUE_WSC,
} from "./superglue.ts";
export { BUILTIN_TASKS, getTask, taskNames } from "./tasks.ts";
export { loadSpamAssassin, SPAM_ASSASSIN, SPAM_LABEL_WORDS, type SpamOptions } from "./spam.ts";
export type { CleanMailOptions } from "./_mail.ts";
export type { Problem, ProblemTag } from "../problem.ts";
export type {
  Activation,
  FrozenModel,
  GenerationConfig,
  Gpt2Config,
  LlamaConfig,
  LlamaModelType,
  T5Config,
} from "../model/mod.ts";
export type { CausalBatch, PromptBatch, Seq2SeqBatch } from "../model/prompted.ts";
export type { T5Params } from "../model/t5/params.ts";
export type { Gpt2Params } from "../model/gpt2/forward.ts";
export type { LlamaParams } from "../model/llama/forward.ts";
