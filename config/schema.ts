/**
 * The run configuration: what `train`, `eval` and `infer` need, as one plain readonly object.
 *
 * Keys are snake_case, as in the JSON files and as the original's gin parameters. A configuration
 * after validation (`validateConfig`) is complete: every field with a default has it
 * filled in, tagged unions carry their `kind`, and fields that only one variant has appear only
 * in that variant. Each field's documentation gives its meaning and its default; "required"
 * fields have none.
 *
 * @module
 */
import type { DataFormat, MetricName } from "../data/mod.ts";

/**
 * A complete, validated run configuration.
 *
 * @example
 * ```ts
 * import type { RunConfig } from "./schema.ts";
 * import * as E from "fp-ts/Either";
 * import { validateConfig } from "./validate.ts";
 * import assert from "node:assert/strict";
 * const r = validateConfig({
 *   model: "embedded:default",
 *   task: "glue/sst2",
 *   prompt: { length: 20, initializer: { kind: "sampled_vocab" } },
 * });
 * if (E.isLeft(r)) throw new Error(r.left.join("; "));
 * const c: RunConfig = r.right;
 * assert.deepEqual([c.model, c.prompt.length, c.optimizer.learning_rate], ["embedded:default", 20, 0.3]);
 * ```
 */
export interface RunConfig {
  /**
   * The frozen model (required): a checkpoint directory (Hugging Face: `config.json` +
   * `model.safetensors` + `tokenizer.json`; or T5X), or `"embedded:<name>"` for a model shipped
   * with the project (`"embedded:default"`).
   */
  readonly model: string;
  /** The task (required): a built-in task name such as `"glue/sst2"`, or a custom task. */
  readonly task: TaskConfig;
  /** The soft prompt: length and initializer are required. */
  readonly prompt: PromptConfig;
  /** The optimizer of the prompt (default: Adafactor as in the paper). */
  readonly optimizer: OptimizerConfig;
  /** Training (defaults: the original's `runs/prompt_finetune`). */
  readonly train: TrainConfig;
  /** Evaluation. */
  readonly eval: EvalConfig;
  /** Decoding, for generation (`eval.method: "generate"`, `infer`). */
  readonly decoding: DecodingConfig;
  /** Where checkpoints, prompts, metrics and the resolved config go (default `"runs/default"`). */
  readonly run_dir: string;
  /**
   * A task mixture trained in one run, one prompt per task (absent: the single `task`). With a
   * mixture, `task` and `prompt` are its first task's (`prompt` also gives every task's defaults).
   */
  readonly mixture?: MixtureConfig;
}

/**
 * A task mixture, as T5's mixtures: tasks drawn at their rates, each with its own prompt.
 *
 * @example
 * ```ts
 * import type { MixtureConfig } from "./schema.ts";
 * import assert from "node:assert/strict";
 * const m: MixtureConfig = { tasks: [], rate: "proportional", shared: null };
 * assert.equal(m.rate, "proportional");
 * ```
 */
export interface MixtureConfig {
  /** The tasks (required, at least two). */
  readonly tasks: readonly MixtureTaskConfig[];
  /**
   * `"proportional"` (default): each task drawn in proportion to its training examples;
   * `"given"`: by each task's `rate`.
   */
  readonly rate: "proportional" | "given";
  /**
   * The original's multi-task prompt: a prompt shared by every task, concatenated in front of
   * each task's own or added to it (default `null`: none).
   */
  readonly shared: SharedPromptConfig | null;
}

/**
 * One task of a mixture.
 *
 * @example
 * ```ts
 * import type { MixtureTaskConfig } from "./schema.ts";
 * const t: Pick<MixtureTaskConfig, "name" | "rate"> = { name: "spam", rate: 2 };
 * ```
 */
export interface MixtureTaskConfig {
  /** Its name (letters, digits, `_`, `-`, `.`; required): exports go to `RUN_DIR/tasks/NAME/`. */
  readonly name: string;
  /** The task (required), as the top-level `task`. */
  readonly task: TaskConfig;
  /** Its mixing rate (required with `rate: "given"`; default `null`). */
  readonly rate: number | null;
  /** Its prompt: the top-level `prompt` with this task's keys over it. */
  readonly prompt: PromptConfig;
}

