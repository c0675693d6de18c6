/**
 * Training checkpoints on disk, written atomically and read back bit for bit.
 *
 * A run directory holds
 *
 * ```text
 * runDir/checkpoints/step_<N>/state.safetensors   prompt [P, H] f32, optimizer/<slot> f32, best_prompt
 * runDir/checkpoints/step_<N>/checkpoint.json     step, PRNG key, data position, best, optimizer, version
 * runDir/prompts/step_<N>.npy                     the prompt, [P, H] float32 (the "numpy checkpoints")
 * ```
 *
 * A checkpoint is written whole into `checkpoints/step_<N>.tmp-<random>/`, its files synced, and
 * only then renamed to `step_<N>/` (and the parent directory synced): a `step_<N>` directory is
 * complete by construction, whatever moment a crash or SIGKILL strikes. The latest checkpoint is
 * the highest complete step; leftover `*.tmp-*` entries are ignored and removed by
 * {@link cleanTemporary}. Old checkpoints beyond `keep` are renamed to a temporary name before
 * they are deleted, so a half-deleted one is never mistaken for a checkpoint. The `.npy` exports
 * are small and all kept.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { join } from "node:path";
import type { HostTensor } from "../io/host_tensor.ts";
import { writeNpy } from "../io/npy.ts";
import { openSafetensors, writeSafetensors } from "../io/safetensors.ts";
import { type Problem, problem } from "../problem.ts";
import type { HostOptimizerState } from "./optim/mod.ts";
import type { DataPosition } from "./batches.ts";
import { errorText, readFileCapped, syncDir, tmpSuffix, writeFileSynced } from "../io/files.ts";
import { isModelFingerprint, type ModelFingerprint } from "../io/fingerprint.ts";

/**
 * The version of the checkpoint layout written by {@link writeCheckpoint}; readers refuse others.
 *
 * @example
 * ```ts
 * import { CHECKPOINT_VERSION } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * assert(CHECKPOINT_VERSION === 1);
 * ```
 */
export const CHECKPOINT_VERSION = 1;

const FORMAT = "soft-prompt-checkpoint";
const STEP_DIR = /^step_(\d+)$/;
/** The most bytes a `checkpoint.json` may have (it holds a step's metadata: a few KiB). */
const MAX_META_BYTES = 16 * 2 ** 20;

/**
 * The best evaluation so far (for early stopping and `best.npy`).
 *
 * @example
 * ```ts
 * import type { BestSoFar } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const b: BestSoFar = { step: 4, metric: "loss", value: 0.5, metrics: { loss: 0.5 } };
 * assert(b.metrics[b.metric] === b.value);
 * ```
 */
export interface BestSoFar {
  /** The step after which it was measured. */
  readonly step: number;
  /** The metric compared. */
  readonly metric: string;
  /** Its value. */
  readonly value: number;
  /** Every metric of that evaluation. */
  readonly metrics: Readonly<Record<string, number>>;
}

/**
 * The scalar part of a checkpoint (`checkpoint.json`).
 *
 * @example
 * ```ts
 * import type { CheckpointMeta } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const m: CheckpointMeta = {
 *   step: 8, key: [0, 42], data: { epoch: 1, offset: 4 },
 *   optimizer: { name: "adafactor", step: 8 }, best: null, badEvals: 0,
 * };
 * assert(m.optimizer.step === m.step);
 * ```
 */
export interface CheckpointMeta {
  /** Training steps done (optimizer updates applied by the loop). */
  readonly step: number;
  /** The run's PRNG key, as `keyData` gives it. */
  readonly key: readonly [number, number];
  /** Where the next batch starts. */
  readonly data: DataPosition;
  /** The optimizer's name and its own step count. */
  readonly optimizer: { readonly name: string; readonly step: number };
  /** The best evaluation so far, or null before the first. */
  readonly best: BestSoFar | null;
  /** Evaluations since the best one (the early-stopping counter). */
  readonly badEvals: number;
  // deno-doc-ignore private-type-ref -- ModelFingerprint is io/'s own type, exported from io/mod.ts
  /** The files of the model the run trains against, when the run gave them (checked on resume). */
  readonly model?: ModelFingerprint;
}

