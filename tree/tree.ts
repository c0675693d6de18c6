/**
 * Parameter trees: nested readonly records and arrays whose leaves are tensors.
 *
 * A leaf is identified by its path, the keys from the root joined by `/`
 * (`encoder/block/3/attention/q`). Trees are plain values; nothing here mutates one.
 *
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { countParams, disposeTree, flatten, mergeTrees, partition } from "./tree.ts";
 * import assert from "node:assert/strict";
 * const tree = { prompt: tf.zeros([2, 3]), encoder: { block: [{ q: tf.zeros([3, 3]) }] } };
 * assert.deepEqual(flatten(tree).map(([path]) => path), ["encoder/block/0/q", "prompt"]);
 * const [trainable, frozen] = partition(tree, (path) => path === "prompt");
 * assert.equal(countParams(trainable), 6);
 * assert.equal(countParams(mergeTrees(trainable, frozen)), 15);
 * disposeTree(tree);
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * A nested readonly record or array whose leaves are tensors.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { countParams, disposeTree, type ParamTree } from "./tree.ts";
 * import assert from "node:assert/strict";
 * const params: ParamTree = {
 *   encoder: { layers: [tf.zeros([2, 2]), tf.zeros([2, 2])] },
 *   prompt: tf.zeros([3, 2]),
 * };
 * assert(countParams(params) === 14);
 * disposeTree(params);
 * ```
 */
export type ParamTree =
  | tf.Tensor
  | readonly ParamTree[]
  | { readonly [key: string]: ParamTree };

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * A leaf and its `/`-joined path.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { type FlatEntry, flatten, unflatten } from "./tree.ts";
 * import assert from "node:assert/strict";
 * const entry: FlatEntry = ["encoder/w", tf.zeros([2])];
 * const tree = unflatten([entry]); // { encoder: { w } }
 * const [[path, leaf]] = flatten(tree);
 * assert(path === "encoder/w" && leaf === entry[1]);
 * leaf.dispose();
 * ```
 */
export type FlatEntry = readonly [path: string, leaf: tf.Tensor];

const isTensor = (x: unknown): x is tf.Tensor => x instanceof tf.Tensor;

function checkKey(key: string, at: string): void {
  if (key === "" || key.includes("/")) {
    throw new RangeError(
      `Tree key ${
        JSON.stringify(key)
      } at "${at}" is not allowed: keys must be non-empty and contain no "/"`,
    );
  }
}

function walk(tree: ParamTree, prefix: string, out: FlatEntry[]): void {
  if (isTensor(tree)) {
    out.push([prefix, tree]);
    return;
  }
  const join = (k: string) => (prefix === "" ? k : `${prefix}/${k}`);
  if (Array.isArray(tree)) {
    (tree as readonly ParamTree[]).forEach((child, i) => walk(child, join(String(i)), out));
    return;
  }
  if (tree === null || typeof tree !== "object") {
    throw new TypeError(
      `Tree node at "${prefix}" is ${String(tree)}: expected a tensor, array or record`,
    );
  }
  for (const key of Object.keys(tree).sort()) {
    checkKey(key, prefix);
    walk((tree as Record<string, ParamTree>)[key], join(key), out);
  }
}

/**
 * Flattens a tree to `[path, tensor]` entries, records' keys in sorted order, arrays in index order.
 *
 * @param tree the tree
 * @returns its leaves with their paths
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { flatten } from "./tree.ts";
 * import assert from "node:assert/strict";
 * const flat = flatten({ b: [tf.scalar(1)], a: tf.scalar(2) });
 * assert(flat.map(([p]) => p).join(",") === "a,b/0");
 * tf.dispose(flat.map(([, t]) => t));
 * ```
 */
export function flatten(tree: ParamTree): FlatEntry[] {
  const out: FlatEntry[] = [];
  walk(tree, "", out);
  return out;
}

type Building = Map<string, Building | tf.Tensor>;

function build(node: Building | tf.Tensor): ParamTree {
  if (isTensor(node)) return node;
  const keys = [...node.keys()];
  const isArray = keys.length > 0 && keys.every((k, _) => /^(0|[1-9]\d*)$/.test(k)) &&
    keys.map(Number).sort((a, b) => a - b).every((k, i) => k === i);
  if (isArray) {
    return keys.map(Number).sort((a, b) => a - b).map((i) => build(node.get(String(i))!));
  }
  const out: Record<string, ParamTree> = {};
  for (const k of keys) out[k] = build(node.get(k)!);
  return out;
}

