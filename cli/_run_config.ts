/**
 * The run configuration, and the objects it names: the configuration itself (files, extra
 * layers, `--set`), how the prompt meets the input, the prompt initializer, the optimizer and its
 * learning-rate schedule, and the decoding and generation.
 *
 * Every function here throws {@link Failure} (one line per problem) rather than returning an
 * `Either`: they are the command line's last step before printing.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import {
  type CombineKind,
  type DecodingConfig,
  type FallbackInit,
  type InitializerConfig,
  type Layer,
  type OptimizerConfig,
  readConfigFile,
  resolveLayers,
  type RunConfig,
  type ScheduleConfig,
} from "../config/mod.ts";
import type { JsonValue } from "../config/json.ts";
import type { Task } from "../data/mod.ts";
import type { Decoding } from "../decode/mod.ts";
import type { GenerateOptions } from "../eval/mod.ts";
import {
  fromArray,
  fromEmbeddedList,
  fromEmbeddedString,
  fromSampleOfEmbeddings,
  type Initializer,
  randomUniform,
} from "../initializers/mod.ts";
import { problem } from "../problem.ts";
import { key } from "../random/mod.ts";
import {
  adafactor,
  adam,
  adamw,
  constantSchedule,
  cosineDecaySchedule,
  type LearningRate,
  linearSchedule,
  linearWarmup,
  type Optimizer,
  rsqrtDecaySchedule,
} from "../training/mod.ts";
import { type Combine, prefix, prefixAfterBos, suffix } from "../model/combine.ts";
import { Failure, orFail } from "./args.ts";
import { embeddedModelNames } from "./embedded.ts";
import type { Frozen } from "./_model.ts";
import { checkPromptWidth, readPrompt } from "./_prompt.ts";
import { knownTaskNames } from "./_task.ts";

/**
 * Reads the configuration files, merges them between the extra layers (defaults before, what a
 * command's own options imply after), applies the `--set` overrides and validates, with the
 * built-in task and embedded model names known (an unknown one gets a did-you-mean).
 *
 * @param files `--config` files, in order
 * @param sets `--set` overrides, in order
 * @param extra layers merged before and after the files
 * @returns the configuration; throws {@link Failure} listing every problem
 * @example
 * ```ts
 * import { resolveRun } from "./_run_config.ts";
 * import assert from "node:assert/strict";
 * const c = await resolveRun([], ["model=m", "task=glue/sst2", "prompt.length=4", "prompt.initializer.kind=sampled_vocab"]);
 * assert(c.prompt.length === 4);
 * ```
 */
export async function resolveRun(
  files: readonly string[],
  sets: readonly string[],
  extra: { readonly before?: readonly Layer[]; readonly after?: readonly Layer[] } = {},
): Promise<RunConfig> {
  const read = await Promise.all(files.map((f) => readConfigFile(f)));
  const bad = read.flatMap((r) => E.isLeft(r) ? [r.left] : []);
  if (bad.length > 0) throw new Failure(bad);
  const layers = read.map((r, i) => ({ source: files[i], value: (r as E.Right<JsonValue>).right }));
  const resolved = resolveLayers(
    [...(extra.before ?? []), ...layers, ...(extra.after ?? [])],
    sets,
    { knownTasks: knownTaskNames(), knownModels: embeddedModelNames() },
  );
  if (E.isLeft(resolved)) throw new Failure(resolved.left);
  const config = resolved.right;
  return config;
}

/**
 * The way the prompt meets the input that `prompt.combine` names.
 *
 * @param kind `"prefix"`, `"prefix_after_bos"` or `"suffix"`
 * @returns {@link prefix}, {@link prefixAfterBos} or {@link suffix}
 * @example
 * ```ts
 * import { suffix } from "../model/combine.ts";
 * import { combineOf } from "./_run_config.ts";
 * import assert from "node:assert/strict";
 * assert(combineOf("suffix") === suffix);
 * ```
 */
export function combineOf(kind: CombineKind): Combine {
  return kind === "suffix" ? suffix : kind === "prefix_after_bos" ? prefixAfterBos : prefix;
}

