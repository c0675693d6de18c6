/**
 * Private building blocks of validation: readers that check one field, push a problem when it is
 * wrong, and always return a value of the right type (the default, or a placeholder), so that
 * validation goes on and reports every problem in one pass. The caller returns the result only
 * when no problem was pushed.
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
} from "./json.ts";
import { booleanField, numberField, type NumberSpec, stringField } from "./fields.ts";
import { didYouMean } from "./suggest.ts";

/** Where problems accumulate. */
export interface Ctx {
  readonly problems: Problem[];
}

/** Makes an empty context. */
export const newCtx = (): Ctx => ({ problems: [] });

/** `path.key`, or `key` at the root. */
export const at = (path: string, key: string | number): string =>
  typeof key === "number" ? `${path}[${key}]` : path === "" ? key : `${path}.${key}`;

/** Pushes a problem. */
export function report(ctx: Ctx, where: string, message: string): void {
  ctx.problems.push(problem("Invalid", where, message));
}

/** A short rendering of a value for messages: `"0.3" (a string)`, `[1,2] (an array)`. */
export function describeValue(v: JsonValue): string {
  if (v === null) return "null";
  const text = JSON.stringify(v);
  const short = text.length > 40 ? `${text.slice(0, 37)}...` : text;
  const kind = Array.isArray(v) ? "an array" : isJsonObject(v) ? "an object" : `a ${typeof v}`;
  return `${short} (${kind})`;
}

/** Checks one value: the value, or what was wrong with it (a message). */
export type Check<T> = (v: JsonValue) => E.Either<string, T>;

/** Numbers with bounds. */
export function num(spec: NumberSpec = {}): Check<number> {
  const field = numberField(spec);
  return (v) =>
    field.test(v) ? E.right(v) : E.left(`Expected ${field.expected}, got ${describeValue(v)}`);
}

/** Positive integers (counts, steps, sizes). */
export const positiveInt: Check<number> = num({ integer: true, min: 1 });

/** Booleans. */
export const bool: Check<boolean> = (v) =>
  booleanField.test(v)
    ? E.right(v)
    : E.left(`Expected ${booleanField.expected}, got ${describeValue(v)}`);

/** Strings, non-empty by default, optionally matching a pattern described by `hint`. */
export function str(spec: {
  readonly empty?: boolean;
  readonly pattern?: RegExp;
  readonly hint?: string;
} = {}): Check<string> {
  return (v) => {
    if (!stringField.test(v)) {
      return E.left(`Expected ${stringField.expected}, got ${describeValue(v)}`);
    }
    if (!spec.empty && v === "") return E.left("Expected a non-empty string");
    if (spec.pattern !== undefined && !spec.pattern.test(v)) {
      return E.left(
        `Expected ${spec.hint ?? `text matching ${spec.pattern}`}, got ${JSON.stringify(v)}`,
      );
    }
    return E.right(v);
  };
}

/** One of a list of strings, with a did-you-mean. */
export function oneOf<T extends string>(values: readonly T[]): Check<T> {
  return (v) => {
    if (typeof v === "string" && (values as readonly string[]).includes(v)) return E.right(v as T);
    const hint = typeof v === "string" ? didYouMean(v, values) : "";
    return E.left(`Expected one of ${values.join(", ")}, got ${describeValue(v)}${hint}`);
  };
}

/** `null`, or what `check` accepts. */
export function nullable<T>(check: Check<T>): Check<T | null> {
  return (v) => {
    if (v === null) return E.right(null);
    const r = check(v);
    return E.isLeft(r) ? E.left(`${r.left}, or null`) : r;
  };
}

/** Arrays whose items pass `check` (non-empty unless `empty`). Item problems name the index. */
export function list<T>(
  check: Check<T>,
  spec: { readonly empty?: boolean } = {},
): Check<readonly T[]> {
  return (v) => {
    if (!Array.isArray(v)) return E.left(`Expected an array, got ${describeValue(v)}`);
    if (!spec.empty && v.length === 0) return E.left("Expected a non-empty array");
    const out: T[] = [];
    for (let i = 0; i < v.length; i++) {
      const r = check(v[i]);
      if (E.isLeft(r)) return E.left(`Item ${i}: ${r.left}`);
      out.push(r.right);
    }
    return E.right(out);
  };
}

/** Objects with free keys (split → file, label → text) whose values pass `check`. */
export function map<T>(
  check: Check<T>,
  spec: { readonly empty?: boolean } = {},
): Check<Readonly<Record<string, T>>> {
  return (v) => {
    if (!isJsonObject(v)) return E.left(`Expected an object, got ${describeValue(v)}`);
    const keys = Object.keys(v);
    if (!spec.empty && keys.length === 0) return E.left("Expected a non-empty object");
    const entries: [string, T][] = [];
    for (const k of keys) {
      if (isForbiddenKey(k)) return E.left(`Forbidden key ${JSON.stringify(k)}`);
      const r = check(v[k]);
      if (E.isLeft(r)) return E.left(`Key ${JSON.stringify(k)}: ${r.left}`);
      entries.push([k, r.right]);
    }
    // A plain object for the resolved configuration: fromEntries defines own properties (never
    // the prototype), and forbidden keys were refused above anyway.
    return E.right(Object.fromEntries(entries));
  };
}

