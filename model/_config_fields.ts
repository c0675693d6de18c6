/**
 * Reading a Hugging Face `config.json` object field by field while collecting every problem, so
 * that a config checker reports all of them at once (applicative validation, as fp-ts does it).
 * Shared by the GPT-2 and LLaMA-family config parsers; {@link ACTIVATIONS} by T5's too.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { type Problem, problem } from "../problem.ts";
import type { Activation } from "./layers.ts";

/** Every activation the models compute, by its Hugging Face name (`hidden_act`, …). */
export const ACTIVATIONS: readonly Activation[] = [
  "relu",
  "gelu",
  "gelu_new",
  "gelu_pytorch_tanh",
  "silu",
  "swish",
];

/** A field reader over one config object; every getter records a problem instead of throwing. */
export interface ConfigReader {
  /** Whether the key is present and not null. */
  has(key: string): boolean;
  /** The raw value (undefined when absent). */
  raw(key: string): unknown;
  /** An integer ≥ `min` (default 1); `fallback` when absent or null. */
  int(key: string, fallback?: number, min?: number): number;
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
  const invalid: string[] = [];
  const unsupported: string[] = [];
  const present = (key: string) => Object.hasOwn(obj, key) && obj[key] !== null;
  const missing = <A>(key: string, fallback: A | undefined, placeholder: A): A => {
    if (fallback !== undefined) return fallback;
    invalid.push(`${key} is missing`);
    return placeholder;
  };
  const reader: ConfigReader = {
    has: present,
    raw: (key) => obj[key],
    int(key, fallback, min = 1) {
      if (!present(key)) return missing(key, fallback, NaN);
      const v = obj[key];
      if (!Number.isSafeInteger(v) || (v as number) < min) {
        invalid.push(`${key} must be an integer ≥ ${min}, got ${show(v)}`);
        return NaN;
      }
      return v as number;
    },
    float(key, fallback, positive = false) {
      if (!present(key)) return missing(key, fallback, NaN);
      const v = obj[key];
      if (typeof v !== "number" || !Number.isFinite(v) || (positive && v <= 0)) {
        invalid.push(`${key} must be a ${positive ? "positive " : ""}number, got ${show(v)}`);
        return NaN;
      }
      return v;
    },
    bool(key, fallback) {
      if (!present(key)) return fallback;
      const v = obj[key];
      if (typeof v !== "boolean") {
        invalid.push(`${key} must be true or false, got ${show(v)}`);
        return fallback;
      }
      return v;
    },
    str(key, fallback) {
      if (!present(key)) return missing(key, fallback, "");
      const v = obj[key];
      if (typeof v !== "string") {
        invalid.push(`${key} must be a string, got ${show(v)}`);
        return "";
      }
      return v;
    },
    oneOf<A extends string>(key: string, fallback: A, allowed: readonly A[]) {
      const v = reader.str(key, fallback) as A;
      if (!allowed.includes(v)) {
        reader.unsupported(`${key} "${v}" is not one of ${allowed.join(", ")}`);
      }
      return v;
    },
    tokenId(key) {
      if (!present(key)) return null;
      const v = obj[key];
      if (!Number.isSafeInteger(v) || (v as number) < 0) {
        invalid.push(`${key} must be a token id (an integer ≥ 0) or null, got ${show(v)}`);
        return null;
      }
      return v as number;
    },
    tokenIds(key) {
      if (!present(key)) return [];
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