/**
 * The shared prompt of a mixture.
 *
 * @example
 * ```ts
 * import type { SharedPromptConfig } from "./schema.ts";
 * const s: Pick<SharedPromptConfig, "length" | "mode"> = { length: 5, mode: "concat" };
 * ```
 */
export interface SharedPromptConfig {
  /** Its length (required; with `"add"`, every task's prompt length). */
  readonly length: number;
  /** `"concat"` (default: in front of each task's prompt) or `"add"`. */
  readonly mode: "concat" | "add";
  /** How it starts (default: sampled vocabulary, as the fallback initializers). */
  readonly initializer: InitializerConfig;
}

// ---------------------------------------------------------------------------------------------
// Task

/**
 * The file formats of a custom task (the formats `data/read.ts` reads).
 *
 * @example
 * ```ts
 * import { DATA_FORMATS } from "./schema.ts";
 * import assert from "node:assert/strict";
 * assert(DATA_FORMATS.join() === "jsonl,csv,tsv,parquet");
 * ```
 */
export const DATA_FORMATS: readonly DataFormat[] = ["jsonl", "csv", "tsv", "parquet"];

/**
 * The task: built in, or described in the configuration.
 *
 * In JSON a string is a built-in task's name; an object with `files` is a custom task, any other
 * object a built-in task with options. `kind` may be given to say which.
 *
 * @example
 * ```ts
 * import type { TaskConfig } from "./schema.ts";
 * import assert from "node:assert/strict";
 * const t: TaskConfig = { kind: "builtin", name: "glue/sst2", data_dir: null, taskless: false };
 * assert(t.kind === "builtin");
 * ```
 */
export type TaskConfig = BuiltinTaskConfig | CustomTaskConfig;

/**
 * A built-in task (T5's text-to-text GLUE and SuperGLUE formats, and the project's own).
 *
 * @example
 * ```ts
 * import type { BuiltinTaskConfig } from "./schema.ts";
 * import assert from "node:assert/strict";
 * const t: BuiltinTaskConfig = { kind: "builtin", name: "glue/rte", data_dir: "tests/data/glue/RTE", taskless: true };
 * assert(t.taskless);
 * ```
 */
export interface BuiltinTaskConfig {
  /** `"builtin"`. */
  readonly kind: "builtin";
  /** The task's name, such as `"glue/sst2"` or `"super_glue/boolq"` (required). */
  readonly name: string;
  /** The directory holding the task's distribution files (default `null`: the task's own). */
  readonly data_dir: string | null;
  /**
   * Drop the task word that starts T5's inputs (`"sst2 sentence: …"` → `"sentence: …"`), the
   * original's "taskless" variant (default false).
   */
  readonly taskless: boolean;
}

/**
 * A task described by its files and templates.
 *
 * Templates name record fields in braces: `"premise: {premise} hypothesis: {hypothesis}"`; `{{`
 * and `}}` are literal braces. Targets come from a template, or from `label_map` applied to the
 * field `label_field`.
 *
 * @example
 * ```ts
 * import type { CustomTaskConfig } from "./schema.ts";
 * import assert from "node:assert/strict";
 * const t: CustomTaskConfig = {
 *   kind: "custom", name: "sst2", files: { train: "train.tsv" }, format: "tsv", header: true,
 *   columns: null, inputs: "sentence: {sentence}", targets: null, label_field: "label",
 *   label_map: { "0": "negative", "1": "positive" }, label_words: ["negative", "positive"],
 *   metric: ["accuracy"],
 * };
 * assert(t.label_words?.length === 2);
 * ```
 */
