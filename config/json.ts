/**
 * A strict JSON reader for untrusted configuration text: RFC 8259 only, errors with line and
 * column, duplicate keys refused, `__proto__` / `constructor` / `prototype` keys refused, objects
 * built without a prototype, and nesting capped so that hostile input cannot exhaust the stack.
 *
 * `JSON.parse` is not used: its messages do not always give a position, it keeps the last of
 * duplicate keys silently, and its objects inherit from `Object.prototype`.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { type Problem, problem } from "../problem.ts";

/**
 * A JSON value as read by {@link parseJson}. Objects have no prototype.
 *
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { type JsonValue, parseJson } from "./json.ts";
 * import assert from "node:assert/strict";
 * const r = parseJson('{"a": [1, "x", null, true]}', "v.json");
 * if (E.isLeft(r)) throw new Error(r.left.message);
 * const v: JsonValue = r.right;
 * assert.deepEqual(v, Object.assign(Object.create(null), { a: [1, "x", null, true] }));
 * ```
 */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;

/**
 * A JSON object: string keys to {@link JsonValue}s.
 *
 * @example
 * ```ts
 * import type { JsonObject } from "./json.ts";
 * import assert from "node:assert/strict";
 * const o: JsonObject = { learning_rate: 0.3 };
 * assert(o.learning_rate === 0.3);
 * ```
 */
export interface JsonObject {
  /** Any key but the {@link FORBIDDEN_KEYS}. */
  readonly [key: string]: JsonValue;
}

/**
 * Keys that are refused anywhere in a configuration: assigning them onto an ordinary object could
 * change its prototype (prototype pollution).
 *
 * @example
 * ```ts
 * import { FORBIDDEN_KEYS } from "./json.ts";
 * import assert from "node:assert/strict";
 * assert(FORBIDDEN_KEYS.includes("__proto__"));
 * ```
 */
export const FORBIDDEN_KEYS: readonly string[] = ["__proto__", "constructor", "prototype"];

/**
 * Whether a key is one of the {@link FORBIDDEN_KEYS}.
 *
 * @param key an object key
 * @returns true when the key must be refused
 * @example
 * ```ts
 * import { isForbiddenKey } from "./json.ts";
 * import assert from "node:assert/strict";
 * assert(isForbiddenKey("constructor") && !isForbiddenKey("model"));
 * ```
 */
export function isForbiddenKey(key: string): boolean {
  return FORBIDDEN_KEYS.includes(key);
}

/**
 * Whether a JSON value is an object (not an array, not null).
 *
 * @param v the value
 * @returns true for objects
 * @example
 * ```ts
 * import { isJsonObject } from "./json.ts";
 * import assert from "node:assert/strict";
 * assert(isJsonObject({}) && !isJsonObject([]) && !isJsonObject(null));
 * ```
 */
export function isJsonObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Makes an empty object without a prototype, to be filled and then frozen into a
 * {@link JsonObject}.
 *
 * @returns a new empty object with a `null` prototype
 * @example
 * ```ts
 * import { emptyObject } from "./json.ts";
 * import assert from "node:assert/strict";
 * const o = emptyObject();
 * o["__proto__"] = 1; // an ordinary own key here, not the prototype
 * assert(Object.getPrototypeOf(o) === null && Object.keys(o).length === 1);
 * ```
 */
export function emptyObject(): Record<string, JsonValue> {
  return Object.create(null);
}

/**
 * Deepest nesting of arrays and objects accepted (configurations need about five).
 *
 * @example
 * ```ts
 * import { MAX_JSON_DEPTH, tryParseJson } from "./json.ts";
 * import assert from "node:assert/strict";
 * const nested = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);
 * assert(tryParseJson(nested(MAX_JSON_DEPTH), "ok.json")._tag === "Right");
 * assert(tryParseJson(nested(MAX_JSON_DEPTH + 1), "deep.json")._tag === "Left");
 * ```
 */
export const MAX_JSON_DEPTH = 64;

/** Why parsing failed: a syntax error (the text is not JSON) or refused content. */
type Failure = { readonly at: number; readonly message: string; readonly refused: boolean };

class Fail {
  constructor(readonly failure: Failure) {}
}

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

function show(ch: string | undefined): string {
  if (ch === undefined) return "the end of the text";
  return JSON.stringify(ch);
}

