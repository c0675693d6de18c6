/**
 * A small template language for turning a record into text: `"sst2 sentence: {sentence}"` puts
 * the record's `sentence` field where `{sentence}` stands; `{{` and `}}` write literal braces.
 * A field missing from the record is an error naming it and the fields that are there.
 *
 * Also the original's "taskless" convention: {@link removeFirstTextToken} drops the task word
 * (`"sst2 sentence: …"` → `"sentence: …"`), like prompt-tuning's `remove_first_text_token`.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { type Problem, problem } from "../problem.ts";

/**
 * A parsed template: literal text and field references, in order.
 *
 * @example
 * ```ts
 * import { compileTemplate, type Template } from "./template.ts";
 * import assert from "node:assert/strict";
 * const r = compileTemplate("rte sentence1: {sentence1} sentence2: {sentence2}");
 * const t: Template | undefined = r._tag === "Right" ? r.right : undefined;
 * assert(t !== undefined && t.fields.join() === "sentence1,sentence2");
 * ```
 */
export interface Template {
  /** The template text as written. */
  readonly source: string;
  /** Literal text and field references, in order. */
  readonly parts: readonly ({ readonly text: string } | { readonly field: string })[];
  /** The fields referenced, each once, in order of first use. */
  readonly fields: readonly string[];
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Parses a template. A field is `{name}`, where the name is any text without braces (surrounding
 * spaces are trimmed); `{{` and `}}` are literal braces.
 *
 * @param source the template text
 * @param where where the template came from, for problems (a config field, a task name)
 * @returns the template, or an `Invalid` problem naming the character where it goes wrong
 * @example
 * ```ts
 * import { compileTemplate } from "./template.ts";
 * import assert from "node:assert/strict";
 * assert(compileTemplate("{{literal}} {x}")._tag === "Right");
 * const bad = compileTemplate("sentence: {sentence");
 * assert(bad._tag === "Left" && bad.left.message.includes("never closed"));
 * ```
 */
export function compileTemplate(source: string, where = "template"): E.Either<Problem, Template> {
  const parts: ({ text: string } | { field: string })[] = [];
  const fields: string[] = [];
  let text = "";
  const fail = (m: string) =>
    E.left(problem("Invalid", where, `${m} in template ${JSON.stringify(source)}`));
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "}") {
      if (source[i + 1] !== "}") {
        return fail(`Unmatched "}" at character ${i + 1}; write "}}" for a brace`);
      }
      text += "}";
      i++;
    } else if (c === "{") {
      if (source[i + 1] === "{") {
        text += "{";
        i++;
        continue;
      }
      const close = source.indexOf("}", i + 1);
      if (close === -1) return fail(`Field opened at character ${i + 1} is never closed`);
      const name = source.slice(i + 1, close).trim();
      if (name.includes("{")) return fail(`Field opened at character ${i + 1} holds a "{"`);
      if (name === "") return fail(`Empty field name at character ${i + 1}`);
      if (text !== "") parts.push({ text });
      text = "";
      parts.push({ field: name });
      if (!fields.includes(name)) fields.push(name);
      i = close;
    } else text += c;
  }
  if (text !== "") parts.push({ text });
  return E.right({ source, parts, fields });
}

/**
 * Renders one field value as template text: strings as they are, numbers, bigints and booleans
 * as `String()` writes them. Anything else (missing, `null`, lists, objects) has no text.
 *
 * @param value the field value
 * @returns the text, or `undefined`
 * @example
 * ```ts
 * import { fieldText } from "./template.ts";
 * import assert from "node:assert/strict";
 * assert(fieldText(3) === "3" && fieldText("a") === "a" && fieldText([1]) === undefined);
 * ```
 */
export function fieldText(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "bigint":
    case "boolean":
      return String(value);
    default:
      return undefined;
  }
}

function describeValue(v: unknown): string {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return `a ${typeof v}`;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Fills a template from a record.
 *
 * @param template a compiled template
 * @param record the record's fields
 * @param where where the record came from (`file:line`), for problems
 * @returns the text, or an `Invalid` problem naming the missing (or non-text) field and the
 * fields the record has
 * @example
 * ```ts
 * import { compileTemplate, fillTemplate } from "./template.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const t = orThrow(compileTemplate("sst2 sentence: {sentence}"));
 * const r = fillTemplate(t, { sentence: "a fine film", label: "1" }, "train.tsv:2");
 * assert(r._tag === "Right" && r.right === "sst2 sentence: a fine film");
 * const bad = fillTemplate(t, { text: "x" }, "train.tsv:3");
 * assert(bad._tag === "Left" && bad.left.message.includes("available fields: text"));
 * ```
 */
export function fillTemplate(
  template: Template,
  record: Readonly<Record<string, unknown>>,
  where: string,
): E.Either<Problem, string> {
  let out = "";
  for (const p of template.parts) {
    if ("text" in p) {
      out += p.text;
      continue;
    }
    const v = Object.hasOwn(record, p.field) ? record[p.field] : undefined;
    const s = fieldText(v);
    if (s === undefined) {
      const available = Object.keys(record).join(", ") || "none";
      return E.left(
        problem(
          "Invalid",
          where,
          v === undefined
            ? `Field "${p.field}" named by template ${
              JSON.stringify(template.source)
            } is missing; available fields: ${available}`
            : `Field "${p.field}" is ${
              describeValue(v)
            }; a template takes text, numbers or booleans`,
        ),
      );
    }
    out += s;
  }
  return E.right(out);
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Checks that every field a template names is among the given fields (a file's columns), so a
 * typo is caught before any record is read.
 *
 * @param template a compiled template
 * @param available the fields records will have
 * @param where what to blame, for problems
 * @returns the template, or an `Invalid` problem naming the unknown field and the available ones
 * @example
 * ```ts
 * import { checkTemplateFields, compileTemplate } from "./template.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const t = orThrow(compileTemplate("{sentense}"));
 * const r = checkTemplateFields(t, ["sentence", "label"], "task sst2");
 * assert(r._tag === "Left" && r.left.message.includes("sentence, label"));
 * ```
 */
export function checkTemplateFields(
  template: Template,
  available: readonly string[],
  where: string,
): E.Either<Problem, Template> {
  const unknown = template.fields.find((f) => !available.includes(f));
  if (unknown === undefined) return E.right(template);
  return E.left(
    problem(
      "Invalid",
      where,
      `Template ${
        JSON.stringify(template.source)
      } names unknown field "${unknown}"; available fields: ${available.join(", ") || "none"}`,
    ),
  );
}

/**
 * Drops the first text token (everything up to and including the first space), like the
 * original's `remove_first_text_token` (regex `^[^ ]* `, replaced once). Text without a space is
 * returned unchanged.
 *
 * @param text the inputs text
 * @returns the text without its task word
 * @example
 * ```ts
 * import { removeFirstTextToken } from "./template.ts";
 * import assert from "node:assert/strict";
 * assert(removeFirstTextToken("sst2 sentence: great") === "sentence: great");
 * assert(removeFirstTextToken("oneword") === "oneword");
 * ```
 */
export function removeFirstTextToken(text: string): string {
  const space = text.indexOf(" ");
  return space === -1 ? text : text.slice(space + 1);
}
