/**
 * Loading one split of a task as examples: read the split's file, expand records where the task
 * says so, fill the templates, map the labels. A bad record (a missing field, an unknown label,
 * a malformed line) is reported with its `file:line` and either skipped and counted or fails the
 * load, as the caller chooses; it is never dropped silently.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { join } from "node:path";
import { exists } from "../io/files.ts";
import { type Problem, problem } from "../problem.ts";
import { prepareRecord } from "./_prepare.ts";
import { labelKey, type LabelMap } from "./labels.ts";
import { scanRecords } from "./read.ts";
import type { Example, SplitFile, Task } from "./task.ts";
import { checkTask } from "./task.ts";
import {
  compileTemplate,
  fieldText,
  fillTemplate,
  removeFirstTextToken,
  type Template,
} from "./template.ts";

/**
 * Options for {@link loadTaskSplit}.
 *
 * @example
 * ```ts
 * import type { LoadOptions } from "./load.ts";
 * import assert from "node:assert/strict";
 * const lenient: LoadOptions = { onBadRecord: "skip", limit: 100 };
 * assert(lenient.onBadRecord === "skip");
 * ```
 */
export interface LoadOptions {
  /** What a bad record does: `"fail"` (the default) stops the load; `"skip"` counts it and goes on. */
  readonly onBadRecord?: "skip" | "fail";
  /** Read at most this many records of the file. */
  readonly limit?: number;
  /** The largest file accepted, in bytes (see `readRecords`). */
  readonly maxBytes?: number;
  /** Read this file layout instead of the task's own for the split (a Parquet export, say). */
  readonly file?: SplitFile;
  /** How many skipped records' problems to keep in the result (default 100; all are counted). */
  readonly keepProblems?: number;
}

/**
 * One loaded split.
 *
 * @example
 * ```ts
 * import type { LoadedSplit } from "./load.ts";
 * import assert from "node:assert/strict";
 * const s: LoadedSplit = { file: "dev.tsv", examples: [], records: 0, skipped: 0, problems: [], filtered: 0, unlabelled: 0 };
 * assert(s.skipped === 0);
 * ```
 */
export interface LoadedSplit {
  /** The file read. */
  readonly file: string;
  /** The examples, in file order. */
  readonly examples: readonly Example[];
  /** Records read from the file (malformed lines included). */
  readonly records: number;
  /** Bad records skipped (with `onBadRecord: "skip"`). */
  readonly skipped: number;
  /** The first skipped records' problems, each naming `file:line`. */
  readonly problems: readonly Problem[];
  /** Records left out on purpose (WSC's training split keeps correct referents only). */
  readonly filtered: number;
  /** Examples without a label (`-1` labels, unlabelled splits). */
  readonly unlabelled: number;
}

/**
 * The file of a task's split under `dir`: `dir/<task.dir>/<file>`, or `dir/<file>` when `dir` is
 * the task's own folder.
 *
 * @param task the task
 * @param dir the benchmark's root (`data/glue`) or the task's folder (`data/glue/SST-2`)
 * @param spec the split's file layout
 * @returns the path to read
 * @example
 * ```ts
 * import { splitPath } from "./load.ts";
 * import { getTask } from "./tasks.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const sst2 = orThrow(getTask("glue_sst2"));
 * const p = await splitPath(sst2, "/nowhere/glue", sst2.files.train);
 * assert(p === "/nowhere/glue/SST-2/train.tsv");
 * ```
 */
export async function splitPath(task: Task, dir: string, spec: SplitFile): Promise<string> {
  const nested = join(dir, task.dir ?? "", spec.file);
  if (task.dir === undefined || await exists(nested)) return nested;
  const flat = join(dir, spec.file);
  return await exists(flat) ? flat : nested;
}

/** Rounds half to even, as `tf.round` does. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Writes a score as T5's `stsb` preprocessor does: `tf.round(x * 5) / 5` in float32 (ties to
 * even), printed with `digits` decimals; with `step` 0.2 that is `round(x * 5) / 5`.
 *
 * @param score the score
 * @param step the rounding step (0.2 for STS-B)
 * @param digits decimals written (1 for STS-B)
 * @returns the text
 * @example
 * ```ts
 * import { scoreText } from "./load.ts";
 * import assert from "node:assert/strict";
 * assert(scoreText(3.8, 0.2, 1) === "3.8");
 * assert(scoreText(2.5, 0.2, 1) === "2.4"); // 12.5 rounds to even 12
 * assert(scoreText(0.3, 0.2, 1) === "0.4"); // 1.5 rounds to even 2
 * ```
 */