export interface CustomTaskConfig {
  /** `"custom"`. */
  readonly kind: "custom";
  /** A name for results and printing (default `"custom"`). */
  readonly name: string;
  /** Split name → file (required, at least one; splits are usually train, validation, test). */
  readonly files: Readonly<Record<string, string>>;
  /** The files' format (default: from their extension, `.jsonl`/`.json`, `.csv`, `.tsv`, `.parquet`). */
  readonly format: DataFormat;
  /** CSV/TSV: the first row names the columns (default true). */
  readonly header: boolean;
  /** CSV/TSV without a header: the columns' names (default `null`: `"0"`, `"1"`, …). */
  readonly columns: readonly string[] | null;
  /** The template of the model's input text (required). */
  readonly inputs: string;
  /** The template of the target text (default `null`; give it or `label_map`, not both). */
  readonly targets: string | null;
  /** The field whose value `label_map` maps (default `"label"`; unused without a label map). */
  readonly label_field: string;
  /** A label's value (as text) → its target text (default `null`; see `targets`). */
  readonly label_map: Readonly<Record<string, string>> | null;
  /**
   * The texts rank classification scores and class-label initialization embeds (default: the
   * distinct values of `label_map` in order; `null` without a label map).
   */
  readonly label_words: readonly string[] | null;
  /** The metrics reported, the first being the main one (default `["accuracy"]`). */
  readonly metric: readonly MetricName[];
}

// ---------------------------------------------------------------------------------------------
// Prompt

/**
 * How the prompt meets the input: before the first real token (`"prefix"`), after it
 * (`"prefix_after_bos"`, for inputs that start with BOS), or before the last one, the EOS
 * (`"suffix"`); as the original's `prefix_prompt`, `prefix_prompt_after_bos`, `suffix_prompt`.
 *
 * @example
 * ```ts
 * import { COMBINE_KINDS } from "./schema.ts";
 * import assert from "node:assert/strict";
 * assert(COMBINE_KINDS[0] === "prefix");
 * ```
 */
export const COMBINE_KINDS = ["prefix", "prefix_after_bos", "suffix"] as const;

/**
 * One of {@link COMBINE_KINDS}.
 *
 * @example
 * ```ts
 * import type { CombineKind } from "./schema.ts";
 * import assert from "node:assert/strict";
 * const c: CombineKind = "suffix";
 * assert(c === "suffix");
 * ```
 */
export type CombineKind = typeof COMBINE_KINDS[number];

/**
 * The soft prompt.
 *
 * @example
 * ```ts
 * import type { PromptConfig } from "./schema.ts";
 * import assert from "node:assert/strict";
 * const p: PromptConfig = { length: 100, initializer: { kind: "sampled_vocab", population: 5000 }, combine: "prefix" };
 * assert(p.length === 100);
 * ```
 */
export interface PromptConfig {
  /** Number of prompt vectors P (required; the original's `PROMPT_LENGTH`, 100 in its presets). */
  readonly length: number;
  /** How the `[P, H]` prompt starts (required). */
  readonly initializer: InitializerConfig;
  /** Where the prompt goes in the input (default `"prefix"`). */
  readonly combine: CombineKind;
}

/**
 * How the prompt is initialized, tagged by `kind`.
 *
 * @example
 * ```ts
 * import type { InitializerConfig } from "./schema.ts";
 * import assert from "node:assert/strict";
 * const i: InitializerConfig = { kind: "from_file", path: "prompt.npy", name: null };
 * assert(i.kind === "from_file");
 * ```
 */
export type InitializerConfig =
  | RandomUniformInit
  | SampledVocabInit
  | ClassLabelsInit
  | FromStringInit
  | FromFileInit;

/**
 * An initializer that fills every row by itself: the fallback of the embedded-text ones.
 *
 * @example
 * ```ts
 * import type { FallbackInit } from "./schema.ts";
 * import assert from "node:assert/strict";
 * const f: FallbackInit = { kind: "random_uniform", scale: 0.5, range: "symmetric" };
 * assert(f.scale === 0.5);
 * ```
 */
export type FallbackInit = RandomUniformInit | SampledVocabInit;

/**
 * Uniform random values.
 *
 * @example
 * ```ts
 * import type { RandomUniformInit } from "./schema.ts";
 * import assert from "node:assert/strict";
 * const i: RandomUniformInit = { kind: "random_uniform", scale: 0.5, range: "flax" };
 * assert(i.range === "flax");
 * ```
 */
export interface RandomUniformInit {
  /** `"random_uniform"`. */
  readonly kind: "random_uniform";
  /** Half-width (symmetric) or width (flax) of the range (default 0.5, the paper's). */
  readonly scale: number;
  /**
   * `"symmetric"`: [-scale, scale), as the paper describes (default); `"flax"`: [0, scale), as
   * the original code's `flax.linen.initializers.uniform(scale)` draws.
   */
  readonly range: "symmetric" | "flax";
}

