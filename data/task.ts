/**
 * What a task is: how a record of a data file becomes an example (inputs text, targets text, a
 * class), which words the classes have, which metrics judge it, and where its files are.
 *
 * A task is plain data (JSON-serialisable), so a config file can define one; the record
 * expansions some SuperGLUE tasks need (WSC's span marking, MultiRC's and ReCoRD's nested
 * records) are named by {@link PrepareName}.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { type Problem, problem } from "../problem.ts";
import { type LabelMap, labelMapFrom } from "./labels.ts";
import type { CsvQuoting, DataFormat } from "./read.ts";
import { compileTemplate } from "./template.ts";

/**
 * The metrics a task can name; `eval/metrics.ts` computes them. `f1` is binary F1 with the
 * task's `positive` word; `group_exact_match` is the fraction of groups (MultiRC questions)
 * whose examples are all right; `exact_match` and `token_f1` are SQuAD-style, best over answers.
 *
 * @example
 * ```ts
 * import { METRIC_NAMES, type MetricName } from "./task.ts";
 * import assert from "node:assert/strict";
 * const m: MetricName = "matthews";
 * assert(METRIC_NAMES.includes(m));
 * ```
 */
export type MetricName =
  | "accuracy"
  | "f1"
  | "macro_f1"
  | "matthews"
  | "pearson"
  | "spearman"
  | "exact_match"
  | "token_f1"
  | "group_exact_match";

/**
 * Every {@link MetricName}.
 *
 * @example
 * ```ts
 * import { METRIC_NAMES } from "./task.ts";
 * import assert from "node:assert/strict";
 * assert(METRIC_NAMES.length === 9);
 * ```
 */
export const METRIC_NAMES: readonly MetricName[] = [
  "accuracy",
  "f1",
  "macro_f1",
  "matthews",
  "pearson",
  "spearman",
  "exact_match",
  "token_f1",
  "group_exact_match",
];

/**
 * The built-in record expansions, applied before the templates:
 * - `wsc_simple`: SuperGLUE WSC as T5's `wsc_simple` — fixes spans like TFDS `wsc.fixed`, marks
 *   the pronoun (`*he*`) in field `marked_text`; in the `train` split keeps only examples whose
 *   referent is correct (`label` true).
 * - `multirc`: one record per answer of each question of a passage, fields `paragraph`,
 *   `question`, `answer`, `label`, with `<br>` and `<b>` markup removed; grouped by question.
 * - `record`: one record per query of a passage, fields `passage` (`@highlight` lines joined),
 *   `query`, `entities` (unique, sorted, joined by ", "), `answers` (unique, sorted).
 *
 * @example
 * ```ts
 * import { PREPARE_NAMES, type PrepareName } from "./task.ts";
 * import assert from "node:assert/strict";
 * const p: PrepareName = "multirc";
 * assert(PREPARE_NAMES.includes(p));
 * ```
 */
export type PrepareName = "wsc_simple" | "multirc" | "record";

/**
 * Every {@link PrepareName}.
 *
 * @example
 * ```ts
 * import { PREPARE_NAMES } from "./task.ts";
 * import assert from "node:assert/strict";
 * assert(PREPARE_NAMES.join() === "wsc_simple,multirc,record");
 * ```
 */
export const PREPARE_NAMES: readonly PrepareName[] = ["wsc_simple", "multirc", "record"];

/**
 * Where one split of a task lives and how to read it.
 *
 * @example
 * ```ts
 * import type { SplitFile } from "./task.ts";
 * import assert from "node:assert/strict";
 * const colaTrain: SplitFile = {
 *   file: "train.tsv",
 *   format: "tsv",
 *   header: false,
 *   columns: ["source", "label", "original_label", "sentence"],
 * };
 * assert(colaTrain.format === "tsv");
 * ```
 */
export interface SplitFile {
  /** The file, relative to the task's folder. */
  readonly file: string;
  /** Its format. */
  readonly format: DataFormat;
  /** CSV/TSV: whether the first row names the columns (default `true`). */
  readonly header?: boolean;
  /** CSV/TSV: column names (required without a header; with one they replace its names). */
  readonly columns?: readonly string[];
  /** CSV/TSV: quoting (default `"rfc4180"` for CSV, `"none"` for TSV). */
  readonly quoting?: CsvQuoting;
  /** Renames fields after reading: `{ "#1 String": "sentence1" }`. */
  readonly rename?: Readonly<Record<string, string>>;
  /** Whether records carry labels (default `true`; test splits usually do not). */
  readonly labelled?: boolean;
}

