/**
 * `extract`: one variable of a checkpoint to `.npy`, like the original's `extract_variable`.
 *
 * Checkpoints: a tensor file (`.safetensors`, `.npz`, `.npy`, a sharded index), a Hugging Face
 * directory (its tensor names, or the library's tree paths), a T5X checkpoint (T5X paths with or
 * without `target/`, or tree paths), a PEFT adapter directory (`prompt_embeddings`), a training
 * checkpoint directory (`prompt`, `optimizer/<slot>`, `best_prompt`) or a run directory (its
 * latest checkpoint).
 *
 * @module
 */
import type * as E from "fp-ts/Either";
import { basename, join } from "node:path";
import { editDistance } from "../config/suggest.ts";
import { exists } from "../io/files.ts";
import { fromTensor, type HostTensor } from "../io/host_tensor.ts";
import { writeNpy } from "../io/npy.ts";
import { openTensorFile, type TensorSource } from "../io/tensor_file.ts";
import { loadModel } from "../model/load.ts";
import { readT5xCheckpoint } from "../model/t5x/mod.ts";
import { type Problem, problem } from "../problem.ts";
import { ADAPTER_WEIGHTS } from "../training/peft.ts";
import { disposeTree, flatten } from "../tree/tree.ts";
import { initBackend } from "../backend.ts";
import { Failure, orFail, parseCommand, positionals, required, UsageError } from "./args.ts";
import { directoryKind, latestCheckpointDir } from "./_prompt.ts";

/**
 * `extract --help`.
 *
 * @example
 * ```ts
 * import { EXTRACT_HELP } from "./extract.ts";
 * import assert from "node:assert/strict";
 * assert(EXTRACT_HELP.includes("--variable"));
 * ```
 */
export const EXTRACT_HELP =
  `Usage: deno run --allow-read --allow-write=FILE.npy cli.ts extract CHECKPOINT --variable NAME --out FILE.npy

Writes one variable of a checkpoint as .npy (bfloat16 is widened to float32, exactly).

CHECKPOINT and its variable names:
  .safetensors/.npz/.npy file, or model.safetensors.index.json   the names in the file
  Hugging Face directory     its tensor names (encoder.block.0.layer.0.SelfAttention.q.weight)
                             or the library's tree paths (encoder/layers/0/attention/query/kernel)
  T5X checkpoint directory   T5X paths, with or without target/
                             (target/encoder/layers_0/attention/query/kernel), or tree paths
  PEFT adapter directory     prompt_embeddings
  training checkpoint        prompt, optimizer/<slot> (or just the slot: v), best_prompt;
  (RUN_DIR/checkpoints/step_N, or RUN_DIR for the latest)

An unknown name lists the closest ones.`;

/** A source of named tensors, with the names a user may write mapped to stored ones. */
interface Variables {
  readonly where: string;
  readonly source: TensorSource;
  /** Stored names a written name may mean, most likely first. */
  readonly aliases: (name: string) => string[];
}

const noAliases = (name: string) => [name];

