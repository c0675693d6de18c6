/**
 * Problems: what went wrong at a boundary (a file, a config, an argument), as a value.
 *
 * Parsers return `Either<Problem, A>`; the CLI turns a `Problem` into one line of text.
 *
 * @module
 */
import * as E from "fp-ts/Either";

/**
 * The kinds of problem a boundary can report.
 *
 * @example
 * ```ts
 * import { describeProblem, problem, type ProblemTag } from "./problem.ts";
 * import assert from "node:assert/strict";
 * const tag: ProblemTag = "TooLarge";
 * const p = problem(tag, "big.npy", "Over the limit");
 * assert(p._tag === "TooLarge" && describeProblem(p) === "big.npy: Over the limit");
 * ```
 */
export type ProblemTag =
  | "NotFound"
  | "Io"
  | "Corrupt"
  | "Truncated"
  | "Unsupported"
  | "TooLarge"
  | "Mismatch"
  | "Invalid";

/**
 * A problem found at a boundary: what kind, where (a file, a field, an argument) and what was wrong.
 *
 * @example
 * ```ts
 * import { problem, describeProblem } from "./problem.ts";
 * import assert from "node:assert/strict";
 * const p = problem("NotFound", "prompt.npy", "No such file");
 * assert(describeProblem(p) === "prompt.npy: No such file");
 * ```
 */
export interface Problem {
  /** The kind of problem. */
  readonly _tag: ProblemTag;
  /** Where it was found: a file path, a tensor name, a config field. */
  readonly where: string;
  /** What was wrong and what was expected; starts with a capital, no final period. */
  readonly message: string;
}

/**
 * Makes a {@link Problem}.
 *
 * @param tag the kind of problem
 * @param where the file, tensor or field it concerns
 * @param message what was wrong and what was expected
 * @returns the problem value
 * @example
 * ```ts
 * import { problem } from "./problem.ts";
 * import assert from "node:assert/strict";
 * assert(problem("Corrupt", "a.npy", "Bad magic")._tag === "Corrupt");
 * ```
 */
export function problem(tag: ProblemTag, where: string, message: string): Problem {
  return { _tag: tag, where, message };
}

/**
 * A value read from an untrusted file, as a message shows it: `missing` for a field that is not
 * there (never `undefined`), else JSON (big integers as numbers), cut to 80 characters.
 *
 * @param v the value
 * @returns its text
 * @example
 * ```ts
 * import { shownValue } from "./problem.ts";
 * import assert from "node:assert/strict";
 * assert.equal(shownValue(undefined), "missing");
 * assert.equal(shownValue([1, "a", null]), '[1,"a",null]');
 * assert.equal(shownValue([2n ** 70n]), "[1180591620717411303424]");
 * assert.equal(shownValue("x".repeat(100)).length, 80);
 * ```
 */
export function shownValue(v: unknown): string {
  if (v === undefined) return "missing";
  let s: string | undefined;
  try {
    s = JSON.stringify(v, (_, x) => typeof x === "bigint" ? `${x}n` : x);
  } catch {
    s = undefined; // a cycle: not from a parser
  }
  s = (s ?? String(v)).replace(/"(-?\d+)n"/g, "$1");
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/**
 * Renders a problem as one line: `where: message`.
 *
 * @param p the problem
 * @returns one line of text
 * @example
 * ```ts
 * import { describeProblem, problem } from "./problem.ts";
 * import assert from "node:assert/strict";
 * assert(describeProblem(problem("Io", "x", "Oops")) === "x: Oops");
 * ```
 */
export function describeProblem(p: Problem): string {
  return p.where === "" ? p.message : `${p.where}: ${p.message}`;
}

/**
 * Thrown where a {@link Problem} must leave pure code as an exception (for example inside an
 * initializer closure, whose signature returns a tensor).
 *
 * @example
 * ```ts
 * import { ProblemError, problem } from "./problem.ts";
 * import assert from "node:assert/strict";
 * const e = new ProblemError(problem("Mismatch", "prompt", "Expected [2, 3], got [3, 2]"));
 * assert(e.message === "prompt: Expected [2, 3], got [3, 2]");
 * ```
 */
export class ProblemError extends Error {
  /** The problem carried. */
  readonly problem: Problem;
  /**
   * Wraps a problem; the message is its one-line description.
   *
   * @param p the problem to carry
   */
  constructor(p: Problem) {
    super(describeProblem(p));
    this.name = "ProblemError";
    this.problem = p;
  }
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Unwraps an `Either`, throwing a {@link ProblemError} on `Left`. For scripts and tests.
 *
 * @param e the result
 * @returns the `Right` value
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { orThrow } from "./problem.ts";
 * import assert from "node:assert/strict";
 * assert(orThrow(E.right(3)) === 3);
 * ```
 */
export function orThrow<A>(e: E.Either<Problem, A>): A {
  if (E.isLeft(e)) throw new ProblemError(e.left);
  return e.right;
}

/**
 * The message of an error (or the text of a thrown non-error), on one line, for one-line
 * problems: line breaks (JSON.parse quotes the text around a fault, newlines included) become
 * spaces, other control characters `\uXXXX` escapes.
 *
 * @param e what was thrown
 * @returns its message, on one line
 * @example
 * ```ts
 * import { errorText } from "./problem.ts";
 * import assert from "node:assert/strict";
 * assert(errorText(new Error("disk full")) === "disk full" && errorText(42) === "42");
 * assert(errorText(new SyntaxError('at ..."a": {\n  "b"...')) === 'at ..."a": { "b"...');
 * ```
 */
export const errorText = (e: unknown): string =>
  (e instanceof Error ? e.message : String(e))
    .replace(/\s*[\r\n\u2028\u2029]+\s*/g, " ")
    .replace(
      // deno-lint-ignore no-control-regex -- control characters are what is escaped
      /[\u0000-\u001f\u007f]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
