/**
 * Prompt tuning of a frozen model, end to end: token examples → padded batches → the training loop
 * → the prompt exported as `.npy` and as a PEFT adapter directory.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { join } from "node:path";
import type { Initializer } from "../initializers/types.ts";
import { fromTensor } from "../io/host_tensor.ts";
import { writeNpy } from "../io/npy.ts";
import { embeddingTable, type FrozenModel } from "../model/frozen.ts";
import type { Problem } from "../problem.ts";
import { split } from "../random/mod.ts";
import type { TokenExample } from "../data/batch.ts";
import { train, type TrainOptions, type TrainResult } from "./loop.ts";
import { engineBytes, heapProblem, isHeapExhausted } from "./memory.ts";
import { peftOptionsFor, writePeftAdapter } from "./peft.ts";
import {
  promptObjective,
  type PromptObjectiveOptions,
  type TuneBatch,
} from "./prompt_objective.ts";

/** What a library user can lower when the heap runs out. */
const HEAP_LOWER = ["batchSize", "the inputs' length", 'objective.recompute ("layer")'];

/**
 * Options of {@link tunePrompt}: the loop's options, less what the model and examples decide.
 *
 * @example
 * ```ts
 * import { randomUniform } from "../initializers/mod.ts";
 * import { loadModel } from "../model/load.ts";
 * import { orThrow } from "../problem.ts";
 * import { key } from "../random/mod.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { adafactor } from "./optim/mod.ts";
 * import { tunePrompt, type TunePromptOptions } from "./tune.ts";
 * import assert from "node:assert/strict";
 * const dir = new URL("../tests/fixtures/models/gpt2_tiny", import.meta.url).pathname;
 * const model = orThrow(await loadModel(dir));
 * const runDir = await Deno.makeTempDir();
 * const options: TunePromptOptions = {
 *   model, initializer: randomUniform(0.5), promptLength: 4, key: key(0), runDir,
 *   train: [{ inputIds: [5, 6], targetIds: [7, 2] }], optimizer: adafactor(), batchSize: 1,
 *   steps: 1, peft: false, objective: { lossOptions: { labelSmoothing: 0.1 } },
 *   progress: false, interrupts: false,
 * };
 * const r = orThrow(await tunePrompt(options));
 * // A [promptLength, hidden] prompt, exported as .npy only (no PEFT adapter).
 * assert(r.prompt.shape.join() === "4,24" && r.adapterDir === undefined);
 * r.prompt.dispose();
 * disposeTree(model.params);
 * await Deno.remove(runDir, { recursive: true });
 * ```
 */
export interface TunePromptOptions
  extends
    Omit<TrainOptions<TokenExample, TuneBatch>, "prompt" | "collate" | "loss">,
    PromptObjectiveOptions {
  /** The frozen model. */
  readonly model: FrozenModel;
  /** How the prompt starts; called once with a key split from `key`, on a fresh start. */
  readonly initializer: Initializer;
  /** Prompt length P (paper: 100; 20 is nearly as good). */
  readonly promptLength: number;
  /** PEFT adapter: write `adapter/` at the end (default true), in PEFT's seq2seq layout or not. */
  readonly peft?: false | { readonly seq2seqLayout?: "encoder-only" | "peft" };
}

/**
 * What {@link tunePrompt} returns: the loop's result and where the exports went.
 *
 * @example
 * ```ts
 * import { randomUniform } from "../initializers/mod.ts";
 * import { readNpy } from "../io/npy.ts";
 * import { loadModel } from "../model/load.ts";
 * import { orThrow } from "../problem.ts";
 * import { key } from "../random/mod.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { adafactor } from "./optim/mod.ts";
 * import { tunePrompt, type TunePromptResult } from "./tune.ts";
 * import assert from "node:assert/strict";
 * const dir = new URL("../tests/fixtures/models/gpt2_tiny", import.meta.url).pathname;
 * const model = orThrow(await loadModel(dir));
 * const runDir = await Deno.makeTempDir();
 * const r: TunePromptResult = orThrow(
 *   await tunePrompt({
 *     model, initializer: randomUniform(0.5), promptLength: 2, key: key(1), runDir,
 *     train: [{ inputIds: [5, 6], targetIds: [7, 2] }], optimizer: adafactor(), batchSize: 1,
 *     steps: 1, progress: false, interrupts: false,
 *   }),
 * );
 * const npy = orThrow(await readNpy(r.promptFile));
 * assert(npy.shape.join() === "2,24" && r.steps === 1);
 * assert(r.adapterDir !== undefined && (await Deno.stat(r.adapterDir)).isDirectory);
 * r.prompt.dispose();
 * disposeTree(model.params);
 * await Deno.remove(runDir, { recursive: true });
 * ```
 */
