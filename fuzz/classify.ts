/**
 * Sorting the library's answers: accepted, a clean error, or an unclean one (a finding).
 *
 * A clean error is a `Problem` (or a thrown `ProblemError`) of a known tag whose one-line
 * description names no engine internals. Anything else the library returns or throws is a
 * finding: a TypeError or RangeError from inside a parser, a multi-line message, a message that
 * says `undefined` or `[object Object]` where it should say what was wrong.
 *
 * @module
 */
import { describeProblem, type Problem, ProblemError, type ProblemTag } from "../problem.ts";

/** What one input gave. */
export type Verdict =
  | { readonly kind: "ok" }
  | { readonly kind: "clean" }
  | { readonly kind: "unclean"; readonly why: string; readonly message: string };

const TAGS: readonly ProblemTag[] = [
  "NotFound",
  "Io",
  "Corrupt",
  "Truncated",
  "Unsupported",
  "TooLarge",
  "Mismatch",
  "Invalid",
];

/** Engine messages that leaked into a problem's text. */
const ENGINE =
  /Cannot read propert|Cannot convert|is not a function|is not iterable|is not defined|is not a constructor|Invalid typed array length|Invalid array length|out of bounds|Maximum call stack|Offset is outside|Start offset|must be a multiple of|Invalid atomic|Bad resource ID|Array buffer allocation failed|Invalid string length/;

/** Words that say nothing about what was wrong (outside quotes, where they echo the input). */
const VAGUE = /\bundefined\b|\bNaN\b/;
/** An object rendered with String(): never what a message means to show. */
const OBJECT = /\[object \w+\]/;

function isProblem(x: unknown): x is Problem {
  if (x === null || typeof x !== "object") return false;
  const p = x as Record<string, unknown>;
  return typeof p._tag === "string" && typeof p.where === "string" &&
    typeof p.message === "string";
}

/** Checks one problem; undefined when clean. */
function checkProblem(p: Problem): { why: string; message: string } | undefined {
  const text = describeProblem(p);
  if (!TAGS.includes(p._tag)) return { why: `unknown tag ${p._tag}`, message: text };
  if (p.message.trim() === "") return { why: "empty message", message: text };
  if (/[\n\r]/.test(text)) return { why: "multi-line message", message: text };
  if (ENGINE.test(p.message)) return { why: "engine text in message", message: text };
  if (OBJECT.test(p.message)) return { why: "vague message", message: text };
  // Parsers' JSON errors quote the input's text, NaN included.
  const unquoted = p.message.replace(/"(?:[^"\\]|\\.)*"|'[^']*'|\(from [^)]*\)/g, "");
  if (!/JSON/.test(p.message) && VAGUE.test(unquoted)) {
    return { why: "vague message", message: text };
  }
  return undefined;
}

/**
 * Sorts what the library returned for one input.
 *
 * @param result an `Either` (its `_tag` is `Left` or `Right`), or a list of problems
 * @returns the verdict
 */
export function classifyResult(result: unknown): Verdict {
  if (result !== null && typeof result === "object" && "_tag" in result) {
    const r = result as { _tag: string; left?: unknown };
    if (r._tag === "Right") return { kind: "ok" };
    if (r._tag === "Left") {
      const lefts = Array.isArray(r.left) ? r.left : [r.left];
      if (lefts.length === 0) return { kind: "unclean", why: "empty problem list", message: "" };
      for (const p of lefts) {
        if (!isProblem(p)) {
          return { kind: "unclean", why: "Left is not a Problem", message: String(p) };
        }
        const bad = checkProblem(p);
        if (bad) return { kind: "unclean", ...bad };
      }
      return { kind: "clean" };
    }
  }
  return { kind: "unclean", why: "not an Either", message: String(result) };
}

/**
 * Sorts what the library threw for one input: a one-line `ProblemError` is clean (the
 * tokenizer's methods document it), anything else a finding.
 *
 * @param e what was thrown
 * @returns the verdict
 */
export function classifyThrown(e: unknown): Verdict {
  if (e instanceof ProblemError) {
    const bad = checkProblem(e.problem);
    return bad ? { kind: "unclean", ...bad } : { kind: "clean" };
  }
  const name = e instanceof Error ? e.constructor.name : typeof e;
  const message = e instanceof Error ? e.message : String(e);
  return { kind: "unclean", why: `threw ${name}`, message };
}

/** A short signature of a finding, for grouping: digits and quoted parts blanked, paths cut. */
export function signature(why: string, message: string): string {
  const m = message
    .replace(/\/[^\s:'"]*\//g, "/…/")
    .replace(/"[^"]*"|'[^']*'|`[^`]*`/g, '"…"')
    .replace(/\d+(\.\d+)?(e[+-]?\d+)?/gi, "N")
    .slice(0, 160);
  return `${why}: ${m}`;
}
