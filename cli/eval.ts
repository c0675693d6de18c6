/**
 * `eval`: a frozen model, a prompt file and a labelled split → the task's metrics, as JSON and a
 * table on stdout, and with `--out DIR` as `report.json` and `predictions.jsonl`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import {
  type EvalReport,
  reportJson,
  reportTable,
  writePredictions,
  writeReport,
} from "../eval/mod.ts";
import { problem } from "../problem.ts";
import { Failure, one, orFail, parseCommand, type Parsed, positionals } from "./args.ts";
import { exitOnInterrupt } from "./_interrupt.ts";
import { PROMPT_OPTIONS, promptTensor, resolvePrompted } from "./_frozen_prompt.ts";
import { evaluatePrompt } from "./_evaluate.ts";
import { disposeFrozen, loadFrozen } from "./_model.ts";
import { loadSplit, taskFromConfig } from "./_task.ts";
import { checkEvalMemory } from "./_memory.ts";

/**
 * `eval --help`.
 *
 * @example
 * ```ts
 * import { EVAL_HELP } from "./eval.ts";
 * import assert from "node:assert/strict";
 * assert(EVAL_HELP.includes("--no-prompt"));
 * ```
 */
export const EVAL_HELP =
  `Usage: deno run --allow-read [--allow-write=OUT_DIR] cli.ts eval --config FILE --prompt FILE [options]

Evaluates a prompt in front of the frozen model on a labelled split and prints the task's
metrics as JSON, then as a table.

Options:
  --config FILE     A configuration file (repeatable; later files win), e.g. the run's
                    RUN_DIR/config.json, or configs/…/*.json and configs/runs/prompt_eval.json
  --set a.b=VALUE   Override one value after the files (repeatable)
  --prompt FILE     The prompt: .npy, .npz or .safetensors (see --name), a PEFT adapter
                    directory, a training checkpoint directory, or a run directory (its
                    latest checkpoint). Default: the configuration's from_file initializer
  --name NAME       The prompt's tensor in a file holding several
  --no-prompt       Evaluate the frozen model alone
  --split SPLIT     The split (default: eval.split, "validation")
  --out DIR         Also write DIR/report.json and DIR/predictions.jsonl (atomically)
  --debug           Show the stack trace of an error

The method is eval.method: "rank" (score each label word; the task's label words) or
"generate" (decode as decoding.* says, then compare the text).`;

/**
 * Runs `eval` with the arguments after the command's name.
 *
 * @param args the arguments
 * @returns when done; throws `UsageError` or `Failure`
 * @example
 * ```ts
 * import { runEval } from "./eval.ts";
 * import assert from "node:assert/strict";
 * let failed = false;
 * try {
 *   await runEval(["--config", "no/such/config.json", "--no-prompt"]);
 * } catch {
 *   failed = true;
 * }
 * assert(failed);
 * ```
 */
export async function runEval(args: readonly string[]): Promise<void> {
  const p = parseCommand("eval", args, { ...PROMPT_OPTIONS, split: "string", out: "string" });
  if (p.flags.has("help")) return console.log(EVAL_HELP);
  positionals(p, "eval", []);
  // From here a Ctrl-C stops at once, in one line: nothing is half-written (every write is atomic).
  const unlisten = exitOnInterrupt("evaluation");
  try {
    await evaluate(p);
  } finally {
    unlisten();
  }
}

async function evaluate(p: Parsed): Promise<void> {
  const prompted = await resolvePrompted("eval", p);
  const { config } = prompted;
  const data = orFail(taskFromConfig(config.task));
  const split = one(p, "split") ?? config.eval.split;
  const all = await loadSplit(data, split, config.train.on_bad_record);
  const labelled = all.filter((e) => e.targets !== "");
  const examples = config.eval.max_examples === null
    ? labelled
    : labelled.slice(0, config.eval.max_examples);
  if (examples.length === 0) {
    throw new Failure([
      problem("Invalid", `task ${data.task.name}`, `Split "${split}" has no labelled examples`),
    ]);
  }
  const frozen = await loadFrozen(config.model);
  let prompt: tf.Tensor | undefined;
  try {
    prompt = promptTensor(prompted, frozen);
    // Before the first batch: would one fit the heap? (The inputs' bound, not their lengths.)
    checkEvalMemory(frozen.model, config, {
      method: config.eval.method,
      promptLength: prompt?.shape[0] ?? 0,
      labels: data.task.labelWords?.length ?? 1,
    }, "One evaluation batch");
    const { metrics, rows } = await evaluatePrompt(frozen, prompt, data.task, examples, config);
    const report: EvalReport = {
      task: data.task.name,
      split,
      examples: examples.length,
      metrics,
      info: {
        model: config.model,
        prompt: prompted.promptPath ?? "none",
        method: config.eval.method,
        ...(config.eval.method === "generate" ? { decoding: config.decoding.mode } : {}),
      },
    };
    console.log(JSON.stringify(reportJson(report), null, 2));
    console.log();
    console.log(reportTable([report]));
    const out = one(p, "out");
    if (out !== undefined) {
      try {
        await Deno.mkdir(out, { recursive: true });
      } catch (e) {
        throw new Failure([
          problem("Io", out, `Cannot create the directory: ${e instanceof Error ? e.message : e}`),
        ]);
      }
      orFail(await writeReport(join(out, "report.json"), report));
      orFail(await writePredictions(join(out, "predictions.jsonl"), rows));
    }
  } finally {
    if (prompt !== undefined) tf.dispose(prompt);
    disposeFrozen(frozen);
  }
}
