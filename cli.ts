/**
 * The command line: `deno run -A cli.ts <command> [options]`.
 *
 * Exit codes: 0 success, 1 failure, 2 usage error. Errors are one line; `--debug` adds the stack.
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as E from "fp-ts/Either";
import { inspectFile, inspectModelDir } from "./cli/inspect.ts";
import { describeProblem, type Problem } from "./problem.ts";

const VERSION = "0.1.0";

const HELP = `soft-prompt ${VERSION}: soft prompt tuning of frozen language models (TensorFlow.js)

Usage: deno run -A cli.ts <command> [options]

Commands:
  inspect PATH   Print every tensor of an .npy, .npz or .safetensors file (or a sharded
                 model.safetensors.index.json): name, dtype, shape, mean, std, min, max;
                 for a checkpoint directory (Hugging Face or T5X), also the architecture
                 and the parameter count

Options:
  -h, --help     Show this help (also: <command> --help)
  --version      Print the version
  --debug        Show stack traces on errors

Exit codes: 0 success, 1 failure, 2 usage error.`;

const INSPECT_HELP = `Usage: deno run --allow-read cli.ts inspect PATH

Prints one line per tensor: name, dtype, shape, mean, std, min, max (statistics in float64).
PATH is an .npy, .npz, .safetensors or model.safetensors.index.json file, or a checkpoint
directory: Hugging Face (config.json + model.safetensors) or T5X (checkpoint + zarr arrays);
for a directory the architecture and parameter count come first.`;

/** A usage error: exit code 2. */
class UsageError extends Error {}

/** A failure described by a problem: exit code 1. */
class Failure extends Error {
  constructor(readonly problem: Problem) {
    super(describeProblem(problem));
  }
}

async function runInspect(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: { help: { type: "boolean", short: "h" }, debug: { type: "boolean" } },
    allowPositionals: true,
  });
  if (values.help) {
    console.log(INSPECT_HELP);
    return;
  }
  if (positionals.length !== 1) {
    throw new UsageError(`inspect takes one PATH, got ${positionals.length}`);
  }
  const path = positionals[0];
  let isDir = false;
  try {
    isDir = (await Deno.stat(path)).isDirectory;
  } catch {
    // A missing path is reported by inspectFile, as a one-line problem.
  }
  const print = (line: string) => console.log(line);
  const result = isDir ? await inspectModelDir(path, print) : await inspectFile(path, print);
  if (E.isLeft(result)) throw new Failure(result.left);
}

/**
 * Runs the command line and returns the exit code.
 *
 * @param args the arguments after `cli.ts`
 * @returns 0 on success, 1 on failure, 2 on a usage error
 * @example
 * ```ts
 * import { main } from "./cli.ts";
 * console.assert((await main(["--version"])) === 0);
 * ```
 */
export async function main(args: readonly string[]): Promise<number> {
  const debug = args.includes("--debug");
  const rest = args.filter((a) => a !== "--debug");
  try {
    const [command, ...commandArgs] = rest;
    switch (command) {
      case undefined:
      case "-h":
      case "--help":
      case "help":
        console.log(HELP);
        return command === undefined ? 2 : 0;
      case "--version":
        console.log(VERSION);
        return 0;
      case "inspect":
        await runInspect(commandArgs);
        return 0;
      default:
        throw new UsageError(`Unknown command "${command}"; expected one of: inspect (see --help)`);
    }
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof UsageError || (e instanceof TypeError && "code" in e)) {
      console.error(`Error: ${message}`);
      if (debug && e instanceof Error) console.error(e.stack);
      return 2;
    }
    console.error(`Error: ${message.split("\n")[0]}`);
    if (debug && e instanceof Error) console.error(e.stack);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
