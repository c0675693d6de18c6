/**
 * The SuperGLUE tasks in T5's text-to-text formats (`t5.data.glue_utils`, `preprocessors.glue`,
 * `record` and `wsc_simple`). Files follow the SuperGLUE distribution (`BoolQ/train.jsonl`,
 * `BoolQ/val.jsonl`, `BoolQ/test.jsonl`, …): JSON Lines, test splits unlabelled.
 *
 * @module
 */
import type { SplitFile, Task } from "./task.ts";

const jsonl = (file: string, labelled = true): SplitFile => ({ file, format: "jsonl", labelled });
const SPLITS = {
  train: jsonl("train.jsonl"),
  validation: jsonl("val.jsonl"),
  test: jsonl("test.jsonl", false),
};
// Labels are booleans in the distribution's JSONL and 0/1 in Hugging Face's Parquet exports.
const BOOL = { false: "False", true: "True", "0": "False", "1": "True" };
const ENTAILMENT2 = {
  entailment: "entailment",
  not_entailment: "not_entailment",
  "0": "entailment",
  "1": "not_entailment",
};

/**
 * SuperGLUE's BoolQ: `boolq passage: … question: …` → `False` / `True`; accuracy.
 *
 * @example
 * ```ts
 * import { SUPER_GLUE_BOOLQ } from "./superglue.ts";
 * import assert from "node:assert/strict";
 * assert(SUPER_GLUE_BOOLQ.inputs === "boolq passage: {passage} question: {question}");
 * ```
 */
export const SUPER_GLUE_BOOLQ: Task = {
  name: "super_glue_boolq",
  description: "BoolQ: the yes/no answer to a question about a passage",
  inputs: "boolq passage: {passage} question: {question}",
  targets: { kind: "label", field: "label", map: BOOL },
  labelWords: ["False", "True"],
  metrics: ["accuracy"],
  dir: "BoolQ",
  files: SPLITS,
};

/**
 * SuperGLUE's CB: `cb hypothesis: … premise: …` → `entailment` / `contradiction` / `neutral`;
 * macro-averaged F1 and accuracy.
 *
 * @example
 * ```ts
 * import { SUPER_GLUE_CB } from "./superglue.ts";
 * import assert from "node:assert/strict";
 * assert(SUPER_GLUE_CB.metrics.join() === "macro_f1,accuracy");
 * ```
 */
export const SUPER_GLUE_CB: Task = {
  name: "super_glue_cb",
  description: "CommitmentBank: does the premise entail, contradict or not bear on the hypothesis?",
  inputs: "cb hypothesis: {hypothesis} premise: {premise}",
  targets: {
    kind: "label",
    field: "label",
    map: {
      entailment: "entailment",
      contradiction: "contradiction",
      neutral: "neutral",
      "0": "entailment",
      "1": "contradiction",
      "2": "neutral",
    },
  },
  labelWords: ["entailment", "contradiction", "neutral"],
  metrics: ["macro_f1", "accuracy"],
  dir: "CB",
  files: SPLITS,
};

/**
 * SuperGLUE's COPA: `copa choice1: … choice2: … premise: … question: …` → `choice1` /
 * `choice2`; accuracy.
 *
 * @example
 * ```ts
 * import { SUPER_GLUE_COPA } from "./superglue.ts";
 * import assert from "node:assert/strict";
 * assert(SUPER_GLUE_COPA.labelWords?.join() === "choice1,choice2");
 * ```
 */
export const SUPER_GLUE_COPA: Task = {
  name: "super_glue_copa",
  description: "COPA: which choice is the cause (or effect) of the premise?",
  inputs: "copa choice1: {choice1} choice2: {choice2} premise: {premise} question: {question}",
  targets: { kind: "label", field: "label", map: { "0": "choice1", "1": "choice2" } },
  labelWords: ["choice1", "choice2"],
  metrics: ["accuracy"],
  dir: "COPA",
  files: SPLITS,
};

/**
 * SuperGLUE's MultiRC: one example per candidate answer, `multirc question: … answer: …
 * paragraph: …` → `False` / `True`; F1 over all answers (of `True`) and exact match per question.
 *
 * @example
 * ```ts
 * import { SUPER_GLUE_MULTIRC } from "./superglue.ts";
 * import assert from "node:assert/strict";
 * assert(SUPER_GLUE_MULTIRC.prepare === "multirc");
 * ```
 */
