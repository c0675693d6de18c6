/**
 * `train`: tune a soft prompt as a run configuration says, with checkpoints, evaluation on the
 * validation split, early stopping, and the prompt exported as `.npy` and as a PEFT adapter.
 *
 * @module
 */
import { join } from "node:path";
import { formatConfig, type RunConfig, writeResolvedConfig } from "../config/mod.ts";
import type { Example, Task } from "../data/mod.ts";
import { key } from "../random/mod.ts";
import {
  collateExamples,
  type Evaluate,
  listCheckpoints,
  lossEvaluator,
  type ObjectiveOptions,
  promptLoss,
  type TokenExample,
  tunePrompt,
} from "../training/mod.ts";
import { specialIds } from "../decode/mod.ts";
import { problem } from "../problem.ts";
import { Failure, one, orFail, parseCommand, positionals, UsageError } from "./_args.ts";
import {
  buildInitializer,
  buildOptimizer,
  combineOf,
  disposeFrozen,
  encodeInput,
  encodeTarget,
  evaluatePrompt,
  type Frozen,
  loadFrozen,
  loadSplit,
  resolveRun,
} from "./_run.ts";
import { taskFromConfig } from "./_task.ts";

/**
 * `train --help`.
 *
 * @example
 * ```ts
 * import { TRAIN_HELP } from "./train.ts";
 * console.assert(TRAIN_HELP.includes("--resume"));
 * ```
 */
export const TRAIN_HELP =
  `Usage: deno run --allow-read --allow-write=RUN_DIR cli.ts train --config FILE [options]

Tunes a soft prompt in front of a frozen model, as the run configuration says.

Options:
  --config FILE     A configuration file (repeatable; later files win), e.g.
                    configs/models/…, configs/prompts/…, configs/runs/prompt_finetune.json
  --set a.b=VALUE   Override one value after the files (repeatable), e.g. --set train.steps=100
  --run-dir DIR     Where checkpoints and exports go (the same as --set run_dir=DIR)
  --resume          Continue from the run directory's latest checkpoint
  --debug           Show the stack trace of an error

The resolved configuration is printed first and saved as RUN_DIR/config.json. The model
directory must hold tokenizer.json. Writes RUN_DIR/checkpoints/, prompts/, metrics.jsonl,
best.npy (with an evaluation), prompt.npy and adapter/ (a PEFT prompt-tuning adapter).
Evaluation runs every train.eval_every steps on the task's eval.split when it has one.`;

/** The training evaluator: validation loss, and the task's metrics by `eval.method`. */
function evaluator(
  frozen: Frozen,
  byIds: ReadonlyMap<TokenExample, Example>,
  run: RunConfig,
  task: Task,
  objective: ObjectiveOptions,
): Evaluate<TokenExample> {
  const { model } = frozen;
  const padId = specialIds(model).padTokenId;
  const loss = lossEvaluator<TokenExample, ReturnType<typeof collateExamples>>({
    loss: (prompt, batch) => promptLoss(model, batch, objective)(prompt),
    collate: (xs) => collateExamples(model, xs, { padId }),
    batchSize: run.eval.batch_size,
  });
  return async (prompt, examples, context) => {
    const l = await loss(prompt, examples, context);
    const original = examples.map((x) => byIds.get(x) as Example);
    const { metrics } = await evaluatePrompt(frozen, prompt, task, original, run);
    return { ...l, ...metrics };
  };
}

/**
 * Runs `train` with the arguments after the command's name.
 *
 * @param args the arguments
 * @returns when done; throws {@link UsageError} or {@link Failure}
 * @example
 * ```ts
 * import { runTrain } from "./train.ts";
 * let failed = false;
 * try {
 *   await runTrain(["--config", "no/such/config.json"]);
 * } catch {
 *   failed = true;
 * }
 * console.assert(failed);
 * ```
 */
