/**
 * The page's examples: a labeled text set (the spam task as the build writes it, or examples a
 * person pastes: text, a tab, its label, one a line).
 *
 * @module
 */

/**
 * One example: its text and the index of its label.
 *
 * @example
 * ```ts
 * import type { LabeledText } from "./examples.ts";
 * import assert from "node:assert/strict";
 * const e: LabeledText = { text: "hi", label: 0 };
 * assert.equal(e.label, 0);
 * ```
 */
export interface LabeledText {
  /** The input text. */
  readonly text: string;
  /** Index into {@link Labeled.labels}. */
  readonly label: number;
}

/**
 * A classification task: label words, training and validation examples.
 *
 * @example
 * ```ts
 * import type { Labeled } from "./examples.ts";
 * import assert from "node:assert/strict";
 * const t: Labeled = { labels: ["no", "yes"], train: [{ text: "a", label: 1 }], validation: [] };
 * assert.equal(t.labels[t.train[0].label], "yes");
 * ```
 */
export interface Labeled {
  /** The label words, which the model scores (rank classification). */
  readonly labels: readonly string[];
  /** Training examples. */
  readonly train: readonly LabeledText[];
  /** Held-out examples. */
  readonly validation: readonly LabeledText[];
}

/**
 * Parses pasted examples: one a line, the text, a tab, then its label (without a tab, the text
 * ends at the last comma). Blank lines are skipped; every 4th example is held out for
 * validation. Labels are taken in the order they first appear.
 *
 * @param text the pasted lines
 * @returns the task
 * @throws {Error} a one-line message naming the line, when a line has no label, or when there
 *   are fewer than two labels or four examples
 * @example
 * ```ts
 * import { parsePasted } from "./examples.ts";
 * import assert from "node:assert/strict";
 * const t = parsePasted("good film\tpositive\nawful\tnegative\nloved it, positive\nmeh\tnegative\n");
 * assert.deepEqual(t.labels, ["positive", "negative"]);
 * assert.equal(t.train.length, 3);
 * assert.deepEqual(t.validation, [{ text: "meh", label: 1 }]);
 * assert.throws(() => parsePasted("no label here"), /line 1/);
 * ```
 */
export function parsePasted(text: string): Labeled {
  const labels: string[] = [];
  const all: LabeledText[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    const cut = line.includes("\t") ? line.lastIndexOf("\t") : line.lastIndexOf(",");
    const body = cut < 0 ? "" : line.slice(0, cut).trim();
    const label = cut < 0 ? "" : line.slice(cut + 1).trim();
    if (body === "" || label === "") {
      throw new Error(`Pasted line ${i + 1} has no label; expected text, a tab, then its label`);
    }
    if (!labels.includes(label)) labels.push(label);
    all.push({ text: body, label: labels.indexOf(label) });
  });
  if (labels.length < 2 || all.length < 4) {
    throw new Error(
      `Pasted ${all.length} examples with ${labels.length} labels; expected at least 4 examples and 2 labels`,
    );
  }
  return {
    labels,
    train: all.filter((_, i) => i % 4 !== 3),
    validation: all.filter((_, i) => i % 4 === 3),
  };
}
