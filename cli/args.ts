/**
 * What every command shares: the two kinds of error (a usage error exits 2, a failure exits 1),
 * turning an `Either` into a value or a failure, and argument parsing that reports a bad option
 * as a usage error.
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as E from "fp-ts/Either";
import { describeProblem, type Problem } from "../problem.ts";
import { engineBytes, heapProblem, isHeapExhausted } from "../training/memory.ts";

/**
 * A usage error: a bad option, a missing argument. The command line exits 2.
 *
 * @example
 * ```ts
 * import { UsageError } from "./args.ts";
 * import assert from "node:assert/strict";
 * assert(new UsageError("eval needs --config").message === "eval needs --config");
 * ```
 */
export class UsageError extends Error {}

/**
 * A failure described by problems, one line each. The command line exits 1.
 *
 * @example
 * ```ts
 * import { Failure } from "./args.ts";
 * import { problem } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const f = new Failure([problem("NotFound", "a.json", "No such file")]);
 * assert(f.message === "a.json: No such file");
 * ```
 */
export class Failure extends Error {
  /**
   * Makes the failure; its message is the problems, one line each.
   *
   * @param problems what went wrong (at least one)
   */
  constructor(readonly problems: readonly Problem[]) {
    super(problems.map(describeProblem).join("\n"));
  }
}

/**
 * A command stopped by Ctrl-C after saving what it could (a training run's checkpoint), described
 * by problems like a {@link Failure}. The command line exits 130, as an unhandled Ctrl-C would.
 *
 * @example
 * ```ts
 * import { Failure, Interrupted } from "./args.ts";
 * import { problem } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const i = new Interrupted([problem("Invalid", "runs/a", "Interrupted at step 3")]);
 * assert(i instanceof Failure && i.message === "runs/a: Interrupted at step 3");
 * ```
 */
export class Interrupted extends Failure {}

/**
 * The exit code of a command stopped by Ctrl-C (128 + SIGINT), as shells report one.
 *
 * @example
 * ```ts
 * import { INTERRUPTED_EXIT } from "./args.ts";
 * import assert from "node:assert/strict";
 * assert(INTERRUPTED_EXIT === 130);
 * ```
 */