/**
 * How the targets text (and the class) come from a record:
 * - `label`: a label map from `field`'s value to one of the task's `labelWords`; the example's
 *   `label` is the word's index.
 * - `template`: the targets are a template's text (WSC: the referent); optionally a class too,
 *   from `label.field` through `label.map`, indexed in `label.classes`.
 * - `score`: a number (STS-B), written rounded to a multiple of `step` with `digits` decimals the
 *   way T5 does (float32, ties to even: `2.5` → `"2.4"`); the example's `label` is the number.
 * - `answers`: a list of answers (ReCoRD): one example per answer, all answers in `meta.answers`.
 *
 * A label value `-1` (or a missing one in an unlabelled split) marks an unlabelled example,
 * as in T5 and Hugging Face datasets' test splits, unless the map has a `"-1"` entry.
 *
 * @example
 * ```ts
 * import type { TargetSpec } from "./task.ts";
 * import assert from "node:assert/strict";
 * const t: TargetSpec = { kind: "label", field: "label", map: { "0": "negative", "1": "positive" } };
 * assert(t.kind === "label");
 * ```
 */
export type TargetSpec =
  | { readonly kind: "label"; readonly field: string; readonly map: LabelMap }
  | {
    readonly kind: "template";
    readonly template: string;
    readonly label?: {
      readonly field: string;
      readonly map: LabelMap;
      readonly classes: readonly string[];
    };
  }
  | {
    readonly kind: "score";
    readonly field: string;
    readonly step: number;
    readonly digits: number;
  }
  | { readonly kind: "answers"; readonly field: string };

/**
 * A task: records → (inputs, targets) examples, the label words, metrics and file layout.
 *
 * @example
 * ```ts
 * import { checkTask, type Task } from "./task.ts";
 * import assert from "node:assert/strict";
 * const task: Task = {
 *   name: "my_sentiment",
 *   inputs: "review: {text}",
 *   targets: { kind: "label", field: "stars", map: { "1": "bad", "5": "good" } },
 *   labelWords: ["bad", "good"],
 *   metrics: ["accuracy"],
 *   files: { train: { file: "train.jsonl", format: "jsonl" } },
 * };
 * assert(checkTask(task).length === 0);
 * ```
 */
export interface Task {
  /** The task's name (`glue_sst2`). */
  readonly name: string;
  /** One line saying what it is. */
  readonly description?: string;
  /** The inputs template (`"sst2 sentence: {sentence}"`). */
  readonly inputs: string;
  /** How the targets come from a record. */
  readonly targets: TargetSpec;
  /** The classes' words, in class order (for rank classification); required for `label` targets. */
  readonly labelWords?: readonly string[];
  /** The positive class's word, for binary `f1`. */
  readonly positive?: string;
  /** The metrics that judge it, headline first. */
  readonly metrics: readonly MetricName[];
  /** The task's folder under a benchmark's root (`SST-2`). */
  readonly dir?: string;
  /** Split name (`train`, `validation`, `test`) → file. */
  readonly files: Readonly<Record<string, SplitFile>>;
  /** A built-in record expansion applied before the templates. */
  readonly prepare?: PrepareName;
  /** Drop the first word of the inputs (the original's `taskless_` tasks). */
  readonly taskless?: boolean;
}

/**
 * One example: the texts a text-to-text model sees, the class, and where it came from.
 *
 * @example
 * ```ts
 * import type { Example } from "./task.ts";
 * import assert from "node:assert/strict";
 * const ex: Example = {
 *   inputs: "sst2 sentence: a fine film",
 *   targets: "positive",
 *   label: 1,
 *   meta: { location: "train.tsv:2", index: 0 },
 * };
 * assert(ex.label === 1);
 * ```
 */
export interface Example {
  /** The inputs text. */
  readonly inputs: string;
  /** The targets text; `""` for an unlabelled example. */
  readonly targets: string;
  /**
   * The class index into `labelWords` (or `targets.label.classes`), or the number for `score`
   * targets; absent for unlabelled examples and answer targets.
   */
  readonly label?: number;
  /** Where it came from, and what evaluation needs beyond the targets. */
  readonly meta: ExampleMeta;
}

/**
 * Where an example came from, and what evaluation needs beyond its targets.
 *
 * @example
 * ```ts
 * import type { ExampleMeta } from "./task.ts";
 * import assert from "node:assert/strict";
 * const m: ExampleMeta = { location: "val.jsonl:3", index: 2, group: "0/1", answers: ["Paris"] };
 * assert(m.answers?.[0] === "Paris");
 * ```
 */
export interface ExampleMeta {
  /** `file:line` (or `file:row N`) of the record it came from. */
  readonly location: string;
  /** The record's position among the split's records, 0-based (TFDS's `idx` for GLUE). */
  readonly index: number;
  /** Examples judged together: a MultiRC question (`paragraph/question`), a ReCoRD query. */
  readonly group?: string;
  /** ReCoRD: every correct answer. */
  readonly answers?: readonly string[];
  /** ReCoRD: the candidate entities. */
  readonly candidates?: readonly string[];
}

