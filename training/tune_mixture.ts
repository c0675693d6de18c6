/**
 * Tunes the prompts of a task mixture in one run: every batch mixes the tasks' examples (each
 * row with its task's prompt, `MixedPrompts`), one optimizer state per prompt, and the exports
 * are one `.npy` and one PEFT adapter per task (`runDir/tasks/<name>/`). The loop, its
 * checkpoints and resume are `train`'s: the prompts travel as one packed matrix (see
 * `mixture.ts`), so a checkpoint holds all of them and each one's optimizer state.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { join } from "node:path";
import type { Initializer } from "../initializers/types.ts";
import { fromTensor } from "../io/host_tensor.ts";
import { writeNpy } from "../io/npy.ts";
import { embeddingTable, type FrozenModel } from "../model/load.ts";
import { type Problem, problem } from "../problem.ts";
import { split } from "../random/mod.ts";
import { collateExamples, collateRank, type TokenExample } from "../data/batch.ts";
import type { PromptBatch } from "../model/prompted.ts";
import type { StepContext } from "./evaluate.ts";
import { train, type TrainOptions, type TrainResult } from "./loop.ts";
import { type ObjectiveOptions, promptLoss } from "./objective.ts";
import { promptRankLoss } from "./rank_objective.ts";
import { countBatchTokens, type TuneBatch } from "./prompt_objective.ts";
import type { Optimizer } from "./optim/types.ts";
import { segmented } from "./optim/segmented.ts";
import { peftOptionsFor, writePeftAdapter } from "./peft.ts";
import {
  blockLengths,
  type MixtureExample,
  mixtureExamples,
  type PromptLayout,
  taskPrompts,
} from "./mixture.ts";

/** A task's name as a directory name under `runDir/tasks/`. */
const TASK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/**
 * One task of {@link tuneMixture}.
 *
 * @example
 * ```ts
 * import type { MixtureTask } from "./tune_mixture.ts";
 * import { randomUniform } from "../initializers/mod.ts";
 * import assert from "node:assert/strict";
 * const t: MixtureTask = { name: "spam", train: [{ inputIds: [5, 1], targetIds: [7, 1] }], promptLength: 4, initializer: randomUniform(0.5) };
 * assert.equal(t.rate, undefined); // proportional to its size
 * ```
 */
export interface MixtureTask {
  /** The task's name (letters, digits, `_`, `-`, `.`): its exports go to `runDir/tasks/<name>/`. */
  readonly name: string;
  /** Its training examples. */
  readonly train: readonly TokenExample[];
  /** Its own prompt's length. */
  readonly promptLength: number;
  /** How its own prompt starts (called once, on a fresh start, with a key of its own). */
  readonly initializer: Initializer;
  /** Its mixing rate (normalized over the tasks); default its number of examples. */
  readonly rate?: number;
  /** With the rank loss: the token ids of each of its labels (its targets must be among them). */
  readonly classes?: readonly (readonly number[])[];
}

/**
 * A batch of a mixture: the examples' batch and each row's task.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { MixtureBatch } from "./tune_mixture.ts";
 * import assert from "node:assert/strict";
 * const ids = tf.tensor2d([[5, 1]], [1, 2], "int32");
 * const b: MixtureBatch = { batch: { inputIds: ids, inputMask: tf.onesLike(ids) }, rows: Int32Array.of(1) };
 * assert.equal(b.rows[0], 1);
 * tf.dispose(Object.values(b.batch));
 * ```
 */
export interface MixtureBatch {
  /** The rows' batch (token or rank). */
  readonly batch: TuneBatch;
  /** `[B]` each row's task. */
  readonly rows: Int32Array;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * The options of {@link tuneMixture}: the training loop's (steps, batch size, checkpoints,
 * resume, …) and the mixture's.
 *
 * @example
 * ```ts
 * import type { TuneMixtureOptions } from "./tune_mixture.ts";
 * const loss: TuneMixtureOptions["loss"] = "rank";
 * ```
 */
export interface TuneMixtureOptions extends
  Omit<
    TrainOptions<MixtureExample<TokenExample>, MixtureBatch>,
    "prompt" | "collate" | "loss" | "train" | "evaluate" | "validation" | "countTokens"
  > {
  /** The frozen model. */
  readonly model: FrozenModel;
  /** The tasks, at least one (two or more for a mixture). */
  readonly tasks: readonly MixtureTask[];
  /**
   * The original's multi-task prompt: a prompt shared by every task, in front of each task's
   * own (`"concat"`) or added to it (`"add"`: every task's prompt of its length).
   */
  readonly shared?: {
    readonly length: number;
    readonly initializer: Initializer;
    readonly mode: "concat" | "add";
  };
  /** The optimizer of each prompt (each has its own state). */
  readonly optimizer: Optimizer;
  /** The token loss (default) or the rank loss (every task then needs `classes`). */
  readonly loss?: "token" | "rank";
  /** With the rank loss: length-normalized label scores (default false). */
  readonly lengthNormalize?: boolean;
  /** Where the prompt goes, loss options, recompute. */
  readonly objective?: ObjectiveOptions;
  /** Padding id of batches (default 0). */
  readonly padId?: number;
  /** Validation examples, each with its task, for `evaluate`. */
  readonly validation?: readonly MixtureExample<TokenExample>[];
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** Metrics of the tasks' prompts (`[K]`, the caller must not keep them) on `validation`. */
  readonly evaluate?: (
    prompts: readonly tf.Tensor[],
    validation: readonly MixtureExample<TokenExample>[],
    context: StepContext,
  ) => Promise<Record<string, number>>;
  /** PEFT adapters: written per task at the end (default true). */
  readonly peft?: false | { readonly seq2seqLayout?: "encoder-only" | "peft" };
}

