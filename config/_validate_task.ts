/**
 * Private: validation of `task`.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { isJsonObject, type JsonObject, type JsonValue } from "./json.ts";
import {
  at,
  bool,
  type Check,
  type Ctx,
  describeValue,
  has,
  list,
  map,
  newCtx,
  nullable,
  object,
  oneOf,
  optional,
  report,
  required,
  str,
} from "./_check.ts";
import {
  type BuiltinTaskConfig,
  type CustomTaskConfig,
  DATA_FORMATS,
  type TaskConfig,
} from "./schema.ts";
import { type DataFormat, METRIC_NAMES, type MetricName } from "../data/mod.ts";
import { didYouMean } from "./suggest.ts";

/** A built-in task's name: lowercase words of letters, digits, `_` or `-`, joined by `/`. */
const TASK_NAME = /^[a-z0-9][a-z0-9_-]*(\/[a-z0-9][a-z0-9_-]*)*$/;

const BUILTIN_KEYS = ["kind", "name", "data_dir", "taskless"] as const;
const CUSTOM_KEYS = [
  "kind",
  "name",
  "files",
  "format",
  "header",
  "columns",
  "inputs",
  "targets",
  "label_field",
  "label_map",
  "label_words",
  "metric",
] as const;

/** Whether `o[key]` is present and not null (an invalid value there is reported already). */
const given = (o: JsonObject, key: string): boolean => has(o, key) && o[key] !== null;

const PLACEHOLDER: BuiltinTaskConfig = {
  kind: "builtin",
  name: "",
  data_dir: null,
  taskless: false,
};

/**
 * Templates: `{field}` placeholders with a non-empty name and no brace inside; `{{`, `}}` are
 * literal braces. Only the form is checked here; the fields are checked against the data.
 */
export const template: Check<string> = (v) => {
  if (typeof v !== "string") return E.left(`Expected a template string, got ${describeValue(v)}`);
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if ((c === "{" || c === "}") && v[i + 1] === c) {
      i++;
      continue;
    }
    if (c === "}") return E.left(`Unmatched "}" at character ${i + 1}; write "}}" for a brace`);
    if (c === "{") {
      const end = v.indexOf("}", i);
      const name = end < 0 ? "" : v.slice(i + 1, end);
      if (end < 0 || name === "" || name.includes("{")) {
        return E.left(
          `Malformed placeholder at character ${i + 1}; expected {field}, or "{{" for a brace`,
        );
      }
      i = end;
    }
  }
  return E.right(v);
};

const metrics: Check<readonly MetricName[]> = (v) =>
  typeof v === "string"
    ? E.map((m: MetricName) => [m])(oneOf(METRIC_NAMES)(v))
    : list(oneOf(METRIC_NAMES))(v);

function formatOf(
  ctx: Ctx,
  o: JsonObject,
  path: string,
  files: Readonly<Record<string, string>>,
): DataFormat {
  const explicit = optional(ctx, o, path, "format", oneOf(DATA_FORMATS), undefined);
  if (explicit !== undefined) return explicit;
  const byExt = (f: string): DataFormat | undefined => {
    const ext = f.toLowerCase().match(/\.([a-z]+)$/)?.[1];
    return ext === "json" || ext === "jsonl" ? "jsonl" : DATA_FORMATS.find((d) => d === ext);
  };
  const found = new Set(Object.values(files).map(byExt));
  if (found.size === 1 && !found.has(undefined)) return [...found][0] ?? "jsonl";
  if (Object.keys(files).length > 0) {
    report(
      ctx,
      at(path, "format"),
      `Required: the files' extensions do not tell (${
        Object.values(files).join(", ")
      }); give one of ${DATA_FORMATS.join(", ")}`,
    );
  }
  return "jsonl";
}

