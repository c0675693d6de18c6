/**
 * From a T5X checkpoint's parameter names to the library's T5 parameter tree, and the
 * architecture's sizes inferred from the shapes.
 *
 * The tree keeps T5X's names but holds each stack's layers in an array: T5X's
 * `encoder/layers_3/attention/query/kernel` is the tree's `encoder/layers/3/attention/query/kernel`
 * (the same for the decoder). Kernels are already `[in, out]` and `relpos_bias/rel_embedding` is
 * `[heads, buckets]` in both, so nothing is transposed; every leaf becomes a float32 tensor.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { type Problem, problem } from "../../problem.ts";
import type { DType } from "../../io/dtype.ts";
import { toTensor } from "../../io/host_tensor.ts";
import type { TensorSource } from "../../io/tensor_source.ts";
import { type FlatEntry, flatten, type ParamTree, unflatten } from "../../tree/tree.ts";
import { t5ParamShapes, type T5Sizes } from "../t5/config.ts";

/**
 * The sizes of a T5 encoder-decoder, as inferred from its parameters' shapes (the fields of
 * {@link T5Sizes} but for `gated` and `tied`): `numHeads` and `relativeAttentionNumBuckets` are
 * the rows and columns of `relpos_bias/rel_embedding`, `dKv` the query kernel's width over the
 * number of heads. What shapes cannot tell (`relative_attention_max_distance`, T5X's default 128; the activation; the
 * layer norm's epsilon) comes from the caller's configuration.
 *
 * @example
 * ```ts
 * import { t5xSizes, type T5xSizes } from "./tree.ts";
 * import { parseT5Config, t5ParamShapes } from "../t5/config.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const config = orThrow(parseT5Config({ vocab_size: 10, d_model: 4, d_kv: 2, d_ff: 8, num_layers: 2, num_heads: 2, feed_forward_proj: "gated-gelu" }, "config.json"));
 * // T5X names layer i `layers_<i>`; the library's tree `layers/<i>`.
 * const entries = [...t5ParamShapes(config)].map(([path, shape]) => ({ name: path.replace(/layers\/(\d+)/, "layers_$1"), shape }));
 * const sizes: T5xSizes = orThrow(t5xSizes(entries));
 * assert(sizes.numLayers === 2 && sizes.numHeads === 2 && sizes.dKv === 2 && sizes.gated && sizes.tied);
 * ```
 */
export interface T5xSizes extends Omit<T5Sizes, "isGatedAct" | "tieWordEmbeddings"> {
  /** A gated feed-forward (`wi_0`, `wi_1`: T5 1.1) rather than one `wi` (original T5). */
  readonly gated: boolean;
  /** The output head is the embedding table (no `decoder/logits_dense/kernel`). */
  readonly tied: boolean;
}

/**
 * A parameter's name (T5X's, `layers_<i>`), shape and, when known, dtype.
 *
 * @example
 * ```ts
 * import { t5xSizes, type T5xShapeEntry } from "./tree.ts";
 * import assert from "node:assert/strict";
 * const entries: T5xShapeEntry[] = [
 *   { name: "token_embedder/embedding", shape: [10, 4], dtype: "bfloat16" },
 *   { name: "encoder/relpos_bias/rel_embedding", shape: [2, 32] },
 * ];
 * const r = t5xSizes(entries);
 * assert(r._tag === "Left" && r.left.message.includes("encoder/layers_0/attention/query/kernel"));
 * ```
 */
export interface T5xShapeEntry {
  /** The T5X name, such as `encoder/layers_0/mlp/wo/kernel`. */
  readonly name: string;
  /** Its shape. */
  readonly shape: readonly number[];
  /** Its element type, when known; integer and bool parameters are refused. */
  readonly dtype?: DType;
}

