/**
 * Validation of a merged configuration into a {@link RunConfig}, reporting every problem at once:
 * missing required fields, wrong types, values out of range, unknown enum values and unknown keys
 * (with a did-you-mean), forbidden keys, and the few rules that tie fields together.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import type { Problem } from "../problem.ts";
import type { JsonObject, JsonValue } from "./json.ts";
import {
  at,
  bool,
  type Ctx,
  newCtx,
  nullable,
  num,
  object,
  oneOf,
  optional,
  positiveInt,
  report,
  section,
  str,
} from "./_check.ts";
import { knownLabelWords, validateTask } from "./_validate_task.ts";
import { validatePrompt } from "./_validate_prompt.ts";
import { validateOptimizer } from "./_validate_optimizer.ts";
import {
  type DecodingConfig,
  EMBEDDED_PREFIX,
  type EvalConfig,
  type RunConfig,
  type TrainConfig,
} from "./schema.ts";
import { validateMixture } from "./_validate_mixture.ts";
import { didYouMean } from "./suggest.ts";

/**
 * What validation may check beyond the form of names.
 *
 * @example
 * ```ts
 * import type { ValidateOptions } from "./validate.ts";
 * import assert from "node:assert/strict";
 * const o: ValidateOptions = { knownTasks: ["glue/sst2"], knownModels: ["default"] };
 * assert(o.knownTasks?.length === 1);
 * ```
 */
export interface ValidateOptions {
  /** The built-in task names; an unknown `task` is then an error with a did-you-mean. */
  readonly knownTasks?: readonly string[];
  /** The embedded model names (after `embedded:`); an unknown one is then an error. */
  readonly knownModels?: readonly string[];
}

/**
 * The keys a configuration's top level may have.
 *
 * @example
 * ```ts
 * import { TOP_LEVEL_KEYS } from "./validate.ts";
 * import assert from "node:assert/strict";
 * assert(TOP_LEVEL_KEYS.includes("optimizer"));
 * ```
 */
export const TOP_LEVEL_KEYS: readonly string[] = [
  "model",
  "task",
  "prompt",
  "optimizer",
  "train",
  "eval",
  "decoding",
  "run_dir",
  "mixture",
];

const EMBEDDED_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** Seeds are the uint32 range `key(seed)` takes without surprises. */
const seed = num({ integer: true, min: 0, max: 2 ** 32 - 1 });

function validateModel(
  ctx: Ctx,
  v: JsonValue | undefined,
  knownModels: readonly string[] | undefined,
): string {
  if (v === undefined) {
    report(ctx, "model", 'Required: a checkpoint directory, or "embedded:<name>"');
    return "";
  }
  if (typeof v !== "string" || v === "") {
    report(
      ctx,
      "model",
      `Expected a checkpoint directory or "embedded:<name>", got ${JSON.stringify(v)}`,
    );
    return "";
  }
  if (v.startsWith(EMBEDDED_PREFIX)) {
    const name = v.slice(EMBEDDED_PREFIX.length);
    if (!EMBEDDED_NAME.test(name)) {
      report(
        ctx,
        "model",
        `Expected "embedded:" then a name of letters, digits, "_", "-" or ".", got ${
          JSON.stringify(v)
        }`,
      );
    } else if (knownModels !== undefined && !knownModels.includes(name)) {
      const known = knownModels.map((m) => `${EMBEDDED_PREFIX}${m}`);
      report(
        ctx,
        "model",
        `Unknown embedded model ${JSON.stringify(v)}${
          didYouMean(v, known) || `; known: ${known.join(", ")}`
        }`,
      );
    }
  } else if ([...v].some((c) => c.charCodeAt(0) < 0x20)) {
    report(ctx, "model", "Expected a path without control characters");
  }
  return v;
}

const TRAIN_KEYS = [
  "steps",
  "batch_size",
  "checkpoint_every",
  "keep",
  "eval_every",
  "early_stopping",
  "seed",
  "max_input_length",
  "max_target_length",
  "on_bad_record",
  "loss",
  "label_smoothing",
  "z_loss",
  "max_examples",
  "recompute",
];