function custom(ctx: Ctx, o: JsonObject, path: string): CustomTaskConfig {
  const name = optional(ctx, o, path, "name", str(), "custom");
  const files = required(ctx, o, path, "files", map(str()), {});
  const format = formatOf(ctx, o, path, files);
  const tabular = format === "csv" || format === "tsv";
  const header = optional(ctx, o, path, "header", bool, true);
  const columns = optional(ctx, o, path, "columns", nullable(list(str())), null);
  if (!tabular && (has(o, "header") || columns !== null)) {
    report(
      ctx,
      at(path, has(o, "header") ? "header" : "columns"),
      `Only for csv and tsv files, not ${format}`,
    );
  }
  if (columns !== null && header) {
    report(ctx, at(path, "columns"), "Only for files without a header; set header to false");
  }
  const inputs = required(ctx, o, path, "inputs", template, "");
  const targets = optional(ctx, o, path, "targets", nullable(template), null);
  const label_field = optional(ctx, o, path, "label_field", str(), "label");
  const label_map = optional(ctx, o, path, "label_map", nullable(map(str())), null);
  if (targets !== null && label_map !== null) {
    report(ctx, at(path, "targets"), "Give targets or label_map, not both");
  } else if (
    targets === null && label_map === null && !given(o, "targets") && !given(o, "label_map")
  ) {
    report(
      ctx,
      at(path, "targets"),
      "Required: a template, or a label_map from label_field to text",
    );
  }
  const fromMap = label_map === null ? null : [...new Set(Object.values(label_map))];
  const label_words = optional(ctx, o, path, "label_words", nullable(list(str())), fromMap);
  const metric = optional(ctx, o, path, "metric", metrics, ["accuracy"]);
  return {
    kind: "custom",
    name,
    files,
    format,
    header,
    columns,
    inputs,
    targets,
    label_field,
    label_map,
    label_words,
    metric,
  };
}

function builtin(
  ctx: Ctx,
  o: JsonObject,
  path: string,
  knownTasks: readonly string[] | undefined,
): BuiltinTaskConfig {
  const name = required(
    ctx,
    o,
    path,
    "name",
    str({ pattern: TASK_NAME, hint: 'a task name such as "glue/sst2"' }),
    "",
  );
  if (name !== "" && knownTasks !== undefined && !knownTasks.includes(name)) {
    report(
      ctx,
      at(path, "name"),
      `Unknown task ${JSON.stringify(name)}${didYouMean(name, knownTasks)}`,
    );
  }
  return {
    kind: "builtin",
    name,
    data_dir: optional(ctx, o, path, "data_dir", nullable(str()), null),
    taskless: optional(ctx, o, path, "taskless", bool, false),
  };
}

/**
 * Validates `task`: a string (a built-in task's name), or an object, custom when it has `files`
 * or `kind: "custom"`.
 */
export function validateTask(
  ctx: Ctx,
  v: JsonValue | undefined,
  knownTasks: readonly string[] | undefined,
): TaskConfig {
  if (v === undefined) {
    report(ctx, "task", 'Required: a built-in task name such as "glue/sst2", or a custom task');
    return PLACEHOLDER;
  }
  if (typeof v === "string") {
    // Problems are reported against `task` itself, since that is what was written.
    const inner = newCtx();
    const t = builtin(inner, { name: v }, "task", knownTasks);
    for (const p of inner.problems) report(ctx, "task", p.message);
    return t;
  }
  if (!isJsonObject(v)) {
    report(ctx, "task", `Expected a task name or a task object, got ${describeValue(v)}`);
    return PLACEHOLDER;
  }
  const kindV = Object.hasOwn(v, "kind") ? v["kind"] : undefined;
  const kind = kindV === undefined ? (Object.hasOwn(v, "files") ? "custom" : "builtin") : kindV;
  if (kind === "custom") {
    const o = object(ctx, v, "task", CUSTOM_KEYS, {
      elsewhere: new Map([["data_dir", "built-in tasks"], ["taskless", "built-in tasks"]]),
      what: "a custom task",
    });
    return o === undefined ? PLACEHOLDER : custom(ctx, o, "task");
  }
  if (kind === "builtin") {
    const elsewhere = new Map(
      CUSTOM_KEYS.filter((k) => !(BUILTIN_KEYS as readonly string[]).includes(k)).map((
        k,
      ) => [k, "custom tasks"]),
    );
    const o = object(ctx, v, "task", BUILTIN_KEYS, { elsewhere, what: "a built-in task" });
    return o === undefined ? PLACEHOLDER : builtin(ctx, o, "task", knownTasks);
  }
  report(
    ctx,
    "task.kind",
    `Expected one of builtin, custom, got ${describeValue(kind)}${
      typeof kind === "string" ? didYouMean(kind, ["builtin", "custom"]) : ""
    }`,
  );
  return PLACEHOLDER;
}

/** The label words of a task when the configuration knows them (custom tasks), else undefined. */
export function knownLabelWords(task: TaskConfig): readonly string[] | null | undefined {
  return task.kind === "custom" ? task.label_words : undefined;
}