/**
 * Rows of the model's embedding table drawn at random ("sampled vocabulary").
 *
 * @example
 * ```ts
 * import type { SampledVocabInit } from "./schema.ts";
 * import assert from "node:assert/strict";
 * const i: SampledVocabInit = { kind: "sampled_vocab", population: 5000 };
 * assert(i.population === 5000);
 * ```
 */
export interface SampledVocabInit {
  /** `"sampled_vocab"`. */
  readonly kind: "sampled_vocab";
  /** Draw from the first this many rows, the most common tokens (default 5000, the paper's). */
  readonly population: number;
}

/**
 * How sub-token embeddings of one text become one row: mean (default), first, last, sum.
 *
 * @example
 * ```ts
 * import { AGGREGATES } from "./schema.ts";
 * import assert from "node:assert/strict";
 * assert(AGGREGATES[0] === "mean");
 * ```
 */
export const AGGREGATES = ["mean", "first", "last", "sum"] as const;

/**
 * Row i embeds the i-th class label ("class-label initialization"); the other rows come from the
 * fallback.
 *
 * @example
 * ```ts
 * import type { ClassLabelsInit } from "./schema.ts";
 * import assert from "node:assert/strict";
 * const i: ClassLabelsInit = {
 *   kind: "class_labels", texts: null, aggregate: "mean",
 *   fallback: { kind: "sampled_vocab", population: 5000 },
 * };
 * assert(i.texts === null);
 * ```
 */
export interface ClassLabelsInit {
  /** `"class_labels"`. */
  readonly kind: "class_labels";
  /** The texts (default `null`: the task's label words, the original's `CLASS_LABELS`). */
  readonly texts: readonly string[] | null;
  /** How a text's sub-token embeddings are combined (default `"mean"`). */
  readonly aggregate: typeof AGGREGATES[number];
  /** Fills the rows the texts do not (default: sampled vocabulary, population 5000). */
  readonly fallback: FallbackInit;
}

/**
 * The rows embed the tokens of a text, one token a row; the other rows come from the fallback.
 *
 * @example
 * ```ts
 * import type { FromStringInit } from "./schema.ts";
 * import assert from "node:assert/strict";
 * const i: FromStringInit = {
 *   kind: "from_string", text: "Classify the sentiment:",
 *   fallback: { kind: "sampled_vocab", population: 5000 },
 * };
 * assert(i.text.length > 0);
 * ```
 */
export interface FromStringInit {
  /** `"from_string"`. */
  readonly kind: "from_string";
  /** The text (required, not empty). */
  readonly text: string;
  /** Fills the rows after the text's tokens (default: sampled vocabulary, population 5000). */
  readonly fallback: FallbackInit;
}

/**
 * A saved prompt: `.npy`, `.npz`, `.safetensors`, or a PEFT adapter directory.
 *
 * @example
 * ```ts
 * import type { FromFileInit } from "./schema.ts";
 * import assert from "node:assert/strict";
 * const i: FromFileInit = { kind: "from_file", path: "runs/a/best.npy", name: null };
 * assert(i.name === null);
 * ```
 */
export interface FromFileInit {
  /** `"from_file"`. */
  readonly kind: "from_file";
  /** The file or adapter directory (required; the original's `PROMPT_FILE`). */
  readonly path: string;
  /** The tensor's name in an `.npz` or `.safetensors` (default `null`: the only one, or `prompt`). */
  readonly name: string | null;
}

// ---------------------------------------------------------------------------------------------
// Optimizer

/**
 * The optimizer of the prompt, tagged by `kind`. `learning_rate`, `schedule`, `clip_norm` and
 * `weight_decay` are common; the rest belong to one kind, and giving them to another is an error
 * (replace the whole `optimizer` object to switch kinds).
 *
 * @example
 * ```ts
 * import type { OptimizerConfig } from "./schema.ts";
 * import assert from "node:assert/strict";
 * const o: OptimizerConfig = {
 *   kind: "adamw", learning_rate: 1e-3, schedule: { kind: "constant" }, clip_norm: 1,
 *   weight_decay: 0.01, betas: [0.9, 0.999], eps: 1e-8,
 * };
 * assert(o.kind === "adamw" && o.betas[0] === 0.9);
 * ```
 */
