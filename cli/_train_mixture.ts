/**
 * `cli.ts train` for a configuration with a `mixture`: every task's prompt trained in one run
 * (`tuneMixture`), then each evaluated on its task's `eval.split`; the metrics per task are
 * printed and saved as `RUN_DIR/results.json`, the prompts as `RUN_DIR/tasks/NAME/prompt.npy`
 * and `adapter/`.
 *
 * @module
 */
import { join } from "node:path";
import type { MixtureTaskConfig, RunConfig } from "../config/mod.ts";
import { writeResolvedConfig } from "../config/mod.ts";
import type { Example } from "../data/mod.ts";
import type { TokenExample } from "../data/batch.ts";
import { specialIds } from "../decode/mod.ts";
import { writeFileAtomic } from "../io/files.ts";
import { problem } from "../problem.ts";
import { key } from "../random/mod.ts";
import { type MixtureTask, tuneMixture } from "../training/mod.ts";
import { checkRunDir } from "../training/resume.ts";
import { Failure, orFail } from "./args.ts";
import { encodeExample, encodeTarget } from "./_encode.ts";
import { evaluatePrompt } from "./_evaluate.ts";
import { disposeFrozen, loadFrozen } from "./_model.ts";
import { rankClasses } from "./_rank_classes.ts";
import { buildInitializer, buildOptimizer, combineOf } from "./_run_config.ts";
import { loadSplit, type TaskData, taskFromConfig } from "./_task.ts";

/** A configuration without its mixture: one task's run. */
function withoutMixture(config: RunConfig): RunConfig {
  const { mixture: _mixture, ...single } = config;
  return single;
}

/** A mixture task's data: its configuration as a single-task run's, and its examples. */
interface Loaded {
  readonly entry: MixtureTaskConfig;
  readonly config: RunConfig;
  readonly data: TaskData;
  readonly train: readonly Example[];
  readonly eval: readonly Example[];
}

async function loadTask(config: RunConfig, entry: MixtureTaskConfig): Promise<Loaded> {
  const data = orFail(taskFromConfig(entry.task));
  const cap = (xs: readonly Example[], n: number | null) => n === null ? xs : xs.slice(0, n);
  const labelled = async (split: string) =>
    (await loadSplit(data, split, config.train.on_bad_record)).filter((e) => e.targets !== "");
  const hasEval = Object.hasOwn(data.task.files, config.eval.split);
  return {
    entry,
    config: { ...withoutMixture(config), task: entry.task, prompt: entry.prompt },
    data,
    train: cap(await labelled("train"), config.train.max_examples),
    eval: hasEval ? cap(await labelled(config.eval.split), config.eval.max_examples) : [],
  };
}

/** The per-task metrics as a Markdown table, one row per task. */
function resultsTable(
  rows: readonly { name: string; n: number; metrics: Record<string, number> }[],
) {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.metrics)))];
  const head = `| task | examples | ${names.join(" | ")} |`;
  const rule = `| --- | ---: | ${names.map(() => "---:").join(" | ")} |`;
  const body = rows.map((r) =>
    `| ${r.name} | ${r.n} | ${names.map((m) => r.metrics[m]?.toFixed(4) ?? "").join(" | ")} |`
  );
  return [head, rule, ...body].join("\n");
}

/**
 * Trains a configuration's mixture, then evaluates each task's prompt.
 *
 * @param config the resolved configuration (with `mixture`)
 * @param resume continue from the run directory's latest checkpoint
 * @returns when done; throws {@link Failure}
 */