/**
 * Rebuilds a tree from `[path, tensor]` entries. A node whose keys are exactly `0 … n-1` becomes an
 * array; any other node becomes a record. Throws on a duplicate path or a path that is both a leaf
 * and a node.
 *
 * @param entries the leaves with their paths (for example from {@link flatten})
 * @returns the tree
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { unflatten } from "./tree.ts";
 * import assert from "node:assert/strict";
 * const t = unflatten([["layers/0/w", tf.scalar(1)], ["layers/1/w", tf.scalar(2)]]);
 * assert(Array.isArray((t as { layers: unknown }).layers));
 * ```
 */
export function unflatten(entries: Iterable<FlatEntry>): ParamTree {
  const root: Building = new Map();
  let single: tf.Tensor | undefined;
  for (const [path, leaf] of entries) {
    if (path === "") {
      if (single !== undefined || root.size > 0) {
        throw new RangeError(`Duplicate path "" in entries`);
      }
      single = leaf;
      continue;
    }
    if (single !== undefined) throw new RangeError(`Path "${path}" given beside a root leaf`);
    const parts = path.split("/");
    let node = root;
    parts.forEach((part, i) => {
      checkKey(part, parts.slice(0, i).join("/"));
      const existing = node.get(part);
      if (i === parts.length - 1) {
        if (existing !== undefined) throw new RangeError(`Duplicate path "${path}" in entries`);
        node.set(part, leaf);
        return;
      }
      if (existing === undefined) {
        const child: Building = new Map();
        node.set(part, child);
        node = child;
      } else if (isTensor(existing)) {
        throw new RangeError(
          `Path "${path}" goes through the leaf "${parts.slice(0, i + 1).join("/")}"`,
        );
      } else {
        node = existing;
      }
    });
  }
  if (single !== undefined) return single;
  return build(root);
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Applies `f` to every leaf, keeping the structure. `f` receives the leaf and its path.
 *
 * @param tree the tree
 * @param f the function applied to each leaf
 * @returns a new tree of the results (the caller owns any new tensors)
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { mapTree, countParams } from "./tree.ts";
 * import assert from "node:assert/strict";
 * const t = { w: tf.ones([2, 3]) };
 * const doubled = mapTree(t, (x) => tf.mul(x, 2));
 * assert(countParams(doubled) === 6);
 * tf.dispose([t.w, (doubled as { w: tf.Tensor }).w]);
 * ```
 */
export function mapTree(
  tree: ParamTree,
  f: (leaf: tf.Tensor, path: string) => tf.Tensor,
): ParamTree {
  return unflatten(flatten(tree).map(([p, t]) => [p, f(t, p)] as const));
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Combines two trees of the same structure leaf by leaf. Throws, naming the paths, when the
 * structures differ.
 *
 * @param a the first tree
 * @param b the second tree, with the same paths
 * @param f the function of both leaves
 * @returns the tree of results
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { flatten, zipTrees } from "./tree.ts";
 * import assert from "node:assert/strict";
 * const a = { w: tf.scalar(1) }, b = { w: tf.scalar(2) };
 * const s = zipTrees(a, b, (x, y) => tf.add(x, y));
 * assert(flatten(s)[0][1].dataSync()[0] === 3);
 * tf.dispose([a.w, b.w, flatten(s)[0][1]]);
 * ```
 */
export function zipTrees(
  a: ParamTree,
  b: ParamTree,
  f: (x: tf.Tensor, y: tf.Tensor, path: string) => tf.Tensor,
): ParamTree {
  const fa = flatten(a), fb = flatten(b);
  const pb = new Map(fb);
  const missing = fa.filter(([p]) => !pb.has(p)).map(([p]) => p);
  const pa = new Set(fa.map(([p]) => p));
  const extra = fb.filter(([p]) => !pa.has(p)).map(([p]) => p);
  if (missing.length > 0 || extra.length > 0) {
    throw new RangeError(
      `Trees differ in structure: only in the first [${missing.join(", ")}], only in the second [${
        extra.join(", ")
      }]`,
    );
  }
  return unflatten(fa.map(([p, x]) => [p, f(x, pb.get(p)!, p)] as const));
}

/**
 * Counts the scalars in a tree.
 *
 * @param tree the tree
 * @returns the total number of elements over all leaves
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { countParams } from "./tree.ts";
 * import assert from "node:assert/strict";
 * const t = { a: tf.zeros([2, 3]), b: [tf.zeros([4])] };
 * assert(countParams(t) === 10);
 * tf.dispose([t.a, t.b[0]]);
 * ```
 */
export function countParams(tree: ParamTree): number {
  return flatten(tree).reduce((n, [, t]) => n + t.size, 0);
}

const BYTES: Readonly<Record<string, number>> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  string: 0,
};

