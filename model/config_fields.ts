/**
 * Reading a Hugging Face `config.json` object field by field while collecting every problem, so
 * that a config checker reports all of them at once (applicative validation, as fp-ts does it).
 * Shared by the GPT-2 and LLaMA-family config parsers; {@link ACTIVATIONS} by T5's too. The field
 * checks and the reader are `config/fields.ts`'s; this module words the messages the way these
 * parsers report them.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { booleanField, fieldReader, numberField, stringField } from "../config/fields.ts";
import { type Problem, problem } from "../problem.ts";
import type { Activation } from "./layers.ts";

/** The most layers a config may ask for (the largest released models have about 130). */
export const MAX_LAYERS = 1024;

/**
 * Every activation the models compute, by its Hugging Face name (`hidden_act`, …).
 *
 * @example
 * ```ts
 * import { ACTIVATIONS } from "./config_fields.ts";
 * import assert from "node:assert/strict";
 * assert(ACTIVATIONS.includes("gelu_new") && ACTIVATIONS.includes("silu"));
 * ```
 */
export const ACTIVATIONS: readonly Activation[] = [
  "relu",
  "gelu",
  "gelu_new",
  "gelu_pytorch_tanh",
  "silu",
  "swish",
];

/**
 * A field reader over one config object; every getter records a problem instead of throwing.
 *
 * @example
 * ```ts
 * import { type ConfigReader, configReader } from "./config_fields.ts";
 * import assert from "node:assert/strict";
 * const r = configReader({ n_embd: 8, layer_norm_epsilon: 0 }, "config.json", "GPT-2");
 * assert(r._tag === "Right");
 * const f: ConfigReader = r.right;
 * assert.equal(f.int("n_embd"), 8);
 * assert(Number.isNaN(f.float("layer_norm_epsilon", 1e-5, true)));
 * assert.equal(f.tokenId("bos_token_id"), null);
 * const done = f.finish({});
 * assert(done._tag === "Left");
 * assert.equal(
 *   done.left.message,
 *   "GPT-2 config has 1 problem: layer_norm_epsilon must be a positive number, got 0",
 * );
 * ```
 */
export interface ConfigReader {
  /** Whether the key is present and not null. */
  has(key: string): boolean;
  /** The raw value (undefined when absent). */
  raw(key: string): unknown;
  /** An integer ≥ `min` (default 1) and ≤ `max` if given; `fallback` when absent or null. */
  int(key: string, fallback?: number, min?: number, max?: number): number;
  /** A finite number, > 0 when `positive`; `fallback` when absent or null. */
  float(key: string, fallback?: number, positive?: boolean): number;
  /** A boolean; `fallback` when absent or null. */
  bool(key: string, fallback: boolean): boolean;
  /** A string; `fallback` when absent or null. */
  str(key: string, fallback?: string): string;
  /**
   * A string, recorded as unsupported unless one of `allowed` (`fallback` when absent or null);
   * the value is returned either way.
   */
  oneOf<A extends string>(key: string, fallback: A, allowed: readonly A[]): A;
  /** A token id (integer ≥ 0) or null when absent or null. */
  tokenId(key: string): number | null;
  /** Token ids: one integer, a list of integers, or none when absent or null. */
  tokenIds(key: string): readonly number[];
  /** Records an invalid value. */
  invalid(message: string): void;
  /** Records a valid but unsupported value. */
  unsupported(message: string): void;
  /** The value, or one problem listing everything recorded. */
  finish<A>(value: A): E.Either<Problem, A>;
}

const TOKEN_ID = numberField({ integer: true, min: 0 }, "a token id (an integer ≥ 0) or null");

const show = (v: unknown): string => {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

/**
 * Starts reading a config object.
 *
 * @param json the parsed `config.json`
 * @param where the file, for the problem
 * @param label the architecture's name in messages ("GPT-2")
 * @returns the reader, or an `Invalid` problem when `json` is not an object
 * @example
 * ```ts
 * import { configReader } from "./config_fields.ts";
 * import assert from "node:assert/strict";
 * const bad = configReader([1], "config.json", "GPT-2");
 * assert(bad._tag === "Left" && bad.left.message === "Expected a GPT-2 config object, got [1]");
 * const r = configReader({ n_layer: 2 }, "config.json", "GPT-2");
 * assert(r._tag === "Right" && Number.isNaN(r.right.int("n_head")));
 * const done = r.right.finish({});
 * assert(done._tag === "Left" && done.left.message.endsWith("n_head is missing"));
 * ```
 */
export function configReader(
  json: unknown,
  where: string,
  label: string,
): E.Either<Problem, ConfigReader> {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return E.left(
      problem("Invalid", where, `Expected a ${label} config object, got ${show(json)}`),
    );
  }
  const obj = json as Record<string, unknown>;
  const fields = fieldReader(obj, {
    wrong: (key, expected, v) => `${key} must be ${expected}, got ${show(v)}`,
    missing: (key) => `${key} is missing`,
  });
  const invalid = fields.problems;
  const unsupported: string[] = [];
  const reader: ConfigReader = {
    has: fields.has,
    raw: fields.raw,
    int: (key, fallback, min = 1, max) =>
      fields.read(key, numberField({ integer: true, min, max }), fallback, NaN),
    float: (key, fallback, positive = false) =>
      fields.read(
        key,
        positive ? numberField({ above: 0 }, "a positive number") : numberField(),
        fallback,
        NaN,
      ),
    bool: (key, fallback) => fields.read(key, booleanField, fallback, fallback),
    str: (key, fallback) => fields.read(key, stringField, fallback, ""),
    oneOf<A extends string>(key: string, fallback: A, allowed: readonly A[]) {
      const v = reader.str(key, fallback) as A;
      if (!allowed.includes(v)) {
        reader.unsupported(`${key} "${v}" is not one of ${allowed.join(", ")}`);
      }
      return v;
    },
    tokenId: (key) => fields.read(key, TOKEN_ID, null, null),
    tokenIds(key) {
      if (!fields.has(key)) return [];
      const v = obj[key];
      const list = Array.isArray(v) ? v : [v];
      if (!list.every((x) => Number.isSafeInteger(x) && x >= 0)) {
        invalid.push(`${key} must be a token id, a list of token ids or null, got ${show(v)}`);
        return [];
      }
      return list as number[];
    },
    invalid: (m) => void invalid.push(m),
    unsupported: (m) => void unsupported.push(m),
    finish<A>(value: A) {
      const all = [...invalid, ...unsupported];
      if (all.length === 0) return E.right(value);
      const tag = invalid.length > 0 ? "Invalid" : "Unsupported";
      const count = all.length === 1 ? "1 problem" : `${all.length} problems`;
      return E.left(problem(tag, where, `${label} config has ${count}: ${all.join("; ")}`));
    },
  };
  return E.right(reader);
}