export async function runMixtureTrain(config: RunConfig, resume: boolean): Promise<void> {
  const mixture = config.mixture!;
  const loaded: Loaded[] = [];
  for (const entry of mixture.tasks) loaded.push(await loadTask(config, entry));
  const frozen = await loadFrozen(config.model);
  try {
    const { tokenizer } = frozen;
    const tokens = (e: Example): TokenExample => encodeExample(tokenizer, e, config.train);
    const rank = config.train.loss === "rank";
    const target = (w: string) => encodeTarget(tokenizer, w, config.train.max_target_length);
    const tasks: MixtureTask[] = [];
    for (const t of loaded) {
      tasks.push({
        name: t.entry.name,
        train: t.train.map(tokens),
        promptLength: t.entry.prompt.length,
        initializer: await buildInitializer(t.config, frozen, t.data.task),
        ...(mixture.rate === "given" ? { rate: t.entry.rate! } : {}),
        ...(rank ? { classes: rankClasses(t.data.task, target, [...t.train, ...t.eval]) } : {}),
      });
    }
    const shared = mixture.shared === null ? undefined : {
      length: mixture.shared.length,
      mode: mixture.shared.mode,
      initializer: await buildInitializer(
        {
          ...loaded[0].config,
          prompt: {
            ...config.prompt,
            length: mixture.shared.length,
            initializer: mixture.shared.initializer,
          },
        },
        frozen,
        loaded[0].data.task,
      ),
    };
    const runDir = config.run_dir;
    orFail(
      await checkRunDir(runDir, {
        resume,
        refuseNonEmpty: true,
        resumeHint: "--resume",
        elsewhere: "give another --run-dir",
      }),
    );
    orFail(await writeResolvedConfig(runDir, config));
    const sizes = tasks.map((t) => `${t.name} ${t.train.length}`).join(", ");
    console.log(
      `Mixture of ${tasks.length} tasks (${mixture.rate} rates; training examples ${sizes})`,
    );
    const result = orFail(
      await tuneMixture({
        model: frozen.model,
        tasks,
        ...(shared === undefined ? {} : { shared }),
        optimizer: buildOptimizer(config.optimizer),
        ...(config.optimizer.clip_norm === null ? {} : { clipNorm: config.optimizer.clip_norm }),
        loss: config.train.loss,
        lengthNormalize: config.eval.length_normalize,
        objective: {
          combine: combineOf(config.prompt.combine),
          lossOptions: { labelSmoothing: config.train.label_smoothing, zLoss: config.train.z_loss },
          recompute: config.train.recompute,
        },
        padId: specialIds(frozen.model).padTokenId,
        key: key(config.train.seed),
        runDir,
        batchSize: config.train.batch_size,
        steps: config.train.steps,
        checkpointEvery: config.train.checkpoint_every,
        ...(config.train.keep === null ? {} : { keep: config.train.keep }),
        resume,
      }),
    );
    result.prompt.dispose();
    const rows: { name: string; n: number; metrics: Record<string, number> }[] = [];
    try {
      const loss = result.finalLoss === null ? "none" : result.finalLoss.toFixed(4);
      console.log(
        `Stopped: ${result.stopped} after ${result.steps} steps (${result.stepsRun} in this run${
          result.resumedFrom === null ? "" : `, resumed from step ${result.resumedFrom}`
        }); final loss ${loss}`,
      );
      if (result.stopped === "nan") {
        throw new Failure([
          problem("Invalid", runDir, result.message ?? "The loss became NaN; nothing was exported"),
        ]);
      }
      for (const [k, t] of result.tasks.entries()) {
        const l = loaded[k];
        console.log(`Prompt ${t.name} [${t.prompt.shape.join(", ")}]: ${t.promptFile}`);
        // The task's own run configuration, its prompt from the file: what `eval` and `infer` read.
        const own: RunConfig = {
          ...l.config,
          prompt: {
            ...l.config.prompt,
            length: t.prompt.shape[0] as number,
            initializer: { kind: "from_file", path: t.promptFile, name: null },
          },
          run_dir: join(runDir, "tasks", t.name),
        };
        orFail(await writeResolvedConfig(own.run_dir, own));
        if (l.eval.length === 0) continue;
        const { metrics } = await evaluatePrompt(frozen, t.prompt, l.data.task, l.eval, l.config);
        rows.push({ name: t.name, n: l.eval.length, metrics });
      }
    } finally {
      result.tasks.forEach((t) => t.prompt.dispose());
    }
    const json = join(runDir, "results.json");
    const split = config.eval.split;
    const out = {
      split,
      tasks: Object.fromEntries(rows.map((r) => [r.name, { examples: r.n, ...r.metrics }])),
    };
    await writeFileAtomic(json, JSON.stringify(out, null, 2) + "\n");
    console.log(`Configuration: ${join(runDir, "config.json")}`);
    console.log(`Results (${split}): ${json}\n`);
    console.log(resultsTable(rows));
    if (result.stopped === "interrupted") {
      throw new Failure([
        problem("Invalid", runDir, `Interrupted at step ${result.steps}; continue with --resume`),
      ]);
    }
  } finally {
    disposeFrozen(frozen);
  }
}
