/**
 * What `train`, `eval` and `infer` build from a run configuration: the configuration itself
 * (files, extra layers, `--set`), the frozen model and its tokenizer, the task's examples as token
 * ids, the prompt initializer, the optimizer and its schedule, the decoding, and the evaluation of
 * a prompt on labelled examples.
 *
 * Every function here throws {@link Failure} (one line per problem) rather than returning an
 * `Either`: they are the command line's last step before printing.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { initBackend } from "../backend.ts";
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
import { type Example, loadTaskSplit, type Task } from "../data/mod.ts";
import { type Decoding, specialIds } from "../decode/mod.ts";
import {
  generateAndMatch,
  generationPredictions,
  rankClassify,
  rankPredictions,
} from "../eval/mod.ts";
import {
  fromArray,
  fromEmbeddedList,
  fromEmbeddedString,
  fromSampleOfEmbeddings,
  type Initializer,
  randomUniform,
} from "../initializers/mod.ts";
import { type FrozenModel, loadModel } from "../model/load.ts";
import { type Problem, problem } from "../problem.ts";
import { key } from "../random/mod.ts";
import { type HfTokenizer, loadTokenizer } from "../tokenizer/mod.ts";
import {
  adafactor,
  adam,
  adamw,
  type Combine,
  constantSchedule,
  cosineDecaySchedule,
  type LearningRate,
  linearSchedule,
  linearWarmup,
  type Optimizer,
  prefix,
  prefixAfterBos,
  rsqrtDecaySchedule,
  suffix,
} from "../training/mod.ts";
import { disposeTree } from "../tree/tree.ts";
import { Failure, orFail } from "./_args.ts";
import { taskMetrics } from "./_metrics.ts";
import { checkPromptWidth, readPrompt } from "./_prompt.ts";
import { knownTaskNames, type TaskData } from "./_task.ts";
import { embeddedModelNames, localModelDir } from "./_embedded.ts";

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
 * import { resolveRun } from "./_run.ts";
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
 * The frozen model, its tokenizer and its width.
 *
 * @example
 * ```ts
 * import type { Frozen } from "./_run.ts";
 * import assert from "node:assert/strict";
 * const f = (m: Frozen) => m.width;
 * assert(typeof f === "function");
 * ```
 */
export interface Frozen {
  /** The model. */
  readonly model: FrozenModel;
  /** Its tokenizer (the model directory's `tokenizer.json`). */
  readonly tokenizer: HfTokenizer;
  /** The input embedding table `[V, H]` (part of the model's parameters). */
  readonly embeddings: tf.Tensor;
  /** H. */
  readonly width: number;
}

/**
 * Starts the WASM backend and loads the model directory: the checkpoint and its
 * `tokenizer.json`, whose vocabulary must fit the model's embedding table.
 *
 * @param name the configuration's `model`: a model directory, or `embedded:<name>` for a
 *   model shipped in `assets/embedded/`
 * @returns the model; throws {@link Failure}. Free it with {@link disposeFrozen}
 * @example
 * ```ts
 * import { disposeFrozen, loadFrozen } from "./_run.ts";
 * import assert from "node:assert/strict";
 * const f = await loadFrozen("tests/fixtures/cli/model");
 * assert(f.width === 8 && f.tokenizer.eosId === 1);
 * disposeFrozen(f);
 * ```
 */
export async function loadFrozen(name: string): Promise<Frozen> {
  const dir = await localModelDir(name);
  if (dir === undefined) {
    throw new Failure([
      problem(
        "NotFound",
        "model",
        `Unknown embedded model ${JSON.stringify(name)}; known: ${
          embeddedModelNames().map((n) => `embedded:${n}`).join(", ")
        }`,
      ),
    ]);
  }
  orFail(await initBackend("wasm"));
  const model = orFail(await loadModel(dir));
  const embeddings = (model.params as { token_embedder: { embedding: tf.Tensor } })
    .token_embedder.embedding; // [V, H]
  const tokenizer = await loadTokenizer(dir);
  const fail = (p: Problem): never => {
    disposeTree(model.params);
    throw new Failure([p]);
  };
  if (E.isLeft(tokenizer)) {
    return fail(
      tokenizer.left._tag === "NotFound"
        ? problem(
          "NotFound",
          dir,
          "No tokenizer.json in the model directory; the command line reads the tokenizer from there",
        )
        : tokenizer.left,
    );
  }
  const vocab = embeddings.shape[0] as number;
  if (tokenizer.right.vocabSize > vocab) {
    return fail(
      problem(
        "Mismatch",
        dir,
        `The tokenizer has ${tokenizer.right.vocabSize} ids but the model's embedding table ${vocab} rows; expected a tokenizer that fits the model`,
      ),
    );
  }
  return { model, tokenizer: tokenizer.right, embeddings, width: embeddings.shape[1] as number };
}

/**
 * Frees the model's tensors.
 *
 * @param frozen what {@link loadFrozen} gave
 * @example
 * ```ts
 * import { disposeFrozen, loadFrozen } from "./_run.ts";
 * disposeFrozen(await loadFrozen("tests/fixtures/cli/model"));
 * ```
 */