function t5xAliases(name: string): string[] {
  let n = name.replace(/^target[/.]/, "");
  if (!n.includes("/")) n = n.replaceAll(".", "/");
  return [n, n.replace(/^(encoder|decoder)\/layers\/(\d+)\//, "$1/layers_$2/")];
}

async function open(path: string): Promise<Variables> {
  let isDir: boolean;
  try {
    isDir = (await Deno.stat(path)).isDirectory;
  } catch (e) {
    throw new Failure([
      e instanceof Deno.errors.NotFound
        ? problem("NotFound", path, "No such file or directory")
        : problem("Io", path, e instanceof Error ? e.message : String(e)),
    ]);
  }
  if (!isDir) {
    if (basename(path) === "checkpoint") {
      return { where: path, source: orFail(await readT5xCheckpoint(path)), aliases: t5xAliases };
    }
    return { where: path, source: orFail(await openTensorFile(path)), aliases: noAliases };
  }
  const kind = await directoryKind(path);
  switch (kind) {
    case "t5x":
      return { where: path, source: orFail(await readT5xCheckpoint(path)), aliases: t5xAliases };
    case "peft":
      return {
        where: path,
        source: orFail(await openTensorFile(join(path, ADAPTER_WEIGHTS))),
        aliases: (n) => n === "prompt" ? ["prompt_embeddings"] : [n],
      };
    case "run":
    case "checkpoint": {
      const dir = kind === "run" ? orFail(await latestCheckpointDir(path)) : path;
      return {
        where: dir,
        source: orFail(await openTensorFile(join(dir, "state.safetensors"))),
        aliases: (n) => [n, `optimizer/${n}`],
      };
    }
    case "huggingface": {
      const index = join(path, "model.safetensors.index.json");
      const single = join(path, "model.safetensors");
      const file = await exists(index) ? index : single;
      return { where: path, source: orFail(await openTensorFile(file)), aliases: noAliases };
    }
    default:
      throw new Failure([
        problem(
          "Invalid",
          path,
          "Not a checkpoint: expected a tensor file, or a Hugging Face, T5X, PEFT adapter or training checkpoint directory",
        ),
      ]);
  }
}

/** The closest names: by edit distance, names containing the request first. */
function closestNames(name: string, names: readonly string[], n = 5): string[] {
  const lower = name.toLowerCase();
  return names
    .map((c) => ({ c, d: editDistance(lower, c.toLowerCase()) - (c.includes(name) ? 1000 : 0) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, n)
    .map((x) => x.c);
}

/** A tree path of a Hugging Face model (the whole model is loaded). */
async function fromTree(dir: string, name: string): Promise<HostTensor | readonly string[]> {
  orFail(await initBackend("wasm"));
  const model = orFail(await loadModel(dir));
  try {
    const leaves = flatten(model.params);
    const found = leaves.find(([path]) => path === name);
    return found === undefined ? leaves.map(([path]) => path) : await fromTensor(found[1]);
  } finally {
    disposeTree(model.params);
  }
}

async function readVariable(path: string, name: string): Promise<HostTensor> {
  const vars = await open(path);
  const names = vars.source.entries.map((e) => e.name);
  let found: E.Either<Problem, HostTensor> | undefined;
  try {
    const stored = vars.aliases(name).find((n) => names.includes(n));
    if (stored !== undefined) found = await vars.source.read(stored);
  } finally {
    vars.source.close();
  }
  if (found !== undefined) return orFail(found);
  let candidates = names;
  if ((await directoryKind(path)) === "huggingface" && name.includes("/")) {
    const tree = await fromTree(path, name);
    if (!Array.isArray(tree)) return tree as HostTensor;
    candidates = [...names, ...tree];
  }
  if (candidates.length === 0) {
    throw new Failure([
      problem("NotFound", vars.where, `No variable "${name}": the file holds no arrays`),
    ]);
  }
  throw new Failure([
    problem(
      "NotFound",
      vars.where,
      `No variable "${name}"; closest: ${
        closestNames(vars.aliases(name)[0], candidates).join(", ")
      } (${candidates.length} in all)`,
    ),
  ]);
}

/**
 * Runs `extract` with the arguments after the command's name.
 *
 * @param args the arguments
 * @returns when done; throws `UsageError` or `Failure`
 * @example
 * ```ts
 * import { runExtract } from "./extract.ts";
 * import assert from "node:assert/strict";
 * let failed = false;
 * try {
 *   await runExtract(["no/such/checkpoint", "--variable", "prompt", "--out", "x.npy"]);
 * } catch {
 *   failed = true;
 * }
 * assert(failed);
 * ```
 */
export async function runExtract(args: readonly string[]): Promise<void> {
  const p = parseCommand("extract", args, { variable: "string", out: "string" });
  if (p.flags.has("help")) return console.log(EXTRACT_HELP);
  const [checkpoint] = positionals(p, "extract", ["CHECKPOINT"]);
  const name = required(p, "extract", "variable", "NAME");
  const out = required(p, "extract", "out", "FILE.npy");
  if (!out.toLowerCase().endsWith(".npy")) {
    throw new UsageError(`extract writes .npy; --out ${out} does not end with .npy`);
  }
  const h = await readVariable(checkpoint, name);
  orFail(await writeNpy(out, h));
  console.log(`${name}: ${h.dtype} [${h.shape.join(", ")}] → ${out}`);
}
