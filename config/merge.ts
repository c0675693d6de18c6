/**
 * Layering configuration values: later layers win, objects merge key by key, arrays and scalars
 * are replaced whole.
 *
 * One refinement for tagged objects: when both sides are objects with a string `kind` and the
 * kinds differ, the later object replaces the earlier one instead of merging into it. A preset
 * that switches `prompt.initializer` from `random_uniform` to `class_labels` thus does not drag
 * `scale` along into a variant where it means nothing.
 *
 * @module
 */
import { emptyObject, isForbiddenKey, isJsonObject, type JsonValue } from "./json.ts";

/**
 * One layer of configuration and where it came from (a file name, or `--set a.b=c`).
 *
 * @example
 * ```ts
 * import type { Layer } from "./merge.ts";
 * import assert from "node:assert/strict";
 * const l: Layer = { source: "configs/runs/prompt_finetune.json", value: { train: { steps: 5 } } };
 * assert(l.source.endsWith(".json"));
 * ```
 */
export interface Layer {
  /** Where the layer came from, shown beside problems it caused. */
  readonly source: string;
  /** Its value; the top level of a configuration layer is an object. */
  readonly value: JsonValue;
}

/**
 * The merge of several layers and, for every path present in some layer, the last layer that
 * gave it (paths are dot-joined keys; the root is `""`).
 *
 * @example
 * ```ts
 * import { mergeLayers, type Merged } from "./merge.ts";
 * import assert from "node:assert/strict";
 * const m: Merged = mergeLayers([{ source: "a", value: { x: 1 } }]);
 * assert(m.sources.get("x") === "a");
 * ```
 */
export interface Merged {
  /** The merged value. */
  readonly value: JsonValue;
  /** Path → the source that last set it (or an object containing it). */
  readonly sources: ReadonlyMap<string, string>;
}

const kindOf = (v: JsonValue): string | undefined => {
  if (!isJsonObject(v)) return undefined;
  const k = v["kind"];
  return typeof k === "string" ? k : undefined;
};

/**
 * Merges `over` onto `base`: objects key by key (recursively), anything else replaced by `over`.
 * Objects with different string `kind`s are replaced, not merged. Neither input is modified; the
 * new objects have no prototype. Forbidden keys (`__proto__` …) are never copied.
 *
 * @param base the earlier value
 * @param over the later value, which wins
 * @returns the merged value
 * @example
 * ```ts
 * import { mergeJson } from "./merge.ts";
 * import assert from "node:assert/strict";
 * const m = mergeJson({ a: { x: 1, y: [1, 2] }, k: 1 }, { a: { y: [3] }, k: 2 });
 * assert(JSON.stringify(m) === '{"a":{"x":1,"y":[3]},"k":2}');
 * ```
 */
export function mergeJson(base: JsonValue, over: JsonValue): JsonValue {
  if (!isJsonObject(base) || !isJsonObject(over)) return over;
  const kb = kindOf(base), ko = kindOf(over);
  if (kb !== undefined && ko !== undefined && kb !== ko) return over;
  const out = emptyObject();
  for (const k of Object.keys(base)) if (!isForbiddenKey(k)) out[k] = base[k];
  for (const k of Object.keys(over)) {
    if (isForbiddenKey(k)) continue;
    out[k] = Object.hasOwn(out, k) ? mergeJson(out[k], over[k]) : over[k];
  }
  return out;
}

/**
 * Records `source` for `path` and every path below it in `value`; for a replaced object (a kind
 * change or a non-object), first forgets what earlier layers said below `path`.
 */
function record(
  sources: Map<string, string>,
  path: string,
  value: JsonValue,
  source: string,
  replaced: boolean,
): void {
  if (replaced) {
    const prefix = path === "" ? "" : `${path}.`;
    for (const p of [...sources.keys()]) if (p.startsWith(prefix) && p !== path) sources.delete(p);
  }
  sources.set(path, source);
  if (!isJsonObject(value)) return;
  for (const k of Object.keys(value)) {
    record(sources, path === "" ? k : `${path}.${k}`, value[k], source, false);
  }
}

function recordMerge(
  sources: Map<string, string>,
  path: string,
  base: JsonValue | undefined,
  over: JsonValue,
  source: string,
): void {
  const merges = base !== undefined && isJsonObject(base) && isJsonObject(over) &&
    !(kindOf(base) !== undefined && kindOf(over) !== undefined && kindOf(base) !== kindOf(over));
  if (!merges) {
    record(sources, path, over, source, base !== undefined);
    return;
  }
  sources.set(path, source);
  for (const k of Object.keys(over)) {
    const p = path === "" ? k : `${path}.${k}`;
    recordMerge(sources, p, Object.hasOwn(base, k) ? base[k] : undefined, over[k], source);
  }
}

/**
 * Merges layers in order (later wins, see {@link mergeJson}) and records, for every path, the
 * layer that last gave it, so that problems can say which file to fix.
 *
 * @param layers the layers, earliest first
 * @returns the merged value and the source of each path
 * @example
 * ```ts
 * import { mergeLayers } from "./merge.ts";
 * import assert from "node:assert/strict";
 * const m = mergeLayers([
 *   { source: "a.json", value: { train: { steps: 10, batch_size: 4 } } },
 *   { source: "b.json", value: { train: { steps: 20 } } },
 * ]);
 * assert(JSON.stringify(m.value) === '{"train":{"steps":20,"batch_size":4}}');
 * assert(m.sources.get("train.steps") === "b.json");
 * assert(m.sources.get("train.batch_size") === "a.json");
 * ```
 */
export function mergeLayers(layers: readonly Layer[]): Merged {
  let value: JsonValue = emptyObject();
  const sources = new Map<string, string>();
  for (const layer of layers) {
    recordMerge(sources, "", value, layer.value, layer.source);
    value = mergeJson(value, layer.value);
  }
  return { value, sources };
}