const own = (o: JsonObject, key: string): JsonValue | undefined =>
  Object.hasOwn(o, key) ? o[key] : undefined;

/**
 * A required field: its value if it passes `check`; otherwise a problem and `placeholder`. When
 * `o` is undefined (its object was already reported as wrong) nothing more is reported.
 */
export function required<T>(
  ctx: Ctx,
  o: JsonObject | undefined,
  path: string,
  key: string,
  check: Check<T>,
  placeholder: T,
): T {
  if (o === undefined) return placeholder;
  const v = own(o, key);
  if (v === undefined) {
    report(ctx, at(path, key), "Required");
    return placeholder;
  }
  const r = check(v);
  if (E.isLeft(r)) {
    report(ctx, at(path, key), r.left);
    return placeholder;
  }
  return r.right;
}

/** An optional field: its value if present and valid, the default when absent. */
export function optional<T>(
  ctx: Ctx,
  o: JsonObject | undefined,
  path: string,
  key: string,
  check: Check<T>,
  dflt: T,
): T {
  if (o === undefined) return dflt;
  const v = own(o, key);
  if (v === undefined) return dflt;
  const r = check(v);
  if (E.isLeft(r)) {
    report(ctx, at(path, key), r.left);
    return dflt;
  }
  return r.right;
}

/** Whether `o` has `key` (as its own key). */
export const has = (o: JsonObject | undefined, key: string): boolean =>
  o !== undefined && Object.hasOwn(o, key);

/**
 * Checks that `v` is an object whose keys are all `allowed`. Unknown keys are problems with a
 * did-you-mean; a key in `elsewhere` (key → the variant it belongs to) says where it belongs.
 * Returns the object, or undefined when `v` is not one (reported).
 */
export function object(
  ctx: Ctx,
  v: JsonValue,
  path: string,
  allowed: readonly string[],
  options: { readonly elsewhere?: ReadonlyMap<string, string>; readonly what?: string } = {},
): JsonObject | undefined {
  if (!isJsonObject(v)) {
    report(ctx, path === "" ? "config" : path, `Expected an object, got ${describeValue(v)}`);
    return undefined;
  }
  for (const k of Object.keys(v)) {
    if (allowed.includes(k)) continue;
    const where = at(path, k);
    if (isForbiddenKey(k)) {
      report(ctx, where, "Forbidden key");
      continue;
    }
    const owner = options.elsewhere?.get(k);
    if (owner !== undefined) {
      report(ctx, where, `Not a setting of ${options.what ?? "this kind"}; it belongs to ${owner}`);
    } else {
      report(ctx, where, `Unknown key${didYouMean(k, allowed)}`);
    }
  }
  return v;
}

/**
 * An optional section: an object under `key` (an empty one when absent, so that defaults apply);
 * undefined when present but not an object (reported).
 */
export function section(
  ctx: Ctx,
  o: JsonObject | undefined,
  path: string,
  key: string,
  allowed: readonly string[],
): JsonObject | undefined {
  if (o === undefined) return undefined;
  const v = own(o, key);
  if (v === undefined) return emptyObject();
  return object(ctx, v, at(path, key), allowed);
}

/** The `kind` of a tagged object, checked against `kinds`; `dflt` when absent (undefined: required). */
export function kindOf<T extends string>(
  ctx: Ctx,
  o: JsonObject,
  path: string,
  kinds: readonly T[],
  dflt: T | undefined,
): T | undefined {
  const v = own(o, "kind");
  if (v === undefined) {
    if (dflt === undefined) report(ctx, at(path, "kind"), `Required: one of ${kinds.join(", ")}`);
    return dflt;
  }
  const r = oneOf(kinds)(v);
  if (E.isLeft(r)) {
    report(ctx, at(path, "kind"), r.left);
    return undefined;
  }
  return r.right;
}

/**
 * A tagged object: reads `kind` (one of `kinds`, `dflt` when absent), then checks the keys
 * against that kind's (`keysByKind[kind]`); a key of another kind is reported as belonging to it.
 * Undefined when `v` is not an object or the kind is wrong (reported).
 */
export function tagged<K extends string>(
  ctx: Ctx,
  v: JsonValue,
  path: string,
  keysByKind: Readonly<Record<K, readonly string[]>>,
  kinds: readonly K[],
  dflt: K | undefined,
): { readonly kind: K; readonly o: JsonObject } | undefined {
  if (!isJsonObject(v)) {
    report(
      ctx,
      path,
      `Expected an object with a kind, one of ${kinds.join(", ")}; got ${describeValue(v)}`,
    );
    return undefined;
  }
  const kind = kindOf(ctx, v, path, kinds, dflt);
  if (kind === undefined) return undefined;
  const mine = keysByKind[kind];
  const elsewhere = new Map<string, string>();
  for (const other of Object.keys(keysByKind) as K[]) {
    for (const key of keysByKind[other]) {
      if (!mine.includes(key) && !elsewhere.has(key)) elsewhere.set(key, other);
    }
  }
  const o = object(ctx, v, path, mine, { elsewhere, what: kind });
  return o === undefined ? undefined : { kind, o };
}