export interface TunePromptResult extends TrainResult {
  /** `runDir/prompt.npy`: the final prompt, [P, H] float32. */
  readonly promptFile: string;
  /** `runDir/adapter`: the PEFT adapter directory, when written. */
  readonly adapterDir?: string;
}

/**
 * Tunes a soft prompt in front of a frozen model: initializes it (fresh start) or resumes it from
 * the run's checkpoints, trains it with the loop in `training/loop.ts` (checkpoints, resume,
 * early stopping, metrics, Ctrl-C), then writes the final prompt to `runDir/prompt.npy` and, by
 * default, a PEFT adapter to `runDir/adapter`. A run stopped by a NaN loss exports nothing.
 *
 * @param options model, initializer, examples, optimizer and run options
 * @returns the result (the caller disposes `prompt`), or a problem
 * @example
 * ```ts
 * import { randomUniform } from "../initializers/mod.ts";
 * import { loadModel } from "../model/load.ts";
 * import { orThrow } from "../problem.ts";
 * import { key } from "../random/mod.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { adafactor } from "./optim/mod.ts";
 * import { tunePrompt } from "./tune.ts";
 * import assert from "node:assert/strict";
 * const dir = new URL("../tests/fixtures/models/gpt2_tiny", import.meta.url).pathname;
 * const model = orThrow(await loadModel(dir));
 * const runDir = await Deno.makeTempDir();
 * const r = await tunePrompt({
 *   model, initializer: randomUniform(0.5), promptLength: 3, key: key(7), runDir,
 *   train: [{ inputIds: [5, 6, 7], targetIds: [5, 2] }, { inputIds: [8, 9], targetIds: [8, 2] }],
 *   optimizer: adafactor(), batchSize: 2, steps: 2, progress: false, interrupts: false,
 * });
 * assert(r._tag === "Right" && r.right.stopped === "done" && r.right.steps === 2);
 * assert(r._tag === "Right" && r.right.promptFile === `${runDir}/prompt.npy`);
 * if (r._tag === "Right") r.right.prompt.dispose();
 * disposeTree(model.params);
 * await Deno.remove(runDir, { recursive: true });
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
export async function tunePrompt(
  options: TunePromptOptions,
): Promise<E.Either<Problem, TunePromptResult>> {
  const { model, initializer, promptLength, objective, padId, peft, rank, ...loop } = options;
  const width = embeddingTable(model).shape[1] as number; // [V, H]
  const [initKey, trainKey] = split(options.key);
  let result: Awaited<ReturnType<typeof train<TokenExample, TuneBatch>>>;
  try {
    result = await train<TokenExample, TuneBatch>({
      ...loop,
      key: trainKey,
      prompt: () => initializer(initKey, [promptLength, width]),
      promptShape: [promptLength, width],
      ...promptObjective(model, { objective, rank, padId }),
    });
  } catch (e) {
    // An exhausted WASM heap is a problem of the run's size, said in one line; others are bugs.
    if (!isHeapExhausted(e)) throw e;
    return E.left(heapProblem(engineBytes(), HEAP_LOWER));
  }
  if (E.isLeft(result)) return result;
  const r = result.right;
  const promptFile = join(options.runDir, "prompt.npy");
  if (r.stopped === "nan") return E.right({ ...r, promptFile });
  const host = await fromTensor(r.prompt);
  const written = await writeNpy(promptFile, host);
  if (E.isLeft(written)) {
    r.prompt.dispose();
    return written;
  }
  if (peft === false) return E.right({ ...r, promptFile });
  const adapterDir = join(options.runDir, "adapter");
  const adapter = await writePeftAdapter(adapterDir, host, {
    ...peftOptionsFor(model),
    ...(peft?.seq2seqLayout === undefined ? {} : { seq2seqLayout: peft.seq2seqLayout }),
  });
  if (E.isLeft(adapter)) {
    r.prompt.dispose();
    return adapter;
  }
  return E.right({ ...r, promptFile, adapterDir });
}
