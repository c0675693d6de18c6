/**
 * Typed fields of untrusted JSON objects (a run configuration, a model's `config.json`): what a
 * value must be ({@link numberField}, {@link booleanField}, {@link stringField}), and a reader
 * that takes fields one by one, with fallbacks, collecting a message for every bad one instead of
 * stopping at the first (applicative validation, as fp-ts does it). Each caller words its
 * messages its own way; the checks are these.
 *
 * @module
 */

/**
 * What a field's value must be: a test, and the words a message uses for it.
 *
 * @example
 * ```ts
 * import { type FieldType, numberField } from "./fields.ts";
 * import assert from "node:assert/strict";
 * const count: FieldType<number> = numberField({ integer: true, min: 1 });
 * assert(count.test(3) && !count.test(0) && !count.test(1.5) && !count.test("3"));
 * assert.equal(count.expected, "an integer ≥ 1");
 * ```
 */
export interface FieldType<T> {
  /** Whether a value is acceptable. */
  readonly test: (v: unknown) => v is T;
  /** What an acceptable value is, for messages ("an integer ≥ 1", "true or false"). */
  readonly expected: string;
}

/**
 * Bounds on a number field.
 *
 * @example
 * ```ts
 * import { numberField, type NumberSpec } from "./fields.ts";
 * import assert from "node:assert/strict";
 * const rate: NumberSpec = { above: 0, max: 1 };
 * assert.equal(numberField(rate).expected, "a number > 0 and ≤ 1");
 * ```
 */
export interface NumberSpec {
  /** Only safe integers. */
  readonly integer?: boolean;
  /** At least this. */
  readonly min?: number;
  /** At most this. */
  readonly max?: number;
  /** More than this. */
  readonly above?: number;
  /** Less than this. */
  readonly below?: number;
}

/**
 * Finite numbers within bounds (safe integers when `integer`).
 *
 * @param spec the bounds
 * @param expected the words for messages (default: from the bounds, "an integer ≥ 1")
 * @returns the field type
 * @example
 * ```ts
 * import { numberField } from "./fields.ts";
 * import assert from "node:assert/strict";
 * const eps = numberField({ above: 0 }, "a positive number");
 * assert(eps.test(1e-6) && !eps.test(0) && !eps.test(Infinity) && !eps.test(null));
 * assert.equal(eps.expected, "a positive number");
 * assert.equal(numberField({ integer: true, min: 0, below: 8 }).expected, "an integer ≥ 0 and < 8");
 * ```
 */
export function numberField(spec: NumberSpec = {}, expected?: string): FieldType<number> {
  const parts: string[] = [];
  if (spec.min !== undefined) parts.push(`≥ ${spec.min}`);
  if (spec.above !== undefined) parts.push(`> ${spec.above}`);
  if (spec.max !== undefined) parts.push(`≤ ${spec.max}`);
  if (spec.below !== undefined) parts.push(`< ${spec.below}`);
  const described = `${spec.integer ? "an integer" : "a number"}${
    parts.length ? ` ${parts.join(" and ")}` : ""
  }`;
  return {
    test: (v): v is number =>
      typeof v === "number" && Number.isFinite(v) &&
      (!spec.integer || Number.isSafeInteger(v)) &&
      (spec.min === undefined || v >= spec.min) && (spec.max === undefined || v <= spec.max) &&
      (spec.above === undefined || v > spec.above) && (spec.below === undefined || v < spec.below),
    expected: expected ?? described,
  };
}

/**
 * Booleans.
 *
 * @example
 * ```ts
 * import { booleanField } from "./fields.ts";
 * import assert from "node:assert/strict";
 * assert(booleanField.test(false) && !booleanField.test(0));
 * assert.equal(booleanField.expected, "true or false");
 * ```
 */
export const booleanField: FieldType<boolean> = {
  test: (v): v is boolean => typeof v === "boolean",
  expected: "true or false",
};

/**
 * Strings (the empty one too).
 *
 * @example
 * ```ts
 * import { stringField } from "./fields.ts";
 * import assert from "node:assert/strict";
 * assert(stringField.test("") && !stringField.test(1));
 * assert.equal(stringField.expected, "a string");
 * ```
 */
