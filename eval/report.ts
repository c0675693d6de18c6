/**
 * Evaluation results for people and programs: a JSON object, a readable table, and one JSON line
 * per example's prediction; files are written atomically (a temporary name, then a rename).
 *
 * @module
 */
import type * as E from "fp-ts/Either";
import { writeAtomic } from "../io/files.ts";
import type { Problem } from "../problem.ts";
import type { JsonObject, JsonValue } from "../config/json.ts";
import type { GeneratedExample } from "./generate.ts";
import type { RankedExample } from "./rank.ts";

/**
 * The results of one evaluation.
 *
 * @example
 * ```ts
 * import type { EvalReport } from "./report.ts";
 * import assert from "node:assert/strict";
 * const r: EvalReport = { task: "glue_sst2", split: "validation", examples: 872, metrics: { accuracy: 0.91 } };
 * assert(r.metrics.accuracy === 0.91);
 * ```
 */
export interface EvalReport {
  /** The task's name. */
  readonly task: string;
  /** The split evaluated (`validation`). */
  readonly split?: string;
  /** How many examples were scored. */
  readonly examples: number;
  /** Metric name → value (NaN when undefined, e.g. a correlation of constant predictions). */
  readonly metrics: Readonly<Record<string, number>>;
  /** What else identifies the run: model, prompt file, decoding, step. */
  readonly info?: Readonly<Record<string, string | number | boolean>>;
}

/** A number as JSON: non-finite values (NaN, ±Infinity) become null. */
const finiteOrNull = (x: number): number | null => Number.isFinite(x) ? x : null;

/**
 * A report as a JSON object (metrics that are not finite numbers become `null`).
 *
 * @param report the results
 * @returns `{ task, split?, examples, metrics, info? }`, ready for `JSON.stringify`
 * @example
 * ```ts
 * import { reportJson } from "./report.ts";
 * import assert from "node:assert/strict";
 * const json = reportJson({ task: "glue_stsb", examples: 3, metrics: { pearson: NaN, spearman: 0.5 } });
 * assert(JSON.stringify(json) === '{"task":"glue_stsb","examples":3,"metrics":{"pearson":null,"spearman":0.5}}');
 * ```
 */
export function reportJson(report: EvalReport): JsonObject {
  const metrics: Record<string, number | null> = {};
  for (const [name, value] of Object.entries(report.metrics)) metrics[name] = finiteOrNull(value);
  return {
    task: report.task,
    ...(report.split === undefined ? {} : { split: report.split }),
    examples: report.examples,
    metrics,
    ...(report.info === undefined ? {} : { info: { ...report.info } }),
  };
}

/**
 * Options of {@link reportTable}.
 *
 * @example
 * ```ts
 * import type { TableOptions } from "./report.ts";
 * import assert from "node:assert/strict";
 * const percent: TableOptions = { scale: 100, digits: 2 };
 * assert(percent.scale === 100);
 * ```
 */
export interface TableOptions {
  /** Digits after the decimal point (default 4). */
  readonly digits?: number;
  /** Multiplies metric values (default 1; 100 shows percentages, as T5's papers do). */
  readonly scale?: number;
}

/**
 * A readable table of reports: one row per report, one column per metric (in order of first
 * appearance), numbers right-aligned; a metric a report lacks shows `-`, one that is not a finite
 * number `nan`.
 *
 * @param reports the reports, one row each
 * @param options digits and scale
 * @returns the table, lines joined by `\n`, no trailing newline
 * @example
 * ```ts
 * import { reportTable } from "./report.ts";
 * import assert from "node:assert/strict";
 * const table = reportTable([
 *   { task: "glue_sst2", split: "validation", examples: 872, metrics: { accuracy: 0.9106 } },
 *   { task: "glue_mrpc", split: "validation", examples: 408, metrics: { accuracy: 0.8, f1: 0.85 } },
 * ]);
 * assert(table.split("\n")[0] === "task       split       examples  accuracy      f1");
 * assert(table.split("\n")[1].endsWith("0.9106       -"));
 * ```
 */
export function reportTable(reports: readonly EvalReport[], options: TableOptions = {}): string {
  const digits = options.digits ?? 4;
  const scale = options.scale ?? 1;
  const names: string[] = [];
  for (const r of reports) {
    for (const m of Object.keys(r.metrics)) if (!names.includes(m)) names.push(m);
  }
  const header = ["task", "split", "examples", ...names];
  const rows = reports.map((r) => [
    r.task,
    r.split ?? "",
    String(r.examples),
    ...names.map((m) => {
      if (!(m in r.metrics)) return "-";
      const v = r.metrics[m] * scale;
      return Number.isFinite(v) ? v.toFixed(digits) : "nan";
    }),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: readonly string[]) =>
    cells.map((cell, c) => c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])).join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/**
 * Prediction rows as JSON Lines: one `JSON.stringify`d row per line, each ending with `\n`.
 *
 * @param rows the rows (JSON values; non-finite numbers are written as null)
 * @returns the text
 * @example
 * ```ts
 * import { predictionsJsonl } from "./report.ts";
 * import assert from "node:assert/strict";
 * assert(predictionsJsonl([{ i: 0 }, { i: 1 }]) === '{"i":0}\n{"i":1}\n');
 * ```
 */
