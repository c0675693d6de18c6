/**
 * Run configuration: layered JSON files (the original's gin files, in its layout:
 * `configs/models/`, `configs/prompts/`, `configs/decoding/`, `configs/runs/`), merged in order,
 * `--set a.b.c=value` overrides (the original's `--gin.PARAM=VALUE`), and validation that reports
 * every problem at once, into one typed, complete {@link RunConfig}.
 *
 * - {@link resolveConfig}`(files, sets)`: read, merge, override, validate.
 * - {@link formatConfig}: the pretty JSON printed at the start of a run;
 *   {@link writeResolvedConfig}: `runDir/config.json`, atomically.
 * - The pieces: {@link parseJson} (strict, positions, no prototype pollution),
 *   {@link mergeLayers}, {@link parseOverride} / {@link applyOverride}, {@link validateConfig}.
 *
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { fileURLToPath } from "node:url";
 * import { describeProblem } from "../problem.ts";
 * import { resolveConfig } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const preset = (p: string) => fileURLToPath(new URL(`../configs/${p}.json`, import.meta.url));
 * const r = await resolveConfig(
 *   [preset("models/embedded_default"), preset("prompts/from_class_labels"), preset("runs/prompt_finetune")],
 *   ["task=glue/sst2", "train.steps=100"],
 * );
 * if (E.isLeft(r)) console.log(r.left.map(describeProblem).join("\n"));
 * else assert(r.right.train.steps === 100 && r.right.prompt.length === 100);
 * ```
 *
 * @module
 */

export {
  type AdafactorConfig,
  type AdamConfig,
  AGGREGATES,
  type BuiltinTaskConfig,
  type ClassLabelsInit,
  COMBINE_KINDS,
  type CombineKind,
  type CustomTaskConfig,
  DATA_FORMATS,
  type DecodingConfig,
  type EarlyStoppingConfig,
  EMBEDDED_PREFIX,
  type EvalConfig,
  type FallbackInit,
  type FromFileInit,
  type FromStringInit,
  type InitializerConfig,
  type MixtureConfig,
  type MixtureTaskConfig,
  type OptimizerCommon,
  type OptimizerConfig,
  type PromptConfig,
  type RandomUniformInit,
  type RunConfig,
  type SampledVocabInit,
  type ScheduleConfig,
  type SharedPromptConfig,
  type TaskConfig,
  type TrainConfig,
} from "./schema.ts";
export { isJsonObject, type JsonObject, type JsonValue, parseJson } from "./json.ts";
export { type Layer, type Merged, mergeLayers } from "./merge.ts";
export { applyOverride, type Override, parseOverride } from "./overrides.ts";
export { validateConfig, type ValidateOptions } from "./validate.ts";
export { RESUME_MAY_DIFFER, resumeConflicts } from "./resume.ts";
export {
  formatConfig,
  readConfigFile,
  resolveConfig,
  RESOLVED_CONFIG_NAME,
  resolveLayers,
  type ResolveOptions,
  writeResolvedConfig,
} from "./load.ts";
export type { DataFormat } from "../data/read.ts";
export type { MetricName } from "../data/task.ts";
export type { Problem, ProblemTag } from "../problem.ts";
