/**
 * How a run starts, beside the checkpoints it resumes from: the guard on the run directory (never
 * an existing run without `resume`), the training loop's state in memory, and a fresh start or
 * one restored from the latest checkpoint (with the metrics log cut back and `best.npy` put back
 * to match it).
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { join } from "node:path";
import { type HostTensor, toTensor } from "../io/host_tensor.ts";
import { writeNpy } from "../io/npy.ts";
import { type Problem, problem } from "../problem.ts";
import { type Key, keyFromData } from "../random/mod.ts";
import {
  checkState,
  disposeState,
  type Optimizer,
  type OptimizerState,
  stateFromHost,
} from "./optim/mod.ts";
import type { DataPosition } from "./batches.ts";
import { type BestSoFar, cleanTemporary, latestCheckpoint, listCheckpoints } from "./checkpoint.ts";
import { truncateMetrics } from "./metrics_log.ts";
import { errorText, writeFileAtomic } from "../io/files.ts";
import { fingerprintChanges, type ModelFingerprint } from "../io/fingerprint.ts";

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Everything a checkpoint restores, in memory: the prompt `[P, H]` and the optimizer's state (what
 * a step changes), the run's key, the step, the data position, the best evaluation so far and its
 * prompt, and the evaluations in a row without improvement.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import { adam } from "./optim/mod.ts";
 * import type { RunState } from "./resume.ts";
 * import assert from "node:assert/strict";
 * const prompt = tf.zeros([2, 3]);
 * const s: RunState = {
 *   prompt, opt: adam().init(prompt), key: key(0), step: 0, data: { epoch: 0, offset: 0 },
 *   best: null, bestPrompt: undefined, badEvals: 0,
 * };
 * assert(s.opt.step === 0 && s.prompt.shape.join() === "2,3");
 * tf.dispose([prompt, ...Object.values(s.opt.slots)]);
 * ```
 */