/**
 * A whole checkpoint in host memory.
 *
 * @example
 * ```ts
 * import { hostTensor } from "../io/host_tensor.ts";
 * import type { Checkpoint } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const c: Checkpoint = {
 *   meta: {
 *     step: 1, key: [0, 1], data: { epoch: 0, offset: 2 },
 *     optimizer: { name: "adam", step: 1 }, best: null, badEvals: 0,
 *   },
 *   prompt: hostTensor("float32", [2, 3], new Float32Array(6)),
 *   optimizer: { step: 1, slots: {} },
 * };
 * assert(c.prompt.shape[1] === 3);
 * ```
 */
export interface Checkpoint {
  /** Step, key, data position, best, optimizer name. */
  readonly meta: CheckpointMeta;
  // deno-doc-ignore private-type-ref -- HostTensor is io/'s own type, exported from io/mod.ts
  /** The prompt, `[P, H]` float32. */
  readonly prompt: HostTensor;
  /** The optimizer state (float32 slots). */
  readonly optimizer: HostOptimizerState;
  // deno-doc-ignore private-type-ref -- HostTensor is io/'s own type, exported from io/mod.ts
  /** The best prompt so far, `[P, H]` float32, when there was an evaluation. */
  readonly bestPrompt?: HostTensor;
}

/**
 * Options of {@link writeCheckpoint}.
 *
 * @example
 * ```ts
 * import { hostTensor } from "../io/host_tensor.ts";
 * import { writeCheckpoint, type WriteCheckpointOptions } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const runDir = await Deno.makeTempDir();
 * let staged = "";
 * const options: WriteCheckpointOptions = { keep: 1, beforeCommit: (tmp) => void (staged = tmp) };
 * const r = await writeCheckpoint(runDir, {
 *   meta: {
 *     step: 1, key: [0, 1], data: { epoch: 0, offset: 2 },
 *     optimizer: { name: "adam", step: 1 }, best: null, badEvals: 0,
 *   },
 *   prompt: hostTensor("float32", [1, 2], new Float32Array(2)),
 *   optimizer: { step: 1, slots: {} },
 * }, options);
 * // Written under a temporary name first, then renamed to step_1.
 * assert(r._tag === "Right" && r.right.endsWith("step_1") && staged.includes(".tmp-"));
 * await Deno.remove(runDir, { recursive: true });
 * ```
 */
export interface WriteCheckpointOptions {
  /** How many checkpoints to keep, the new one included (default: all). */
  readonly keep?: number;
  /**
   * Called once the temporary directory is complete and synced, just before it is renamed into
   * place: a seam for tests that kill the process in the middle of a write.
   */
  readonly beforeCommit?: (tmpDir: string) => Promise<void> | void;
}

/**
 * The directory of the checkpoint at a step.
 *
 * @param runDir the run directory
 * @param step the step
 * @returns `runDir/checkpoints/step_<step>`
 * @example
 * ```ts
 * import { checkpointDir } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * assert(checkpointDir("run", 8).endsWith("step_8"));
 * ```
 */
export function checkpointDir(runDir: string, step: number): string {
  return join(runDir, "checkpoints", `step_${step}`);
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Writes a checkpoint atomically (see the module doc), exports its prompt as
 * `runDir/prompts/step_<N>.npy`, then deletes the oldest checkpoints beyond `keep` (never the new
 * one).
 *
 * @param runDir the run directory (created if missing)
 * @param checkpoint what to write
 * @param options how many to keep; a hook before the commit
 * @returns the new checkpoint's directory, or an `Io` problem (nothing half-written is left
 *   under a `step_<N>` name)
 * @example
 * ```ts
 * import { hostTensor } from "../io/host_tensor.ts";
 * import { listCheckpoints, writeCheckpoint } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const runDir = await Deno.makeTempDir();
 * for (const step of [1, 2, 3]) {
 *   await writeCheckpoint(runDir, {
 *     meta: {
 *       step, key: [0, 1], data: { epoch: 0, offset: step },
 *       optimizer: { name: "adam", step }, best: null, badEvals: 0,
 *     },
 *     prompt: hostTensor("float32", [1, 2], new Float32Array([step, 0])),
 *     optimizer: { step, slots: {} },
 *   }, { keep: 2 });
 * }
 * assert((await listCheckpoints(runDir)).join() === "2,3");
 * await Deno.remove(runDir, { recursive: true });
 * ```
 */