export function disposeFrozen(frozen: Frozen): void {
  disposeTree(frozen.model.params);
}

/**
 * The ids of a model input: the tokenizer's special tokens around the text (T5: EOS after it;
 * LLaMA: BOS before it), the text truncated so that the whole fits `max` ids.
 *
 * @param tokenizer the tokenizer
 * @param text the input text
 * @param max the most ids
 * @returns the ids
 * @example
 * ```ts
 * import { loadTokenizer } from "../tokenizer/mod.ts";
 * import { orThrow } from "../problem.ts";
 * import { encodeInput } from "./_run.ts";
 * import assert from "node:assert/strict";
 * const t5 = orThrow(await loadTokenizer("tests/fixtures/cli/model"));
 * const ids = encodeInput(t5, "a b c d e f", 3);
 * assert(ids.length === 3 && ids[2] === t5.eosId);
 * ```
 */
export function encodeInput(tokenizer: HfTokenizer, text: string, max: number): number[] {
  const pre = tokenizer.specialPrefix, post = tokenizer.specialSuffix;
  const room = Math.max(0, max - pre.length - post.length);
  return [...pre, ...tokenizer.encode(text).slice(0, room), ...post];
}

/**
 * The ids of a target: the text's ids then EOS (seqio's `append_eos_after_trim`), at most `max`.
 *
 * @param tokenizer the tokenizer
 * @param text the target text
 * @param max the most ids
 * @returns the ids
 * @example
 * ```ts
 * import { loadTokenizer } from "../tokenizer/mod.ts";
 * import { orThrow } from "../problem.ts";
 * import { encodeTarget } from "./_run.ts";
 * import assert from "node:assert/strict";
 * const t5 = orThrow(await loadTokenizer("tests/fixtures/cli/model"));
 * assert(encodeTarget(t5, "positive", 8).join() === "1465,1");
 * ```
 */
export function encodeTarget(tokenizer: HfTokenizer, text: string, max: number): number[] {
  const eos = tokenizer.eosId;
  const ids = tokenizer.encode(text);
  return eos === undefined ? ids.slice(0, max) : [...ids.slice(0, Math.max(0, max - 1)), eos];
}

/**
 * Loads a split of the task. Bad records fail the run or, with `on_bad_record: "skip"`, are
 * counted in a warning on stderr naming the first one's `file:line`.
 *
 * @param data the task and its directory
 * @param split the split
 * @param onBadRecord what a bad record does
 * @returns the examples; throws {@link Failure}
 * @example
 * ```ts
 * import { loadSplit } from "./_run.ts";
 * import { taskFromConfig } from "./_task.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const data = orThrow(taskFromConfig({ kind: "builtin", name: "glue/sst2", data_dir: "tests/fixtures/cli/sst2", taskless: false }));
 * const dev = await loadSplit(data, "validation", "fail");
 * assert(dev.length === 4);
 * ```
 */
export async function loadSplit(
  data: TaskData,
  split: string,
  onBadRecord: "skip" | "fail",
): Promise<readonly Example[]> {
  const loaded = orFail(
    data.load === undefined
      ? await loadTaskSplit(data.task, data.dir, split, { onBadRecord })
      : await data.load(split),
  );
  if (loaded.skipped > 0) {
    const first = loaded.problems[0];
    console.error(
      `Warning: skipped ${loaded.skipped} bad record(s) of ${loaded.file}${
        first === undefined ? "" : `; first: ${first.where}: ${first.message}`
      }`,
    );
  }
  return loaded.examples;
}

/**
 * The way the prompt meets the input that `prompt.combine` names.
 *
 * @param kind `"prefix"`, `"prefix_after_bos"` or `"suffix"`
 * @returns {@link prefix}, {@link prefixAfterBos} or {@link suffix}
 * @example
 * ```ts
 * import { suffix } from "../training/mod.ts";
 * import { combineOf } from "./_run.ts";
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
 * import type { RunConfig } from "../config/mod.ts";
 * import { buildInitializer } from "./_run.ts";
 * import assert from "node:assert/strict";
 * assert(typeof buildInitializer === "function" && ({} as Partial<RunConfig>).prompt === undefined);
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
 * import { buildOptimizer } from "./_run.ts";
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
 * import { decodingOf } from "./_run.ts";
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
 * A prompt's evaluation: the metrics and one JSON row per example.
 *
 * @example
 * ```ts
 * import type { Evaluation } from "./_run.ts";
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
 * import { evaluatePrompt } from "./_run.ts";
 * import assert from "node:assert/strict";
 * assert(typeof evaluatePrompt === "function");
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
      {
        tokenizer,
        maxNewTokens: config.decoding.max_length,
        decoding: decodingOf(config.decoding),
        key: key(config.decoding.seed),
        batchSize: config.eval.batch_size,
        combine,
      },
    );
    predictions = generated.map((g) => g.prediction.trim());
    rows = where(generationPredictions(generated));
  }
  return { metrics: taskMetrics(task, predictions, examples), rows };
}
