/**
 * Label maps: from the label values a data file holds (`0`, `"1"`, `true`, `"entailment"`) to
 * the words a model is trained to produce (`"negative"`, `"positive"`).
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { type Problem, problem } from "../problem.ts";
import { fieldText } from "./template.ts";

/**
 * A label map: keys are label values as text (see {@link labelKey}), values the target words.
 *
 * @example
 * ```ts
 * import type { LabelMap } from "./labels.ts";
 * import assert from "node:assert/strict";
 * const sst2: LabelMap = { "0": "negative", "1": "positive" };
 * assert(sst2["1"] === "positive");
 * ```
 */
export type LabelMap = Readonly<Record<string, string>>;

/**
 * The text form of a label value, as label-map keys are written: strings as they are, numbers,
 * bigints as `String()` writes them (`1`, `-1`, `0.5`), booleans as `"true"`/`"false"`.
 *
 * @param value a label value from a record
 * @returns its key, or `undefined` for anything else (missing, null, lists, objects)
 * @example
 * ```ts
 * import { labelKey } from "./labels.ts";
 * import assert from "node:assert/strict";
 * assert(labelKey(1) === "1" && labelKey("1") === "1" && labelKey(true) === "true");
 * ```
 */
export function labelKey(value: unknown): string | undefined {
  // A label is looked up by the same text a template would show for it.
  return fieldText(value);
}

/**
 * Looks a label value up in a map.
 *
 * @param map the label map
 * @param value the label value from a record
 * @returns the target word, or `undefined` when the value has no entry
 * @example
 * ```ts
 * import { mapLabel } from "./labels.ts";
 * import assert from "node:assert/strict";
 * assert(mapLabel({ "0": "negative", "1": "positive" }, 0) === "negative");
 * assert(mapLabel({ "0": "negative" }, 2) === undefined);
 * ```
 */
export function mapLabel(map: LabelMap, value: unknown): string | undefined {
  const k = labelKey(value);
  return k !== undefined && Object.hasOwn(map, k) ? map[k] : undefined;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Checks a label map given as a value (for example from a JSON config): an object whose values
 * are all non-empty strings.
 *
 * @param value the candidate map
 * @param where where it came from, for problems
 * @returns the map, or an `Invalid` problem naming the first bad entry
 * @example
 * ```ts
 * import { labelMapFrom } from "./labels.ts";
 * import assert from "node:assert/strict";
 * assert(labelMapFrom({ "0": "no", "1": "yes" }, "task.targets.map")._tag === "Right");
 * assert(labelMapFrom({ "0": 1 }, "task.targets.map")._tag === "Left");
 * ```
 */
export function labelMapFrom(value: unknown, where: string): E.Either<Problem, LabelMap> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return E.left(
      problem("Invalid", where, 'Expected a label map like {"0": "negative", "1": "positive"}'),
    );
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return E.left(problem("Invalid", where, "Label map is empty"));
  for (const [k, v] of entries) {
    if (typeof v !== "string" || v === "") {
      return E.left(
        problem(
          "Invalid",
          where,
          `Label ${JSON.stringify(k)} maps to ${JSON.stringify(v)}; expected a non-empty string`,
        ),
      );
    }
  }
  return E.right(Object.fromEntries(entries) as LabelMap);
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Parses a label map written as text: `{0: "negative", 1: "positive"}`. Keys may be integers,
 * quoted strings or bare words (`True`/`False` are read as `true`/`false`, the keys boolean
 * labels have); values are quoted strings; a trailing comma is allowed. JSON objects parse too.
 *
 * @param text the map's text
 * @param where where it came from, for problems
 * @returns the map, or an `Invalid` problem naming the character where it goes wrong
 * @example
 * ```ts
 * import { parseLabelMap } from "./labels.ts";
 * import assert from "node:assert/strict";
 * const r = parseLabelMap('{0: "negative", 1: "positive"}', "--set task.labels");
 * assert(r._tag === "Right" && r.right["1"] === "positive");
 * const b = parseLabelMap("{False: 'no', True: 'yes'}", "x");
 * assert(b._tag === "Right" && b.right["true"] === "yes");
 * ```
 */
export function parseLabelMap(text: string, where: string): E.Either<Problem, LabelMap> {
  let i = 0;
  const entries: [string, string][] = [];
  const fail = (m: string) =>
    E.left(
      problem("Invalid", where, `${m} at character ${i + 1} of label map ${JSON.stringify(text)}`),
    );
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const quoted = (): string | undefined => {
    const q = text[i];
    if (q !== '"' && q !== "'") return undefined;
    let out = "";
    for (i++; i < text.length; i++) {
      const c = text[i];
      if (c === q) {
        i++;
        return out;
      }
      if (c === "\\") {
        const e = text[++i];
        const esc: Record<string, string> = { n: "\n", t: "\t", "\\": "\\", '"': '"', "'": "'" };
        if (e === undefined || !Object.hasOwn(esc, e)) return undefined;
        out += esc[e];
      } else out += c;
    }
    return undefined;
  };
  ws();
  if (text[i] !== "{") return fail('Expected "{"');
  i++;
  for (;;) {
    ws();
    if (text[i] === "}") {
      i++;
      break;
    }
    let key: string | undefined;
    if (text[i] === '"' || text[i] === "'") {
      key = quoted();
      if (key === undefined) return fail("Bad quoted key");
    } else {
      const m = /^(-?[0-9]+|[A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(i));
      if (m === null) return fail("Expected a key (an integer, a quoted string or a word)");
      key = m[1] === "True" ? "true" : m[1] === "False" ? "false" : m[1];
      if (/^-?[0-9]+$/.test(key)) key = String(BigInt(key)); // 01 is 1, as Python reads it
      i += m[1].length;
    }
    if (entries.some(([k]) => k === key)) return fail(`Duplicate key ${JSON.stringify(key)}`);
    ws();
    if (text[i] !== ":") return fail('Expected ":"');
    i++;
    ws();
    const value = quoted();
    if (value === undefined) return fail("Expected a quoted label word");
    entries.push([key, value]);
    ws();
    if (text[i] === ",") i++;
    else if (text[i] !== "}") return fail('Expected "," or "}"');
  }
  ws();
  if (i !== text.length) return fail("Unexpected text after the map");
  return labelMapFrom(Object.fromEntries(entries), where);
}
