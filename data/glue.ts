/**
 * The GLUE tasks in T5's text-to-text formats (`t5.data.glue_utils`, `preprocessors.glue` and
 * `preprocessors.stsb`): inputs are the task word then each feature as `name: text`, features in
 * sorted order; targets are TFDS's label names. Files follow the GLUE distribution
 * (`CoLA/train.tsv`, `MNLI/dev_matched.tsv`, …): tab-separated, no quoting.
 *
 * @module
 */
import type { SplitFile, Task } from "./task.ts";

const tsv = (file: string, extra: Partial<SplitFile> = {}): SplitFile => ({
  file,
  format: "tsv",
  ...extra,
});
const test = (file: string, extra: Partial<SplitFile> = {}): SplitFile =>
  tsv(file, { labelled: false, ...extra });

const COLA_COLUMNS = ["source", "label", "original_label", "sentence"];
const MRPC_RENAME = { Quality: "label", "#1 String": "sentence1", "#2 String": "sentence2" };

// TSV labels are words for RTE, QNLI and MNLI; Hugging Face's Parquet exports hold class ids.
const ENTAILMENT2 = {
  entailment: "entailment",
  not_entailment: "not_entailment",
  "0": "entailment",
  "1": "not_entailment",
};

/**
 * GLUE's CoLA: `cola sentence: …` → `unacceptable` / `acceptable`; Matthews correlation. The
 * train and dev files have no header.
 *
 * @example
 * ```ts
 * import { GLUE_COLA } from "./glue.ts";
 * import assert from "node:assert/strict";
 * assert(GLUE_COLA.labelWords?.[1] === "acceptable");
 * ```
 */
export const GLUE_COLA: Task = {
  name: "glue_cola",
  description: "CoLA: is the sentence grammatical?",
  inputs: "cola sentence: {sentence}",
  targets: { kind: "label", field: "label", map: { "0": "unacceptable", "1": "acceptable" } },
  labelWords: ["unacceptable", "acceptable"],
  metrics: ["matthews"],
  dir: "CoLA",
  files: {
    train: tsv("train.tsv", { header: false, columns: COLA_COLUMNS }),
    validation: tsv("dev.tsv", { header: false, columns: COLA_COLUMNS }),
    test: test("test.tsv"),
  },
};

/**
 * GLUE's SST-2: `sst2 sentence: …` → `negative` / `positive`; accuracy.
 *
 * @example
 * ```ts
 * import { GLUE_SST2 } from "./glue.ts";
 * import assert from "node:assert/strict";
 * assert(GLUE_SST2.inputs === "sst2 sentence: {sentence}");
 * ```
 */
export const GLUE_SST2: Task = {
  name: "glue_sst2",
  description: "SST-2: is the movie review positive?",
  inputs: "sst2 sentence: {sentence}",
  targets: { kind: "label", field: "label", map: { "0": "negative", "1": "positive" } },
  labelWords: ["negative", "positive"],
  metrics: ["accuracy"],
  dir: "SST-2",
  files: { train: tsv("train.tsv"), validation: tsv("dev.tsv"), test: test("test.tsv") },
};

/**
 * GLUE's MRPC: `mrpc sentence1: … sentence2: …` → `not_equivalent` / `equivalent`; F1 (of
 * `equivalent`) and accuracy.
 *
 * @example
 * ```ts
 * import { GLUE_MRPC } from "./glue.ts";
 * import assert from "node:assert/strict";
 * assert(GLUE_MRPC.positive === "equivalent");
 * ```
 */
export const GLUE_MRPC: Task = {
  name: "glue_mrpc",
  description: "MRPC: are the two sentences paraphrases?",
  inputs: "mrpc sentence1: {sentence1} sentence2: {sentence2}",
  targets: { kind: "label", field: "label", map: { "0": "not_equivalent", "1": "equivalent" } },
  labelWords: ["not_equivalent", "equivalent"],
  positive: "equivalent",
  metrics: ["f1", "accuracy"],
  dir: "MRPC",
  files: {
    train: tsv("train.tsv", { rename: MRPC_RENAME }),
    validation: tsv("dev.tsv", { rename: MRPC_RENAME }),
    test: test("test.tsv", { rename: MRPC_RENAME }),
  },
};

/**
 * GLUE's QQP: `qqp question1: … question2: …` → `not_duplicate` / `duplicate`; F1 (of
 * `duplicate`) and accuracy.
 *
 * @example
 * ```ts
 * import { GLUE_QQP } from "./glue.ts";
 * import assert from "node:assert/strict";
 * assert(GLUE_QQP.targets.kind === "label" && GLUE_QQP.targets.field === "is_duplicate");
 * ```
 */
export const GLUE_QQP: Task = {
  name: "glue_qqp",
  description: "QQP: do the two questions ask the same thing?",
  inputs: "qqp question1: {question1} question2: {question2}",
  targets: {
    kind: "label",
    field: "is_duplicate",
    map: { "0": "not_duplicate", "1": "duplicate" },
  },
  labelWords: ["not_duplicate", "duplicate"],
  positive: "duplicate",
  metrics: ["f1", "accuracy"],
  dir: "QQP",
  files: { train: tsv("train.tsv"), validation: tsv("dev.tsv"), test: test("test.tsv") },
};

