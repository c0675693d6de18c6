/**
 * `train`: tune a soft prompt as a run configuration says, with checkpoints, evaluation on the
 * validation split, early stopping, and the prompt exported as `.npy` and as a PEFT adapter.
 *
 * @module
 */
import { join, relative } from "node:path";
import { assetLocation, localAsset, packageOnDisk } from "../assets.ts";
import { formatConfig, writeResolvedConfig } from "../config/mod.ts";
import type { Example } from "../data/mod.ts";
import { key } from "../random/mod.ts";
import { type ObjectiveOptions, tunePrompt } from "../training/mod.ts";
import type { TokenExample } from "../data/batch.ts";
import { checkRunDir } from "../training/resume.ts";
import { checkPeak, estimatePeakBytes } from "../training/memory.ts";
import { specialIds } from "../decode/mod.ts";
import { problem } from "../problem.ts";
import { Failure, Interrupted, one, orFail, parseCommand, positionals } from "./args.ts";
import { compareOnSplit, comparisonMarkdown, writeComparison } from "./compare.ts";
import { encodeExample, encodeTarget } from "./_encode.ts";
import { trainingEvaluator } from "./_evaluate.ts";
import { disposeFrozen, loadFrozen } from "./_model.ts";
import { localModelDir } from "./embedded.ts";
import { fingerprintModel } from "../io/fingerprint.ts";
import { buildInitializer, buildOptimizer, combineOf, resolveRun } from "./_run_config.ts";
import { checkResumeConfig, checkRunDirPath } from "./_run_dir.ts";
import { checkEvalMemory } from "./_memory.ts";
import { loadSplit, taskFromConfig } from "./_task.ts";
import { rankClasses } from "./_rank_classes.ts";
import { runMixtureTrain } from "./_train_mixture.ts";

/** The default run configuration's path inside the package. */
const DEFAULT_RUN = "configs/runs/default.json";

/**
 * The configuration `train` uses when given no `--config`: the embedded model, the spam task,
 * a short run sized for a few minutes on two CPU cores (`configs/runs/default.json`; its URL when
 * the package was imported from one).
 *
 * @example
 * ```ts
 * import { DEFAULT_RUN_CONFIG } from "./train.ts";
 * import assert from "node:assert/strict";
 * assert(DEFAULT_RUN_CONFIG.endsWith("default.json"));
 * ```
 */
export const DEFAULT_RUN_CONFIG: string = assetLocation(DEFAULT_RUN);

/**
 * The run directory of a default run started at `date`: `runs/default-YYYYMMDD-HHMMSS` (UTC), so
 * that repeated runs never meet an earlier one's directory.
 *
 * @param date when the run starts
 * @returns the directory, relative to the working directory
 * @example
 * ```ts
 * import { defaultRunDir } from "./train.ts";
 * import assert from "node:assert/strict";
 * assert(defaultRunDir(new Date(Date.UTC(2026, 10, 26, 9, 5, 7))) === "runs/default-20261126-090507");
 * ```
 */
export function defaultRunDir(date: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const day = `${date.getUTCFullYear()}${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}`;
  const time = `${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}`;
  return `runs/default-${day}-${time}`;
}

/**
 * `train --help`.
 *
 * @example
 * ```ts
 * import { TRAIN_HELP } from "./train.ts";
 * import assert from "node:assert/strict";
 * assert(TRAIN_HELP.includes("--resume"));
 * ```
 */