export type OptimizerConfig = AdafactorConfig | AdamConfig;

/**
 * What every optimizer has.
 *
 * @example
 * ```ts
 * import type { OptimizerCommon } from "./schema.ts";
 * import assert from "node:assert/strict";
 * const c: OptimizerCommon = { learning_rate: 0.3, schedule: { kind: "constant" }, clip_norm: null, weight_decay: 0 };
 * assert(c.clip_norm === null);
 * ```
 */
export interface OptimizerCommon {
  /** The peak learning rate (default 0.3 for Adafactor, the paper's; 1e-3 for Adam and AdamW). */
  readonly learning_rate: number;
  /** How the rate changes with the step (default `{kind: "constant"}`, the original's). */
  readonly schedule: ScheduleConfig;
  /** Clip the gradient to this global norm before the update (default `null`: no clipping). */
  readonly clip_norm: number | null;
  /**
   * Weight decay (default 1e-5 for Adafactor, decoupled, the original's; 0 for Adam, an L2
   * penalty as torch's; 0.01 for AdamW, decoupled, as torch's).
   */
  readonly weight_decay: number;
}

/**
 * Adafactor (T5X's and optax's, as the original uses it).
 *
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { validateConfig } from "./validate.ts";
 * import assert from "node:assert/strict";
 * const r = validateConfig({
 *   model: "embedded:default",
 *   task: "glue/sst2",
 *   prompt: { length: 20, initializer: { kind: "sampled_vocab" } },
 * });
 * if (E.isLeft(r)) throw new Error(r.left.join("; "));
 * // Adafactor is the default optimizer, with the original's settings.
 * assert(r.right.optimizer.kind === "adafactor");
 * assert.equal(r.right.optimizer.decay_rate, 0.8);
 * assert.equal(r.right.optimizer.factored, false);
 * ```
 */
export interface AdafactorConfig extends OptimizerCommon {
  /** `"adafactor"` (the default). */
  readonly kind: "adafactor";
  /** Exponent c of the second-moment decay β2 = 1 − t^(−c) (default 0.8). */
  readonly decay_rate: number;
  /** Subtracted from the step in β2 (T5X's `step_offset`; default 0). */
  readonly decay_offset: number;
  /** RMS threshold of the update; `null` turns clipping off (default 1.0). */
  readonly clipping_threshold: number | null;
  /** Scale the step by the parameter's RMS (default false, as the original for prompts). */
  readonly multiply_by_parameter_scale: boolean;
  /** Momentum β1 of the update; `null` for none (default `null`). */
  readonly momentum: number | null;
  /** Factored second moments (default false: the original does not factor the prompt). */
  readonly factored: boolean;
  /** ε1, added to the squared gradient (default 1e-30). */
  readonly epsilon1: number;
  /** ε2, the smallest parameter scale (default 1e-3). */
  readonly epsilon2: number;
  /**
   * What `weight_decay` is multiplied by: `"none"` (optax, T5X; default), `"learning_rate"`, or
   * `"step_size"` (transformers' Adafactor).
   */
  readonly weight_decay_scaling: "none" | "learning_rate" | "step_size";
}

/**
 * Adam or AdamW, with torch's semantics.
 *
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { validateConfig } from "./validate.ts";
 * import assert from "node:assert/strict";
 * const r = validateConfig({
 *   model: "embedded:default",
 *   task: "glue/sst2",
 *   prompt: { length: 20, initializer: { kind: "sampled_vocab" } },
 *   optimizer: { kind: "adamw", learning_rate: 0.001 },
 * });
 * if (E.isLeft(r)) throw new Error(r.left.join("; "));
 * assert(r.right.optimizer.kind === "adamw");
 * assert.deepEqual([r.right.optimizer.betas, r.right.optimizer.eps], [[0.9, 0.999], 1e-8]);
 * ```
 */
export interface AdamConfig extends OptimizerCommon {
  /** `"adam"` (L2 penalty) or `"adamw"` (decoupled weight decay). */
  readonly kind: "adam" | "adamw";
  /** β1, β2: the moment decays (default [0.9, 0.999]). */
  readonly betas: readonly [number, number];
  /** ε, added to √v (default 1e-8). */
  readonly eps: number;
}