export function predictionsJsonl(rows: readonly JsonValue[]): string {
  return rows.map((row) => JSON.stringify(row) + "\n").join("");
}

/**
 * Prediction rows of a rank classification: the example's index, the predicted label's word,
 * each label's score, and the target label's word where known.
 *
 * @param ranked what `rankClassify` returned
 * @param labelNames the labels' words, in label order
 * @param targets the target label of each example (undefined where unlabelled)
 * @returns one JSON row per example: `{ index, prediction, scores: { word: score }, target? }`
 * @throws {RangeError} when there are not as many names as scores
 * @example
 * ```ts
 * import { rankPredictions } from "./report.ts";
 * import assert from "node:assert/strict";
 * const rows = rankPredictions([{ scores: [-2, -1], predicted: 1 }], ["negative", "positive"], [0]);
 * assert(JSON.stringify(rows[0]) === '{"index":0,"prediction":"positive","scores":{"negative":-2,"positive":-1},"target":"negative"}');
 * ```
 */
export function rankPredictions(
  ranked: readonly RankedExample[],
  labelNames: readonly string[],
  targets?: readonly (number | undefined)[],
): JsonValue[] {
  return ranked.map((r, index) => {
    if (r.scores.length !== labelNames.length) {
      throw new RangeError(
        `Rank predictions: example ${index} has ${r.scores.length} scores; expected ${labelNames.length} (one per label name)`,
      );
    }
    const scores: Record<string, number | null> = {};
    labelNames.forEach((name, k) => scores[name] = finiteOrNull(r.scores[k]));
    const target = targets?.[index];
    return {
      index,
      prediction: labelNames[r.predicted],
      scores,
      ...(target === undefined ? {} : { target: labelNames[target] ?? target }),
    };
  });
}

/**
 * Prediction rows of a generation: the example's index, the predicted and target texts, whether
 * they match, the score and the generated ids.
 *
 * @param generated what `generateAndMatch` returned
 * @returns one JSON row per example
 * @example
 * ```ts
 * import { generationPredictions } from "./report.ts";
 * import assert from "node:assert/strict";
 * const rows = generationPredictions([{ ids: [5, 1], prediction: "yes", target: "no", match: false, score: -1.5 }]);
 * assert(JSON.stringify(rows[0]) === '{"index":0,"prediction":"yes","target":"no","match":false,"score":-1.5,"ids":[5,1]}');
 * ```
 */
export function generationPredictions(generated: readonly GeneratedExample[]): JsonValue[] {
  return generated.map((g, index) => ({
    index,
    prediction: g.prediction,
    target: g.target,
    match: g.match,
    score: finiteOrNull(g.score),
    ids: [...g.ids],
  }));
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Writes reports as a JSON file (an object for one report, an array for several), atomically.
 *
 * @param path the file (`metrics.json`)
 * @param reports one report or several
 * @returns nothing, or the problem
 * @example
 * ```ts
 * import { writeReport } from "./report.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await writeReport(`${dir}/metrics.json`, { task: "t", examples: 1, metrics: { accuracy: 1 } });
 * const back = JSON.parse(await Deno.readTextFile(`${dir}/metrics.json`));
 * assert(back.metrics.accuracy === 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function writeReport(
  path: string | URL,
  reports: EvalReport | readonly EvalReport[],
): Promise<E.Either<Problem, void>> {
  const json = Array.isArray(reports)
    ? (reports as readonly EvalReport[]).map(reportJson)
    : reportJson(reports as EvalReport);
  return writeAtomic(path, JSON.stringify(json, null, 2) + "\n");
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Writes prediction rows as a JSON Lines file, atomically.
 *
 * @param path the file (`predictions.jsonl`)
 * @param rows the rows (see {@link rankPredictions}, {@link generationPredictions})
 * @returns nothing, or the problem
 * @example
 * ```ts
 * import { writePredictions } from "./report.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const r = await writePredictions(`${dir}/p.jsonl`, [{ index: 0, prediction: "yes" }]);
 * assert(r._tag === "Right");
 * assert((await Deno.readTextFile(`${dir}/p.jsonl`)).split("\n").length === 2);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function writePredictions(
  path: string | URL,
  rows: readonly JsonValue[],
): Promise<E.Either<Problem, void>> {
  return writeAtomic(path, predictionsJsonl(rows));
}
