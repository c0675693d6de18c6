/**
 * Command-line overrides, `--set a.b.c=value`: the original's `--gin.PARAM=VALUE`.
 *
 * The value is read as JSON when it is JSON (`3`, `1e-5`, `true`, `null`, `"text"`, `[1, 2]`,
 * `{"kind": "constant"}`), and taken as a plain string otherwise (`glue/sst2`, `runs/a`), so
 * that paths and names need no quoting. To force a string that looks like JSON, quote it in
 * JSON: `--set 'task.label_map.1="true"'`. Objects missing along the path are created; setting
 * through anything that is not an object (a number, a string, an array, `null`) is an error, as
 * are empty path segments and forbidden keys (`__proto__`, `constructor`, `prototype`).
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { type Problem, problem } from "../problem.ts";
import {
  emptyObject,
  isForbiddenKey,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  tryParseJson,
} from "./json.ts";

/**
 * One parsed `--set` argument.
 *
 * @example
 * ```ts
 * import type { Override } from "./overrides.ts";
 * import assert from "node:assert/strict";
 * const o: Override = { text: "train.steps=5", path: ["train", "steps"], value: 5 };
 * assert(o.path.length === 2);
 * ```
 */
export interface Override {
  /** The argument as given (`a.b.c=value`), for messages. */
  readonly text: string;
  /** The keys to walk, from the root. */
  readonly path: readonly string[];
  /** The value to put there. */
  readonly value: JsonValue;
}

const describeType = (v: JsonValue): string =>
  v === null ? "null" : Array.isArray(v) ? "an array" : `a ${typeof v}`;

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Parses one `a.b.c=value` argument: the path before the first `=`, split at `.`; the value
 * after it, as JSON when it parses and as a plain string otherwise.
 *
 * @param text the argument of `--set`
 * @returns the override, or a problem (no `=`, an empty segment, a forbidden key, JSON with a
 *   forbidden or duplicate key)
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { parseOverride } from "./overrides.ts";
 * import assert from "node:assert/strict";
 * const a = parseOverride("optimizer.learning_rate=0.1");
 * assert(E.isRight(a) && a.right.value === 0.1 && a.right.path.join() === "optimizer,learning_rate");
 * const b = parseOverride("task=glue/sst2");
 * assert(E.isRight(b) && b.right.value === "glue/sst2");
 * assert(E.isLeft(parseOverride("__proto__.x=1")));
 * ```
 */
export function parseOverride(text: string): E.Either<Problem, Override> {
  const where = `--set ${text}`;
  const eq = text.indexOf("=");
  if (eq < 0) {
    return E.left(problem("Invalid", where, "Expected PATH=VALUE, as in train.steps=100"));
  }
  const keyText = text.slice(0, eq).trim();
  const path = keyText.split(".");
  if (keyText === "" || path.some((k) => k === "")) {
    return E.left(problem("Invalid", where, `Empty key in the path ${JSON.stringify(keyText)}`));
  }
  const bad = path.find(isForbiddenKey);
  if (bad !== undefined) {
    return E.left(problem("Invalid", where, `Forbidden key ${JSON.stringify(bad)}`));
  }
  const raw = text.slice(eq + 1);
  const parsed = tryParseJson(raw, "value");
  if (E.isRight(parsed)) return E.right({ text, path, value: parsed.right });
  if (parsed.left.refused) {
    return E.left(problem("Invalid", where, `${parsed.left.problem.message} in the value`));
  }
  return E.right({ text, path, value: raw });
}

function setAt(
  node: JsonObject,
  path: readonly string[],
  depth: number,
  value: JsonValue,
): E.Either<string, JsonObject> {
  const out = emptyObject();
  for (const k of Object.keys(node)) out[k] = node[k];
  const k = path[depth];
  if (depth === path.length - 1) {
    out[k] = value;
    return E.right(out);
  }
  const child = Object.hasOwn(node, k) ? node[k] : undefined;
  if (child !== undefined && !isJsonObject(child)) {
    const at = path.slice(0, depth + 1).join(".");
    return E.left(`Cannot set through ${at}: it is ${describeType(child)}, not an object`);
  }
  const next = setAt(child ?? emptyObject(), path, depth + 1, value);
  if (E.isLeft(next)) return next;
  out[k] = next.right;
  return E.right(out);
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Puts an override's value at its path, creating missing objects on the way. The input is not
 * modified; the objects along the path are copied (without a prototype).
 *
 * @param root the configuration so far (an object)
 * @param override the parsed `--set`
 * @returns the new configuration, or a problem when the path goes through a non-object
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { applyOverride, parseOverride } from "./overrides.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const r = applyOverride({ train: { steps: 1 } }, orThrow(parseOverride("eval.batch_size=8")));
 * assert(E.isRight(r) && JSON.stringify(r.right) === '{"train":{"steps":1},"eval":{"batch_size":8}}');
 * const bad = applyOverride({ train: 3 }, orThrow(parseOverride("train.steps=1")));
 * assert(E.isLeft(bad));
 * ```
 */
export function applyOverride(root: JsonValue, override: Override): E.Either<Problem, JsonValue> {
  const where = `--set ${override.text}`;
  if (!isJsonObject(root)) {
    return E.left(
      problem("Invalid", where, `Cannot set: the configuration is ${describeType(root)}`),
    );
  }
  const r = setAt(root, override.path, 0, override.value);
  return E.isLeft(r) ? E.left(problem("Invalid", where, r.left)) : E.right(r.right);
}