/**
 * What {@link tuneMixture} returns: the loop's result (its `prompt` is the packed matrix) and,
 * per task, its prompt and exports.
 *
 * @example
 * ```ts
 * import type { TuneMixtureResult } from "./tune_mixture.ts";
 * const files = (r: TuneMixtureResult) => r.tasks.map((t) => t.promptFile);
 * ```
 */
export interface TuneMixtureResult extends TrainResult {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** Per task, in order: its name, its final prompt (the caller owns it) and its files. */
  readonly tasks: readonly {
    readonly name: string;
    readonly prompt: tf.Tensor;
    readonly promptFile: string;
    readonly adapterDir?: string;
  }[];
}

function checkTasks(options: TuneMixtureOptions): string[] {
  const issues: string[] = [];
  const names = new Set<string>();
  options.tasks.forEach((t, k) => {
    if (!TASK_NAME.test(t.name)) {
      issues.push(`tasks[${k}].name is ${JSON.stringify(t.name)}; expected letters, digits, _ - .`);
    } else if (names.has(t.name)) issues.push(`tasks[${k}].name ${t.name} is given twice`);
    names.add(t.name);
    if (options.loss === "rank" && (t.classes === undefined || t.classes.length < 2)) {
      issues.push(`tasks[${k}] (${t.name}) has no classes; the rank loss needs at least 2 labels`);
    }
  });
  if (options.tasks.length === 0) issues.push("tasks is empty; expected at least one task");
  return issues;
}

/** The union of the tasks' labels, and each task's labels' indices in it. */
function unionClasses(tasks: readonly MixtureTask[]) {
  const union: (readonly number[])[] = [];
  const at = new Map<string, number>();
  const own = tasks.map((t) =>
    new Set((t.classes ?? []).map((c) => {
      const k = c.join(",");
      if (!at.has(k)) {
        at.set(k, union.length);
        union.push(c);
      }
      return at.get(k)!;
    }))
  );
  return { union, own };
}

/**
 * The collate and loss of a mixture: batches of mixed tasks, each row's loss with its task's
 * prompt; with the rank loss every row ranks its own task's labels (`RankBatch.labelMask` over
 * the union of the tasks' labels).
 */