function validateTrain(
  ctx: Ctx,
  root: JsonObject,
  labelWords: readonly string[] | null | undefined,
): TrainConfig {
  const p = "train";
  const o = section(ctx, root, "", p, TRAIN_KEYS);
  const checkpoint_every = optional(ctx, o, p, "checkpoint_every", positiveInt, 1000);
  const es = section(ctx, o, p, "early_stopping", ["metric", "mode", "patience"]);
  const metric = optional(ctx, es, "train.early_stopping", "metric", str(), "loss");
  const loss = optional(ctx, o, p, "loss", oneOf(["token", "rank"] as const), "token");
  if (loss === "rank" && labelWords === null) {
    report(
      ctx,
      at(p, "loss"),
      'The rank loss needs label words and the task has none; give task.label_words or use "token"',
    );
  }
  return {
    steps: optional(ctx, o, p, "steps", positiveInt, 30000),
    batch_size: optional(ctx, o, p, "batch_size", positiveInt, 32),
    checkpoint_every,
    keep: optional(ctx, o, p, "keep", nullable(positiveInt), 1),
    eval_every: optional(ctx, o, p, "eval_every", positiveInt, checkpoint_every),
    early_stopping: {
      metric,
      mode: optional(
        ctx,
        es,
        "train.early_stopping",
        "mode",
        oneOf(["min", "max"] as const),
        metric === "loss" ? "min" : "max",
      ),
      patience: optional(ctx, es, "train.early_stopping", "patience", nullable(positiveInt), null),
    },
    seed: optional(ctx, o, p, "seed", seed, 42),
    max_input_length: optional(ctx, o, p, "max_input_length", positiveInt, 512),
    max_target_length: optional(ctx, o, p, "max_target_length", positiveInt, 64),
    on_bad_record: optional(ctx, o, p, "on_bad_record", oneOf(["skip", "fail"] as const), "fail"),
    loss,
    label_smoothing: optional(ctx, o, p, "label_smoothing", num({ min: 0, below: 1 }), 0),
    z_loss: optional(ctx, o, p, "z_loss", num({ min: 0 }), 1e-4),
    max_examples: optional(ctx, o, p, "max_examples", nullable(positiveInt), null),
    recompute: optional(ctx, o, p, "recompute", oneOf(["none", "layer"] as const), "none"),
  };
}

/** `eval`; `method` defaults to "rank", or to "generate" for a task known to have no label words. */
function validateEval(
  ctx: Ctx,
  root: JsonObject,
  labelWords: readonly string[] | null | undefined,
): EvalConfig {
  const p = "eval";
  const o = section(ctx, root, "", p, [
    "split",
    "batch_size",
    "method",
    "length_normalize",
    "max_examples",
  ]);
  const method = optional(
    ctx,
    o,
    p,
    "method",
    oneOf(["rank", "generate"] as const),
    labelWords === null ? "generate" : "rank",
  );
  if (method === "rank" && labelWords === null) {
    report(
      ctx,
      at(p, "method"),
      'Rank classification needs label words and the task has none; give task.label_words or use "generate"',
    );
  }
  return {
    split: optional(
      ctx,
      o,
      p,
      "split",
      str({ pattern: /^[A-Za-z0-9_.-]+$/, hint: "a split name" }),
      "validation",
    ),
    batch_size: optional(ctx, o, p, "batch_size", positiveInt, 32),
    method,
    length_normalize: optional(ctx, o, p, "length_normalize", bool, false),
    max_examples: optional(ctx, o, p, "max_examples", nullable(positiveInt), null),
  };
}

const DECODING_KEYS = [
  "mode",
  "num_beams",
  "length_penalty",
  "top_k",
  "top_p",
  "temperature",
  "max_length",
  "seed",
];