/**
 * Bytes the tree's leaves occupy (float32 and int32: 4, bool: 1).
 *
 * @param tree the tree
 * @returns the total bytes
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { treeBytes } from "./tree.ts";
 * import assert from "node:assert/strict";
 * const t = { a: tf.zeros([2, 3]) };
 * assert(treeBytes(t) === 24);
 * t.a.dispose();
 * ```
 */
export function treeBytes(tree: ParamTree): number {
  return flatten(tree).reduce((n, [, t]) => n + t.size * (BYTES[t.dtype] ?? 4), 0);
}

/**
 * Whether a path fully matches any of the patterns (as T5X's `match_any`: the whole path must
 * match, not just a part of it).
 *
 * @param patterns regular expressions, as `RegExp` or source strings
 * @returns a predicate over paths
 * @example
 * ```ts
 * import { matchAny } from "./tree.ts";
 * import assert from "node:assert/strict";
 * const isPrompt = matchAny(["prompt(/.*)?"]);
 * assert(isPrompt("prompt") && !isPrompt("encoder/prompt"));
 * ```
 */
export function matchAny(patterns: readonly (string | RegExp)[]): (path: string) => boolean {
  const full = patterns.map((p) => {
    const src = typeof p === "string" ? p : p.source;
    const flags = typeof p === "string" ? "" : p.flags.replace(/[gy]/g, "");
    return new RegExp(`^(?:${src})$`, flags);
  });
  return (path) => full.some((r) => r.test(path));
}

/**
 * The leaves whose paths fully match any of the patterns, as `[path, tensor]` entries.
 *
 * @param tree the tree
 * @param patterns regular expressions matched against whole paths
 * @returns the matching entries
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { select } from "./tree.ts";
 * import assert from "node:assert/strict";
 * const t = { encoder: { q: tf.scalar(1), k: tf.scalar(2) } };
 * assert(select(t, ["encoder/q"]).length === 1);
 * tf.dispose([t.encoder.q, t.encoder.k]);
 * ```
 */
export function select(tree: ParamTree, patterns: readonly (string | RegExp)[]): FlatEntry[] {
  const m = matchAny(patterns);
  return flatten(tree).filter(([p]) => m(p));
}

/**
 * Splits a tree in two by a predicate on paths, as Haiku's `partition`: the leaves for which it
 * holds, and the rest. Either side may be an empty record. Tensors are shared, not copied.
 *
 * @param tree the tree
 * @param predicate chooses the first part (for example {@link matchAny})
 * @returns `[chosen, rest]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { countParams, partition } from "./tree.ts";
 * import assert from "node:assert/strict";
 * const t = { prompt: tf.zeros([2, 4]), encoder: { w: tf.zeros([4, 4]) } };
 * const [trainable, frozen] = partition(t, (p) => p === "prompt");
 * assert(countParams(trainable) === 8 && countParams(frozen) === 16);
 * tf.dispose([t.prompt, t.encoder.w]);
 * ```
 */
export function partition(
  tree: ParamTree,
  predicate: (path: string) => boolean,
): [ParamTree, ParamTree] {
  const flat = flatten(tree);
  const part = (keep: boolean) => {
    const entries = flat.filter(([p]) => predicate(p) === keep);
    return entries.length === 0 ? {} : unflatten(entries);
  };
  return [part(true), part(false)];
}

/**
 * Joins trees with disjoint paths into one (the inverse of {@link partition}). Throws on a path
 * present in more than one.
 *
 * @param trees the parts
 * @returns the whole tree
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { countParams, mergeTrees } from "./tree.ts";
 * import assert from "node:assert/strict";
 * const a = { prompt: tf.zeros([2]) }, b = { encoder: { w: tf.zeros([3]) } };
 * assert(countParams(mergeTrees(a, b)) === 5);
 * tf.dispose([a.prompt, b.encoder.w]);
 * ```
 */
export function mergeTrees(...trees: readonly ParamTree[]): ParamTree {
  return unflatten(trees.flatMap((t) => flatten(t)));
}

/**
 * Disposes every tensor in a tree.
 *
 * @param tree the tree
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { disposeTree } from "./tree.ts";
 * import assert from "node:assert/strict";
 * const before = tf.memory().numTensors;
 * disposeTree({ a: tf.zeros([2]), b: [tf.ones([3])] });
 * assert(tf.memory().numTensors === before);
 * ```
 */
export function disposeTree(tree: ParamTree): void {
  for (const [, t] of flatten(tree)) t.dispose();
}
