/**
 * Loading a checkpoint into a parameter tree from a plan: which tensors the config expects, with
 * which shapes, and which tree leaves each one becomes. Every name and shape is checked against
 * the plan before any data is read, and all mismatches are reported in one problem; then tensors
 * are read one at a time (so peak memory is the tree plus one tensor). float16, bfloat16 and
 * float64 weights are converted to float32 as they are read. Shared by the GPT-2 and LLaMA-family
 * loaders; T5's, which checks names its own way, shares the reading step and the parse-first order.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { type Problem, problem } from "../problem.ts";
import { isFloatDType } from "../io/dtype.ts";
import { toTensor } from "../io/host_tensor.ts";
import type { TensorSource } from "../io/tensor_source.ts";
import { type FlatEntry, type ParamTree, unflatten } from "../tree/tree.ts";

/** One checkpoint tensor the config expects, and the tree leaves it becomes. */
export interface TensorPlan {
  /** Its name after {@link LoadPlan.canonical} (for example without a `transformer.` prefix). */
  readonly name: string;
  /** Its shape in the checkpoint. */
  readonly shape: readonly number[];
  /** Makes the leaves from the float32 tensor (inside a `tf.tidy`; return new tensors). */
  readonly place: (t: tf.Tensor) => FlatEntry[];
}

/** What a checkpoint must hold for one config. */
export interface LoadPlan {
  /** The architecture, for messages ("GPT-2"). */
  readonly label: string;
  /** The expected tensors. */
  readonly tensors: readonly TensorPlan[];
  /** Maps a name in the file to its canonical name (strips optional prefixes). */
  readonly canonical: (name: string) => string;
  /** Names (canonical) present in some checkpoints but not needed (buffers, a tied head). */
  readonly ignore: (name: string) => boolean;
}

const LISTED = 6;

function list(items: readonly string[]): string {
  const shown = items.slice(0, LISTED).join(", ");
  return items.length > LISTED ? `${shown} and ${items.length - LISTED} more` : shown;
}

const dims = (s: readonly number[]) => `[${s.join(", ")}]`;

/**
 * A leaf placed as it is: `t` kept under `path`.
 *
 * @param path the leaf's path
 * @returns a placer for {@link TensorPlan.place}
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { asIs } from "./_load_plan.ts";
 * import assert from "node:assert/strict";
 * const t = tf.zeros([1]);
 * const [[path, leaf]] = asIs("a/b")(t);
 * assert(path === "a/b");
 * tf.dispose([t, leaf]);
 * ```
 */
export function asIs(path: string): (t: tf.Tensor) => FlatEntry[] {
  return (t) => [[path, t.clone()]];
}

/**
 * A PyTorch `Linear` weight `[out, in]` placed transposed, as a kernel `[in, out]`.
 *
 * @param path the leaf's path
 * @returns a placer for {@link TensorPlan.place}
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { transposed } from "./_load_plan.ts";
 * import assert from "node:assert/strict";
 * const w = tf.zeros([3, 2]);
 * const [[, k]] = transposed("k")(w);
 * assert(k.shape.join() === "2,3");
 * tf.dispose([w, k]);
 * ```
 */
export function transposed(path: string): (t: tf.Tensor) => FlatEntry[] {
  return (t) => [[path, tf.transpose(t)]];
}

/**
 * Checks a checkpoint's names, dtypes and shapes against a plan, all at once.
 *
 * @param source the checkpoint
 * @param plan what the config expects
 * @param where the checkpoint, for the problem
 * @returns the file name of each planned tensor, or one `Mismatch` problem listing the
 * missing, unexpected, duplicated, non-float and mis-shaped tensors
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { checkPlan } from "./_load_plan.ts";
 * import assert from "node:assert/strict";
 * const source = { entries: [{ name: "w", dtype: "float32" as const, shape: [2] }], read: () => Promise.reject(), close() {} };
 * const plan = { label: "X", tensors: [{ name: "w", shape: [3], place: () => [] }], canonical: (n: string) => n, ignore: () => false };
 * const r = checkPlan(source, plan, "dir");
 * assert(E.isLeft(r) && r.left.message.includes("w is [2], expected [3]"));
 * ```
 */
export function checkPlan(
  source: TensorSource,
  plan: LoadPlan,
  where: string,
): E.Either<Problem, Map<string, string>> {
  const planned = new Map(plan.tensors.map((t) => [t.name, t]));
  const found = new Map<string, string>(); // canonical → file name
  const unexpected: string[] = [], duplicated: string[] = [], wrong: string[] = [];
  for (const entry of source.entries) {
    const name = plan.canonical(entry.name);
    const expected = planned.get(name);
    if (expected === undefined) {
      if (!plan.ignore(name)) unexpected.push(entry.name);
      continue;
    }
    if (found.has(name)) {
      duplicated.push(`${found.get(name)} and ${entry.name}`);
      continue;
    }
    found.set(name, entry.name);
    if (!isFloatDType(entry.dtype)) { // every float dtype is read as float32
      wrong.push(`${entry.name} is ${entry.dtype}, expected a float type`);
    } else if (dims(entry.shape) !== dims(expected.shape)) {
      wrong.push(`${entry.name} is ${dims(entry.shape)}, expected ${dims(expected.shape)}`);
    }
  }
  const missing = plan.tensors.filter((t) => !found.has(t.name)).map((t) => t.name);
  const parts = [
    missing.length > 0 ? `missing ${list(missing)}` : "",
    unexpected.length > 0 ? `unexpected ${list(unexpected)}` : "",
    duplicated.length > 0 ? `given twice ${list(duplicated)}` : "",
    wrong.length > 0 ? `mismatched ${list(wrong)}` : "",
  ].filter((p) => p !== "");
  if (parts.length === 0) return E.right(found);
  return E.left(
    problem(
      "Mismatch",
      where,
      `${plan.label} checkpoint does not match its config: ${parts.join("; ")}`,
    ),
  );
}