function fallbackOf(f: FallbackInit, embeddings: tf.Tensor): Initializer {
  return f.kind === "random_uniform"
    ? randomUniform(f.scale, { range: f.range })
    : fromSampleOfEmbeddings(embeddings, { populationSize: f.population });
}

/**
 * The prompt initializer a configuration asks for. `class_labels` embeds the task's label words
 * (or the configured texts) over the fallback; `from_file` reads the file now and checks its shape
 * against the model's width and `prompt.length`.
 *
 * @param config the whole configuration (`prompt` is read, and the task for label words)
 * @param frozen the model and tokenizer
 * @param task the task
 * @returns the initializer; throws {@link Failure}
 * @example
 * ```ts
 * import { key } from "../random/mod.ts";
 * import { disposeFrozen, loadFrozen } from "./_model.ts";
 * import { buildInitializer, resolveRun } from "./_run_config.ts";
 * import assert from "node:assert/strict";
 * const config = await resolveRun([], [
 *   "model=tests/fixtures/cli/model", "task=glue/sst2", "prompt.length=3",
 *   "prompt.initializer.kind=from_string", "prompt.initializer.text=great",
 * ]);
 * const frozen = await loadFrozen(config.model);
 * const task = { name: "t", inputs: "", targets: "", metrics: [], files: {} } as never;
 * const init = await buildInitializer(config, frozen, task);
 * const prompt = init(key(1), [config.prompt.length, frozen.width]); // [P, H]
 * assert(prompt.shape.join() === `3,${frozen.width}`);
 * prompt.dispose();
 * disposeFrozen(frozen);
 * ```
 */
export async function buildInitializer(
  config: RunConfig,
  frozen: Frozen,
  task: Task,
): Promise<Initializer> {
  const init: InitializerConfig = config.prompt.initializer;
  const { embeddings, tokenizer } = frozen;
  switch (init.kind) {
    case "random_uniform":
    case "sampled_vocab":
      return fallbackOf(init, embeddings);
    case "class_labels": {
      const texts = init.texts ?? task.labelWords;
      if (texts === undefined) {
        throw new Failure([
          problem(
            "Invalid",
            "prompt.initializer.texts",
            `Task ${task.name} has no label words; give the texts or another initializer`,
          ),
        ]);
      }
      return fromEmbeddedList(embeddings, tokenizer, texts, {
        aggregate: init.aggregate,
        fallback: fallbackOf(init.fallback, embeddings),
      });
    }
    case "from_string":
      return fromEmbeddedString(embeddings, tokenizer, init.text, {
        fallback: fallbackOf(init.fallback, embeddings),
      });
    case "from_file": {
      const h = orFail(await readPrompt(init.path, init.name ?? undefined));
      orFail(checkPromptWidth(h, frozen.width, init.path));
      if (h.shape[0] !== config.prompt.length) {
        throw new Failure([
          problem(
            "Mismatch",
            init.path,
            `The prompt has ${
              h.shape[0]
            } rows but prompt.length is ${config.prompt.length}; set prompt.length=${h.shape[0]}`,
          ),
        ]);
      }
      return fromArray(h);
    }
  }
}

function scheduleOf(peak: number, s: ScheduleConfig): LearningRate {
  const warm = (steps: number, then: (step: number) => number) =>
    steps > 0 ? linearWarmup(steps, then) : then;
  switch (s.kind) {
    case "constant":
      return peak;
    case "linear_warmup":
      return linearWarmup(s.warmup_steps, constantSchedule(peak));
    case "linear_decay":
      return warm(s.warmup_steps, linearSchedule(peak, s.end_learning_rate, s.decay_steps));
    case "cosine":
      return warm(s.warmup_steps, cosineDecaySchedule(peak, s.decay_steps, { alpha: s.alpha }));
    case "rsqrt":
      return rsqrtDecaySchedule(peak, s.warmup_steps);
  }
}

