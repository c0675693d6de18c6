/**
 * The command line: `deno run --allow-read [--allow-write=DIR] cli.ts <command> [options]`, with
 * the commands `train`, `eval`, `infer`, `extract`, `convert`, `inspect` and `serve` (`cli/`, one
 * file each).
 *
 * Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted (Ctrl-C). Errors are one line per problem, saying what
 * and where; `--debug` adds the stack.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import {
  errorLines,
  Failure,
  Interrupted,
  INTERRUPTED_EXIT,
  parseCommand,
  UsageError,
} from "./cli/args.ts";
import { runConvert } from "./cli/convert.ts";
import { runEval } from "./cli/eval.ts";
import { runExtract } from "./cli/extract.ts";
import { inspectFile, inspectModelDir, inspectTarget } from "./cli/inspect.ts";
import { runInfer } from "./cli/infer.ts";
import { runServe } from "./cli/serve.ts";
import { runTrain } from "./cli/train.ts";
import { didYouMean } from "./config/suggest.ts";

const VERSION = "0.1.0";

const HELP = `soft-prompt ${VERSION}: soft prompt tuning of frozen language models (TensorFlow.js)

Usage: deno run --allow-read [--allow-write=DIR] cli.ts <command> [options]

Commands:
  train [--config FILE…] [--set a.b=V…] [--run-dir DIR] [--resume] [--compare]
      Tune a soft prompt as the run configuration says; with no --config, the
      default run: the embedded T5 on the SpamAssassin task, then a table comparing
      it on the test split with the model alone and a bag-of-words baseline
  eval --config FILE… --prompt FILE|--no-prompt [--split S] [--out DIR]
      Metrics of a prompt on a labelled split (JSON, then a table)
  infer --config FILE… --prompt FILE --input FILE.jsonl|.tsv [--out FILE.jsonl]
      Decode the inputs with a prompt; predictions as JSON lines
  extract CHECKPOINT --variable NAME --out FILE.npy
      One variable of a checkpoint (safetensors, Hugging Face, T5X, PEFT adapter,
      training checkpoint) as .npy
  convert IN OUT [--to npy|safetensors|peft] [--model DIR]
      A prompt between .npy, .safetensors and a PEFT adapter directory
  inspect PATH|embedded:NAME
      Print every tensor of an .npy, .npz or .safetensors file (or a sharded
      model.safetensors.index.json): name, dtype, shape, mean, std, min, max; for a
      checkpoint directory (Hugging Face or T5X), also the architecture and parameter count
  serve --prompts DIR [--model NAME] [--port N] [--window-ms MS] [--max-batch N]
      An HTTP server on 127.0.0.1: one frozen model, the prompts of DIR, JSON
      requests to classify (rank over label words) or generate, batched across prompts

Options:
  -h, --help     Show this help (also: <command> --help)
  --version      Print the version
  --debug        Show stack traces on errors

Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted (Ctrl-C).`;

const INSPECT_HELP = `Usage: deno run --allow-read cli.ts inspect PATH|embedded:NAME

Prints one line per tensor: name, dtype, shape, mean, std, min, max (statistics in float64).
PATH is an .npy, .npz, .safetensors or model.safetensors.index.json file, or a checkpoint
directory: Hugging Face (config.json + model.safetensors) or T5X (checkpoint + zarr arrays);
for a directory the architecture and parameter count come first. embedded:NAME is a model shipped
with the package (embedded:default).`;

async function runInspect(args: readonly string[]): Promise<void> {
  const p = parseCommand("inspect", args, {});
  if (p.flags.has("help")) {
    console.log(INSPECT_HELP);
    return;
  }
  if (p.positionals.length !== 1) {
    throw new UsageError(`inspect takes one PATH, got ${p.positionals.length}`);
  }
  const path = await inspectTarget(p.positionals[0]);
  let isDir = false;
  try {
    isDir = (await Deno.stat(path)).isDirectory;
  } catch {
    // A missing path is reported by inspectFile, as a one-line problem.
  }
  const print = (line: string) => console.log(line);
  const result = isDir ? await inspectModelDir(path, print) : await inspectFile(path, print);
  if (E.isLeft(result)) throw new Failure([result.left]);
}

const COMMANDS: Readonly<Record<string, (args: readonly string[]) => Promise<void>>> = {
  train: runTrain,
  eval: runEval,
  infer: runInfer,
  extract: runExtract,
  convert: runConvert,
  inspect: runInspect,
  serve: runServe,
};

/**
 * Runs the command line and returns the exit code.
 *
 * @param args the arguments after `cli.ts`
 * @returns 0 on success, 1 on failure, 2 on a usage error, 130 when interrupted
 * @example
 * ```ts
 * import { main } from "./cli.ts";
 * import assert from "node:assert/strict";
 * assert((await main(["--version"])) === 0);
 * assert((await main([])) === 2); // no command: a usage error, on stderr
 * ```
 */
export async function main(args: readonly string[]): Promise<number> {
  const debug = args.includes("--debug");
  const rest = args.filter((a) => a !== "--debug");
  try {
    const [command, ...commandArgs] = rest;
    switch (command) {
      case undefined:
        throw new UsageError(
          `No command given; expected one of: ${Object.keys(COMMANDS).join(", ")} (see --help)`,
        );
      case "-h":
      case "--help":
      case "help":
        console.log(HELP);
        return 0;
      case "--version":
        console.log(VERSION);
        return 0;
      default: {
        const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
        if (run === undefined) {
          const names = Object.keys(COMMANDS);
          throw new UsageError(
            `Unknown command "${command}"${didYouMean(command, names)}; expected one of: ${
              names.join(", ")
            } (see --help)`,
          );
        }
        await run(commandArgs);
        return 0;
      }
    }
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`Error: ${e.message}`);
      if (debug) console.error(e.stack);
      return 2;
    }
    // One line per problem (a configuration reports every problem it has at once); an exhausted
    // WASM heap as what it is.
    for (const line of errorLines(e, rest[0] ?? "")) console.error(`Error: ${line}`);
    if (debug && e instanceof Error) console.error(e.stack);
    return e instanceof Interrupted ? INTERRUPTED_EXIT : 1;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