/**
 * Options for {@link t5xSizes} and {@link t5xToTree}.
 *
 * @example
 * ```ts
 * import { t5xSizes, type T5xTreeOptions } from "./tree.ts";
 * import { parseT5Config, t5ParamShapes } from "../t5/config.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const config = orThrow(parseT5Config({ vocab_size: 10, d_model: 4, d_kv: 2, d_ff: 8, num_layers: 2, num_heads: 2, feed_forward_proj: "gated-gelu" }, "config.json"));
 * // T5X names layer i `layers_<i>`; the library's tree `layers/<i>`.
 * const entries = [...t5ParamShapes(config)].map(([path, shape]) => ({ name: path.replace(/layers\/(\d+)/, "layers_$1"), shape }));
 * const withExtra = [...entries, { name: "encoder/extra/kernel", shape: [4, 4] }];
 * const refused = t5xSizes(withExtra, { where: "ckpt" });
 * assert(refused._tag === "Left" && refused.left.where === "ckpt" && refused.left.message.includes("unexpected"));
 * const options: T5xTreeOptions = { allowUnexpected: true, where: "ckpt" };
 * assert(t5xSizes(withExtra, options)._tag === "Right");
 * ```
 */
export interface T5xTreeOptions {
  /** Leave out (rather than refuse) parameters a T5 model does not use (default false). */
  readonly allowUnexpected?: boolean;
  /** Where the parameters came from, for problems (default: the checkpoint's `dir`). */
  readonly where?: string;
}

const LAYER = /^(encoder|decoder)\/layers_(0|[1-9]\d*)\//;
const TREE_LAYER = /^(encoder|decoder)\/layers\/(0|[1-9]\d*)\//;

/** The T5X name of a tree path: `layers/<i>` becomes `layers_<i>` (see {@link t5xTreePath}). */
const t5xName = (path: string) => path.replace(TREE_LAYER, "$1/layers_$2/");

/**
 * The tree path of a T5X parameter name: `layers_<i>` becomes `layers/<i>`.
 *
 * @param name a T5X name
 * @returns the path in the library's T5 tree
 * @example
 * ```ts
 * import { t5xTreePath } from "./tree.ts";
 * import assert from "node:assert/strict";
 * assert(t5xTreePath("decoder/layers_1/mlp/wo/kernel") === "decoder/layers/1/mlp/wo/kernel");
 * assert(t5xTreePath("token_embedder/embedding") === "token_embedder/embedding");
 * ```
 */
export function t5xTreePath(name: string): string {
  return name.replace(LAYER, "$1/layers/$2/");
}

/** The shape of every parameter a T5 model with these sizes has, by T5X name. */
function expectedShapes(s: T5xSizes): Map<string, readonly number[]> {
  const shapes = t5ParamShapes({ ...s, isGatedAct: s.gated, tieWordEmbeddings: s.tied });
  return new Map(
    [...shapes].map(([path, shape]) => [t5xName(path), shape]),
  );
}

const LIST_MAX = 8;
const listSome = (items: readonly string[]) =>
  items.length > LIST_MAX
    ? `${items.slice(0, LIST_MAX).join(", ")}, … (${items.length} in all)`
    : items.join(", ");

function layerCount(names: readonly string[], stack: string): number {
  let n = 0;
  for (const name of names) {
    const m = LAYER.exec(name);
    if (m && m[1] === stack) n = Math.max(n, Number(m[2]) + 1);
  }
  return n;
}