/**
 * The learning-rate schedule, tagged by `kind`; `learning_rate` is its peak.
 *
 * - `constant`: the rate throughout.
 * - `linear_warmup`: from 0 up to the rate over `warmup_steps` (required, ≥ 1), then constant.
 * - `linear_decay`: after an optional warm-up, linearly down to `end_learning_rate` (default 0)
 *   over `decay_steps` (default: `train.steps − warmup_steps`), then constant.
 * - `cosine`: after an optional warm-up, a half cosine down to `alpha` (default 0) times the rate
 *   over `decay_steps` (default as above).
 * - `rsqrt`: T5's inverse square root, `rate·√(w / max(step, w))` with `w = warmup_steps`
 *   (required, ≥ 1): constant for w steps, then decaying.
 *
 * @example
 * ```ts
 * import type { ScheduleConfig } from "./schema.ts";
 * import assert from "node:assert/strict";
 * const s: ScheduleConfig = { kind: "cosine", warmup_steps: 100, decay_steps: 900, alpha: 0 };
 * assert(s.kind === "cosine");
 * ```
 */
export type ScheduleConfig =
  | { readonly kind: "constant" }
  | { readonly kind: "linear_warmup"; readonly warmup_steps: number }
  | {
    readonly kind: "linear_decay";
    readonly warmup_steps: number;
    readonly decay_steps: number;
    readonly end_learning_rate: number;
  }
  | {
    readonly kind: "cosine";
    readonly warmup_steps: number;
    readonly decay_steps: number;
    readonly alpha: number;
  }
  | { readonly kind: "rsqrt"; readonly warmup_steps: number };

// ---------------------------------------------------------------------------------------------
// Train, eval, decoding

/**
 * Early stopping and the choice of the best prompt.
 *
 * @example
 * ```ts
 * import type { EarlyStoppingConfig } from "./schema.ts";
 * import assert from "node:assert/strict";
 * const e: EarlyStoppingConfig = { metric: "accuracy", mode: "max", patience: 5 };
 * assert(e.mode === "max");
 * ```
 */
export interface EarlyStoppingConfig {
  /** The evaluation metric that picks the best prompt (default `"loss"`). */
  readonly metric: string;
  /** Whether lower or higher is better (default `"min"` for `"loss"`, `"max"` for the rest). */
  readonly mode: "min" | "max";
  /** Stop after this many evaluations without improvement (default `null`: never stop early). */
  readonly patience: number | null;
}

/**
 * Training.
 *
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { validateConfig } from "./validate.ts";
 * import assert from "node:assert/strict";
 * const r = validateConfig({
 *   model: "embedded:default",
 *   task: "glue/sst2",
 *   prompt: { length: 20, initializer: { kind: "sampled_vocab" } },
 * });
 * if (E.isLeft(r)) throw new Error(r.left.join("; "));
 * // The paper's defaults: 30,000 steps of 32 examples.
 * assert.deepEqual([r.right.train.steps, r.right.train.batch_size], [30000, 32]);
 * ```
 */