export interface RunState {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** The prompt `[P, H]` float32. */
  prompt: tf.Tensor;
  /** The optimizer's state. */
  opt: OptimizerState;
  /** The run's key (split into the data, step and evaluation keys). */
  key: Key;
  /** Steps done. */
  step: number;
  /** Where the next batch starts. */
  data: DataPosition;
  /** The best evaluation so far, or null. */
  best: BestSoFar | null;
  /** The best prompt so far (in host memory), or undefined. */
  bestPrompt: HostTensor | undefined;
  /** Evaluations in a row without improvement. */
  badEvals: number;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * What {@link start} needs of the training options (see `TrainOptions` for each field).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { key } from "../random/mod.ts";
 * import { adafactor } from "./optim/mod.ts";
 * import type { StartOptions } from "./resume.ts";
 * import assert from "node:assert/strict";
 * const options: StartOptions = {
 *   runDir: "runs/demo", optimizer: adafactor(), prompt: () => tf.zeros([2, 3]), key: key(0),
 *   resume: true,
 * };
 * assert(options.resume === true);
 * ```
 */
export interface StartOptions {
  /** The run directory (created if missing). */
  readonly runDir: string;
  /** The optimizer (a checkpoint must have been trained with the same one). */
  readonly optimizer: Optimizer;
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** The initial prompt `[P, H]`: a tensor the caller keeps, or a function making one. */
  readonly prompt: tf.Tensor | (() => tf.Tensor);
  /** The shape `[P, H]` a `prompt` function makes, checked against a checkpoint's on resume. */
  readonly promptShape?: readonly number[];
  /** The run's key on a fresh start. */
  readonly key: Key;
  /** Continue from the latest checkpoint (default false). */
  readonly resume?: boolean;
  // deno-doc-ignore private-type-ref -- ModelFingerprint is io/'s own type, exported from io/mod.ts
  /** The model's files: a checkpoint that recorded others is refused (default: not checked). */
  readonly modelFingerprint?: ModelFingerprint;
}

/**
 * Writes `best.npy` and `best.json` (each atomically).
 *
 * @param runDir the run directory (it must exist)
 * @param best the best evaluation: step, metric and value, all metrics
 * @param prompt the best prompt `[P, H]`
 * @returns nothing, or an `Io` problem
 * @example
 * ```ts
 * import { hostTensor } from "../io/host_tensor.ts";
 * import { readNpy } from "../io/npy.ts";
 * import { orThrow } from "../problem.ts";
 * import { saveBest } from "./resume.ts";
 * import assert from "node:assert/strict";
 * const runDir = await Deno.makeTempDir();
 * const best = { step: 4, metric: "loss", value: 0.5, metrics: { loss: 0.5 } };
 * const prompt = hostTensor("float32", [1, 2], new Float32Array([1, 2]));
 * orThrow(await saveBest(runDir, best, prompt));
 * assert.deepEqual(JSON.parse(await Deno.readTextFile(`${runDir}/best.json`)), best);
 * assert.deepEqual([...orThrow(await readNpy(`${runDir}/best.npy`)).data], [1, 2]);
 * await Deno.remove(runDir, { recursive: true });
 * ```
 */
export async function saveBest(
  runDir: string,
  best: BestSoFar,
  prompt: HostTensor,
): Promise<E.Either<Problem, void>> {
  const w = await writeNpy(join(runDir, "best.npy"), prompt);
  if (E.isLeft(w)) return w;
  try {
    await writeFileAtomic(join(runDir, "best.json"), JSON.stringify(best, null, 2) + "\n");
  } catch (e) {
    return E.left(problem("Io", join(runDir, "best.json"), `Cannot write: ${errorText(e)}`));
  }
  return E.right(undefined);
}

async function removeIfThere(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/**
 * What {@link checkRunDir} says when it refuses a directory: how to resume, and how to go
 * elsewhere (the training loop's option names by default; the command line gives its flags).
 *
 * @example
 * ```ts
 * import type { RunDirOptions } from "./resume.ts";
 * import assert from "node:assert/strict";
 * const cli: RunDirOptions = {
 *   resume: false, refuseNonEmpty: true, resumeHint: "--resume", elsewhere: "give another --run-dir",
 * };
 * assert(cli.refuseNonEmpty === true);
 * ```
 */
export interface RunDirOptions {
  /** Whether the run resumes: then any directory is fine (without checkpoints it starts fresh). */
  readonly resume: boolean;
  /**
   * Refuse, without `resume`, a directory that holds anything at all, not only one with
   * checkpoints (default false: a run that never reached a checkpoint may be started over).
   */
  readonly refuseNonEmpty?: boolean;
  /** How to resume, in the message (default `"resume: true"`). */
  readonly resumeHint?: string;
  /** How to go elsewhere, in the message (default `"use a new directory"`). */
  readonly elsewhere?: string;
}

async function isNonEmptyDir(dir: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(dir)) return true;
  } catch {
    return false;
  }
  return false;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * The one guard on a run directory before a run starts: without `resume`, a directory that
 * already holds checkpoints is refused (and, with `refuseNonEmpty`, one that holds anything);
 * with `resume`, every directory is fine. A missing directory is always fine.
 *
 * @param runDir the run directory
 * @param options resume or not, and what the message suggests
 * @returns nothing, or an `Invalid` problem naming `runDir`
 * @example
 * ```ts
 * import { checkRunDir } from "./resume.ts";
 * import assert from "node:assert/strict";
 * const runDir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${runDir}/config.json`, "{}");
 * assert((await checkRunDir(runDir, { resume: false }))._tag === "Right"); // no checkpoints
 * const r = await checkRunDir(runDir, { resume: false, refuseNonEmpty: true });
 * assert(r._tag === "Left" && r.left.message.startsWith("Run directory exists and is not empty"));
 * assert((await checkRunDir(runDir, { resume: true, refuseNonEmpty: true }))._tag === "Right");
 * await Deno.remove(runDir, { recursive: true });
 * ```
 */
export async function checkRunDir(
  runDir: string,
  options: RunDirOptions,
): Promise<E.Either<Problem, void>> {
  if (options.resume) return E.right(undefined);
  const elsewhere = options.elsewhere ?? "use a new directory";
  const existing = await listCheckpoints(runDir);
  if (existing.length > 0) {
    return E.left(
      problem(
        "Invalid",
        runDir,
        `Run directory already holds checkpoints (up to step ${
          existing[existing.length - 1]
        }); pass ${options.resumeHint ?? "resume: true"} to continue, or ${elsewhere}`,
      ),
    );
  }
  if (options.refuseNonEmpty && await isNonEmptyDir(runDir)) {
    return E.left(
      problem(
        "Invalid",
        runDir,
        `Run directory exists and is not empty; ${elsewhere}, or remove it`,
      ),
    );
  }
  return E.right(undefined);
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Sets up the run directory and the state: fresh, or restored from the latest checkpoint. Without
 * `resume`, a directory holding checkpoints is refused ({@link checkRunDir}); a fresh start
 * removes the metrics log and best prompt a run that never reached a checkpoint left behind.
 *
 * @param options the run directory, optimizer, initial prompt, key and whether to resume
 * @returns the state (the caller owns its tensors), the checkpoint step resumed from (or null)
 *   and the unreadable checkpoints skipped; or a `Mismatch`, `Invalid`, `Io` or `Corrupt` problem
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { orThrow } from "../problem.ts";
 * import { key } from "../random/mod.ts";
 * import { adam, disposeState } from "./optim/mod.ts";
 * import { start } from "./resume.ts";
 * import assert from "node:assert/strict";
 * const runDir = await Deno.makeTempDir();
 * const r = orThrow(
 *   await start({ runDir, optimizer: adam(), prompt: () => tf.zeros([2, 3]), key: key(0), resume: true }),
 * );
 * assert(r.resumedFrom === null && r.state.step === 0); // no checkpoint yet: a fresh start
 * r.state.prompt.dispose();
 * disposeState(r.state.opt);
 * await Deno.remove(runDir, { recursive: true });
 * ```
 */
export async function start(
  options: StartOptions,
): Promise<
  E.Either<Problem, { state: RunState; resumedFrom: number | null; skipped: readonly Problem[] }>
> {
  const { runDir, optimizer } = options;
  try {
    await Deno.mkdir(runDir, { recursive: true });
    await cleanTemporary(runDir);
  } catch (e) {
    return E.left(problem("Io", runDir, `Cannot prepare the run directory: ${errorText(e)}`));
  }
  const metricsPath = join(runDir, "metrics.jsonl");
  if (options.resume) {
    const latest = await latestCheckpoint(runDir);
    if (E.isLeft(latest)) return latest;
    const c = latest.right.checkpoint;
    if (c !== null) {
      const where = latest.right.dir;
      if (c.meta.optimizer.name !== optimizer.name) {
        return E.left(
          problem(
            "Mismatch",
            where,
            `Checkpoint was trained with ${c.meta.optimizer.name}; resume with the same optimizer, not ${optimizer.name}`,
          ),
        );
      }
      const given = typeof options.prompt === "function"
        ? options.promptShape
        : options.prompt.shape;
      if (given !== undefined && given.join() !== c.prompt.shape.join()) {
        return E.left(
          problem(
            "Mismatch",
            where,
            `Checkpoint prompt is [${c.prompt.shape.join(", ")}]; the given prompt is [${
              given.join(", ")
            }]: resume with the same prompt length, or use a new run directory`,
          ),
        );
      }
      const changed = c.meta.model === undefined || options.modelFingerprint === undefined
        ? []
        : fingerprintChanges(c.meta.model, options.modelFingerprint);
      if (changed.length > 0) {
        return E.left(
          problem(
            "Mismatch",
            where,
            `The model changed since this checkpoint (${
              changed.join(", ")
            }); resume with the model the run started with, or start a new run`,
          ),
        );
      }
      const prompt = toTensor(c.prompt, `${where} prompt`);
      if (E.isLeft(prompt)) return prompt;
      const restored = stateFromHost(c.optimizer, `${where} optimizer`);
      if (E.isLeft(restored)) {
        prompt.right.dispose();
        return restored;
      }
      const checked = checkState(optimizer, restored.right, prompt.right);
      if (E.isLeft(checked)) {
        prompt.right.dispose();
        disposeState(restored.right);
        return checked;
      }
      try {
        await truncateMetrics(metricsPath, c.meta.step);
        // best.npy may hold a best found after the checkpoint: put back the checkpoint's.
        if (c.bestPrompt !== undefined && c.meta.best !== null) {
          const saved = await saveBest(runDir, c.meta.best, c.bestPrompt);
          if (E.isLeft(saved)) throw new Error(saved.left.message);
        } else {
          await removeIfThere(join(runDir, "best.npy"));
          await removeIfThere(join(runDir, "best.json"));
        }
      } catch (e) {
        prompt.right.dispose();
        disposeState(restored.right);
        return E.left(problem("Io", runDir, `Cannot restore the run's files: ${errorText(e)}`));
      }
      return E.right({
        state: {
          prompt: prompt.right,
          opt: restored.right,
          key: keyFromData(c.meta.key),
          step: c.meta.step,
          data: c.meta.data,
          best: c.meta.best,
          bestPrompt: c.bestPrompt,
          badEvals: c.meta.badEvals,
        },
        resumedFrom: c.meta.step,
        skipped: latest.right.skipped,
      });
    }
  } else {
    const guard = await checkRunDir(runDir, { resume: false });
    if (E.isLeft(guard)) return guard;
  }
  // A fresh start: forget what a run that never reached a checkpoint left behind.
  try {
    await removeIfThere(metricsPath);
    await removeIfThere(join(runDir, "best.npy"));
    await removeIfThere(join(runDir, "best.json"));
  } catch (e) {
    return E.left(problem("Io", runDir, `Cannot reset the run's files: ${errorText(e)}`));
  }
  const prompt = typeof options.prompt === "function" ? options.prompt() : options.prompt.clone();
  if (prompt.rank !== 2 || prompt.dtype !== "float32") {
    const shape = prompt.shape.join(", ");
    const dtype = prompt.dtype;
    prompt.dispose();
    return E.left(
      problem("Invalid", "train options", `prompt is ${dtype} [${shape}]; expected float32 [P, H]`),
    );
  }
  return E.right({
    state: {
      prompt,
      opt: optimizer.init(prompt),
      key: options.key,
      step: 0,
      data: { epoch: 0, offset: 0 },
      best: null,
      bestPrompt: undefined,
      badEvals: 0,
    },
    resumedFrom: null,
    skipped: [],
  });
}