function mixtureObjective(options: TuneMixtureOptions, layout: PromptLayout) {
  const { model, padId, objective } = options;
  const rank = options.loss === "rank";
  const { union, own } = unionClasses(options.tasks);
  const collate = (examples: readonly MixtureExample<TokenExample>[]): MixtureBatch => {
    const rows = Int32Array.from(examples, (e) => e.task);
    const list = examples.map((e) => e.example);
    if (!rank) return { batch: collateExamples(model, list, { padId }), rows };
    const base = collateRank(model, list, union, { padId });
    const mask = new Int32Array(rows.length * union.length);
    rows.forEach((k, i) => own[k].forEach((c) => mask[i * union.length + c] = 1));
    const labelMask = tf.tensor2d(mask, [rows.length, union.length], "int32");
    return { batch: { ...base, labelMask }, rows };
  };
  const rankOptions = { ...objective, lengthNormalize: options.lengthNormalize };
  const loss = (packed: tf.Tensor, mb: MixtureBatch): tf.Scalar => {
    const mixed = { prompts: taskPrompts(packed, layout), rows: mb.rows };
    return rank
      ? promptRankLoss(model, mb.batch as Parameters<typeof promptRankLoss>[1], rankOptions)(mixed)
      : promptLoss(model, mb.batch as PromptBatch, objective)(mixed);
  };
  const countTokens = (mb: MixtureBatch) =>
    countBatchTokens("choices" in mb.batch ? mb.batch.choices[0] : mb.batch);
  return { collate, loss, countTokens };
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Tunes one prompt per task of a mixture in one run, then writes each task's prompt as
 * `runDir/tasks/<name>/prompt.npy` and a PEFT adapter `runDir/tasks/<name>/adapter/`. Each epoch
 * draws the tasks at their rates (see `mixtureExamples`, keyed by the run's key, so a resumed run
 * draws the same); checkpoints hold every prompt and each one's optimizer state.
 *
 * @param options the tasks, model, optimizer and the loop's options
 * @returns the loop's result and each task's prompt and files, or a problem
 * @example
 * ```ts
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "../model/load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { randomUniform } from "../initializers/mod.ts";
 * import { key } from "../random/mod.ts";
 * import { adam } from "./optim/mod.ts";
 * import { tuneMixture } from "./tune_mixture.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/gpt2_tiny"));
 * const runDir = await Deno.makeTempDir();
 * const a = [{ inputIds: [5, 6], targetIds: [7] }, { inputIds: [8], targetIds: [9] }];
 * const b = [{ inputIds: [10, 11], targetIds: [12] }];
 * const r = orThrow(await tuneMixture({
 *   model, optimizer: adam({ learningRate: 0.1 }), key: key(1), runDir, batchSize: 2, steps: 2,
 *   tasks: [
 *     { name: "a", train: a, promptLength: 2, initializer: randomUniform(0.5) },
 *     { name: "b", train: b, promptLength: 3, initializer: randomUniform(0.5) },
 *   ],
 *   progress: false, interrupts: false, peft: false,
 * }));
 * assert.deepEqual(r.tasks.map((t) => t.prompt.shape[0]), [2, 3]);
 * r.prompt.dispose();
 * r.tasks.forEach((t) => t.prompt.dispose());
 * disposeTree(model.params);
 * await Deno.remove(runDir, { recursive: true });
 * ```
 */
export async function tuneMixture(
  options: TuneMixtureOptions,
): Promise<E.Either<Problem, TuneMixtureResult>> {
  const issues = checkTasks(options);
  if (issues.length > 0) return E.left(problem("Invalid", "mixture", issues.join("; ")));
  const { model, tasks, shared, peft, evaluate, validation, ...rest } = options;
  const { loss: _loss, lengthNormalize: _ln, objective: _objective, padId: _padId, ...loop } = rest;
  const layout: PromptLayout = {
    tasks: tasks.map((t) => t.promptLength),
    ...(shared === undefined ? {} : { shared: { length: shared.length, mode: shared.mode } }),
  };
  let lengths: number[];
  try {
    lengths = blockLengths(layout);
  } catch (e) {
    return E.left(problem("Invalid", "mixture", (e as Error).message));
  }
  const width = embeddingTable(model).shape[1] as number; // [V, H]
  const [initKey, mixKey, trainKey] = split(options.key, 3);
  const inits = [
    ...(shared === undefined ? [] : [shared.initializer]),
    ...tasks.map((t) => t.initializer),
  ];
  const initial = () =>
    tf.tidy(() => {
      const keys = split(initKey, inits.length);
      return tf.concat(inits.map((init, k) => init(keys[k], [lengths[k], width])), 0); // [ΣP, H]
    });
  const epoch = mixtureExamples(tasks.map((t) => ({ examples: t.train, rate: t.rate })), mixKey);
  const objective = mixtureObjective(options, layout);
  const withPrompts = async <T>(packed: tf.Tensor, f: (ps: tf.Tensor[]) => Promise<T>) => {
    const ps = tf.tidy(() => taskPrompts(packed, layout));
    try {
      return await f(ps);
    } finally {
      tf.dispose(ps);
    }
  };
  const result = await train<MixtureExample<TokenExample>, MixtureBatch>({
    ...loop,
    key: trainKey,
    prompt: initial,
    train: epoch,
    optimizer: segmented(options.optimizer, lengths),
    collate: objective.collate,
    loss: (packed, batch: MixtureBatch, _context: StepContext) => objective.loss(packed, batch),
    countTokens: objective.countTokens,
    ...(evaluate === undefined || validation === undefined ? {} : {
      validation,
      evaluate: (
        packed: tf.Tensor,
        val: readonly MixtureExample<TokenExample>[],
        context: StepContext,
      ) => withPrompts(packed, (ps) => evaluate(ps, val, context)),
    }),
  });
  if (E.isLeft(result)) return result;
  const r = result.right;
  const prompts = tf.tidy(() => taskPrompts(r.prompt, layout));
  const out: { name: string; prompt: tf.Tensor; promptFile: string; adapterDir?: string }[] = [];
  for (const [k, task] of tasks.entries()) {
    const dir = join(options.runDir, "tasks", task.name);
    const promptFile = join(dir, "prompt.npy");
    if (r.stopped === "nan") {
      out.push({ name: task.name, prompt: prompts[k], promptFile });
      continue;
    }
    await Deno.mkdir(dir, { recursive: true });
    const host = await fromTensor(prompts[k]);
    const written = await writeNpy(promptFile, host);
    const adapterDir = join(dir, "adapter");
    const adapter = E.isLeft(written) || peft === false ? written : await writePeftAdapter(
      adapterDir,
      host,
      {
        ...peftOptionsFor(model),
        ...(peft?.seq2seqLayout === undefined ? {} : { seq2seqLayout: peft.seq2seqLayout }),
      },
    );
    if (E.isLeft(adapter)) {
      tf.dispose([r.prompt, ...prompts]);
      return adapter;
    }
    out.push({
      name: task.name,
      prompt: prompts[k],
      promptFile,
      ...(peft === false ? {} : { adapterDir }),
    });
  }
  return E.right({ ...r, tasks: out });
}