export async function writeCheckpoint(
  runDir: string,
  checkpoint: Checkpoint,
  options: WriteCheckpointOptions = {},
): Promise<E.Either<Problem, string>> {
  const { step } = checkpoint.meta;
  const root = join(runDir, "checkpoints");
  const final = checkpointDir(runDir, step);
  const tmp = `${final}.${tmpSuffix()}`;
  try {
    await Deno.mkdir(root, { recursive: true });
    await Deno.mkdir(join(runDir, "prompts"), { recursive: true });
    const npy = await writeNpy(join(runDir, "prompts", `step_${step}.npy`), checkpoint.prompt);
    if (E.isLeft(npy)) return npy;
    await Deno.mkdir(tmp);
    const tensors = new Map<string, HostTensor>([["prompt", checkpoint.prompt]]);
    for (const [name, t] of Object.entries(checkpoint.optimizer.slots)) {
      tensors.set(`optimizer/${name}`, t);
    }
    if (checkpoint.bestPrompt !== undefined) tensors.set("best_prompt", checkpoint.bestPrompt);
    const st = await writeSafetensors(join(tmp, "state.safetensors"), tensors, {
      format: FORMAT,
      version: String(CHECKPOINT_VERSION),
    });
    if (E.isLeft(st)) throw new Error(st.left.message);
    const json = { format: FORMAT, version: CHECKPOINT_VERSION, ...checkpoint.meta };
    await writeFileSynced(join(tmp, "checkpoint.json"), JSON.stringify(json, null, 2) + "\n");
    await syncDir(tmp);
    await options.beforeCommit?.(tmp);
    // A checkpoint of the same step (a rerun after a crash between rename and pruning) is
    // replaced: move it aside first, since a directory cannot be renamed over a non-empty one.
    const aside = `${final}.${tmpSuffix()}`;
    const existed = await Deno.rename(final, aside).then(() => true, () => false);
    await Deno.rename(tmp, final);
    await syncDir(root);
    if (existed) await Deno.remove(aside, { recursive: true });
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    // Named by its final name: the temporary one is gone.
    return E.left(problem("Io", final, `Cannot write the checkpoint: ${errorText(e)}`));
  }
  const keep = options.keep;
  if (keep !== undefined) {
    const pruned = await prune(runDir, Math.max(1, keep), step);
    if (E.isLeft(pruned)) return pruned;
  }
  return E.right(final);
}

async function prune(
  runDir: string,
  keep: number,
  newest: number,
): Promise<E.Either<Problem, void>> {
  const steps = (await listCheckpoints(runDir)).filter((s) => s !== newest).reverse();
  for (const s of steps.slice(keep - 1)) {
    const dir = checkpointDir(runDir, s);
    const doomed = `${dir}.${tmpSuffix()}`;
    try {
      await Deno.rename(dir, doomed); // atomic: it stops being a checkpoint at once
      await Deno.remove(doomed, { recursive: true });
    } catch (e) {
      return E.left(problem("Io", dir, `Cannot delete an old checkpoint: ${errorText(e)}`));
    }
  }
  return E.right(undefined);
}

/**
 * The steps of the complete checkpoints in a run directory, ascending (none when the directory
 * or its `checkpoints/` is missing). Temporary directories are not listed.
 *
 * @param runDir the run directory
 * @returns the steps
 * @example
 * ```ts
 * import { listCheckpoints } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * assert((await listCheckpoints("no/such/run")).length === 0);
 * ```
 */
