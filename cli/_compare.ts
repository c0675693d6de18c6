/**
 * The table `train` prints at the end of the default run (and with `--compare`): on the task's
 * test split, the frozen model without a prompt (rank classification over the label words), the
 * tuned prompt, and a non-neural reference (bag-of-words logistic regression on the training
 * split), so a user can judge what prompt tuning bought. Saved as `results.json` and `results.md`.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import type { RunConfig } from "../config/mod.ts";
import type { JsonObject } from "../config/json.ts";
import type { Example, Task } from "../data/mod.ts";
import { predictBagOfWords, trainBagOfWords } from "../eval/mod.ts";
import { writeTextAtomically } from "../eval/report.ts";
import { accuracy, f1Binary } from "../eval/metrics.ts";
import { orFail } from "./_args.ts";
import { evaluatePrompt, type Frozen } from "./_run.ts";

/**
 * One row of the comparison.
 *
 * @example
 * ```ts
 * import type { ComparisonRow } from "./_compare.ts";
 * import assert from "node:assert/strict";
 * const r: ComparisonRow = { model: "frozen, no prompt", accuracy: 0.7, f1: 0, seconds: 20 };
 * assert(r.accuracy <= 1);
 * ```
 */
export interface ComparisonRow {
  /** What was evaluated. */
  readonly model: string;
  /** Accuracy on the split, in [0, 1]. */
  readonly accuracy: number;
  /** Binary F1 with the task's positive label word (null for a task without one). */
  readonly f1: number | null;
  /** Seconds its evaluation (and, for the baseline, its training) took. */
  readonly seconds: number;
}

/**
 * The comparison: the split, its size and the rows.
 *
 * @example
 * ```ts
 * import { type Comparison, comparisonMarkdown } from "./_compare.ts";
 * import assert from "node:assert/strict";
 * const c: Comparison = { task: "t", split: "test", examples: 2, rows: [] };
 * assert(comparisonMarkdown(c).includes("| model |"));
 * ```
 */
export interface Comparison {
  /** The task's name. */
  readonly task: string;
  /** The split evaluated. */
  readonly split: string;
  /** Its examples evaluated. */
  readonly examples: number;
  /** Frozen model without a prompt, prompt-tuned, bag-of-words. */
  readonly rows: readonly ComparisonRow[];
}

function pct(x: number | null): string {
  return x === null ? "—" : `${(100 * x).toFixed(1)}%`;
}

/**
 * The comparison as a markdown table (accuracy and F1 in percent).
 *
 * @param c the comparison
 * @returns the table, a title line first, ending with a newline
 * @example
 * ```ts
 * import { comparisonMarkdown } from "./_compare.ts";
 * import assert from "node:assert/strict";
 * const md = comparisonMarkdown({
 *   task: "spam_assassin", split: "test", examples: 593,
 *   rows: [{ model: "frozen, no prompt", accuracy: 0.7032, f1: 0.0638, seconds: 20 }],
 * });
 * assert(md.includes("| frozen, no prompt | 70.3% | 6.4% |"));
 * ```
 */
export function comparisonMarkdown(c: Comparison): string {
  const lines = [
    `${c.task}, ${c.split} split (${c.examples} examples):`,
    "",
    `| model | ${c.split} accuracy | ${c.split} F1 |`,
    "| --- | ---: | ---: |",
    ...c.rows.map((r) => `| ${r.model} | ${pct(r.accuracy)} | ${pct(r.f1)} |`),
  ];
  return lines.join("\n") + "\n";
}

/**
 * The comparison as JSON (what `results.json` holds).
 *
 * @param c the comparison
 * @returns a JSON object: task, split, examples, rows, and the markdown table
 * @example
 * ```ts
 * import { comparisonJson } from "./_compare.ts";
 * import assert from "node:assert/strict";
 * const j = comparisonJson({ task: "t", split: "test", examples: 0, rows: [] });
 * assert(j.split === "test" && typeof j.table === "string");
 * ```
 */
export function comparisonJson(c: Comparison): JsonObject {
  return {
    task: c.task,
    split: c.split,
    examples: c.examples,
    rows: c.rows.map((r) => ({ ...r })),
    table: comparisonMarkdown(c),
  };
}

/**
 * Evaluates the three models on labelled examples, printing a line as each finishes.
 *
 * @param frozen the model and tokenizer
 * @param prompt the tuned prompt `[P, H]` (not disposed)
 * @param task the task (label words required)
 * @param data the training examples (for the baseline) and the examples to evaluate on
 * @param config the run's configuration (evaluation settings)
 * @param label the tuned row's name, e.g. `prompt-tuned (20 tokens, 300 steps)`
 * @returns the comparison; throws `Failure`
 * @example
 * ```ts
 * import { compareOnSplit } from "./_compare.ts";
 * import assert from "node:assert/strict";
 * assert(typeof compareOnSplit === "function");
 * ```
 */
export async function compareOnSplit(
  frozen: Frozen,
  prompt: tf.Tensor,
  task: Task,
  data: {
    readonly train: readonly Example[];
    readonly split: string;
    readonly examples: readonly Example[];
  },
  config: RunConfig,
  label: string,
): Promise<Comparison> {
  const rows: ComparisonRow[] = [];
  const f1Of = (m: Record<string, number>) => (typeof m.f1 === "number" ? m.f1 : null);
  const timed = async (name: string, run: () => Promise<Record<string, number>>) => {
    const t0 = performance.now();
    const m = await run();
    const row = {
      model: name,
      accuracy: m.accuracy,
      f1: f1Of(m),
      seconds: Math.round((performance.now() - t0) / 100) / 10,
    };
    rows.push(row);
    console.log(`${data.split}: ${name}: accuracy ${pct(row.accuracy)} (${row.seconds} s)`);
  };
  const { examples } = data;
  await timed(
    "frozen model, no prompt",
    async () => (await evaluatePrompt(frozen, undefined, task, examples, config)).metrics,
  );
  await timed(
    label,
    async () => (await evaluatePrompt(frozen, prompt, task, examples, config)).metrics,
  );
  await timed("bag-of-words logistic regression", () => {
    const model = trainBagOfWords(data.train);
    const predicted = predictBagOfWords(model, examples.map((e) => e.inputs));
    const targets = examples.map((e) => e.label as number);
    const m: Record<string, number> = { accuracy: accuracy(predicted, targets) };
    if (task.positive !== undefined && task.labelWords !== undefined) {
      m.f1 = f1Binary(predicted, targets, { positive: task.labelWords.indexOf(task.positive) });
    }
    return Promise.resolve(m);
  });
  return { task: task.name, split: data.split, examples: examples.length, rows };
}

/**
 * Writes `results.json` and `results.md` under the run directory.
 *
 * @param runDir the run directory
 * @param c the comparison
 * @returns the two paths; throws `Failure`
 * @example
 * ```ts
 * import { writeComparison } from "./_compare.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const [json] = await writeComparison(dir, { task: "t", split: "test", examples: 0, rows: [] });
 * assert(JSON.parse(await Deno.readTextFile(json)).task === "t");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeComparison(runDir: string, c: Comparison): Promise<[string, string]> {
  const json = join(runDir, "results.json"), md = join(runDir, "results.md");
  orFail(await writeTextAtomically(json, JSON.stringify(comparisonJson(c), null, 2) + "\n"));
  orFail(await writeTextAtomically(md, comparisonMarkdown(c)));
  return [json, md];
}
