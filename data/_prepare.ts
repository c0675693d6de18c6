/**
 * The record expansions some SuperGLUE tasks need before templates apply, mirroring how TFDS
 * builds the `super_glue` records and how T5's preprocessors format them. Each accepts both the
 * SuperGLUE distribution's nested JSONL records and Hugging Face datasets' flat records.
 *
 * @module
 */
import type { PrepareName } from "./task.ts";

/** One record after expansion. */
export interface Prepared {
  readonly fields: Readonly<Record<string, unknown>>;
  readonly group?: string;
  readonly candidates?: readonly string[];
}

/** The outcome for one source record: records to template, or why it is bad. */
export type PrepareResult =
  | { readonly ok: true; readonly records: readonly Prepared[]; readonly filtered: number }
  | { readonly ok: false; readonly message: string };

type Fields = Readonly<Record<string, unknown>>;

const ok = (records: readonly Prepared[], filtered = 0): PrepareResult => ({
  ok: true,
  records,
  filtered,
});
const fail = (message: string): PrepareResult => ({ ok: false, message });

function get(o: unknown, k: string): unknown {
  return o !== null && typeof o === "object" && Object.hasOwn(o, k)
    ? (o as Record<string, unknown>)[k]
    : undefined;
}

function text(o: unknown, k: string, where: string): string {
  const v = get(o, k);
  if (typeof v !== "string") {
    throw new BadRecord(`Field "${where}${k}" is ${v === undefined ? "missing" : "not text"}`);
  }
  return v;
}

function int(o: unknown, k: string, where: string): number {
  const v = get(o, k);
  const n = typeof v === "string" && /^-?[0-9]+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n)) {
    throw new BadRecord(
      `Field "${where}${k}" is ${v === undefined ? "missing" : "not an integer"}`,
    );
  }
  return n;
}

function list(o: unknown, k: string, where: string): readonly unknown[] {
  const v = get(o, k);
  if (!Array.isArray(v)) {
    throw new BadRecord(`Field "${where}${k}" is ${v === undefined ? "missing" : "not a list"}`);
  }
  return v;
}

class BadRecord extends Error {}

/** Python's `sorted(set(xs))` for strings: unique, in code point order. */
function sortedUnique(xs: readonly string[]): string[] {
  const cmp = (a: string, b: string) => {
    const x = Array.from(a);
    const y = Array.from(b);
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
      if (d !== 0) return d;
    }
    return x.length - y.length;
  };
  return [...new Set(xs)].sort(cmp);
}

// ---- WSC ----

/** TFDS `wsc.fixed`'s span fix: make a span's text a substring of the text where it can. */
function fixSpan(ex: Record<string, unknown>, k: "span1" | "span2"): void {
  let t = ex[`${k}_text`] as string;
  const index = ex[`${k}_index`] as number;
  const full = ex.text as string;
  if (full.includes(t)) return;
  // These spans have intervening text; there is no way to correct them.
  if (t === "Kamenev and Zinoviev" || t === "Kamenev, Zinoviev, and Stalin") return;
  if (t.includes("theyscold")) ex.span2_index = 10; // TFDS also "fixes" the text, but drops the result
  const first = full.trim().split(/\s+/)[index];
  if (first === undefined) {
    throw new BadRecord(`Span ${k} index ${index} is past the end of the text`);
  }
  t = (first[0] !== first[0].toUpperCase() ? t[0].toLowerCase() : t[0].toUpperCase()) + t.slice(1);
  t = t.replace(/\.+$/, "").replaceAll("\n", " ");
  ex[`${k}_text`] = t;
  if (!full.includes(t)) throw new BadRecord(`Span ${k} text "${t}" is not in the text`);
}

// T5's `_wsc_inputs` special-cases two texts whose span2_index is off.
const WSC_SPECIAL: ReadonlyMap<string, string> = new Map([
  [
    'The boy continued to whip the pony , and eventually the pony threw him over. John laughed out quite loud. "Good for him," he said. ',
    'The boy continued to whip the pony , and eventually the pony threw him over. John laughed out quite loud. "Good for X ," he said.',
  ],
  [
    "When they had eventually calmed down a bit , and had gotten home, Mr. Farley put the magic pebble in an iron safe . Some day they might want to use it , but really for now, what more could they wish for?",
    "When they had eventually calmed down a bit , and had gotten home, Mr. Farley put the magic pebble in an iron safe . Some day they might want to use X , but really for now, what more could they wish for?",
  ],
]);

