/**
 * From the configuration's `task` to a data task and the directory its files are in.
 *
 * The configuration names built-in tasks as `glue/sst2` or `super_glue/boolq` (its presets and
 * documentation) and the data module as `glue_sst2`; both spellings are accepted, with the
 * `taskless_` prefix or `taskless: true` for the original's taskless variants.
 *
 * `spam_assassin`, the default task, needs no `data_dir`: its examples come straight from the
 * installed npm package (`data/spam.ts`); with a `data_dir`, from the JSON-lines splits that
 * `writeSpamAssassinSplits` writes there.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import type { CustomTaskConfig, TaskConfig } from "../config/mod.ts";
import {
  getTask,
  type LoadedSplit,
  loadSpamAssassin,
  SPAM_ASSASSIN,
  type SplitFile,
  type Task,
  taskNames,
} from "../data/mod.ts";
import { taskless } from "../data/tasks.ts";
import { type Problem, problem } from "../problem.ts";

/** `glue_sst2` → `glue/sst2`, `super_glue_boolq` → `super_glue/boolq` (else undefined). */
function slashName(name: string): string | undefined {
  const prefix = name.startsWith("taskless_") ? "taskless_" : "";
  const rest = name.slice(prefix.length);
  for (const benchmark of ["super_glue", "glue"]) {
    if (rest.startsWith(`${benchmark}_`)) {
      return `${prefix}${benchmark}/${rest.slice(benchmark.length + 1)}`;
    }
  }
  return undefined;
}

/**
 * Every built-in task name the command line accepts: the data module's (`glue_sst2`,
 * `taskless_glue_sst2`) and the configuration's spelling (`glue/sst2`).
 *
 * @returns the names
 * @example
 * ```ts
 * import { knownTaskNames } from "./_task.ts";
 * import assert from "node:assert/strict";
 * const names = knownTaskNames();
 * assert(names.includes("glue/sst2") && names.includes("glue_sst2"));
 * ```
 */
export function knownTaskNames(): string[] {
  const names = taskNames();
  return [...names, ...names.flatMap((n) => slashName(n) ?? []), SPAM_ASSASSIN.name];
}

/**
 * A task and the directory its split files are read from.
 *
 * @example
 * ```ts
 * import type { TaskData } from "./_task.ts";
 * import assert from "node:assert/strict";
 * const f = (t: TaskData) => t.task.name;
 * assert(typeof f === "function");
 * ```
 */
export interface TaskData {
  /** The task. */
  readonly task: Task;
  /** The benchmark's root or the task's own folder (`""` for a custom task's paths as given). */
  readonly dir: string;
  /** Loads a split without files (the spam task's package); absent: `loadTaskSplit` reads `dir`. */
  readonly load?: (split: string) => Promise<E.Either<Problem, LoadedSplit>>;
}

function customTask(c: CustomTaskConfig): Task {
  const files: Record<string, SplitFile> = {};
  for (const [split, file] of Object.entries(c.files)) {
    const tabular = c.format === "csv" || c.format === "tsv";
    files[split] = {
      file,
      format: c.format,
      ...(tabular ? { header: c.header } : {}),
      ...(tabular && c.columns !== null ? { columns: c.columns } : {}),
    };
  }
  const words = c.label_words ?? undefined;
  return {
    name: c.name,
    inputs: c.inputs,
    targets: c.label_map !== null
      ? { kind: "label", field: c.label_field, map: c.label_map }
      : { kind: "template", template: c.targets ?? "" },
    ...(words === undefined ? {} : { labelWords: words }),
    // Binary F1 counts the second label word as the positive class (class 1, as in GLUE).
    ...(words !== undefined && words.length === 2 ? { positive: words[1] } : {}),
    metrics: c.metric,
    files,
  };
}

/**
 * The data task a configuration names, and where its files are.
 *
 * @param config the configuration's `task`
 * @returns the task and its directory, or a problem at `task` (an unknown name, with a
 *   did-you-mean; a built-in task without `data_dir`)
 * @example
 * ```ts
 * import { taskFromConfig } from "./_task.ts";
 * import assert from "node:assert/strict";
 * const r = taskFromConfig({ kind: "builtin", name: "glue/sst2", data_dir: "data/glue", taskless: false });
 * assert(r._tag === "Right" && r.right.task.name === "glue_sst2");
 * ```
 */
export function taskFromConfig(config: TaskConfig): E.Either<Problem, TaskData> {
  if (config.kind === "custom") return E.right({ task: customTask(config), dir: "" });
  if (config.name === SPAM_ASSASSIN.name) {
    const task = config.taskless ? taskless(SPAM_ASSASSIN) : SPAM_ASSASSIN;
    if (config.data_dir !== null) return E.right({ task, dir: config.data_dir });
    // The inputs have no task word to drop, so the taskless variant reads the same examples.
    return E.right({ task, dir: "", load: (split) => loadSpamAssassin(split) });
  }
  const found = getTask(config.name.replaceAll("/", "_"));
  if (E.isLeft(found)) return found;
  if (config.data_dir === null) {
    return E.left(
      problem(
        "Invalid",
        "task.data_dir",
        `Required: the folder holding ${found.right.name}'s files${
          found.right.dir === undefined ? "" : ` (${found.right.dir}/ or its parent)`
        }; give the task as {"name": ${JSON.stringify(config.name)}, "data_dir": "DIR"}`,
      ),
    );
  }
  const task = config.taskless ? taskless(found.right) : found.right;
  return E.right({ task, dir: config.data_dir });
}
