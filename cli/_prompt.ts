/**
 * Reading a prompt from wherever one is kept: an `.npy`, `.npz` or `.safetensors` file, a PEFT
 * adapter directory, a training checkpoint directory (`checkpoints/step_<N>/`), or a run
 * directory (its latest checkpoint).
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { join } from "node:path";
import { isFloatDType } from "../io/dtype.ts";
import { type HostTensor, hostTensor, toFloat64 } from "../io/host_tensor.ts";
import { openTensorFile } from "../io/tensor_file.ts";
import { type Problem, problem } from "../problem.ts";
import { ADAPTER_CONFIG, readPeftAdapter } from "../training/peft.ts";
import { checkpointDir, listCheckpoints, readCheckpoint } from "../training/checkpoint.ts";

async function kind(path: string): Promise<"file" | "dir" | "missing"> {
  try {
    return (await Deno.stat(path)).isDirectory ? "dir" : "file";
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
      return "missing";
    }
    throw e;
  }
}

/**
 * What kind of directory a path is, by the files in it.
 *
 * @param dir the directory
 * @returns `"peft"` (adapter_config.json), `"checkpoint"` (checkpoint.json), `"run"` (a
 *   `checkpoints/` folder), `"t5x"` (a `checkpoint` file), `"huggingface"` (config.json), or
 *   undefined
 * @example
 * ```ts
 * import { directoryKind } from "./_prompt.ts";
 * import assert from "node:assert/strict";
 * assert((await directoryKind("tests/fixtures/cli/model")) === "huggingface");
 * ```
 */
export async function directoryKind(
  dir: string,
): Promise<"peft" | "checkpoint" | "run" | "t5x" | "huggingface" | undefined> {
  if (await kind(join(dir, ADAPTER_CONFIG)) === "file") return "peft";
  if (await kind(join(dir, "checkpoint.json")) === "file") return "checkpoint";
  if (await kind(join(dir, "checkpoints")) === "dir") return "run";
  if (await kind(join(dir, "checkpoint")) === "file") return "t5x";
  if (await kind(join(dir, "config.json")) === "file") return "huggingface";
  return undefined;
}

/**
 * The newest checkpoint directory of a run directory.
 *
 * @param runDir the run directory
 * @returns `runDir/checkpoints/step_<N>` of the highest N, or a `NotFound` problem
 * @example
 * ```ts
 * import { latestCheckpointDir } from "./_prompt.ts";
 * import assert from "node:assert/strict";
 * assert((await latestCheckpointDir("no/such/run"))._tag === "Left");
 * ```
 */
export async function latestCheckpointDir(runDir: string): Promise<E.Either<Problem, string>> {
  const steps = await listCheckpoints(runDir);
  if (steps.length === 0) {
    return E.left(problem("NotFound", runDir, "No checkpoints in this run directory"));
  }
  return E.right(checkpointDir(runDir, steps[steps.length - 1]));
}

async function fromTensorFile(path: string, name?: string): Promise<E.Either<Problem, HostTensor>> {
  const opened = await openTensorFile(path);
  if (E.isLeft(opened)) return opened;
  const source = opened.right;
  try {
    const names = source.entries.map((e) => e.name);
    const chosen = name ??
      (names.length === 1
        ? names[0]
        : ["prompt", "prompt_embeddings"].find((n) => names.includes(n)));
    if (names.length === 0) {
      return E.left(problem("NotFound", path, "The file holds no arrays; expected the prompt"));
    }
    if (chosen === undefined || !names.includes(chosen)) {
      const listed = `${names.slice(0, 8).join(", ")}${names.length > 8 ? ", …" : ""}`;
      return E.left(
        problem(
          "NotFound",
          path,
          chosen === undefined
            ? `Several tensors and none named prompt; pass --name, one of: ${listed}`
            : `No tensor named "${chosen}"; the file holds ${listed || "none"}`,
        ),
      );
    }
    return await source.read(chosen);
  } finally {
    source.close();
  }
}

/**
 * Reads a prompt as float32 `[P, H]`, from a tensor file (the tensor `name`, else the only one,
 * else `prompt` or `prompt_embeddings`), a PEFT adapter directory, a training checkpoint
 * directory, or a run directory (its latest checkpoint's prompt).
 *
 * @param path the file or directory
 * @param name the tensor's name in a file holding several
 * @returns the prompt, or a problem naming the path
 * @example
 * ```ts
 * import { readPrompt } from "./_prompt.ts";
 * import assert from "node:assert/strict";
 * const r = await readPrompt("tests/data/prompt-tuning/pretrained_prompts/t5_1_1_lm100k_base/sst2.npy");
 * assert(r._tag === "Right" && r.right.shape.join() === "100,768");
 * ```
 */
export async function readPrompt(
  path: string,
  name?: string,
): Promise<E.Either<Problem, HostTensor>> {
  const k = await kind(path);
  if (k === "missing") return E.left(problem("NotFound", path, "No such file or directory"));
  let read: E.Either<Problem, HostTensor>;
  if (k === "file") read = await fromTensorFile(path, name);
  else {
    const dk = await directoryKind(path);
    if (dk === "peft") {
      read = E.map((a: { prompt: HostTensor }) => a.prompt)(await readPeftAdapter(path));
    } else if (dk === "checkpoint" || dk === "run") {
      const dir = dk === "run" ? await latestCheckpointDir(path) : E.right(path);
      if (E.isLeft(dir)) return dir;
      const c = await readCheckpoint(dir.right);
      if (E.isLeft(c)) return c;
      read = E.right(c.right.prompt);
    } else {
      return E.left(
        problem(
          "Invalid",
          path,
          "Not a prompt: expected an .npy, .npz or .safetensors file, a PEFT adapter directory or a training checkpoint directory",
        ),
      );
    }
  }
  if (E.isLeft(read)) return read;
  const h = read.right;
  if (!isFloatDType(h.dtype) || h.shape.length !== 2 || h.shape[0] < 1) {
    return E.left(
      problem(
        "Invalid",
        path,
        `The prompt is ${h.dtype} [${h.shape.join(", ")}]; expected a floating-point [P, H] array`,
      ),
    );
  }
  return E.right(
    h.dtype === "float32" ? h : hostTensor("float32", h.shape, Float32Array.from(toFloat64(h))),
  );
}

/**
 * Checks that a prompt's width is the model's.
 *
 * @param prompt the `[P, H]` prompt
 * @param width the model's width
 * @param where the prompt's file, for the problem
 * @returns nothing, or a `Mismatch` problem
 * @example
 * ```ts
 * import { hostTensor } from "../io/host_tensor.ts";
 * import { checkPromptWidth } from "./_prompt.ts";
 * import assert from "node:assert/strict";
 * const p = hostTensor("float32", [2, 4], new Float32Array(8));
 * assert(checkPromptWidth(p, 8, "p.npy")._tag === "Left");
 * ```
 */
export function checkPromptWidth(
  prompt: HostTensor,
  width: number,
  where: string,
): E.Either<Problem, void> {
  if (prompt.shape[1] === width) return E.right(undefined);
  return E.left(
    problem(
      "Mismatch",
      where,
      `The prompt is [${
        prompt.shape.join(", ")
      }] but the model's width is ${width}; expected [P, ${width}]`,
    ),
  );
}
