/**
 * Evaluating a prompt (or none) on labelled examples as the run configuration says: rank
 * classification over the task's label words, or generation then matching, then the task's
 * metrics; and the evaluator `train` runs during training (the validation loss, then those
 * metrics).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { RunConfig } from "../config/mod.ts";
import type { JsonValue } from "../config/json.ts";
import type { Example, Task } from "../data/mod.ts";
import { specialIds } from "../decode/mod.ts";
import {
  generateAndMatch,
  generationPredictions,
  rankClassify,
  rankPredictions,
} from "../eval/mod.ts";
import { problem } from "../problem.ts";
import {
  type Evaluate,
  lossEvaluator,
  promptObjective,
  type PromptObjectiveOptions,
} from "../training/mod.ts";
import type { TokenExample } from "../data/batch.ts";
import { Failure } from "./args.ts";
import { encodeInput, encodeTarget } from "./_encode.ts";
import { taskMetrics } from "./_metrics.ts";
import type { Frozen } from "./_model.ts";
import { combineOf, generateOptions } from "./_run_config.ts";

/**
 * A prompt's evaluation: the metrics and one JSON row per example.
 *
 * @example
 * ```ts
 * import type { Evaluation } from "./_evaluate.ts";
 * import assert from "node:assert/strict";
 * const e: Evaluation = { metrics: { accuracy: 1 }, rows: [] };
 * assert(e.metrics.accuracy === 1);
 * ```
 */
export interface Evaluation {
  /** Metric name → value. */
  readonly metrics: Record<string, number>;
  /** Per example: index, prediction, target, location, and scores or generated ids. */
  readonly rows: JsonValue[];
}

/**
 * Evaluates a prompt (or none) on labelled examples as the configuration says: rank
 * classification over the task's label words, or generation then matching, then the task's
 * metrics.
 *
 * @param frozen the model and tokenizer
 * @param prompt `[P, H]` float32, or undefined for the model alone (not disposed)
 * @param task the task
 * @param examples labelled examples
 * @param config the configuration (`eval`, `decoding`, `train.max_*_length`, `prompt.combine`)
 * @returns the metrics and rows; throws {@link Failure}
 * @example
 * ```ts
 * import { orThrow } from "../problem.ts";
 * import { evaluatePrompt } from "./_evaluate.ts";
 * import { disposeFrozen, loadFrozen } from "./_model.ts";
 * import { resolveRun } from "./_run_config.ts";
 * import { loadSplit, taskFromConfig } from "./_task.ts";
 * import assert from "node:assert/strict";
 * const config = await resolveRun([], [
 *   "model=tests/fixtures/cli/model", "task.name=glue/sst2", "task.data_dir=tests/fixtures/cli/sst2",
 *   "prompt.length=2", "prompt.initializer.kind=sampled_vocab",
 * ]);
 * const data = orThrow(taskFromConfig(config.task));
 * const dev = await loadSplit(data, "validation", "fail");
 * const frozen = await loadFrozen(config.model);
 * const { metrics, rows } = await evaluatePrompt(frozen, undefined, data.task, dev, config);
 * assert(rows.length === dev.length && metrics.accuracy >= 0 && metrics.accuracy <= 1);
 * disposeFrozen(frozen);
 * ```
 */
