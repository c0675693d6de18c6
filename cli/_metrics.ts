/**
 * A task's metrics over predicted texts: the glue between the task definitions (`data/`) and the
 * metric functions (`eval/metrics.ts`).
 *
 * @module
 */
import type { Example, MetricName, Task } from "../data/mod.ts";
import {
  accuracy,
  f1Binary,
  f1Macro,
  groupExactMatch,
  matthews,
  pearson,
  spearman,
  squadExactMatch,
  squadTokenF1,
} from "../eval/mod.ts";

/** A generated score as T5's `string_to_float` reads it: -1 when it is not a number. */
function toNumber(text: string): number {
  const n = Number(text.trim());
  return text.trim() !== "" && Number.isFinite(n) ? n : -1;
}

function metric(
  name: MetricName,
  task: Task,
  predictions: readonly string[],
  examples: readonly Example[],
): number {
  const targets = examples.map((e) => e.targets);
  const words = task.labelWords;
  switch (name) {
    case "accuracy":
      return accuracy(predictions, targets);
    case "f1": {
      const positive = task.positive ?? words?.[1] ?? "";
      const negative = words?.length === 2 ? words.find((w) => w !== positive) : undefined;
      return f1Binary(predictions, targets, {
        positive,
        ...(negative === undefined ? {} : { negative }),
      });
    }
    case "macro_f1":
      return f1Macro(predictions, targets, words);
    case "matthews":
      return matthews(predictions, targets);
    case "pearson":
    case "spearman": {
      const x = predictions.map(toNumber);
      const y = examples.map((e) => e.label ?? toNumber(e.targets));
      return name === "pearson" ? pearson(x, y) : spearman(x, y);
    }
    case "exact_match":
    case "token_f1": {
      const answers = examples.map((e) => e.meta.answers ?? [e.targets]);
      return name === "exact_match"
        ? squadExactMatch(predictions, answers)
        : squadTokenF1(predictions, answers);
    }
    case "group_exact_match":
      return groupExactMatch(
        predictions,
        targets,
        examples.map((e, i) => e.meta.group ?? String(i)),
      );
  }
}

/**
 * The task's metrics, in its order (the headline first), of predicted texts against the examples'
 * targets.
 *
 * @param task the task (its metrics, label words and positive word)
 * @param predictions one predicted text per example
 * @param examples the labelled examples
 * @returns metric name → value
 * @example
 * ```ts
 * import { getTask } from "../data/mod.ts";
 * import { orThrow } from "../problem.ts";
 * import { taskMetrics } from "./_metrics.ts";
 * import assert from "node:assert/strict";
 * const sst2 = orThrow(getTask("glue_sst2"));
 * const ex = (targets: string) => ({ inputs: "x", targets, meta: { location: "a:1", index: 0 } });
 * const m = taskMetrics(sst2, ["positive", "negative"], [ex("positive"), ex("positive")]);
 * assert(m.accuracy === 0.5);
 * ```
 */
export function taskMetrics(
  task: Task,
  predictions: readonly string[],
  examples: readonly Example[],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of task.metrics) out[name] = metric(name, task, predictions, examples);
  return out;
}