export function scoreText(score: number, step: number, digits: number): string {
  const scale = Math.fround(1 / step);
  const k = roundHalfEven(Math.fround(Math.fround(score) * scale));
  return Math.fround(k / scale).toFixed(digits);
}

function numberValue(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function knownLabels(map: LabelMap): string {
  return Object.keys(map).map((k) => JSON.stringify(k)).join(", ");
}

type Targets = { targets: string; label?: number } | "unlabelled" | { bad: string };

/** Maps a label value; `-1` (or absence in an unlabelled split) is no label. */
function classify(
  fields: Readonly<Record<string, unknown>>,
  field: string,
  map: LabelMap,
  classes: readonly string[],
): Targets {
  const raw = Object.hasOwn(fields, field) ? fields[field] : undefined;
  const key = labelKey(raw);
  if (key === undefined) {
    return {
      bad: `Label field "${field}" is ${raw === undefined ? "missing" : "not a label value"}`,
    };
  }
  if (Object.hasOwn(map, key)) return { targets: map[key], label: classes.indexOf(map[key]) };
  if (key === "-1") return "unlabelled";
  return {
    bad: `Unknown label ${JSON.stringify(key)} in field "${field}"; expected one of ${
      knownLabels(map)
    }`,
  };
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Loads one split of a task as examples.
 *
 * @param task the task (built-in from `getTask`, or defined in a config)
 * @param dir the benchmark's root (e.g. `glue_data/`, holding `SST-2/`, `RTE/` …) or the task's own folder
 * @param split the split name (`train`, `validation`, `test`; MNLI: `validation_matched`, …)
 * @param options what bad records do, a record limit, another file layout
 * @returns the examples and counts, or a problem: the task is unsound, the split is unknown,
 * the file is missing or unreadable, or (with `onBadRecord: "fail"`) the first bad record, named
 * by `file:line`
 * @example
 * ```ts
 * import { loadTaskSplit } from "./load.ts";
 * import type { Task } from "./task.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/train.jsonl`, '{"text": "great", "y": 1}\n{"text": "meh", "y": 7}\n');
 * const task: Task = {
 *   name: "toy",
 *   inputs: "review: {text}",
 *   targets: { kind: "label", field: "y", map: { "0": "bad", "1": "good" } },
 *   labelWords: ["bad", "good"],
 *   metrics: ["accuracy"],
 *   files: { train: { file: "train.jsonl", format: "jsonl" } },
 * };
 * const strict = await loadTaskSplit(task, dir, "train");
 * assert(strict._tag === "Left" && strict.left.where.endsWith("train.jsonl:2"));
 * const lenient = await loadTaskSplit(task, dir, "train", { onBadRecord: "skip" });
 * assert(lenient._tag === "Right" && lenient.right.examples.length === 1 && lenient.right.skipped === 1);
 * assert(lenient._tag === "Right" && lenient.right.examples[0].targets === "good");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function loadTaskSplit(
  task: Task,
  dir: string,
  split: string,
  options: LoadOptions = {},
): Promise<E.Either<Problem, LoadedSplit>> {
  const unsound = checkTask(task);
  if (unsound.length > 0) return E.left(unsound[0]);
  const spec = options.file ?? (Object.hasOwn(task.files, split) ? task.files[split] : undefined);
  if (spec === undefined) {
    return E.left(
      problem(
        "Invalid",
        `task ${task.name}`,
        `No split "${split}"; the task has ${Object.keys(task.files).join(", ")}`,
      ),
    );
  }
  const path = await splitPath(task, dir, spec);
  const inputs = compileTemplate(task.inputs, `task ${task.name}: inputs`) as E.Right<Template>;
  const t = task.targets;
  const targetTemplate = t.kind === "template"
    ? (compileTemplate(t.template, `task ${task.name}: targets`) as E.Right<Template>).right
    : undefined;
  const labelled = spec.labelled ?? true;
  const failFast = (options.onBadRecord ?? "fail") === "fail";
  const keep = options.keepProblems ?? 100;
  const examples: Example[] = [];
  const problems: Problem[] = [];
  let records = 0;
  let skipped = 0;
  let filtered = 0;
  let unlabelled = 0;
  let checkedColumns = false;
  const badRecord = (p: Problem): Problem | undefined => {
    if (failFast) return p;
    skipped++;
    if (problems.length < keep) problems.push(p);
    return undefined;
  };
  const rename = spec.rename;

  const onRecord = (
    location: string,
    source: Readonly<Record<string, unknown>>,
  ): Problem | undefined => {
    const index = records++;
    const fields = rename === undefined ? source : Object.fromEntries(
      Object.entries(source).map(([k, v]) => [Object.hasOwn(rename, k) ? rename[k] : k, v]),
    );
    const prepared = task.prepare === undefined
      ? { ok: true as const, records: [{ fields }], filtered: 0 }
      : prepareRecord(task.prepare, fields, split);
    if (!prepared.ok) return badRecord(problem("Invalid", location, prepared.message));
    filtered += prepared.filtered;
    const made: Example[] = [];
    let newUnlabelled = 0; // counted only if the whole record is good
    for (const p of prepared.records) {
      const f = p.fields;
      // Files with one schema for all rows: a template naming a field no row has is the task's
      // fault, not the record's, so it fails the load whatever onBadRecord says.
      if (!checkedColumns && task.prepare === undefined && spec.format !== "jsonl") {
        checkedColumns = true;
        const needed = [...inputs.right.fields, ...(targetTemplate?.fields ?? [])];
        const missing = needed.find((n) => !Object.hasOwn(f, n));
        if (missing !== undefined) {
          return problem(
            "Invalid",
            location,
            `Task ${task.name} names field "${missing}", which this file lacks; available fields: ${
              Object.keys(f).join(", ")
            }`,
          );
        }
      }
      const x = fillTemplate(inputs.right, f, location);
      if (E.isLeft(x)) return badRecord(x.left);
      const text = task.taskless ? removeFirstTextToken(x.right) : x.right;
      const meta = {
        location,
        index,
        ...(p.group === undefined ? {} : { group: p.group }),
        ...(p.candidates === undefined ? {} : { candidates: p.candidates }),
      };
      let y: Targets;
      switch (t.kind) {
        case "label":
          y = labelled ? classify(f, t.field, t.map, task.labelWords ?? []) : "unlabelled";
          break;
        case "template": {
          const filled = fillTemplate(targetTemplate!, f, location);
          if (E.isLeft(filled)) return badRecord(filled.left);
          if (t.label === undefined) {
            y = { targets: filled.right };
            break;
          }
          // The targets text is known even where the class is not (WSC's test split).
          const c = labelled
            ? classify(f, t.label.field, t.label.map, t.label.classes)
            : "unlabelled";
          if (c === "unlabelled") {
            newUnlabelled++;
            y = { targets: filled.right };
          } else y = "bad" in c ? c : { targets: filled.right, label: c.label };
          break;
        }
        case "score": {
          if (!labelled) {
            y = "unlabelled";
            break;
          }
          const raw = Object.hasOwn(f, t.field) ? f[t.field] : undefined;
          const n = numberValue(raw);
          if (n === undefined) {
            y = {
              bad: `Score field "${t.field}" is ${
                raw === undefined
                  ? "missing"
                  : `${JSON.stringify(fieldText(raw) ?? raw)}, not a number`
              }`,
            };
          } else {y = n === -1
              ? "unlabelled"
              : { targets: scoreText(n, t.step, t.digits), label: n };}
          break;
        }
        case "answers": {
          const raw = Object.hasOwn(f, t.field) ? f[t.field] : undefined;
          if (!labelled || raw === undefined) {
            y = "unlabelled";
            break;
          }
          if (!Array.isArray(raw) || raw.some((a) => typeof a !== "string")) {
            y = { bad: `Answers field "${t.field}" is not a list of text` };
            break;
          }
          if (raw.length === 0) {
            y = "unlabelled";
            break;
          }
          // One example per answer, as T5's `record` preprocessor makes them.
          for (const a of raw as string[]) {
            made.push({ inputs: text, targets: a, meta: { ...meta, answers: raw as string[] } });
          }
          continue;
        }
      }
      if (y === "unlabelled") {
        newUnlabelled++;
        made.push({ inputs: text, targets: "", meta });
      } else if ("bad" in y) return badRecord(problem("Invalid", location, y.bad));
      else {made.push({
          inputs: text,
          targets: y.targets,
          ...(y.label === undefined ? {} : { label: y.label }),
          meta,
        });}
    }
    examples.push(...made);
    unlabelled += newUnlabelled;
    return undefined;
  };

  const scanned = await scanRecords(
    path,
    {
      format: spec.format,
      ...(spec.format === "csv" || spec.format === "tsv"
        ? {
          header: spec.header ?? true,
          ...(spec.columns === undefined ? {} : { columns: spec.columns }),
          ...(spec.quoting === undefined ? {} : { quoting: spec.quoting }),
        }
        : {}),
      ...(options.limit === undefined ? {} : { limit: options.limit }),
      ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
    },
    {
      record: (r) => onRecord(r.location, r.fields),
      badLine: (p) => {
        records++;
        return badRecord(p);
      },
    },
  );
  if (E.isLeft(scanned)) return scanned;
  return E.right({ file: path, examples, records, skipped, problems, filtered, unlabelled });
}