export const INTERRUPTED_EXIT = 130;

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * The value of a `Right`, or a {@link Failure} thrown for a `Left`.
 *
 * @param r the result
 * @returns its value
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { orFail } from "./args.ts";
 * import assert from "node:assert/strict";
 * assert(orFail(E.right(3)) === 3);
 * ```
 */
export function orFail<T>(r: E.Either<Problem, T>): T {
  if (E.isLeft(r)) throw new Failure([r.left]);
  return r.right;
}

/**
 * The kinds of option a command takes: a flag, a value, or a value that may repeat.
 *
 * @example
 * ```ts
 * import type { OptionKinds } from "./args.ts";
 * import assert from "node:assert/strict";
 * const o: OptionKinds = { config: "strings", out: "string", resume: "boolean" };
 * assert(o.out === "string");
 * ```
 */
export type OptionKinds = Readonly<Record<string, "boolean" | "string" | "strings">>;

/**
 * Parsed arguments: option values by name, and the positional arguments.
 *
 * @example
 * ```ts
 * import type { Parsed } from "./args.ts";
 * import assert from "node:assert/strict";
 * const p: Parsed = { flags: new Set(["resume"]), values: new Map([["out", ["a.npy"]]]), positionals: [] };
 * assert(p.flags.has("resume"));
 * ```
 */
export interface Parsed {
  /** The flags given. */
  readonly flags: ReadonlySet<string>;
  /** Each value option given, with its values in order. */
  readonly values: ReadonlyMap<string, readonly string[]>;
  /** The positional arguments. */
  readonly positionals: readonly string[];
}

/**
 * Parses a command's arguments strictly: an unknown option, a missing value or a repeated
 * single-valued option is a {@link UsageError} naming the command; `-h`/`--help` is always known.
 *
 * @param command the command's name, for messages
 * @param args the arguments after the command
 * @param kinds the options it takes
 * @returns the parsed arguments
 * @example
 * ```ts
 * import { parseCommand } from "./args.ts";
 * import assert from "node:assert/strict";
 * const p = parseCommand("train", ["--config", "a.json", "--config", "b.json"], { config: "strings" });
 * assert(p.values.get("config")?.join() === "a.json,b.json");
 * ```
 */
export function parseCommand(command: string, args: readonly string[], kinds: OptionKinds): Parsed {
  const options: Record<string, { type: "boolean" | "string"; multiple: boolean; short?: string }> =
    { help: { type: "boolean", multiple: false, short: "h" } };
  for (const [name, kind] of Object.entries(kinds)) {
    options[name] = { type: kind === "boolean" ? "boolean" : "string", multiple: true };
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (e) {
    // node's messages go on with advice about "--" after the first sentence.
    const message = (e instanceof Error ? e.message.split("\n")[0] : String(e)).split(". ")[0];
    throw new UsageError(`${command}: ${message} (see ${command} --help)`);
  }
  const flags = new Set<string>();
  const values = new Map<string, string[]>();
  for (const [name, v] of Object.entries(parsed.values)) {
    if (v === true || (Array.isArray(v) && v.some((x) => x === true))) flags.add(name);
    else if (Array.isArray(v)) {
      const strings = v.filter((x): x is string => typeof x === "string");
      if (kinds[name] === "string" && strings.length > 1) {
        throw new UsageError(`${command}: --${name} given ${strings.length} times; give it once`);
      }
      values.set(name, strings);
    }
  }
  return { flags, values, positionals: parsed.positionals };
}

/**
 * The single value of an option, or undefined when it is absent.
 *
 * @param p the parsed arguments
 * @param name the option
 * @returns its value
 * @example
 * ```ts
 * import { one, parseCommand } from "./args.ts";
 * import assert from "node:assert/strict";
 * const p = parseCommand("eval", ["--out", "dir"], { out: "string" });
 * assert(one(p, "out") === "dir" && one(p, "split") === undefined);
 * ```
 */
export function one(p: Parsed, name: string): string | undefined {
  return p.values.get(name)?.[0];
}

/**
 * The value of an option the command cannot do without; its absence is a usage error.
 *
 * @param p the parsed arguments
 * @param command the command, for the message
 * @param name the option
 * @param what what the value is, for the message (`FILE.npy`)
 * @returns its value
 * @example
 * ```ts
 * import { parseCommand, required } from "./args.ts";
 * import assert from "node:assert/strict";
 * const p = parseCommand("extract", ["--out", "x.npy"], { out: "string" });
 * assert(required(p, "extract", "out", "FILE.npy") === "x.npy");
 * ```
 */
export function required(p: Parsed, command: string, name: string, what: string): string {
  const v = one(p, name);
  if (v === undefined || v === "") {
    throw new UsageError(`${command} needs --${name} ${what} (see ${command} --help)`);
  }
  return v;
}

/**
 * Checks the number of positional arguments.
 *
 * @param p the parsed arguments
 * @param command the command, for the message
 * @param names the positional arguments' names, in order
 * @returns the positional arguments
 * @example
 * ```ts
 * import { parseCommand, positionals } from "./args.ts";
 * import assert from "node:assert/strict";
 * const p = parseCommand("convert", ["a.npy", "b"], {});
 * assert(positionals(p, "convert", ["IN", "OUT"]).join() === "a.npy,b");
 * ```
 */
export function positionals(p: Parsed, command: string, names: readonly string[]): string[] {
  if (p.positionals.length !== names.length) {
    const want = names.length === 0 ? "no positional arguments" : names.join(" ");
    throw new UsageError(
      `${command} takes ${want}, got ${p.positionals.length} (see ${command} --help)`,
    );
  }
  return [...p.positionals];
}

/** What each command can lower when the heap runs out, in its configuration's words. */
const LOWER: Readonly<Record<string, readonly string[]>> = {
  train: ["train.batch_size", "train.max_input_length", 'train.recompute ("layer")'],
  eval: ["eval.batch_size", "train.max_input_length"],
  infer: ["eval.batch_size", "decoding.num_beams", "decoding.max_length", "train.max_input_length"],
  serve: ["--max-batch", "--max-input-tokens"],
  // These hold one model or file whole: only a smaller one needs less.
  extract: ["the checkpoint's size (extract from one .safetensors file of it)"],
  inspect: ["the model's size (inspect one .safetensors file of it)"],
  convert: ["the model's size (--model)"],
};

/**
 * The lines a command's error prints after `Error: ` (before any stack): one per problem of a
 * {@link Failure}, one saying the WASM heap ran out for an engine failure of that kind, thrown or
 * passed on in a problem's message (never the engine's raw message, such as `memory access out of
 * bounds` or `Aborted()`), else the first line of the message.
 *
 * @param e what the command threw
 * @param command the command's name (what a heap failure tells to lower)
 * @returns the lines
 * @example
 * ```ts
 * import { errorLines, Failure } from "./args.ts";
 * import { problem } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const oom = new WebAssembly.RuntimeError("memory access out of bounds");
 * const [line] = errorLines(oom, "train");
 * assert.match(line, /^The WASM heap \(4 GiB at most\) ran out, with .* in tensors; lower train\.batch_size/);
 * assert.deepEqual(errorLines(new Failure([problem("Io", "a", "B")]), "eval"), ["a: B"]);
 * const wrapped = new Failure([problem("Io", "m", "Could not load the checkpoint: Aborted()")]);
 * assert.match(errorLines(wrapped, "extract")[0], /^m: The WASM heap \(4 GiB at most\) ran out/);
 * assert.deepEqual(errorLines(new Error("One\ntwo"), "eval"), ["One"]);
 * ```
 */
export function errorLines(e: unknown, command: string): string[] {
  const lower = LOWER[command] ?? ["the batch size", "the input length"];
  const heap = () => heapProblem(engineBytes(), lower);
  if (e instanceof Failure) {
    // A reader that caught the engine's failure and passed its message on: said as what it is.
    return e.problems.map((p) =>
      describeProblem(isHeapExhausted(p.message) ? { ...heap(), where: p.where } : p)
    );
  }
  if (isHeapExhausted(e)) return [describeProblem(heap())];
  const message = e instanceof Error ? e.message : String(e);
  return [message.split("\n")[0]];
}