/** What is wrong when a stack's layers are not numbered 0, 1, … n − 1 without a gap. */
function layerGap(names: readonly string[], stack: string): string | undefined {
  const present = new Set<number>();
  for (const name of names) {
    const m = LAYER.exec(name);
    if (m && m[1] === stack) present.add(Number(m[2]));
  }
  const n = layerCount(names, stack);
  const missing = [...Array(n).keys()].filter((i) => !present.has(i));
  return missing.length === 0
    ? undefined
    : `${stack} layers are not contiguous from 0: ${
      listSome(missing.map((i) => `layers_${i}`))
    } missing of ${n} (layers_0 … layers_${n - 1})`;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Infers a T5 model's sizes from its parameters' T5X names and shapes, then checks every
 * parameter against them: one problem lists everything missing, misshapen, of a non-float dtype
 * or (unless `allowUnexpected`) unexpected.
 *
 * @param entries the parameters (a checkpoint's `entries`, say)
 * @param options `allowUnexpected`, `where`
 * @returns the sizes, or a `Mismatch` problem
 * @example
 * ```ts
 * import { t5xSizes } from "./tree.ts";
 * import assert from "node:assert/strict";
 * const r = t5xSizes([{ name: "token_embedder/embedding", shape: [10, 4] }]);
 * assert(r._tag === "Left" && r.left.message.includes("relpos_bias"));
 * ```
 */
export function t5xSizes(
  entries: readonly T5xShapeEntry[],
  options: T5xTreeOptions = {},
): E.Either<Problem, T5xSizes> {
  const where = options.where ?? "T5X parameters";
  const shapes = new Map(entries.map((e) => [e.name, e.shape]));
  const mismatch = (what: string) =>
    E.left(problem("Mismatch", where, `Parameters do not form a T5 model: ${what}`));
  const twoD = (name: string) => {
    const s = shapes.get(name);
    return s && s.length === 2 ? s : undefined;
  };
  const names = entries.map((e) => e.name);
  for (const stack of ["encoder", "decoder"]) {
    const gap = layerGap(names, stack);
    if (gap !== undefined) return mismatch(gap);
  }
  const emb = twoD("token_embedder/embedding");
  const rel = twoD("encoder/relpos_bias/rel_embedding");
  const query = twoD("encoder/layers_0/attention/query/kernel");
  const gated = shapes.has("encoder/layers_0/mlp/wi_0/kernel");
  const wi = twoD(`encoder/layers_0/mlp/${gated ? "wi_0" : "wi"}/kernel`);
  const basics: [string, unknown][] = [
    ["token_embedder/embedding [V, H]", emb],
    ["encoder/relpos_bias/rel_embedding [heads, buckets]", rel],
    ["encoder/layers_0/attention/query/kernel [H, heads·d_kv]", query],
    ["encoder/layers_0/mlp/wi_0/kernel or wi/kernel [H, d_ff]", wi],
  ];
  const absent = basics.filter(([, s]) => !s).map(([n]) => n);
  if (absent.length > 0) return mismatch(`no 2-D ${absent.join(", ")}`);
  const numHeads = rel![0];
  if (numHeads === 0 || query![1] % numHeads !== 0) {
    return mismatch(
      `the query kernel's width ${
        query![1]
      } is not a multiple of the ${numHeads} heads of relpos_bias/rel_embedding`,
    );
  }
  const sizes: T5xSizes = Object.freeze({
    vocabSize: emb![0],
    dModel: emb![1],
    dKv: query![1] / numHeads,
    dFf: wi![1],
    numLayers: layerCount(names, "encoder"),
    numDecoderLayers: layerCount(names, "decoder"),
    numHeads,
    relativeAttentionNumBuckets: rel![1],
    gated,
    tied: !shapes.has("decoder/logits_dense/kernel"),
  });
  const want = expectedShapes(sizes);
  const missing = [...want.keys()].filter((n) => !shapes.has(n));
  const wrong: string[] = [];
  for (const e of entries) {
    const w = want.get(e.name);
    if (w && (w.length !== e.shape.length || w.some((d, k) => d !== e.shape[k]))) {
      wrong.push(`${e.name} is [${e.shape}], expected [${w}]`);
    }
    if (w && e.dtype && !/^(b?float)/.test(e.dtype)) {
      wrong.push(`${e.name} has dtype ${e.dtype}, expected a float dtype`);
    }
  }
  const unexpected = options.allowUnexpected ? [] : names.filter((n) => !want.has(n));
  const parts = [
    missing.length ? `missing ${listSome(missing)}` : "",
    wrong.length ? listSome(wrong) : "",
    unexpected.length ? `unexpected ${listSome(unexpected)}` : "",
  ].filter((p) => p !== "");
  if (parts.length > 0) {
    const { dModel, numHeads: heads, dKv, dFf, numLayers, numDecoderLayers } = sizes;
    return mismatch(
      `${
        parts.join("; ")
      } (for d_model ${dModel}, ${heads} heads of ${dKv}, d_ff ${dFf}, ${numLayers}+${numDecoderLayers} layers)`,
    );
  }
  return E.right(sizes);
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Infers a T5 model's sizes from a parameter tree in the library's layout (`layers/<i>`), as
 * {@link t5xSizes} does from T5X names.
 *
 * @param tree a T5 parameter tree
 * @param options `allowUnexpected`, `where`
 * @returns the sizes, or a `Mismatch` problem
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { t5xSizesFromTree } from "./tree.ts";
 * import assert from "node:assert/strict";
 * const tree = { token_embedder: { embedding: tf.zeros([10, 4]) } };
 * assert(t5xSizesFromTree(tree)._tag === "Left");
 * tree.token_embedder.embedding.dispose();
 * ```
 */
export function t5xSizesFromTree(
  tree: ParamTree,
  options: T5xTreeOptions = {},
): E.Either<Problem, T5xSizes> {
  const entries = flatten(tree).map(([path, t]) => ({
    name: t5xName(path),
    shape: t.shape,
  }));
  return t5xSizes(entries, { where: "T5 parameter tree", ...options });
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Reads every parameter of a T5X checkpoint into the library's T5 tree (`layers_<i>` →
 * `layers/<i>`), as float32 tensors, after checking the names and shapes with {@link t5xSizes}.
 * On a problem, tensors already made are disposed. The caller owns (and disposes) the tree.
 *
 * @param checkpoint an opened checkpoint (see `readT5xCheckpoint`), or any source of T5X names
 * @param options `allowUnexpected` (leave unused parameters out), `where`
 * @returns the tree, or the first problem (`Mismatch` from {@link t5xSizes}, or a read problem)
 * @example
 * ```ts
 * import { readT5xCheckpoint } from "./checkpoint.ts";
 * import { t5xToTree } from "./tree.ts";
 * import { disposeTree, flatten } from "../../tree/tree.ts";
 * import assert from "node:assert/strict";
 * const dir = new URL("../../tests/data/prompt-tuning/test_data/test_t5_1_1_tiny/checkpoint_3/", import.meta.url);
 * const ckpt = await readT5xCheckpoint(dir);
 * const tree = ckpt._tag === "Right" ? await t5xToTree(ckpt.right) : ckpt;
 * if (tree._tag === "Right") {
 *   const paths = flatten(tree.right).map(([p]) => p);
 *   assert(paths.includes("encoder/layers/1/attention/query/kernel"));
 *   disposeTree(tree.right);
 * }
 * ```
 */
export async function t5xToTree(
  checkpoint: TensorSource & { readonly dir?: string },
  options: T5xTreeOptions = {},
): Promise<E.Either<Problem, ParamTree>> {
  const where = options.where ?? checkpoint.dir ?? "T5X checkpoint";
  const sizes = t5xSizes(checkpoint.entries, { ...options, where });
  if (E.isLeft(sizes)) return sizes;
  const want = expectedShapes(sizes.right);
  const leaves: FlatEntry[] = [];
  const fail = (p: Problem) => {
    for (const [, t] of leaves) t.dispose();
    return E.left(p);
  };
  for (const { name } of checkpoint.entries) {
    if (!want.has(name)) continue; // only with allowUnexpected: t5xSizes refused it otherwise
    const host = await checkpoint.read(name);
    if (E.isLeft(host)) return fail(host.left);
    const t: E.Either<Problem, tf.Tensor> = toTensor(host.right, name);
    if (E.isLeft(t)) return fail(t.left);
    leaves.push([t5xTreePath(name), t.right]);
  }
  return E.right(unflatten(leaves));
}