/**
 * The optimizer and learning-rate schedule a configuration asks for (snake_case fields mapped to
 * the optimizers' options: `decay_offset` → `decayOffset`, `weight_decay_scaling`
 * `"learning_rate"` → `"learningRate"`, `betas` → `beta1`, `beta2`, …).
 *
 * @param o the configuration's `optimizer`
 * @returns the optimizer
 * @example
 * ```ts
 * import { buildOptimizer } from "./_run_config.ts";
 * import assert from "node:assert/strict";
 * const opt = buildOptimizer({
 *   kind: "adamw", learning_rate: 1e-3, schedule: { kind: "linear_warmup", warmup_steps: 10 },
 *   clip_norm: null, weight_decay: 0.01, betas: [0.9, 0.999], eps: 1e-8,
 * });
 * assert(opt.name === "adamw" && opt.learningRate(5) === 5e-4);
 * ```
 */
export function buildOptimizer(o: OptimizerConfig): Optimizer {
  const learningRate = scheduleOf(o.learning_rate, o.schedule);
  if (o.kind === "adafactor") {
    return adafactor({
      learningRate,
      decayRate: o.decay_rate,
      decayOffset: o.decay_offset,
      clippingThreshold: o.clipping_threshold,
      multiplyByParameterScale: o.multiply_by_parameter_scale,
      momentum: o.momentum,
      weightDecay: o.weight_decay,
      weightDecayScaling: o.weight_decay_scaling === "learning_rate"
        ? "learningRate"
        : o.weight_decay_scaling === "step_size"
        ? "stepSize"
        : "none",
      epsilon1: o.epsilon1,
      epsilon2: o.epsilon2,
      factored: o.factored,
    });
  }
  const options = {
    learningRate,
    beta1: o.betas[0],
    beta2: o.betas[1],
    eps: o.eps,
    weightDecay: o.weight_decay,
  };
  return o.kind === "adam" ? adam(options) : adamw(options);
}

/**
 * The decoding a configuration asks for.
 *
 * @param d the configuration's `decoding`
 * @returns the decoding of `decode/`
 * @example
 * ```ts
 * import { decodingOf } from "./_run_config.ts";
 * import assert from "node:assert/strict";
 * const d = decodingOf({
 *   mode: "beam", num_beams: 4, length_penalty: 0.6, top_k: 0, top_p: 1, temperature: 1,
 *   max_length: 64, seed: 42,
 * });
 * assert(d.mode === "beam" && d.numBeams === 4);
 * ```
 */
export function decodingOf(d: DecodingConfig): Decoding {
  switch (d.mode) {
    case "greedy":
      return { mode: "greedy" };
    case "beam":
      return { mode: "beam", numBeams: d.num_beams, lengthPenalty: d.length_penalty };
    case "sample":
      return {
        mode: "sample",
        temperature: d.temperature,
        topP: d.top_p,
        ...(d.top_k > 0 ? { topK: d.top_k } : {}),
      };
  }
}

/**
 * How `eval` and `infer` generate, as the configuration says: the decoding and its seed, the most
 * new tokens (`decoding.max_length`), the batch size (`eval.batch_size`) and where the prompt goes.
 *
 * @param config the configuration
 * @param tokenizer turns generated ids into text
 * @returns the options of `generateAndMatch`
 * @example
 * ```ts
 * import { loadTokenizer } from "../tokenizer/mod.ts";
 * import { orThrow } from "../problem.ts";
 * import { generateOptions, resolveRun } from "./_run_config.ts";
 * import assert from "node:assert/strict";
 * const config = await resolveRun([], [
 *   "model=m", "task=glue/sst2", "prompt.length=4", "prompt.initializer.kind=sampled_vocab",
 *   "decoding.max_length=7", "eval.batch_size=3",
 * ]);
 * const tokenizer = orThrow(await loadTokenizer("tests/fixtures/cli/model"));
 * const o = generateOptions(config, tokenizer);
 * assert(o.maxNewTokens === 7 && o.batchSize === 3 && o.decoding?.mode === config.decoding.mode);
 * ```
 */
export function generateOptions(
  config: RunConfig,
  tokenizer: GenerateOptions["tokenizer"],
): GenerateOptions {
  return {
    tokenizer,
    maxNewTokens: config.decoding.max_length,
    decoding: decodingOf(config.decoding),
    key: key(config.decoding.seed),
    batchSize: config.eval.batch_size,
    combine: combineOf(config.prompt.combine),
  };
}