function wscSimple(f: Fields, split: string): PrepareResult {
  const ex: Record<string, unknown> = { ...f };
  const target = get(f, "target");
  if (target !== undefined) Object.assign(ex, target); // the distribution nests the spans
  ex.text = text(ex, "text", "");
  for (const k of ["span1", "span2"] as const) {
    text(ex, `${k}_text`, "");
    ex[`${k}_index`] = int(ex, `${k}_index`, "");
  }
  fixSpan(ex, "span1");
  fixSpan(ex, "span2");
  const full = ex.text as string;
  const span2 = ex.span2_text as string;
  const pronoun = ex.span2_index as number;
  let blanked = WSC_SPECIAL.get(full);
  if (blanked === undefined) {
    const words = full.split(" ");
    if (!(pronoun > 0 && pronoun < words.length)) {
      throw new BadRecord(`span2_index ${pronoun} is not inside the text's ${words.length} words`);
    }
    if (words[pronoun] !== span2) {
      throw new BadRecord(
        `Word ${pronoun} of the text is "${words[pronoun]}", not span2_text "${span2}"`,
      );
    }
    blanked = [words.slice(0, pronoun).join(" "), "X", words.slice(pronoun + 1).join(" ")].join(
      " ",
    );
  }
  ex.marked_text = blanked.replaceAll(" X ", ` *${span2}* `);
  // T5 trains only on examples whose candidate referent is the right one.
  if (
    split === "train" &&
    !(ex.label === true || ex.label === 1 || ex.label === "true" || ex.label === "1")
  ) {
    return ok([], 1);
  }
  return ok([{ fields: ex }]);
}

// ---- MultiRC ----

const stripHtml = (s: string) => s.replaceAll("<br>", " ").replace(/<\/?b>/g, "");

function multirc(f: Fields): PrepareResult {
  const passage = get(f, "passage");
  if (passage !== null && typeof passage === "object") {
    const paragraph = stripHtml(text(passage, "text", "passage."));
    const pIdx = get(f, "idx");
    const out: Prepared[] = [];
    for (const [qi, q] of list(passage, "questions", "passage.").entries()) {
      const where = `passage.questions[${qi}].`;
      const question = stripHtml(text(q, "question", where));
      const qIdx = get(q, "idx") ?? qi;
      for (const [ai, a] of list(q, "answers", where).entries()) {
        const aw = `${where}answers[${ai}].`;
        out.push({
          fields: {
            paragraph,
            question,
            answer: stripHtml(text(a, "text", aw)),
            label: get(a, "label"),
            idx: { paragraph: pIdx, question: qIdx, answer: get(a, "idx") ?? ai },
          },
          group: `${pIdx}/${qIdx}`,
        });
      }
    }
    return ok(out);
  }
  // Hugging Face's flat form: one answer per record, idx {paragraph, question, answer}.
  const idx = get(f, "idx");
  return ok([{
    fields: {
      ...f,
      paragraph: stripHtml(text(f, "paragraph", "")),
      question: stripHtml(text(f, "question", "")),
      answer: stripHtml(text(f, "answer", "")),
    },
    group: `${get(idx, "paragraph")}/${get(idx, "question")}`,
  }]);
}

// ---- ReCoRD ----

function recordPassage(p: string): string {
  return p.replace(/([.?!"'])\n@highlight\n/g, "$1 ").replace(/\n@highlight\n/g, ". ");
}

function record(f: Fields): PrepareResult {
  const passage = get(f, "passage");
  if (passage !== null && typeof passage === "object") {
    const body = text(passage, "text", "passage.");
    const chars = Array.from(body); // entity offsets count code points, as Python does
    const entities = sortedUnique(
      list(passage, "entities", "passage.").map((e, i) => {
        const s = int(e, "start", `passage.entities[${i}].`);
        const end = int(e, "end", `passage.entities[${i}].`);
        if (s < 0 || end < s || end >= chars.length) {
          throw new BadRecord(
            `Entity ${i} spans ${s}..${end}, outside the passage's ${chars.length} characters`,
          );
        }
        return chars.slice(s, end + 1).join("");
      }),
    );
    const pIdx = get(f, "idx");
    return ok(
      list(f, "qas", "").map((qa, qi) => {
        const answers = get(qa, "answers");
        const texts = Array.isArray(answers)
          ? answers.map((a, ai) => text(a, "text", `qas[${qi}].answers[${ai}].`))
          : [];
        const qIdx = get(qa, "idx") ?? qi;
        return {
          fields: {
            passage: recordPassage(body),
            query: text(qa, "query", `qas[${qi}].`),
            entities: entities.join(", "),
            answers: sortedUnique(texts),
            idx: { passage: pIdx, query: qIdx },
          },
          group: `${pIdx}/${qIdx}`,
          candidates: entities,
        };
      }),
    );
  }
  // Hugging Face's flat form: entities and answers already lists of text.
  const entities = list(f, "entities", "").map((e) => String(e));
  const answers = list(f, "answers", "").map((a) => String(a));
  const idx = get(f, "idx");
  return ok([{
    fields: {
      ...f,
      passage: recordPassage(text(f, "passage", "")),
      entities: entities.join(", "),
      answers,
    },
    group: `${get(idx, "passage")}/${get(idx, "query")}`,
    candidates: entities,
  }]);
}

/** Applies a named expansion to one source record. */
export function prepareRecord(name: PrepareName, fields: Fields, split: string): PrepareResult {
  try {
    switch (name) {
      case "wsc_simple":
        return wscSimple(fields, split);
      case "multirc":
        return multirc(fields);
      case "record":
        return record(fields);
    }
  } catch (e) {
    if (e instanceof BadRecord) return fail(e.message);
    throw e;
  }
}
