/**
 * `infer`: a frozen model, a prompt file and inputs → predictions as JSON lines, decoded as the
 * configuration's `decoding` says (greedy, beam search, sampling).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import type { JsonValue } from "../config/mod.ts";
import {
  compileTemplate,
  type DataFormat,
  fillTemplate,
  formatFromPath,
  readRecords,
} from "../data/mod.ts";
import { removeFirstTextToken } from "../data/template.ts";
import { generateAndMatch } from "../eval/mod.ts";
import { predictionsJsonl, writePredictions } from "../eval/mod.ts";
import { problem } from "../problem.ts";
import { Failure, one, orFail, parseCommand, positionals, required } from "./args.ts";
import { exitOnInterrupt } from "./_interrupt.ts";
import { PROMPT_OPTIONS, promptTensor, resolvePrompted } from "./_frozen_prompt.ts";
import { encodeInput } from "./_encode.ts";
import { disposeFrozen, loadFrozen } from "./_model.ts";
import { generateOptions } from "./_run_config.ts";
import { taskFromConfig } from "./_task.ts";
import { checkEvalMemory } from "./_memory.ts";

/**
 * `infer --help`.
 *
 * @example
 * ```ts
 * import { INFER_HELP } from "./infer.ts";
 * import assert from "node:assert/strict";
 * assert(INFER_HELP.includes("--input"));
 * ```
 */
export const INFER_HELP =
  `Usage: deno run --allow-read [--allow-write=OUT] cli.ts infer --config FILE --prompt FILE --input FILE [options]

Decodes each input with the prompt in front of the frozen model and writes one JSON line per
input: {"index", "inputs", "prediction", "score", "ids"}.

Options:
  --config FILE     A configuration file (repeatable; later files win); decoding.* chooses
                    greedy, beam (configs/decoding/beam_search.json) or sampling
                    (configs/decoding/nucleus_sampling.json); decoding.max_length bounds it
  --set a.b=VALUE   Override one value after the files (repeatable)
  --prompt FILE     The prompt (.npy, .npz/.safetensors with --name, a PEFT adapter or
                    training checkpoint directory); default: the configuration's from_file
  --name NAME       The prompt's tensor in a file holding several
  --no-prompt       Decode with the frozen model alone
  --input FILE      The inputs: .jsonl, .csv, .tsv or .parquet records, made into text by the
                    task's inputs template (GLUE test files work as they are); a record with
                    an "inputs" field the template cannot fill is used as it is
  --out FILE        Write the predictions there (atomically) instead of to stdout
  --debug           Show the stack trace of an error`;

/**
 * Runs `infer` with the arguments after the command's name.
 *
 * @param args the arguments
 * @returns when done; throws `UsageError` or `Failure`
 * @example
 * ```ts
 * import { runInfer } from "./infer.ts";
 * import assert from "node:assert/strict";
 * let failed = false;
 * try {
 *   await runInfer(["--config", "c.json"]); // no --input
 * } catch {
 *   failed = true;
 * }
 * assert(failed);
 * ```
 */
export async function runInfer(args: readonly string[]): Promise<void> {
  const p = parseCommand("infer", args, { ...PROMPT_OPTIONS, input: "string", out: "string" });
  if (p.flags.has("help")) return console.log(INFER_HELP);
  positionals(p, "infer", []);
  const input = required(p, "infer", "input", "FILE.jsonl|.tsv");
  const prompted = await resolvePrompted("infer", p);
  const { config } = prompted;
  const { task } = orFail(taskFromConfig(config.task));
  const format: DataFormat | undefined = formatFromPath(input);
  const records = orFail(await readRecords(input, format === undefined ? {} : { format }));
  const template = orFail(compileTemplate(task.inputs, `task ${task.name}: inputs`));
  const texts = records.map((r) => {
    const filled = fillTemplate(template, r.fields, r.location);
    if (E.isRight(filled)) return task.taskless ? removeFirstTextToken(filled.right) : filled.right;
    const raw = r.fields["inputs"];
    if (typeof raw === "string") return raw;
    throw new Failure([filled.left]);
  });
  if (texts.length === 0) throw new Failure([problem("Invalid", input, "No records")]);
  const frozen = await loadFrozen(config.model);
  let prompt: tf.Tensor | undefined;
  let unlisten = () => {};
  try {
    // From here a Ctrl-C stops at once, in one line: nothing is half-written (every write is atomic).
    unlisten = exitOnInterrupt("inference");
    prompt = promptTensor(prompted, frozen);
    const { tokenizer } = frozen;
    const inputs = texts.map((t) => ({
      inputIds: encodeInput(tokenizer, t, config.train.max_input_length),
      target: "",
    }));
    // Before the first batch: would one fit the heap, every beam a row, every new token cached?
    checkEvalMemory(frozen.model, config, {
      method: "generate",
      promptLength: prompt?.shape[0] ?? 0,
      inputLength: Math.max(1, ...inputs.map((i) => i.inputIds.length)),
    }, "One decoding batch");
    const generated = await generateAndMatch(
      frozen.model,
      prompt,
      inputs,
      generateOptions(config, tokenizer),
    );
    const rows: JsonValue[] = generated.map((g, index) => ({
      index,
      inputs: texts[index],
      prediction: g.prediction,
      score: Number.isFinite(g.score) ? g.score : null,
      ids: [...g.ids],
    }));
    const out = one(p, "out");
    if (out === undefined) {
      await Deno.stdout.write(new TextEncoder().encode(predictionsJsonl(rows)));
    } else {
      orFail(await writePredictions(out, rows));
      console.log(`Wrote ${rows.length} predictions to ${out}`);
    }
  } finally {
    unlisten();
    if (prompt !== undefined) tf.dispose(prompt);
    disposeFrozen(frozen);
  }
}