export const stringField: FieldType<string> = {
  test: (v): v is string => typeof v === "string",
  expected: "a string",
};

/**
 * How a {@link FieldReader} words its messages.
 *
 * @example
 * ```ts
 * import { fieldReader, type FieldMessages, numberField } from "./fields.ts";
 * import assert from "node:assert/strict";
 * const say: FieldMessages = {
 *   wrong: (key, expected, v) => `${key} must be ${expected}, got ${JSON.stringify(v)}`,
 *   missing: (key) => `${key} is missing`,
 * };
 * const f = fieldReader({ n_head: "12" }, say);
 * f.read("n_head", numberField({ integer: true, min: 1 }), undefined, NaN);
 * f.read("n_layer", numberField({ integer: true, min: 1 }), undefined, NaN);
 * assert.deepEqual(f.problems, ['n_head must be an integer ≥ 1, got "12"', "n_layer is missing"]);
 * ```
 */
export interface FieldMessages {
  /** A present value of the wrong type or out of bounds. */
  wrong(key: string, expected: string, value: unknown): string;
  /** A required field that is absent (or null). */
  missing(key: string): string;
}

/**
 * Reads the fields of one object; every read that fails records a message in `problems` and
 * returns a placeholder, so the caller reads on and reports everything at once.
 *
 * @example
 * ```ts
 * import { booleanField, fieldReader, type FieldReader } from "./fields.ts";
 * import assert from "node:assert/strict";
 * const f: FieldReader = fieldReader({ tie: null, gated: "yes" }, {
 *   wrong: (key, expected) => `${key}: expected ${expected}`,
 *   missing: (key) => `${key}: missing`,
 * });
 * assert.equal(f.read("tie", booleanField, true, true), true); // null reads as absent
 * assert.equal(f.read("gated", booleanField, false, false), false);
 * assert(!f.has("tie") && f.has("gated") && f.raw("gated") === "yes");
 * assert.deepEqual(f.problems, ["gated: expected true or false"]);
 * ```
 */
export interface FieldReader {
  /** The messages recorded so far, in order; callers may add their own. */
  readonly problems: string[];
  /** Whether the key is the object's own and not null. */
  has(key: string): boolean;
  /** The raw value (undefined when absent). */
  raw(key: string): unknown;
  /**
   * A field's value when it has the type; `fallback` when it is absent or null (with an
   * undefined `fallback`, a required field: "missing" is recorded); `placeholder` when it is
   * present but wrong.
   */
  read<T, F = T>(key: string, type: FieldType<T>, fallback: F | undefined, placeholder: F): T | F;
}

/**
 * Starts reading the fields of an object.
 *
 * @param obj the object (a parsed JSON object)
 * @param messages how messages are worded
 * @returns the reader
 * @example
 * ```ts
 * import { fieldReader, numberField } from "./fields.ts";
 * import assert from "node:assert/strict";
 * const f = fieldReader({ d_model: 512, d_ff: -1 }, {
 *   wrong: (key, expected, v) => `${key} is ${v}, expected ${expected}`,
 *   missing: (key) => `${key} is missing`,
 * });
 * const positive = numberField({ integer: true, min: 1 }, "a positive integer");
 * assert.equal(f.read("d_model", positive, 768, 768), 512);
 * assert.equal(f.read("d_ff", positive, 2048, 2048), 2048);
 * assert.equal(f.read("d_kv", positive, 64, 64), 64);
 * assert.deepEqual(f.problems, ["d_ff is -1, expected a positive integer"]);
 * ```
 */
export function fieldReader(
  obj: Readonly<Record<string, unknown>>,
  messages: FieldMessages,
): FieldReader {
  const problems: string[] = [];
  const has = (key: string) => Object.hasOwn(obj, key) && obj[key] !== null;
  return {
    problems,
    has,
    raw: (key) => obj[key],
    read<T, F = T>(key: string, type: FieldType<T>, fallback: F | undefined, placeholder: F) {
      if (!has(key)) {
        if (fallback !== undefined) return fallback;
        problems.push(messages.missing(key));
        return placeholder;
      }
      const v = obj[key];
      if (type.test(v)) return v;
      problems.push(messages.wrong(key, type.expected, v));
      return placeholder;
    },
  };
}