export interface TrainConfig {
  /** Optimizer steps in all (default 30000, the paper's). */
  readonly steps: number;
  /** Examples per step (default 32, the paper's). */
  readonly batch_size: number;
  /** Write a checkpoint every this many steps, and at the end (default 1000, the original's). */
  readonly checkpoint_every: number;
  /**
   * Keep the newest this many checkpoints (default 1, the original's; the prompt of every
   * checkpoint is kept in any case); `null` keeps all.
   */
  readonly keep: number | null;
  /** Evaluate on the validation split every this many steps (default: `checkpoint_every`). */
  readonly eval_every: number;
  /** What picks the best prompt and when to stop early. */
  readonly early_stopping: EarlyStoppingConfig;
  /** The seed of the run's PRNG key: prompt initialization, shuffling (default 42). */
  readonly seed: number;
  /** Input tokens kept per example, not counting the prompt (default 512). */
  readonly max_input_length: number;
  /** Target tokens kept per example (default 64). */
  readonly max_target_length: number;
  /**
   * A record that cannot be read (a missing field, an unknown label): `"fail"` stops with its
   * file and line (default); `"skip"` drops it and reports how many were dropped.
   */
  readonly on_bad_record: "skip" | "fail";
  /**
   * The training loss: `"token"` (default, the original's and PEFT's), the cross-entropy over the
   * vocabulary at every target token; `"rank"`, the cross-entropy of a softmax over the label
   * words' log-likelihoods (rank classification, as `eval.method: "rank"` scores; needs label
   * words, every training target must be one; label smoothing and z-loss do not apply; scores
   * are length-normalized when `eval.length_normalize` is). See `training/rank_objective.ts`.
   */
  readonly loss: "token" | "rank";
  /** Label smoothing of the cross-entropy (default 0, the original's). */
  readonly label_smoothing: number;
  /** Coefficient of the z-loss, `(log Z)²` (default 1e-4, the original's `Z_LOSS`). */
  readonly z_loss: number;
  /**
   * Train on only the first this many training examples (default `null`: all). For quick
   * checks and tests, not for real runs.
   */
  readonly max_examples: number | null;
  /**
   * Memory against time (default `"none"`): `"layer"` keeps only each layer's input during the
   * forward pass and recomputes the layer in the backward pass, for models whose activations do
   * not fit the heap at the batch size asked (about 2.3× less memory on a 135 M LLaMA, one more
   * forward pass of time).
   */
  readonly recompute: "none" | "layer";
}

/**
 * Evaluation.
 *
 * @example
 * ```ts
 * import type { EvalConfig } from "./schema.ts";
 * import assert from "node:assert/strict";
 * const e: EvalConfig = {
 *   split: "validation", batch_size: 32, method: "rank", length_normalize: false, max_examples: null,
 * };
 * assert(e.method === "rank");
 * ```
 */
export interface EvalConfig {
  /** The split evaluated (default `"validation"`). */
  readonly split: string;
  /** Examples per batch (default 32, T5X's eval default). */
  readonly batch_size: number;
  /**
   * `"rank"`: score each label word's log-likelihood and pick the best (needs label words);
   * `"generate"`: decode (see `decoding`) and compare the text. Default: `"rank"`, or
   * `"generate"` for a custom task without label words.
   */
  readonly method: "rank" | "generate";
  /** Rank by the mean log-likelihood per token instead of the sum (default false). */
  readonly length_normalize: boolean;
  /**
   * Evaluate on only the first this many examples of each split evaluated (default `null`:
   * all). For quick checks and tests, not for numbers to report.
   */
  readonly max_examples: number | null;
}

/**
 * Decoding. Each field says which modes read it; the others ignore it.
 *
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { validateConfig } from "./validate.ts";
 * import assert from "node:assert/strict";
 * const r = validateConfig({
 *   model: "embedded:default",
 *   task: "glue/sst2",
 *   prompt: { length: 20, initializer: { kind: "sampled_vocab" } },
 *   decoding: { mode: "beam" },
 * });
 * if (E.isLeft(r)) throw new Error(r.left.join("; "));
 * assert.deepEqual([r.right.decoding.mode, r.right.decoding.num_beams], ["beam", 4]);
 * ```
 */
export interface DecodingConfig {
  /** `"greedy"` (default), `"beam"` search, or `"sample"` (top-k / nucleus with temperature). */
  readonly mode: "greedy" | "beam" | "sample";
  /** Beam: the number of beams, at most 64 (default 4, the original's `beam_search` preset). */
  readonly num_beams: number;
  /**
   * Beam: the length penalty α; finished beams' log-probabilities are divided by
   * ((5 + length) / 6)^α, as T5X's (default 0.6, the original's `beam_search` preset).
   */
  readonly length_penalty: number;
  /** Sample: keep the k most likely tokens, at most 2^20; 0 keeps all (default 0). */
  readonly top_k: number;
  /** Sample: keep the smallest set of tokens with probability ≥ p; 1 keeps all (default 1). */
  readonly top_p: number;
  /** Sample: divide the logits by this (default 1). */
  readonly temperature: number;
  /** Most tokens generated per example, at most 8192 (default 64). */
  readonly max_length: number;
  /** Sample: the seed of the decoding PRNG key (default 42). */
  readonly seed: number;
}

export { EMBEDDED_PREFIX } from "../model/embedded.ts";