/**
 * Bounds on decoding beyond which a run is a mistake rather than a choice (each beam is a row of
 * the batch, each step a token of every row's cache): 64 beams (the original's presets use 4),
 * 8192 new tokens (the longest context of the supported models), a top-k of 2^20 (above every
 * vocabulary). What fits the heap within them is checked once the model is known.
 */
const MAX_BEAMS = 64;
const MAX_NEW_TOKENS = 8192;
const MAX_TOP_K = 2 ** 20;

function validateDecoding(ctx: Ctx, root: JsonObject): DecodingConfig {
  const p = "decoding";
  const o = section(ctx, root, "", p, DECODING_KEYS);
  const count = (max: number) => num({ integer: true, min: 1, max });
  return {
    mode: optional(ctx, o, p, "mode", oneOf(["greedy", "beam", "sample"] as const), "greedy"),
    num_beams: optional(ctx, o, p, "num_beams", count(MAX_BEAMS), 4),
    length_penalty: optional(ctx, o, p, "length_penalty", num({ min: 0, max: 100 }), 0.6),
    top_k: optional(ctx, o, p, "top_k", num({ integer: true, min: 0, max: MAX_TOP_K }), 0),
    top_p: optional(ctx, o, p, "top_p", num({ above: 0, max: 1 }), 1),
    temperature: optional(ctx, o, p, "temperature", num({ above: 0 }), 1),
    max_length: optional(ctx, o, p, "max_length", count(MAX_NEW_TOKENS), 64),
    seed: optional(ctx, o, p, "seed", seed, 42),
  };
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Validates a merged configuration and fills in the defaults. Every problem is reported, each
 * with the dot path of its field (`optimizer.learning_rat: Unknown key; did you mean
 * learning_rate?`).
 *
 * @param value the merged configuration (see `mergeLayers`)
 * @param options known task and embedded model names, for stricter checks
 * @returns the complete configuration, or all the problems found
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { validateConfig } from "./validate.ts";
 * import assert from "node:assert/strict";
 * const ok = validateConfig({
 *   model: "embedded:default",
 *   task: "glue/sst2",
 *   prompt: { length: 20, initializer: { kind: "sampled_vocab" } },
 * });
 * assert(E.isRight(ok) && ok.right.optimizer.learning_rate === 0.3);
 * const bad = validateConfig({ task: "glue/sst2", optimizer: { learning_rat: 1 }, prompt: {} });
 * assert(E.isLeft(bad) && bad.left.length === 4); // model, length, initializer, learning_rat
 * ```
 */
export function validateConfig(
  value: JsonValue,
  options: ValidateOptions = {},
): E.Either<readonly Problem[], RunConfig> {
  const ctx = newCtx();
  const root = object(ctx, value, "", TOP_LEVEL_KEYS);
  if (root === undefined) return E.left(ctx.problems);
  const get = (k: string) => Object.hasOwn(root, k) ? root[k] : undefined;
  const model = validateModel(ctx, get("model"), options.knownModels);
  const mixture = validateMixture(ctx, root, options.knownTasks);
  // With a mixture, the top-level task and prompt are its first task's (unless given).
  const first = mixture?.tasks[0];
  const task = first !== undefined && get("task") === undefined
    ? first.task
    : validateTask(ctx, get("task"), options.knownTasks);
  const labelWords = knownLabelWords(task);
  const prompt = first !== undefined && get("prompt") === undefined
    ? first.prompt
    : validatePrompt(ctx, root, labelWords);
  const train = validateTrain(ctx, root, labelWords);
  const optimizer = validateOptimizer(ctx, root, train.steps);
  const evalConfig = validateEval(ctx, root, labelWords);
  const decoding = validateDecoding(ctx, root);
  const run_dir = optional(ctx, root, "", "run_dir", str(), "runs/default");
  return ctx.problems.length > 0 ? E.left(ctx.problems) : E.right({
    model,
    task,
    prompt,
    optimizer,
    train,
    eval: evalConfig,
    decoding,
    run_dir,
    ...(mixture === undefined ? {} : { mixture }),
  });
}
