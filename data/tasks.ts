/**
 * The built-in tasks by name, and the original's `taskless_` variants (the task word dropped
 * from the inputs).
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { type Problem, problem } from "../problem.ts";
import { GLUE_TASKS } from "./glue.ts";
import { SUPER_GLUE_TASKS } from "./superglue.ts";
import type { Task } from "./task.ts";

/**
 * Every built-in task: GLUE then SuperGLUE.
 *
 * @example
 * ```ts
 * import { BUILTIN_TASKS } from "./tasks.ts";
 * import assert from "node:assert/strict";
 * assert(BUILTIN_TASKS.some((t) => t.name === "super_glue_boolq"));
 * ```
 */
export const BUILTIN_TASKS: readonly Task[] = [...GLUE_TASKS, ...SUPER_GLUE_TASKS];

/**
 * The taskless variant of a task, named `taskless_<name>`: its inputs lose their first word
 * (`"sst2 sentence: …"` → `"sentence: …"`), like the original's `taskless_glue_sst2_v002`.
 *
 * @param task the task
 * @returns the variant (the task itself if it is already taskless)
 * @example
 * ```ts
 * import { taskless } from "./tasks.ts";
 * import { GLUE_SST2 } from "./glue.ts";
 * import assert from "node:assert/strict";
 * const t = taskless(GLUE_SST2);
 * assert(t.name === "taskless_glue_sst2" && t.taskless === true);
 * ```
 */
export function taskless(task: Task): Task {
  return task.taskless ? task : { ...task, name: `taskless_${task.name}`, taskless: true };
}

/**
 * The names {@link getTask} accepts: every built-in task and its `taskless_` variant.
 *
 * @returns the names, built-in first
 * @example
 * ```ts
 * import { taskNames } from "./tasks.ts";
 * import assert from "node:assert/strict";
 * assert(taskNames().includes("taskless_super_glue_rte"));
 * ```
 */
export function taskNames(): string[] {
  const names = BUILTIN_TASKS.map((t) => t.name);
  return [...names, ...names.map((n) => `taskless_${n}`)];
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Looks up a built-in task by name (`glue_sst2`, `super_glue_cb`, `taskless_glue_rte`, …).
 *
 * @param name the task's name
 * @returns the task, or an `Invalid` problem with the closest names ("did you mean")
 * @example
 * ```ts
 * import { getTask } from "./tasks.ts";
 * import assert from "node:assert/strict";
 * const r = getTask("glue_sst2");
 * assert(r._tag === "Right" && r.right.labelWords?.[1] === "positive");
 * const bad = getTask("glue_sst");
 * assert(bad._tag === "Left" && bad.left.message.includes("did you mean glue_sst2"));
 * ```
 */
export function getTask(name: string): E.Either<Problem, Task> {
  const found = BUILTIN_TASKS.find((t) => t.name === name);
  if (found !== undefined) return E.right(found);
  if (name.startsWith("taskless_")) {
    const base = BUILTIN_TASKS.find((t) => t.name === name.slice("taskless_".length));
    if (base !== undefined) return E.right(taskless(base));
  }
  const lower = name.toLowerCase();
  const ranked = taskNames()
    .map((n) => ({ n, d: editDistance(lower, n) }))
    .sort((a, b) => a.d - b.d);
  const best = ranked[0].d;
  // The nearest names by edit distance, or the built-in names that end with the given one
  // ("sst2" → glue_sst2, "rte" → glue_rte, super_glue_rte).
  const near = best <= Math.max(2, Math.floor(name.length / 3))
    ? ranked.filter((r) => r.d === best)
    : BUILTIN_TASKS.filter((t) => t.name.endsWith(`_${lower}`)).map((t) => ({ n: t.name }));
  const close = near.slice(0, 3);
  const hint = close.length > 0
    ? `did you mean ${close.map((r) => r.n).join(", ")}?`
    : `known tasks: ${BUILTIN_TASKS.map((t) => t.name).join(", ")} (each also as taskless_<name>)`;
  return E.left(problem("Invalid", "task", `Unknown task "${name}"; ${hint}`));
}