export async function evaluatePrompt(
  frozen: Frozen,
  prompt: tf.Tensor | undefined,
  task: Task,
  examples: readonly Example[],
  config: RunConfig,
): Promise<Evaluation> {
  const { model, tokenizer } = frozen;
  const inputs = examples.map((e) =>
    encodeInput(tokenizer, e.inputs, config.train.max_input_length)
  );
  const combine = combineOf(config.prompt.combine);
  const where = (rows: JsonValue[]) =>
    rows.map((r, i) => ({
      ...(r as Record<string, JsonValue>),
      location: examples[i].meta.location,
    }));
  let predictions: string[];
  let rows: JsonValue[];
  if (config.eval.method === "rank") {
    const words = task.labelWords;
    if (words === undefined) {
      throw new Failure([
        problem(
          "Invalid",
          "eval.method",
          `Task ${task.name} has no label words to rank; use --set eval.method=generate`,
        ),
      ]);
    }
    const labels = words.map((w) => encodeTarget(tokenizer, w, config.train.max_target_length));
    const ranked = await rankClassify(model, prompt, inputs, labels, {
      lengthNormalize: config.eval.length_normalize,
      batchSize: config.eval.batch_size,
      combine,
      padTokenId: specialIds(model).padTokenId,
    });
    predictions = ranked.map((r) => words[r.predicted]);
    const targets = examples.map((e) => {
      const i = words.indexOf(e.targets);
      return i < 0 ? undefined : i;
    });
    rows = where(rankPredictions(ranked, words, targets));
  } else {
    const generated = await generateAndMatch(
      model,
      prompt,
      inputs.map((inputIds, i) => ({ inputIds, target: examples[i].targets })),
      generateOptions(config, tokenizer),
    );
    predictions = generated.map((g) => g.prediction.trim());
    rows = where(generationPredictions(generated));
  }
  return { metrics: taskMetrics(task, predictions, examples), rows };
}

/**
 * The evaluator `train` runs every `train.eval_every` steps: the validation loss (the training
 * loss, so the rank loss with `rank`), then the task's metrics by `eval.method`
 * ({@link evaluatePrompt} on the examples the token examples came from).
 *
 * @param frozen the model and tokenizer
 * @param byIds each validation token example's original example
 * @param run the configuration (`eval`, `decoding`, `train.max_*_length`, `prompt.combine`)
 * @param task the task
 * @param objective the loss options and the rank loss's labels, as training uses them
 * @returns the evaluator for the training loop
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import { orThrow } from "../problem.ts";
 * import { encodeExample } from "./_encode.ts";
 * import { trainingEvaluator } from "./_evaluate.ts";
 * import { disposeFrozen, loadFrozen } from "./_model.ts";
 * import { resolveRun } from "./_run_config.ts";
 * import { loadSplit, taskFromConfig } from "./_task.ts";
 * import assert from "node:assert/strict";
 * const config = await resolveRun([], [
 *   "model=tests/fixtures/cli/model", "task.name=glue/sst2", "task.data_dir=tests/fixtures/cli/sst2",
 *   "prompt.length=2", "prompt.initializer.kind=sampled_vocab",
 * ]);
 * const data = orThrow(taskFromConfig(config.task));
 * const dev = await loadSplit(data, "validation", "fail");
 * const frozen = await loadFrozen(config.model);
 * const tokens = dev.map((e) => encodeExample(frozen.tokenizer, e, config.train));
 * const byIds = new Map(tokens.map((t, i) => [t, dev[i]]));
 * const evaluate = trainingEvaluator(frozen, byIds, config, data.task, { objective: {} });
 * const prompt = tf.zeros([2, frozen.width]);
 * const m = await evaluate(prompt, tokens, { step: 1, key: key(1), training: false });
 * assert(m.loss > 0 && m.accuracy >= 0 && m.accuracy <= 1);
 * prompt.dispose();
 * disposeFrozen(frozen);
 * ```
 */
export function trainingEvaluator(
  frozen: Frozen,
  byIds: ReadonlyMap<TokenExample, Example>,
  run: RunConfig,
  task: Task,
  objective: Pick<PromptObjectiveOptions, "objective" | "rank">,
): Evaluate<TokenExample> {
  const { model } = frozen;
  const padId = specialIds(model).padTokenId;
  const { collate, loss: lossOf } = promptObjective(model, {
    objective: objective.objective,
    rank: objective.rank,
    padId,
  });
  const loss = lossEvaluator({ loss: lossOf, collate, batchSize: run.eval.batch_size });
  return async (prompt, examples, context) => {
    const l = await loss(prompt, examples, context);
    const original = examples.map((x) => byIds.get(x) as Example);
    const { metrics } = await evaluatePrompt(frozen, prompt, task, original, run);
    return { ...l, ...metrics };
  };
}