export const TRAIN_HELP =
  `Usage: deno run --allow-read --allow-write=RUN_DIR cli.ts train [--config FILE…] [options]

Tunes a soft prompt in front of a frozen model, as the run configuration says.

Without --config, the default run (configs/runs/default.json): the embedded T5
(embedded:default) on the SpamAssassin spam task, 20 prompt tokens, a few hundred steps, then
the comparison on the test split (as --compare), in runs/default-YYYYMMDD-HHMMSS/.

Options:
  --config FILE     A configuration file (repeatable; later files win), e.g.
                    configs/models/…, configs/prompts/…, configs/runs/prompt_finetune.json
  --set a.b=VALUE   Override one value after the files (repeatable), e.g. --set train.steps=100
  --run-dir DIR     Where checkpoints and exports go (the same as --set run_dir=DIR)
  --resume          Continue from the run directory's latest checkpoint. The configuration
                    must be the run's (RUN_DIR/config.json) except for run_dir, train.steps,
                    train.checkpoint_every, train.keep, train.eval_every,
                    train.early_stopping.patience, eval.batch_size and (with eval.method
                    "rank") decoding.*: any other difference is refused, naming the field,
                    and config.json is left as it was
  --compare         After training, evaluate on the test split the frozen model without a
                    prompt, the tuned prompt and a bag-of-words logistic regression; print the
                    table and save it as RUN_DIR/results.json and results.md
  --debug           Show the stack trace of an error

The resolved configuration is printed first and saved as RUN_DIR/config.json. The model
directory must hold tokenizer.json. Writes RUN_DIR/checkpoints/, prompts/, metrics.jsonl,
best.npy (with an evaluation), prompt.npy and adapter/ (a PEFT prompt-tuning adapter).
Evaluation runs every train.eval_every steps on the task's eval.split when it has one.

With a "mixture" in the configuration, every task's prompt trains in one run (batches mix the
tasks at their rates); after training each task's prompt is evaluated on its eval.split, the
metrics printed per task and saved as RUN_DIR/results.json, the prompts written as
RUN_DIR/tasks/NAME/prompt.npy and adapter/.`;

/**
 * Runs `train` with the arguments after the command's name.
 *
 * @param args the arguments
 * @returns when done; throws `UsageError` or {@link Failure}
 * @example
 * ```ts
 * import { runTrain } from "./train.ts";
 * import assert from "node:assert/strict";
 * let failed = false;
 * try {
 *   await runTrain(["--config", "no/such/config.json"]);
 * } catch {
 *   failed = true;
 * }
 * assert(failed);
 * ```
 */
