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
 * {@link loadSplit} loads a split's examples, reporting skipped bad records on stderr.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import type { CustomTaskConfig, TaskConfig } from "../config/mod.ts";
import {
  type Example,
  getTask,
  type LoadedSplit,
  loadSpamAssassin,
  loadTaskSplit,
  SPAM_ASSASSIN,
  type SplitFile,
  type Task,
  taskNames,
} from "../data/mod.ts";
import { taskless } from "../data/tasks.ts";
import { type Problem, problem } from "../problem.ts";
import { orFail } from "./args.ts";

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
 * import { type TaskData, taskFromConfig } from "./_task.ts";
 * import assert from "node:assert/strict";
 * const r = taskFromConfig({ kind: "builtin", name: "glue/rte", data_dir: "tests/data/glue", taskless: false });
 * if (r._tag === "Left") throw new Error(r.left.message);
 * const data: TaskData = r.right;
 * assert.deepEqual([data.task.name, data.dir], ["glue_rte", "tests/data/glue"]);
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

/**
 * Loads a split of the task. Bad records fail the run or, with `on_bad_record: "skip"`, are
 * counted in a warning on stderr naming the first one's `file:line`.
 *
 * @param data the task and its directory
 * @param split the split
 * @param onBadRecord what a bad record does
 * @returns the examples; throws {@link Failure}
 * @example
 * ```ts
 * import { loadSplit, taskFromConfig } from "./_task.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const data = orThrow(taskFromConfig({ kind: "builtin", name: "glue/sst2", data_dir: "tests/fixtures/cli/sst2", taskless: false }));
 * const dev = await loadSplit(data, "validation", "fail");
 * assert(dev.length === 4);
 * ```
 */
export async function loadSplit(
  data: TaskData,
  split: string,
  onBadRecord: "skip" | "fail",
): Promise<readonly Example[]> {
  const loaded = orFail(
    data.load === undefined
      ? await loadTaskSplit(data.task, data.dir, split, { onBadRecord })
      : await data.load(split),
  );
  if (loaded.skipped > 0) {
    const first = loaded.problems[0];
    console.error(
      `Warning: skipped ${loaded.skipped} bad record(s) of ${loaded.file}${
        first === undefined ? "" : `; first: ${first.where}: ${first.message}`
      }`,
    );
  }
  return loaded.examples;
}
