/**
 * Task mixtures, as T5's `MixtureRegistry`: several tasks trained in one run, each example drawn
 * from a task at its mixing rate (by default proportional to the task's size), and each task with
 * its own prompt. The prompts train as the row blocks of one packed matrix (one optimizer state
 * per block, see `optim/segmented.ts`); this file says where each task's prompt lies in it and
 * which examples one epoch of the mixture holds.
 *
 * The original's multi-task prompt is an option: a prompt shared by every task, concatenated in
 * front of each task's own (`"concat"`) or added to it (`"add"`, same length).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { foldIn, type Key, permutationIndices } from "../random/mod.ts";

/**
 * One task of a mixture, as {@link mixtureExamples} reads it.
 *
 * @example
 * ```ts
 * import type { MixtureSource } from "./mixture.ts";
 * import assert from "node:assert/strict";
 * const spam: MixtureSource<string> = { examples: ["a", "b", "c"], rate: 2 };
 * assert.equal(spam.rate, 2);
 * ```
 */
export interface MixtureSource<Ex> {
  /** The task's training examples. */
  readonly examples: readonly Ex[];
  /** Its mixing rate (any positive number; the rates are normalized); default its size. */
  readonly rate?: number;
}

/**
 * An example of a mixture: which task it comes from, and the example.
 *
 * @example
 * ```ts
 * import type { MixtureExample } from "./mixture.ts";
 * import assert from "node:assert/strict";
 * const e: MixtureExample<string> = { task: 1, example: "b" };
 * assert.equal(e.task, 1);
 * ```
 */
export interface MixtureExample<Ex> {
  /** The task's index in the mixture. */
  readonly task: number;
  /** The example. */
  readonly example: Ex;
}

/**
 * The mixing rates, normalized to sum to 1: each task's given rate, or its size.
 *
 * @param sources the tasks
 * @returns `[K]` the probabilities of drawing from each task
 * @throws {RangeError} for a task without examples or a rate that is not a positive number
 * @example
 * ```ts
 * import { mixtureRates } from "./mixture.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(mixtureRates([{ examples: [1, 2, 3] }, { examples: [4] }]), [0.75, 0.25]);
 * assert.deepEqual(mixtureRates([{ examples: [1, 2, 3], rate: 1 }, { examples: [4], rate: 1 }]), [0.5, 0.5]);
 * ```
 */
export function mixtureRates<Ex>(sources: readonly MixtureSource<Ex>[]): number[] {
  if (sources.length === 0) throw new RangeError("Mixture: no tasks; expected at least one");
  const raw = sources.map((s, k) => {
    if (s.examples.length === 0) {
      throw new RangeError(`Mixture: task ${k} has no training examples; expected at least one`);
    }
    const r = s.rate ?? s.examples.length;
    if (!Number.isFinite(r) || r <= 0) {
      throw new RangeError(`Mixture: task ${k}'s rate is ${r}; expected a positive number`);
    }
    return r;
  });
  const total = raw.reduce((a, b) => a + b, 0);
  return raw.map((r) => r / total);
}

/**
 * One epoch of a mixture: as many examples as the tasks have together, task `k` contributing
 * `round(N · rate_k)` (at least one) drawn without replacement from a shuffle of its examples
 * (cycled when it has fewer), by `key`. With rates proportional to size, every example once.
 * The training loop then shuffles the epoch as it does any training set.
 *
 * @param sources the tasks
 * @param key the draw's key (task `k` uses `foldIn(key, k)`)
 * @returns the epoch's examples, task by task
 * @example
 * ```ts
 * import { mixtureExamples } from "./mixture.ts";
 * import { key } from "../random/mod.ts";
 * import assert from "node:assert/strict";
 * const epoch = mixtureExamples([{ examples: ["a", "b", "c"], rate: 1 }, { examples: ["x"], rate: 1 }], key(0));
 * assert.deepEqual(epoch.map((e) => e.task), [0, 0, 1, 1]); // N = 4, half from each
 * assert.deepEqual(epoch.filter((e) => e.task === 1).map((e) => e.example), ["x", "x"]);
 * ```
 */