export async function runTrain(args: readonly string[]): Promise<void> {
  const p = parseCommand("train", args, {
    config: "strings",
    set: "strings",
    "run-dir": "string",
    resume: "boolean",
    compare: "boolean",
  });
  if (p.flags.has("help")) return console.log(TRAIN_HELP);
  positionals(p, "train", []);
  const given = p.values.get("config") ?? [];
  const isDefault = given.length === 0;
  const onDisk = packageOnDisk();
  const files = !isDefault
    ? given
    : onDisk
    ? [relative(Deno.cwd(), DEFAULT_RUN_CONFIG) || DEFAULT_RUN_CONFIG]
    : [orFail(await localAsset(DEFAULT_RUN))];
  const sets = [...(p.values.get("set") ?? [])];
  const compare = isDefault || p.flags.has("compare");
  const runDirArg = one(p, "run-dir");
  const extra = runDirArg === undefined
    ? []
    : [{ source: "--run-dir", value: { run_dir: runDirArg } }];
  const before = isDefault
    ? [{ source: "the default run", value: { run_dir: defaultRunDir(new Date()) } }]
    : [];
  if (isDefault) {
    console.log(`No --config: the default run (${onDisk ? files[0] : DEFAULT_RUN_CONFIG})`);
  }
  const config = await resolveRun(files, sets, { before, after: extra });
  // Before anything is printed or written: a usable run directory, and a resume of the same run.
  await checkRunDirPath(config.run_dir, runDirArg === undefined ? "run_dir" : "--run-dir");
  if (p.flags.has("resume")) await checkResumeConfig(config.run_dir, config);
  if (config.mixture !== undefined) {
    if (p.flags.has("compare")) {
      throw new Failure([
        problem(
          "Invalid",
          "--compare",
          "A mixture is evaluated per task after training; drop --compare",
        ),
      ]);
    }
    console.log(formatConfig(config).trimEnd());
    return await runMixtureTrain(config, p.flags.has("resume"));
  }
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

  const cap = <T>(xs: readonly T[], n: number | null): readonly T[] =>
    n === null ? xs : xs.slice(0, n);
  const labelled = async (split: string) =>
    (await loadSplit(data, split, config.train.on_bad_record)).filter((e) => e.targets !== "");
  const trainSet = cap(await labelled("train"), config.train.max_examples);
  const hasEval = Object.hasOwn(task.files, config.eval.split);
  const evalSet = hasEval ? cap(await labelled(config.eval.split), config.eval.max_examples) : [];
  const compareSplit = "test";
  if (compare && (!Object.hasOwn(task.files, compareSplit) || task.labelWords === undefined)) {
    throw new Failure([
      problem(
        "Invalid",
        "--compare",
        `Task ${task.name} needs a labelled ${compareSplit} split and label words for the comparison`,
      ),
    ]);
  }
  const testSet = compare ? cap(await labelled(compareSplit), config.eval.max_examples) : [];

  const frozen = await loadFrozen(config.model);
  try {
    // The model's files, kept in each checkpoint: a resume against other files is refused.
    const modelFiles = await localModelDir(config.model);
    const modelFingerprint = modelFiles === undefined
      ? undefined
      : orFail(await fingerprintModel(modelFiles));
    const initializer = await buildInitializer(config, frozen, task);
    const optimizer = buildOptimizer(config.optimizer);
    const { tokenizer } = frozen;
    const tokens = (e: Example): TokenExample => encodeExample(tokenizer, e, config.train);
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
      recompute: config.train.recompute,
    };
    const rank = config.train.loss === "rank"
      ? {
        classes: rankClasses(
          task,
          (w) => encodeTarget(tokenizer, w, config.train.max_target_length),
          [...trainSet, ...evalSet],
        ),
        lengthNormalize: config.eval.length_normalize,
      }
      : undefined;
    // Before the first step (and before anything is written): would one step fit the heap?
    const longest = (f: (t: TokenExample) => number) => Math.max(1, ...train.map(f));
    const step = estimatePeakBytes(frozen.model, {
      batchSize: config.train.batch_size,
      inputLength: longest((t) => t.inputIds.length),
      targetLength: longest((t) => t.targetIds.length),
      promptLength: config.prompt.length,
      labels: rank?.classes.length ?? 1,
      recompute: config.train.recompute,
    });
    const tooLarge = checkPeak("One training step", step, [
      `train.batch_size (now ${config.train.batch_size})`,
      `train.max_input_length (now ${config.train.max_input_length})`,
      ...(config.train.recompute === "none" ? ['train.recompute ("layer")'] : []),
    ]);
    if (tooLarge !== undefined) throw new Failure([tooLarge]);
    // And one batch of the evaluations during (eval.method) and after (rank) training.
    const evals = [
      ...(validation.length > 0 ? [config.eval.method] : []),
      ...(compare ? ["rank" as const] : []),
    ];
    for (const method of new Set(evals)) {
      const labels = task.labelWords?.length ?? 1;
      const promptLength = config.prompt.length;
      checkEvalMemory(
        frozen.model,
        config,
        { method, promptLength, labels },
        "One evaluation batch",
      );
    }
    const runDir = config.run_dir;
    orFail(
      await checkRunDir(runDir, {
        resume: p.flags.has("resume"),
        refuseNonEmpty: true, // config.json goes in before the first checkpoint
        resumeHint: "--resume",
        elsewhere: "give another --run-dir",
      }),
    );
    orFail(await writeResolvedConfig(runDir, config));
    const evaluate = validation.length > 0
      ? {
        validation,
        evaluate: trainingEvaluator(frozen, byIds, config, task, { objective, rank }),
      }
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
        ...(modelFingerprint === undefined ? {} : { modelFingerprint }),
        objective,
        rank,
        padId: specialIds(frozen.model).padTokenId,
      }),
    );
    const shape = result.prompt.shape;
    let comparison;
    try {
      if (compare && result.stopped !== "nan" && result.stopped !== "interrupted") {
        console.log(`Evaluating on the ${compareSplit} split (${testSet.length} examples)`);
        comparison = await compareOnSplit(
          frozen,
          result.prompt,
          task,
          { train: trainSet, split: compareSplit, examples: testSet },
          config,
          `prompt-tuned (${config.prompt.length} tokens, ${result.steps} steps)`,
        );
      }
    } finally {
      result.prompt.dispose();
    }
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
    if (comparison !== undefined) {
      const [json, md] = await writeComparison(runDir, comparison);
      console.log(`Results: ${json}, ${md}\n`);
      console.log(comparisonMarkdown(comparison).trimEnd());
    }
    if (result.stopped === "interrupted") {
      throw new Interrupted([
        problem("Invalid", runDir, `Interrupted at step ${result.steps}; continue with --resume`),
      ]);
    }
  } finally {
    disposeFrozen(frozen);
  }
}