export async function listCheckpoints(runDir: string): Promise<number[]> {
  const steps: number[] = [];
  try {
    for await (const e of Deno.readDir(join(runDir, "checkpoints"))) {
      const m = STEP_DIR.exec(e.name);
      if (m !== null && e.isDirectory) steps.push(Number(m[1]));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return steps.sort((a, b) => a - b);
}

/**
 * Removes what interrupted writes left in `runDir/checkpoints/` (names containing `.tmp-`).
 *
 * @param runDir the run directory
 * @returns the names removed
 * @example
 * ```ts
 * import { cleanTemporary } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const runDir = await Deno.makeTempDir();
 * await Deno.mkdir(`${runDir}/checkpoints/step_4.tmp-1234abcd`, { recursive: true });
 * assert((await cleanTemporary(runDir)).join() === "step_4.tmp-1234abcd");
 * await Deno.remove(runDir, { recursive: true });
 * ```
 */
export async function cleanTemporary(runDir: string): Promise<string[]> {
  const root = join(runDir, "checkpoints");
  const removed: string[] = [];
  try {
    for await (const e of Deno.readDir(root)) {
      if (!e.name.includes(".tmp-")) continue;
      await Deno.remove(join(root, e.name), { recursive: true });
      removed.push(e.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return removed.sort();
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Reads a checkpoint directory back, checking its version and every field.
 *
 * @param dir a `step_<N>` directory
 * @returns the checkpoint, or a problem: `NotFound`, `Corrupt` (bad JSON, missing or ill-typed
 *   fields, a prompt that is not `[P, H]` float32), `Unsupported` (another version)
 * @example
 * ```ts
 * import { hostTensor } from "../io/host_tensor.ts";
 * import { readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const runDir = await Deno.makeTempDir();
 * const meta = {
 *   step: 2, key: [0, 1] as const, data: { epoch: 0, offset: 4 },
 *   optimizer: { name: "adam", step: 2 }, best: null, badEvals: 0,
 * };
 * const prompt = hostTensor("float32", [1, 2], new Float32Array([0.5, -1]));
 * const m = hostTensor("float32", [1, 2], new Float32Array([1e-30, 2]));
 * const dir = await writeCheckpoint(runDir, { meta, prompt, optimizer: { step: 2, slots: { m } } });
 * const back = dir._tag === "Right" ? await readCheckpoint(dir.right) : dir;
 * assert(back._tag === "Right" && back.right.optimizer.slots.m.data[0] === m.data[0]);
 * await Deno.remove(runDir, { recursive: true });
 * ```
 */
export async function readCheckpoint(dir: string): Promise<E.Either<Problem, Checkpoint>> {
  const jsonPath = join(dir, "checkpoint.json");
  const bytes = await readFileCapped(jsonPath, MAX_META_BYTES, "a checkpoint's checkpoint.json");
  if (E.isLeft(bytes)) {
    return E.left(
      bytes.left._tag === "NotFound"
        ? problem("NotFound", jsonPath, "No checkpoint.json; expected a checkpoint directory")
        : bytes.left,
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.right);
  } catch {
    return E.left(
      problem("Corrupt", jsonPath, "Cannot read checkpoint.json: not UTF-8 text; expected JSON"),
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return E.left(problem("Corrupt", jsonPath, `Cannot read checkpoint.json: ${errorText(e)}`));
  }
  const meta = parseMeta(json, jsonPath);
  if (E.isLeft(meta)) return meta;
  const stPath = join(dir, "state.safetensors");
  const file = await openSafetensors(stPath);
  if (E.isLeft(file)) return file;
  const f = file.right;
  try {
    const prompt = await f.read("prompt");
    if (E.isLeft(prompt)) return prompt;
    const p = prompt.right;
    if (p.dtype !== "float32" || p.shape.length !== 2) {
      return E.left(
        problem(
          "Corrupt",
          `${stPath} prompt`,
          `Prompt is ${p.dtype} [${p.shape.join(", ")}]; expected float32 [P, H]`,
        ),
      );
    }
    const slots: Record<string, HostTensor> = {};
    let bestPrompt: HostTensor | undefined;
    for (const entry of f.entries) {
      if (entry.name.startsWith("optimizer/")) {
        const t = await f.read(entry.name);
        if (E.isLeft(t)) return t;
        slots[entry.name.slice("optimizer/".length)] = t.right;
      } else if (entry.name === "best_prompt") {
        const t = await f.read(entry.name);
        if (E.isLeft(t)) return t;
        bestPrompt = t.right;
      }
    }
    const optimizer = { step: meta.right.optimizer.step, slots };
    return E.right({
      meta: meta.right,
      prompt: p,
      optimizer,
      ...(bestPrompt ? { bestPrompt } : {}),
    });
  } finally {
    f.close();
  }
}

/**
 * The result of {@link latestCheckpoint}.
 *
 * @example
 * ```ts
 * import { hostTensor } from "../io/host_tensor.ts";
 * import { latestCheckpoint, type LatestCheckpoint, writeCheckpoint } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const runDir = await Deno.makeTempDir();
 * for (const step of [1, 2]) {
 *   await writeCheckpoint(runDir, {
 *     meta: {
 *       step, key: [0, 1], data: { epoch: 0, offset: step },
 *       optimizer: { name: "adam", step }, best: null, badEvals: 0,
 *     },
 *     prompt: hostTensor("float32", [1, 2], new Float32Array(2)),
 *     optimizer: { step, slots: {} },
 *   });
 * }
 * await Deno.remove(`${runDir}/checkpoints/step_2/checkpoint.json`); // damaged afterwards
 * const r = await latestCheckpoint(runDir);
 * const latest: LatestCheckpoint | null = r._tag === "Right" ? r.right : null;
 * assert(latest?.checkpoint?.meta.step === 1 && latest.dir.endsWith("step_1"));
 * assert(latest?.skipped.length === 1 && latest.skipped[0]._tag === "NotFound");
 * await Deno.remove(runDir, { recursive: true });
 * ```
 */
export interface LatestCheckpoint {
  /** The newest checkpoint that reads back, or null when there is none. */
  readonly checkpoint: Checkpoint | null;
  /** Its directory (empty when none). */
  readonly dir: string;
  /** Newer `step_<N>` directories that did not read back (normally none), and why. */
  readonly skipped: readonly Problem[];
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Finds the newest checkpoint that reads back. A `step_<N>` directory is complete by
 * construction, so normally this is the highest step; one damaged afterwards (a disk error, a
 * hand edit) is skipped and reported, and the next older one is tried.
 *
 * @param runDir the run directory
 * @returns the checkpoint (null when there are none) and the skipped ones, or the newest one's
 *   problem when none reads back
 * @example
 * ```ts
 * import { latestCheckpoint } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const r = await latestCheckpoint(await Deno.makeTempDir());
 * assert(r._tag === "Right" && r.right.checkpoint === null);
 * ```
 */
export async function latestCheckpoint(
  runDir: string,
): Promise<E.Either<Problem, LatestCheckpoint>> {
  const steps = (await listCheckpoints(runDir)).reverse();
  const skipped: Problem[] = [];
  for (const step of steps) {
    const dir = checkpointDir(runDir, step);
    const c = await readCheckpoint(dir);
    if (E.isRight(c)) return E.right({ checkpoint: c.right, dir, skipped });
    skipped.push(c.left);
  }
  if (skipped.length > 0) return E.left(skipped[0]);
  return E.right({ checkpoint: null, dir: "", skipped });
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function parseMeta(json: unknown, where: string): E.Either<Problem, CheckpointMeta> {
  const bad = (what: string) =>
    E.left(problem("Corrupt", where, `Field ${what}; expected a checkpoint.json we wrote`));
  if (!isRecord(json) || json.format !== FORMAT) return bad(`format is not "${FORMAT}"`);
  if (json.version !== CHECKPOINT_VERSION) {
    return E.left(
      problem(
        "Unsupported",
        where,
        `Checkpoint version is ${
          json.version === undefined ? "missing" : JSON.stringify(json.version)
        }; expected ${CHECKPOINT_VERSION}`,
      ),
    );
  }
  const { step, key, data, optimizer, best, badEvals, model } = json;
  if (model !== undefined && !isModelFingerprint(model)) {
    return bad("model is not a fingerprint (file → sha256:<hex>)");
  }
  if (!isCount(step)) return bad("step is not an integer ≥ 0");
  if (
    !Array.isArray(key) || key.length !== 2 ||
    !key.every((w) => isCount(w) && w < 2 ** 32)
  ) return bad("key is not two uint32 words");
  if (!isRecord(data) || !isCount(data.epoch) || !isCount(data.offset)) {
    return bad("data is not {epoch, offset} integers ≥ 0");
  }
  if (!isRecord(optimizer) || typeof optimizer.name !== "string" || !isCount(optimizer.step)) {
    return bad("optimizer is not {name, step}");
  }
  if (!isCount(badEvals)) return bad("badEvals is not an integer ≥ 0");
  let parsedBest: BestSoFar | null = null;
  if (best !== null) {
    if (
      !isRecord(best) || !isCount(best.step) || typeof best.metric !== "string" ||
      typeof best.value !== "number" || !isRecord(best.metrics) ||
      !Object.values(best.metrics).every((v) => typeof v === "number")
    ) return bad("best is not null or {step, metric, value, metrics}");
    parsedBest = {
      step: best.step,
      metric: best.metric,
      value: best.value,
      metrics: best.metrics as Record<string, number>,
    };
  }
  return E.right({
    step,
    key: [key[0], key[1]],
    data: { epoch: data.epoch, offset: data.offset },
    optimizer: { name: optimizer.name, step: optimizer.step },
    best: parsedBest,
    badEvals,
    ...(model === undefined ? {} : { model }),
  });
}