/**
 * GLUE's STS-B: `stsb sentence1: … sentence2: …` → the similarity rounded to 0.2 (`"3.8"`);
 * Pearson and Spearman correlation.
 *
 * @example
 * ```ts
 * import { GLUE_STSB } from "./glue.ts";
 * import assert from "node:assert/strict";
 * assert(GLUE_STSB.targets.kind === "score" && GLUE_STSB.targets.step === 0.2);
 * ```
 */
export const GLUE_STSB: Task = {
  name: "glue_stsb",
  description: "STS-B: how similar are the two sentences, from 0 to 5?",
  inputs: "stsb sentence1: {sentence1} sentence2: {sentence2}",
  targets: { kind: "score", field: "score", step: 0.2, digits: 1 },
  metrics: ["pearson", "spearman"],
  dir: "STS-B",
  files: { train: tsv("train.tsv"), validation: tsv("dev.tsv"), test: test("test.tsv") },
};

/**
 * GLUE's MNLI: `mnli hypothesis: … premise: …` → `entailment` / `neutral` / `contradiction`;
 * accuracy. Splits `validation_matched`, `validation_mismatched` (and `validation`, the matched
 * set), `test_matched`, `test_mismatched`.
 *
 * @example
 * ```ts
 * import { GLUE_MNLI } from "./glue.ts";
 * import assert from "node:assert/strict";
 * assert(GLUE_MNLI.files.validation_mismatched.file === "dev_mismatched.tsv");
 * ```
 */
export const GLUE_MNLI: Task = {
  name: "glue_mnli",
  description: "MNLI: does the premise entail, contradict or not bear on the hypothesis?",
  inputs: "mnli hypothesis: {sentence2} premise: {sentence1}",
  targets: {
    kind: "label",
    field: "gold_label",
    map: {
      entailment: "entailment",
      neutral: "neutral",
      contradiction: "contradiction",
      "0": "entailment",
      "1": "neutral",
      "2": "contradiction",
    },
  },
  labelWords: ["entailment", "neutral", "contradiction"],
  metrics: ["accuracy"],
  dir: "MNLI",
  files: {
    train: tsv("train.tsv"),
    validation: tsv("dev_matched.tsv"),
    validation_matched: tsv("dev_matched.tsv"),
    validation_mismatched: tsv("dev_mismatched.tsv"),
    test_matched: test("test_matched.tsv"),
    test_mismatched: test("test_mismatched.tsv"),
  },
};

/**
 * GLUE's QNLI: `qnli question: … sentence: …` → `entailment` / `not_entailment`; accuracy.
 *
 * @example
 * ```ts
 * import { GLUE_QNLI } from "./glue.ts";
 * import assert from "node:assert/strict";
 * assert(GLUE_QNLI.labelWords?.length === 2);
 * ```
 */
export const GLUE_QNLI: Task = {
  name: "glue_qnli",
  description: "QNLI: does the sentence answer the question?",
  inputs: "qnli question: {question} sentence: {sentence}",
  targets: { kind: "label", field: "label", map: ENTAILMENT2 },
  labelWords: ["entailment", "not_entailment"],
  metrics: ["accuracy"],
  dir: "QNLI",
  files: { train: tsv("train.tsv"), validation: tsv("dev.tsv"), test: test("test.tsv") },
};

/**
 * GLUE's RTE: `rte sentence1: … sentence2: …` → `entailment` / `not_entailment`; accuracy.
 *
 * @example
 * ```ts
 * import { GLUE_RTE } from "./glue.ts";
 * import assert from "node:assert/strict";
 * assert(GLUE_RTE.dir === "RTE");
 * ```
 */
export const GLUE_RTE: Task = {
  name: "glue_rte",
  description: "RTE: does the first sentence entail the second?",
  inputs: "rte sentence1: {sentence1} sentence2: {sentence2}",
  targets: { kind: "label", field: "label", map: ENTAILMENT2 },
  labelWords: ["entailment", "not_entailment"],
  metrics: ["accuracy"],
  dir: "RTE",
  files: { train: tsv("train.tsv"), validation: tsv("dev.tsv"), test: test("test.tsv") },
};

/**
 * The GLUE tasks above, in T5's order.
 *
 * @example
 * ```ts
 * import { GLUE_TASKS } from "./glue.ts";
 * import assert from "node:assert/strict";
 * assert(GLUE_TASKS.length === 8);
 * ```
 */
export const GLUE_TASKS: readonly Task[] = [
  GLUE_COLA,
  GLUE_SST2,
  GLUE_MRPC,
  GLUE_QQP,
  GLUE_STSB,
  GLUE_MNLI,
  GLUE_QNLI,
  GLUE_RTE,
];
