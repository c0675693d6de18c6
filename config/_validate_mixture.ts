/**
 * Validates `mixture`: the tasks of a mixture, each with its name, task, rate and prompt (the
 * top-level `prompt` with the task's keys over it), the rate mode and the shared prompt. Each
 * task and prompt is checked by the top-level validators, their problems reported at the
 * mixture's paths (`mixture.tasks[1].prompt.length`).
 *
 * @module
 */
import { isJsonObject, type JsonObject, type JsonValue } from "./json.ts";
import {
  at,
  type Ctx,
  describeValue,
  newCtx,
  num,
  object,
  oneOf,
  optional,
  report,
  required,
  str,
} from "./_check.ts";
import { knownLabelWords, validateTask } from "./_validate_task.ts";
import { validatePrompt } from "./_validate_prompt.ts";
import type { MixtureConfig, MixtureTaskConfig, SharedPromptConfig } from "./schema.ts";

const TASK_KEYS = ["name", "task", "rate", "prompt"];
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Runs `f` on a fresh context and reports its problems with `from` (a path prefix) → `to`. */
function within<T>(ctx: Ctx, from: string, to: string, f: (inner: Ctx) => T): T {
  const inner = newCtx();
  const out = f(inner);
  for (const p of inner.problems) {
    const where = p.where === from || p.where.startsWith(`${from}.`)
      ? to + p.where.slice(from.length)
      : `${to}.${p.where}`;
    report(ctx, where, p.message);
  }
  return out;
}

function merged(base: JsonValue | undefined, own: JsonValue | undefined): JsonObject {
  const b = base !== undefined && isJsonObject(base) ? base : {};
  const o = own !== undefined && isJsonObject(own) ? own : {};
  return { ...b, ...o };
}

function validateEntry(
  ctx: Ctx,
  v: JsonValue,
  path: string,
  root: JsonObject,
  given: boolean,
  knownTasks: readonly string[] | undefined,
): MixtureTaskConfig | undefined {
  const o = object(ctx, v, path, TASK_KEYS);
  if (o === undefined) return undefined;
  const name = required(ctx, o, path, "name", str({ pattern: NAME, hint: "a task name" }), "");
  const task = within(
    ctx,
    "task",
    at(path, "task"),
    (inner) => validateTask(inner, Object.hasOwn(o, "task") ? o["task"] : undefined, knownTasks),
  );
  let rate: number | null = null;
  if (given) rate = required(ctx, o, path, "rate", num({ above: 0 }), 1);
  else if (Object.hasOwn(o, "rate") && o["rate"] !== null) {
    report(
      ctx,
      at(path, "rate"),
      'Expected mixture.rate "given" with a task\'s rate (proportional rates are the sizes)',
    );
  }
  const own = Object.hasOwn(o, "prompt") ? o["prompt"] : undefined;
  if (own !== undefined && !isJsonObject(own)) {
    report(ctx, at(path, "prompt"), `Expected an object, got ${describeValue(own)}`);
  }
  const base = Object.hasOwn(root, "prompt") ? root["prompt"] : undefined;
  const prompt = within(
    ctx,
    "prompt",
    at(path, "prompt"),
    (inner) => validatePrompt(inner, { prompt: merged(base, own) }, knownLabelWords(task)),
  );
  return { name, task, rate, prompt };
}

function validateShared(ctx: Ctx, v: JsonValue): SharedPromptConfig | null {
  if (v === null) return null;
  const path = "mixture.shared";
  const o = object(ctx, v, path, ["length", "mode", "initializer"]);
  if (o === undefined) return null;
  const mode = optional(ctx, o, path, "mode", oneOf(["concat", "add"] as const), "concat");
  const init = Object.hasOwn(o, "initializer") ? o["initializer"] : { kind: "sampled_vocab" };
  const given: JsonObject = Object.hasOwn(o, "length")
    ? { initializer: init, length: o["length"] }
    : { initializer: init };
  const prompt = within(
    ctx,
    "prompt",
    path,
    (inner) => validatePrompt(inner, { prompt: given }, undefined),
  );
  return { length: prompt.length, mode, initializer: prompt.initializer };
}

/**
 * Validates `mixture` (absent or `null`: no mixture).
 *
 * @param ctx where problems go
 * @param root the configuration's top level
 * @param knownTasks the built-in task names, for stricter checks
 * @returns the mixture, or undefined for none
 */
export function validateMixture(
  ctx: Ctx,
  root: JsonObject,
  knownTasks: readonly string[] | undefined,
): MixtureConfig | undefined {
  const v = Object.hasOwn(root, "mixture") ? root["mixture"] : undefined;
  if (v === undefined || v === null) return undefined;
  const o = object(ctx, v, "mixture", ["tasks", "rate", "shared"]);
  if (o === undefined) return undefined;
  const rate = optional(
    ctx,
    o,
    "mixture",
    "rate",
    oneOf(["proportional", "given"] as const),
    "proportional",
  );
  const list = Object.hasOwn(o, "tasks") ? o["tasks"] : undefined;
  if (!Array.isArray(list) || list.length < 2) {
    report(
      ctx,
      "mixture.tasks",
      `Expected an array of at least 2 tasks, got ${
        list === undefined ? "nothing" : describeValue(list)
      }`,
    );
    return undefined;
  }
  const tasks = list.flatMap((item, i) => {
    const t = validateEntry(ctx, item, `mixture.tasks[${i}]`, root, rate === "given", knownTasks);
    return t === undefined ? [] : [t];
  });
  const seen = new Set<string>();
  tasks.forEach((t, i) => {
    if (t.name !== "" && seen.has(t.name)) {
      report(
        ctx,
        `mixture.tasks[${i}].name`,
        `${JSON.stringify(t.name)} is another task's name; expected names unique`,
      );
    }
    seen.add(t.name);
  });
  const shared = validateShared(ctx, Object.hasOwn(o, "shared") ? o["shared"] : null);
  if (shared?.mode === "add") {
    tasks.forEach((t, i) => {
      if (t.prompt.length !== shared.length) {
        report(
          ctx,
          `mixture.tasks[${i}].prompt.length`,
          `Is ${t.prompt.length}; an added shared prompt needs every task's length ${shared.length}`,
        );
      }
    });
  }
  return { tasks, rate, shared };
}
