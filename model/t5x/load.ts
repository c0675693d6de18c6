/**
 * One call from a T5X checkpoint directory to a T5 parameter tree and its sizes.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import type { Problem } from "../../problem.ts";
import type { ParamTree } from "../../tree/tree.ts";
import { readT5xCheckpoint, type ReadT5xOptions } from "./checkpoint.ts";
import { type T5xSizes, t5xSizes, t5xToTree, type T5xTreeOptions } from "./tree.ts";

/**
 * A T5X checkpoint loaded into the library's T5 tree.
 *
 * @example
 * ```ts
 * import { type LoadedT5x, loadT5x } from "./load.ts";
 * import { disposeTree } from "../../tree/tree.ts";
 * import assert from "node:assert/strict";
 * const r = await loadT5x(new URL("../../tests/data/prompt-tuning/test_data/test_t5_1_1_tiny/checkpoint_3/", import.meta.url));
 * if (r._tag === "Right") {
 *   const loaded: LoadedT5x = r.right;
 *   assert(loaded.step === 3 && loaded.sizes.vocabSize === 32128 && loaded.sizes.dModel === 4);
 *   disposeTree(loaded.params);
 * }
 * ```
 */
export interface LoadedT5x {
  /** The parameters, float32, in the library's T5 layout; the caller disposes them. */
  readonly params: ParamTree;
  /** The sizes inferred from the parameters' shapes. */
  readonly sizes: T5xSizes;
  /** The training step saved with the checkpoint, when recorded. */
  readonly step?: number;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Opens a T5X checkpoint directory, checks its parameters against a T5 model and reads them into
 * the library's T5 tree (see `readT5xCheckpoint` and `t5xToTree`).
 *
 * @param dir the checkpoint directory (`…/checkpoint_<step>/`)
 * @param options size limits and `allowUnexpected`
 * @returns the tree, its sizes and step, or the first problem
 * @example
 * ```ts
 * import { loadT5x } from "./load.ts";
 * import { disposeTree } from "../../tree/tree.ts";
 * import assert from "node:assert/strict";
 * const dir = new URL("../../tests/data/prompt-tuning/test_data/test_t5_1_1_tiny/checkpoint_3/", import.meta.url);
 * const r = await loadT5x(dir);
 * if (r._tag === "Right") {
 *   assert(r.right.sizes.numLayers === 2 && r.right.sizes.gated);
 *   disposeTree(r.right.params);
 * }
 * ```
 */
export async function loadT5x(
  dir: string | URL,
  options: ReadT5xOptions & T5xTreeOptions = {},
): Promise<E.Either<Problem, LoadedT5x>> {
  const ckpt = await readT5xCheckpoint(dir, options);
  if (E.isLeft(ckpt)) return ckpt;
  const where = options.where ?? ckpt.right.dir;
  const sizes = t5xSizes(ckpt.right.entries, { ...options, where });
  if (E.isLeft(sizes)) return sizes;
  const params = await t5xToTree(ckpt.right, { ...options, where });
  if (E.isLeft(params)) return params;
  const step = ckpt.right.step;
  return E.right({
    params: params.right,
    sizes: sizes.right,
    ...(step === undefined ? {} : { step }),
  });
}
