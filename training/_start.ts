/**
 * Private: the training loop's state in memory, and how a run starts: fresh, or restored from the
 * latest checkpoint (with the metrics log cut back and `best.npy` put back to match it).
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
import { errorText, writeFileAtomic as writeTextAtomic } from "../io/files.ts";

/** Everything a checkpoint restores, in memory. */
export interface RunState {
  prompt: tf.Tensor;
  opt: OptimizerState;
  key: Key;
  step: number;
  data: DataPosition;
  best: BestSoFar | null;
  bestPrompt: HostTensor | undefined;
  badEvals: number;
}

/** What `start` needs of the training options. */
export interface StartOptions {
  readonly runDir: string;
  readonly optimizer: Optimizer;
  readonly prompt: tf.Tensor | (() => tf.Tensor);
  readonly key: Key;
  readonly resume?: boolean;
}

/** Writes `best.npy` and `best.json` (each atomically). */
export async function saveBest(
  runDir: string,
  best: BestSoFar,
  prompt: HostTensor,
): Promise<E.Either<Problem, void>> {
  const w = await writeNpy(join(runDir, "best.npy"), prompt);
  if (E.isLeft(w)) return w;
  try {
    await writeTextAtomic(join(runDir, "best.json"), JSON.stringify(best, null, 2) + "\n");
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

/** Sets up the run directory and the state: fresh, or restored from the latest checkpoint. */
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
      if (
        typeof options.prompt !== "function" &&
        options.prompt.shape.join() !== c.prompt.shape.join()
      ) {
        return E.left(
          problem(
            "Mismatch",
            where,
            `Checkpoint prompt is [${c.prompt.shape.join(", ")}]; the given prompt is [${
              options.prompt.shape.join(", ")
            }]`,
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
    const existing = await listCheckpoints(runDir);
    if (existing.length > 0) {
      return E.left(
        problem(
          "Invalid",
          runDir,
          `Run directory already holds checkpoints (up to step ${
            existing[existing.length - 1]
          }); pass resume: true to continue, or use a new directory`,
        ),
      );
    }
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