/**
 * Reads planned tensors one at a time, converts each to float32 and places it. On a problem (or
 * an exception, which is passed on) the leaves made so far are disposed.
 *
 * @param source the checkpoint (not closed here)
 * @param tensors what to read, in order
 * @param where the checkpoint, for problems
 * @param fileName the name in the file of each planned tensor (default: its planned name)
 * @returns the leaves, in plan order (the caller owns them), or the first read's problem
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import * as tf from "@tensorflow/tfjs";
 * import { hostTensor } from "../io/host_tensor.ts";
 * import { readByPlan, transposed } from "./_load_plan.ts";
 * import assert from "node:assert/strict";
 * const h = hostTensor("float32", [1, 2], new Float32Array([1, 2]));
 * const source = { entries: [{ name: "w", dtype: h.dtype, shape: h.shape }], read: () => Promise.resolve(E.right(h)), close() {} };
 * const leaves = await readByPlan(source, [{ name: "w", shape: [1, 2], place: transposed("a/k") }], "dir");
 * assert(E.isRight(leaves) && leaves.right[0][1].shape.join() === "2,1");
 * if (E.isRight(leaves)) tf.dispose(leaves.right.map(([, t]) => t));
 * ```
 */
export async function readByPlan(
  source: TensorSource,
  tensors: readonly TensorPlan[],
  where: string,
  fileName: (name: string) => string = (name) => name,
): Promise<E.Either<Problem, FlatEntry[]>> {
  const leaves: FlatEntry[] = [];
  let done = false;
  try {
    for (const t of tensors) {
      const name = fileName(t.name);
      const host = await source.read(name);
      if (E.isLeft(host)) return host;
      const loaded = toTensor(host.right, `${where}: ${name}`);
      if (E.isLeft(loaded)) return loaded;
      // tidy keeps the tensors anywhere in the returned entries and frees the intermediates.
      const placed = tf.tidy(() =>
        t.place(loaded.right) as unknown as tf.TensorContainer
      ) as unknown as FlatEntry[];
      loaded.right.dispose();
      leaves.push(...placed);
    }
    done = true;
    return E.right(leaves);
  } finally {
    if (!done) tf.dispose(leaves.map(([, t]) => t)); // a problem or an exception: free them
  }
}

/**
 * Loads a checkpoint by a plan: checks everything first ({@link checkPlan}), then reads, converts
 * and places one tensor at a time ({@link readByPlan}). On failure nothing is left allocated.
 *
 * @param source the checkpoint (not closed here)
 * @param plan what the config expects
 * @param where the checkpoint, for problems
 * @returns the tree (typed as the architecture's, `T`), or the first problem (a `Mismatch`
 * listing everything, or a read's problem)
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { hostTensor } from "../io/host_tensor.ts";
 * import { asIs, loadByPlan } from "./_load_plan.ts";
 * import assert from "node:assert/strict";
 * const h = hostTensor("float32", [2], new Float32Array([1, 2]));
 * const source = { entries: [{ name: "w", dtype: h.dtype, shape: h.shape }], read: () => Promise.resolve(E.right(h)), close() {} };
 * const plan = { label: "X", tensors: [{ name: "w", shape: [2], place: asIs("a/w") }], canonical: (n: string) => n, ignore: () => false };
 * const tree = await loadByPlan(source, plan, "dir");
 * assert(E.isRight(tree));
 * ```
 */
export async function loadByPlan<T = ParamTree>(
  source: TensorSource,
  plan: LoadPlan,
  where: string,
): Promise<E.Either<Problem, T>> {
  const checked = checkPlan(source, plan, where);
  if (E.isLeft(checked)) return checked;
  const leaves = await readByPlan(source, plan.tensors, where, (name) => checked.right.get(name)!);
  return E.map((l: FlatEntry[]) => unflatten(l) as unknown as T)(leaves);
}

/**
 * Parses a checkpoint's `config.json` (problems name `<dir>/config.json`), then loads its tensors
 * for that config: the steps every `load…FromHuggingFace` takes, in order, so that a bad config
 * is reported before any tensor is read.
 *
 * @param dir the checkpoint directory
 * @param configJson its parsed `config.json`
 * @param parse the architecture's config parser
 * @param load loads the tensors for the parsed config
 * @returns what `load` returns, or the config's problem
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { loadWithConfig } from "./_load_plan.ts";
 * import { parseGpt2Config } from "./gpt2/config.ts";
 * import assert from "node:assert/strict";
 * const r = await loadWithConfig("dir", { n_embd: 0 }, parseGpt2Config, () => Promise.resolve(E.right(1)));
 * assert(E.isLeft(r) && r.left.where === "dir/config.json");
 * ```
 */
export async function loadWithConfig<C, A>(
  dir: string,
  configJson: unknown,
  parse: (json: unknown, where: string) => E.Either<Problem, C>,
  load: (config: C) => Promise<E.Either<Problem, A>>,
): Promise<E.Either<Problem, A>> {
  const config = parse(configJson, `${dir.replace(/\/+$/, "")}/config.json`); // a path or a URL
  if (E.isLeft(config)) return config;
  return await load(config.right);
}
