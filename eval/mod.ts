/**
 * Evaluation: task metrics over predictions and targets.
 *
 * ```ts
 * import { accuracy, matthews } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert(accuracy([1, 0, 1], [1, 1, 1]) === 2 / 3);
 * assert(matthews([1, 0], [1, 0]) === 1);
 * ```
 *
 * @module
 */

export {
  accuracy,
  exactMatch,
  f1Binary,
  f1Macro,
  groupExactMatch,
  matthews,
  type MetricLabel,
  pearson,
  spearman,
  squadExactMatch,
  squadTokenF1,
  tokenF1,
} from "./metrics.ts";
export { rankClassify, type RankedExample, type RankOptions } from "./rank.ts";
export {
  generateAndMatch,
  type GeneratedExample,
  type GenerateOptions,
  type GenerationExample,
} from "./generate.ts";
export {
  type EvalReport,
  generationPredictions,
  predictionsJsonl,
  rankPredictions,
  reportJson,
  reportTable,
  type TableOptions,
  writePredictions,
  writeReport,
} from "./report.ts";
export {
  type BagOfWordsModel,
  type BagOfWordsOptions,
  predictBagOfWords,
  trainBagOfWords,
} from "./baseline.ts";
export type { JsonObject, JsonValue } from "../config/json.ts";
export type { Example, ExampleMeta } from "../data/task.ts";
export type { Decoding } from "../decode/decode.ts";
export type { BinaryF1Options } from "./metrics.ts";
export type { Key } from "../random/key.ts";
export type { Tokenizer } from "../tokenizer/tokenizer.ts";
export type { Combine, MixedPrompts, PromptInput } from "../model/combine.ts";