/**
 * Checks a task definition and reports **every** problem found: templates that do not parse,
 * label maps whose words are not among `labelWords`, unknown metrics or expansions, `f1` without
 * a `positive` word, splits without a file.
 *
 * @param task the task to check
 * @returns the problems, empty when the task is sound
 * @example
 * ```ts
 * import { checkTask } from "./task.ts";
 * import assert from "node:assert/strict";
 * const problems = checkTask({
 *   name: "t",
 *   inputs: "{x",
 *   targets: { kind: "label", field: "y", map: { "0": "no" } },
 *   labelWords: ["yes"],
 *   metrics: ["accuracy"],
 *   files: {},
 * });
 * assert(problems.length === 3);
 * ```
 */
export function checkTask(task: Task): Problem[] {
  const out: Problem[] = [];
  const at = (field: string) => `task ${task.name || "?"}: ${field}`;
  const bad = (field: string, m: string) => out.push(problem("Invalid", at(field), m));
  if (typeof task.name !== "string" || task.name === "") bad("name", "Name must be non-empty text");
  const inputs = compileTemplate(task.inputs, at("inputs"));
  if (E.isLeft(inputs)) out.push(inputs.left);
  const words = task.labelWords;
  if (words !== undefined) {
    if (words.length === 0) bad("labelWords", "labelWords is empty");
    const dup = words.find((w, i) => words.indexOf(w) !== i);
    if (dup !== undefined) bad("labelWords", `Label word "${dup}" appears twice`);
    if (words.some((w) => w === "")) bad("labelWords", "A label word is empty");
  }
  const checkMap = (field: string, map: LabelMap, classes: readonly string[] | undefined) => {
    const m = labelMapFrom(map, at(field));
    if (E.isLeft(m)) return void out.push(m.left);
    if (classes === undefined) return;
    for (const [k, v] of Object.entries(map)) {
      if (!classes.includes(v)) {
        bad(
          field,
          `Label ${JSON.stringify(k)} maps to "${v}", which is not among the classes ${
            classes.join(", ")
          }`,
        );
      }
    }
  };
  const t = task.targets;
  switch (t.kind) {
    case "label":
      if (words === undefined) bad("labelWords", "Label targets need labelWords");
      checkMap("targets.map", t.map, words);
      break;
    case "template": {
      const r = compileTemplate(t.template, at("targets.template"));
      if (E.isLeft(r)) out.push(r.left);
      if (t.label !== undefined) checkMap("targets.label.map", t.label.map, t.label.classes);
      break;
    }
    case "score":
      if (!(t.step > 0 && Number.isFinite(t.step))) {
        bad("targets.step", `Step must be a positive number, got ${t.step}`);
      }
      if (!(Number.isInteger(t.digits) && t.digits >= 0 && t.digits <= 20)) {
        bad("targets.digits", `Digits must be an integer from 0 to 20, got ${t.digits}`);
      }
      break;
    case "answers":
      if (typeof t.field !== "string" || t.field === "") {
        bad("targets.field", "Field must be non-empty text");
      }
      break;
    default:
      bad(
        "targets.kind",
        `Unknown targets kind ${
          JSON.stringify((t as { kind: unknown }).kind)
        }; expected label, template, score or answers`,
      );
  }
  if (task.metrics.length === 0) bad("metrics", "A task needs at least one metric");
  for (const m of task.metrics) {
    if (!METRIC_NAMES.includes(m)) {
      bad("metrics", `Unknown metric "${m}"; expected one of ${METRIC_NAMES.join(", ")}`);
    }
  }
  if (task.metrics.includes("f1")) {
    if (task.positive === undefined) bad("positive", "Metric f1 needs the positive class's word");
    else if (words !== undefined && !words.includes(task.positive)) {
      bad(
        "positive",
        `Positive word "${task.positive}" is not among labelWords ${words.join(", ")}`,
      );
    }
  }
  if (task.prepare !== undefined && !PREPARE_NAMES.includes(task.prepare)) {
    bad(
      "prepare",
      `Unknown expansion "${task.prepare}"; expected one of ${PREPARE_NAMES.join(", ")}`,
    );
  }
  if (Object.keys(task.files).length === 0) bad("files", "A task needs at least one split");
  for (const [split, f] of Object.entries(task.files)) {
    if (typeof f.file !== "string" || f.file === "") {
      bad(`files.${split}.file`, "File must be non-empty text");
    }
    if (!["jsonl", "csv", "tsv", "parquet"].includes(f.format)) {
      bad(
        `files.${split}.format`,
        `Unknown format "${f.format}"; expected jsonl, csv, tsv or parquet`,
      );
    }
  }
  return out;
}