export function mixtureExamples<Ex>(
  sources: readonly MixtureSource<Ex>[],
  key: Key,
): MixtureExample<Ex>[] {
  const rates = mixtureRates(sources);
  const n = sources.reduce((a, s) => a + s.examples.length, 0);
  return sources.flatMap((s, task) => {
    const count = Math.max(1, Math.round(n * rates[task]));
    const order = permutationIndices(foldIn(key, task), s.examples.length);
    return Array.from({ length: count }, (_, i) => ({
      task,
      example: s.examples[order[i % order.length]],
    }));
  });
}

/**
 * Where the prompts of a mixture lie in the packed `[ΣP, H]` matrix: the shared prompt's rows
 * first (when there is one), then each task's own.
 *
 * @example
 * ```ts
 * import type { PromptLayout } from "./mixture.ts";
 * import assert from "node:assert/strict";
 * const layout: PromptLayout = { tasks: [20, 10], shared: { length: 5, mode: "concat" } };
 * assert.equal(layout.shared?.mode, "concat");
 * ```
 */
export interface PromptLayout {
  /** `[K]` each task's own prompt length. */
  readonly tasks: readonly number[];
  /** The shared prompt: its length, and how it meets each task's (`"add"`: the same length). */
  readonly shared?: { readonly length: number; readonly mode: "concat" | "add" };
}

/**
 * The row blocks of the packed matrix, in order: the shared prompt's length (if any), then the
 * tasks'. What `segmented` takes, so that each prompt has its own optimizer state.
 *
 * @param layout the layout
 * @returns the block lengths
 * @throws {RangeError} for a non-positive length, or `"add"` with a task of another length
 * @example
 * ```ts
 * import { blockLengths } from "./mixture.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(blockLengths({ tasks: [4, 4], shared: { length: 4, mode: "add" } }), [4, 4, 4]);
 * assert.throws(() => blockLengths({ tasks: [4, 3], shared: { length: 4, mode: "add" } }), /task 1's prompt has 3 rows; the shared prompt 4/);
 * ```
 */
export function blockLengths(layout: PromptLayout): number[] {
  const { tasks, shared } = layout;
  const all = shared === undefined ? [...tasks] : [shared.length, ...tasks];
  const bad = all.findIndex((n) => !Number.isSafeInteger(n) || n <= 0);
  if (tasks.length === 0 || bad >= 0) {
    throw new RangeError(
      `Mixture: prompt lengths [${all.join(", ")}]; expected positive integers, one per task`,
    );
  }
  if (shared?.mode === "add") {
    const other = tasks.findIndex((n) => n !== shared.length);
    if (other >= 0) {
      throw new RangeError(
        `Mixture: task ${other}'s prompt has ${
          tasks[other]
        } rows; the shared prompt ${shared.length} (an added shared prompt needs one length)`,
      );
    }
  }
  return all;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Each task's prompt from the packed matrix, differentiably: its own block, with the shared
 * prompt concatenated in front or added. Call it inside a `tf.tidy` (or dispose the results).
 *
 * @param packed `[ΣP, H]` the packed prompts (see {@link blockLengths})
 * @param layout the layout
 * @returns `[K]` the tasks' prompts, `[P_shared + P_k, H]` (concat) or `[P_k, H]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { taskPrompts } from "./mixture.ts";
 * import assert from "node:assert/strict";
 * const packed = tf.tensor2d([[1], [2], [3]]); // shared [1], task 0 [2], task 1 [3]
 * const [a, b] = taskPrompts(packed, { tasks: [1, 1], shared: { length: 1, mode: "add" } });
 * assert.deepEqual([a.dataSync()[0], b.dataSync()[0]], [3, 4]);
 * tf.dispose([packed, a, b]);
 * ```
 */
export function taskPrompts(packed: tf.Tensor, layout: PromptLayout): tf.Tensor[] {
  const lengths = blockLengths(layout);
  const parts = lengths.length === 1 ? [packed] : tf.split(packed, lengths, 0);
  if (layout.shared === undefined) return parts;
  const [shared, ...own] = parts;
  const out = own.map((p) =>
    layout.shared!.mode === "add" ? tf.add(shared, p) : tf.concat([shared, p], 0)
  );
  shared.dispose();
  tf.dispose(own);
  return out;
}