export const SUPER_GLUE_MULTIRC: Task = {
  name: "super_glue_multirc",
  description: "MultiRC: is each candidate answer to a question about a paragraph right?",
  inputs: "multirc question: {question} answer: {answer} paragraph: {paragraph}",
  targets: { kind: "label", field: "label", map: BOOL },
  labelWords: ["False", "True"],
  positive: "True",
  metrics: ["f1", "group_exact_match"],
  dir: "MultiRC",
  files: SPLITS,
  prepare: "multirc",
};

/**
 * SuperGLUE's ReCoRD: `record query: … entities: … passage: …` → an answer entity (one example
 * per answer); exact match and token F1, best over the answers.
 *
 * @example
 * ```ts
 * import { SUPER_GLUE_RECORD } from "./superglue.ts";
 * import assert from "node:assert/strict";
 * assert(SUPER_GLUE_RECORD.targets.kind === "answers");
 * ```
 */
export const SUPER_GLUE_RECORD: Task = {
  name: "super_glue_record",
  description: "ReCoRD: which entity fills the @placeholder in the query?",
  inputs: "record query: {query} entities: {entities} passage: {passage}",
  targets: { kind: "answers", field: "answers" },
  metrics: ["exact_match", "token_f1"],
  dir: "ReCoRD",
  files: SPLITS,
  prepare: "record",
};

/**
 * SuperGLUE's RTE: `rte hypothesis: … premise: …` → `entailment` / `not_entailment`; accuracy.
 *
 * @example
 * ```ts
 * import { SUPER_GLUE_RTE } from "./superglue.ts";
 * import assert from "node:assert/strict";
 * assert(SUPER_GLUE_RTE.inputs.startsWith("rte hypothesis:"));
 * ```
 */
export const SUPER_GLUE_RTE: Task = {
  name: "super_glue_rte",
  description: "RTE: does the premise entail the hypothesis?",
  inputs: "rte hypothesis: {hypothesis} premise: {premise}",
  targets: { kind: "label", field: "label", map: ENTAILMENT2 },
  labelWords: ["entailment", "not_entailment"],
  metrics: ["accuracy"],
  dir: "RTE",
  files: SPLITS,
};

/**
 * SuperGLUE's WiC: `wic sentence1: … sentence2: … word: …` → `False` / `True`; accuracy.
 *
 * @example
 * ```ts
 * import { SUPER_GLUE_WIC } from "./superglue.ts";
 * import assert from "node:assert/strict";
 * assert(SUPER_GLUE_WIC.inputs.endsWith("word: {word}"));
 * ```
 */
export const SUPER_GLUE_WIC: Task = {
  name: "super_glue_wic",
  description: "WiC: is the word used in the same sense in both sentences?",
  inputs: "wic sentence1: {sentence1} sentence2: {sentence2} word: {word}",
  targets: { kind: "label", field: "label", map: BOOL },
  labelWords: ["False", "True"],
  metrics: ["accuracy"],
  dir: "WiC",
  files: SPLITS,
};

/**
 * SuperGLUE's WSC as T5's `wsc_simple`: `wsc: … *pronoun* …` → the candidate referent's text
 * (a generation task); the example's `label` says whether that referent is the right one. The
 * training split keeps only right referents. Accuracy (of the predicted referent matching).
 *
 * @example
 * ```ts
 * import { SUPER_GLUE_WSC } from "./superglue.ts";
 * import assert from "node:assert/strict";
 * assert(SUPER_GLUE_WSC.targets.kind === "template");
 * ```
 */
export const SUPER_GLUE_WSC: Task = {
  name: "super_glue_wsc",
  description: "WSC: which noun does the marked pronoun refer to?",
  inputs: "wsc: {marked_text}",
  targets: {
    kind: "template",
    template: "{span1_text}",
    label: { field: "label", map: BOOL, classes: ["False", "True"] },
  },
  metrics: ["accuracy"],
  dir: "WSC",
  files: SPLITS,
  prepare: "wsc_simple",
};

/**
 * The SuperGLUE tasks above, in T5's order.
 *
 * @example
 * ```ts
 * import { SUPER_GLUE_TASKS } from "./superglue.ts";
 * import assert from "node:assert/strict";
 * assert(SUPER_GLUE_TASKS.length === 8);
 * ```
 */
export const SUPER_GLUE_TASKS: readonly Task[] = [
  SUPER_GLUE_BOOLQ,
  SUPER_GLUE_CB,
  SUPER_GLUE_COPA,
  SUPER_GLUE_MULTIRC,
  SUPER_GLUE_RECORD,
  SUPER_GLUE_RTE,
  SUPER_GLUE_WIC,
  SUPER_GLUE_WSC,
];