export async function runTrain(args: readonly string[]): Promise<void> {
  const p = parseCommand("train", args, {
    config: "strings",
    set: "strings",
    "run-dir": "string",
    resume: "boolean",
  });
  if (p.flags.has("help")) return console.log(TRAIN_HELP);
  positionals(p, "train", []);
  const files = p.values.get("config") ?? [];
  const sets = [...(p.values.get("set") ?? [])];
  if (files.length === 0 && sets.length === 0) {
    throw new UsageError("train needs --config FILE (see train --help)");
  }
  const runDirArg = one(p, "run-dir");
  const extra = runDirArg === undefined
    ? []
    : [{ source: "--run-dir", value: { run_dir: runDirArg } }];
  const config = await resolveRun(files, sets, { after: extra });
  const data = orFail(taskFromConfig(config.task));
  const task = data.task;
  const metricNames = ["loss", ...task.metrics];
  const stopMetric = config.train.early_stopping.metric;
  if (!metricNames.includes(stopMetric)) {
    throw new Failure([
      problem(
        "Invalid",
        "train.early_stopping.metric",
        `${task.name} evaluation reports ${metricNames.join(", ")}, not "${stopMetric}"`,
      ),
    ]);
  }
  console.log(formatConfig(config).trimEnd());

  const trainSet = (await loadSplit(data, "train", config.train.on_bad_record))
    .filter((e) => e.targets !== "");
  const hasEval = Object.hasOwn(task.files, config.eval.split);
  const evalSet = hasEval
    ? (await loadSplit(data, config.eval.split, config.train.on_bad_record)).filter((e) =>
      e.targets !== ""
    )
    : [];

  const frozen = await loadFrozen(config.model);
  try {
    const initializer = await buildInitializer(config, frozen, task);
    const optimizer = buildOptimizer(config.optimizer);
    const { tokenizer } = frozen;
    const tokens = (e: Example): TokenExample => ({
      inputIds: encodeInput(tokenizer, e.inputs, config.train.max_input_length),
      targetIds: encodeTarget(tokenizer, e.targets, config.train.max_target_length),
    });
    const train = trainSet.map(tokens);
    const byIds = new Map<TokenExample, Example>();
    const validation = evalSet.map((e) => {
      const t = tokens(e);
      byIds.set(t, e);
      return t;
    });
    const objective: ObjectiveOptions = {
      combine: combineOf(config.prompt.combine),
      lossOptions: { labelSmoothing: config.train.label_smoothing, zLoss: config.train.z_loss },
    };
    const runDir = config.run_dir;
    const existing = await listCheckpoints(runDir);
    if (existing.length > 0 && !p.flags.has("resume")) {
      throw new Failure([
        problem(
          "Invalid",
          runDir,
          `Run directory already holds checkpoints (up to step ${
            existing[existing.length - 1]
          }); pass --resume to continue, or give another --run-dir`,
        ),
      ]);
    }
    orFail(await writeResolvedConfig(runDir, config));
    const evaluate = validation.length > 0
      ? { validation, evaluate: evaluator(frozen, byIds, config, task, objective) }
      : {};
    if (validation.length === 0) {
      console.log(`No labelled ${config.eval.split} examples: training without evaluation`);
    }
    const es = config.train.early_stopping;
    const result = orFail(
      await tunePrompt({
        model: frozen.model,
        initializer,
        promptLength: config.prompt.length,
        key: key(config.train.seed),
        runDir,
        train,
        ...evaluate,
        evalEvery: config.train.eval_every,
        metric: es.metric,
        mode: es.mode,
        ...(es.patience !== null && validation.length > 0 ? { patience: es.patience } : {}),
        optimizer,
        ...(config.optimizer.clip_norm === null ? {} : { clipNorm: config.optimizer.clip_norm }),
        batchSize: config.train.batch_size,
        steps: config.train.steps,
        checkpointEvery: config.train.checkpoint_every,
        ...(config.train.keep === null ? {} : { keep: config.train.keep }),
        resume: p.flags.has("resume"),
        objective,
        padId: specialIds(frozen.model).padTokenId,
      }),
    );
    const shape = result.prompt.shape;
    result.prompt.dispose();
    const loss = result.finalLoss === null ? "none" : result.finalLoss.toFixed(4);
    console.log(
      `Stopped: ${result.stopped} after ${result.steps} steps (${result.stepsRun} in this run${
        result.resumedFrom === null ? "" : `, resumed from step ${result.resumedFrom}`
      }); final loss ${loss}`,
    );
    if (result.best !== null) {
      console.log(
        `Best: ${result.best.metric} ${result.best.value.toFixed(4)} at step ${result.best.step} (${
          join(runDir, "best.npy")
        })`,
      );
    }
    if (result.stopped === "nan") {
      throw new Failure([
        problem("Invalid", runDir, result.message ?? "The loss became NaN; nothing was exported"),
      ]);
    }
    console.log(`Prompt [${shape.join(", ")}]: ${result.promptFile}`);
    if (result.adapterDir !== undefined) console.log(`PEFT adapter: ${result.adapterDir}`);
    console.log(`Configuration: ${join(runDir, "config.json")}`);
    if (result.stopped === "interrupted") {
      throw new Failure([
        problem("Invalid", runDir, `Interrupted at step ${result.steps}; continue with --resume`),
      ]);
    }
  } finally {
    disposeFrozen(frozen);
  }
}