/** Recursive descent over `text`; throws {@link Fail}, caught by the exported functions. */
function parse(text: string): JsonValue {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a byte order mark is not part of the value
  const fail = (message: string, at = i, refused = false): never => {
    throw new Fail({ at, message, refused });
  };
  const skip = () => {
    for (;;) {
      const c = text[i];
      if (c === " " || c === "\t" || c === "\n" || c === "\r") i++;
      else return;
    }
  };
  const literal = (word: string, v: JsonValue): JsonValue => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return v;
    }
    return fail(`Unexpected ${show(text[i])}; expected a value`);
  };
  const number = (): number => {
    const m = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
    m.lastIndex = i;
    const found = m.exec(text);
    if (found === null) return fail(`Malformed number; expected digits after ${show(text[i])}`);
    const v = Number(found[0]);
    if (!Number.isFinite(v)) fail(`Number ${found[0]} is out of range`);
    i += found[0].length;
    return v;
  };
  const string = (): string => {
    const start = i;
    i++; // the opening quote
    let out = "";
    let run = i;
    for (;;) {
      if (i >= text.length) return fail("Unterminated string", start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(run, i);
        i++;
        return out;
      }
      if (c < 0x20) return fail("Control character in a string; escape it");
      if (c === 0x5c) {
        out += text.slice(run, i);
        const e = text[i + 1];
        if (e === "u") {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            return fail("Malformed \\u escape; expected 4 hex digits");
          }
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else if (e !== undefined && e in ESCAPES) {
          out += ESCAPES[e];
          i += 2;
        } else {
          return fail(`Unknown escape \\${e ?? ""}`);
        }
        run = i;
      } else {
        i++;
      }
    }
  };
  const value = (depth: number): JsonValue => {
    if (depth > MAX_JSON_DEPTH) fail(`Nested deeper than ${MAX_JSON_DEPTH} levels`, i, true);
    skip();
    const c = text[i];
    if (c === "{") return object(depth);
    if (c === "[") return array(depth);
    if (c === '"') return string();
    if (c === "t") return literal("true", true);
    if (c === "f") return literal("false", false);
    if (c === "n") return literal("null", null);
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return number();
    return fail(`Unexpected ${show(c)}; expected a value`);
  };
  const array = (depth: number): JsonValue[] => {
    i++;
    const out: JsonValue[] = [];
    skip();
    if (text[i] === "]") {
      i++;
      return out;
    }
    for (;;) {
      out.push(value(depth + 1));
      skip();
      const c = text[i];
      if (c === ",") i++;
      else if (c === "]") {
        i++;
        return out;
      } else return fail(`Unexpected ${show(c)}; expected "," or "]" in an array`);
    }
  };
  const object = (depth: number): JsonObject => {
    i++;
    const out = emptyObject();
    skip();
    if (text[i] === "}") {
      i++;
      return out;
    }
    for (;;) {
      skip();
      if (text[i] !== '"') return fail(`Unexpected ${show(text[i])}; expected a quoted key`);
      const at = i;
      const k = string();
      if (isForbiddenKey(k)) fail(`Forbidden key ${JSON.stringify(k)}`, at, true);
      if (Object.hasOwn(out, k)) fail(`Duplicate key ${JSON.stringify(k)}`, at, true);
      skip();
      if (text[i] !== ":") return fail(`Unexpected ${show(text[i])}; expected ":" after a key`);
      i++;
      out[k] = value(depth + 1);
      skip();
      const c = text[i];
      if (c === ",") i++;
      else if (c === "}") {
        i++;
        return out;
      } else return fail(`Unexpected ${show(c)}; expected "," or "}" in an object`);
    }
  };
  const v = value(0);
  skip();
  if (i < text.length) fail(`Unexpected ${show(text[i])} after the value; expected the end`);
  return v;
}

/** 1-based line and column (in UTF-16 code units) of an offset. */
function lineColumn(text: string, at: number): { line: number; column: number } {
  let line = 1, start = 0;
  for (let j = 0; j < at && j < text.length; j++) {
    if (text[j] === "\n") {
      line++;
      start = j + 1;
    }
  }
  return { line, column: at - start + 1 };
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Like {@link parseJson}, but also says whether the failure was refused content (a forbidden or
 * duplicate key, too deep) rather than text that is not JSON at all. `--set` values use it: text
 * that is not JSON is taken as a plain string, refused JSON is an error.
 *
 * @param text the JSON text
 * @param source what the text is, for the problem's `where` (a file name)
 * @returns the value, or the problem and whether the text was refused
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { tryParseJson } from "./json.ts";
 * import assert from "node:assert/strict";
 * const r = tryParseJson('{"__proto__": 1}', "--set");
 * assert(E.isLeft(r) && r.left.refused);
 * ```
 */
export function tryParseJson(
  text: string,
  source: string,
): E.Either<{ readonly problem: Problem; readonly refused: boolean }, JsonValue> {
  try {
    return E.right(parse(text));
  } catch (e) {
    if (!(e instanceof Fail)) throw e;
    const { line, column } = lineColumn(text, e.failure.at);
    return E.left({
      problem: problem("Invalid", `${source}:${line}:${column}`, e.failure.message),
      refused: e.failure.refused,
    });
  }
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Parses JSON text strictly. A problem's `where` is `source:line:column` (1-based).
 *
 * @param text the JSON text (a leading byte order mark is skipped)
 * @param source what the text is, for the problem's `where` (a file name)
 * @returns the value (objects without a prototype), or where and why it is not valid
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { describeProblem } from "../problem.ts";
 * import { parseJson } from "./json.ts";
 * import assert from "node:assert/strict";
 * const ok = parseJson('{"a": [1, 2.5e1]}', "a.json");
 * assert(E.isRight(ok));
 * const bad = parseJson('{\n  "a": 1,\n}', "a.json");
 * assert(E.isLeft(bad) && describeProblem(bad.left).startsWith("a.json:3:1: Unexpected"));
 * ```
 */
export function parseJson(text: string, source: string): E.Either<Problem, JsonValue> {
  return E.mapLeft((f: { readonly problem: Problem }) => f.problem)(tryParseJson(text, source));
}
