/**
 * Many prompts over one frozen model: a batch whose rows name their prompts. Every function that
 * takes a prompt (`labelScores`, `promptLoss`, `promptRankLoss`, `prefill`, `greedy`, `decode`,
 * `rankClassify`, …) also takes a {@link MixedPrompts}; this file makes one from names and takes
 * a range of its rows, for callers that cut a batch in chunks.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { MixedPrompts, PromptInput } from "./combine.ts";

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Mixed prompts from named prompts and each row's name (`null` for no prompt). The prompts that
 * no row names are left out; the tensors are the caller's (not copied).
 *
 * @param named the prompts by name, each `[P_k, H]` float32
 * @param rowNames `[B]` each row's prompt name, or `null` for none
 * @returns the prompts the rows name, in order of first use, and each row's index
 * @throws {RangeError} naming the first row whose name is not among `named`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { mixPrompts } from "./mixed.ts";
 * import assert from "node:assert/strict";
 * const spam = tf.zeros([3, 4]), sst2 = tf.zeros([5, 4]);
 * const mixed = mixPrompts(new Map([["spam", spam], ["sst2", sst2]]), ["sst2", "spam", null, "sst2"]);
 * assert.deepEqual(Array.from(mixed.rows), [0, 1, -1, 0]);
 * assert.equal(mixed.prompts[0], sst2);
 * assert.throws(() => mixPrompts(new Map([["spam", spam]]), ["rte"]), /row 0 names prompt "rte"; expected one of "spam"/);
 * tf.dispose([spam, sst2]);
 * ```
 */
export function mixPrompts(
  named: ReadonlyMap<string, tf.Tensor>,
  rowNames: readonly (string | null)[],
): MixedPrompts {
  const order = new Map<string, number>();
  const prompts: tf.Tensor[] = [];
  const rows = new Int32Array(rowNames.length);
  rowNames.forEach((name, i) => {
    if (name === null) {
      rows[i] = -1;
      return;
    }
    let k = order.get(name);
    if (k === undefined) {
      const prompt = named.get(name);
      if (prompt === undefined) {
        const known = [...named.keys()].map((n) => JSON.stringify(n)).join(", ");
        throw new RangeError(
          `Mixed prompts: row ${i} names prompt ${JSON.stringify(name)}; expected one of ${
            known || "(none loaded)"
          }`,
        );
      }
      k = prompts.length;
      order.set(name, k);
      prompts.push(prompt);
    }
    rows[i] = k;
  });
  return { prompts, rows };
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * The prompt of rows `start … end − 1`: a single prompt is every row's, so it is returned as it
 * is; mixed prompts keep their prompts and take those rows' indices.
 *
 * @param prompt one prompt, or one per row
 * @param start the first row
 * @param end one past the last row
 * @returns the prompt input for a batch of those rows
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { slicePromptRows } from "./mixed.ts";
 * import type { MixedPrompts } from "./combine.ts";
 * import assert from "node:assert/strict";
 * const prompts = [tf.zeros([1, 2]), tf.zeros([2, 2])];
 * const part = slicePromptRows({ prompts, rows: [0, 1, 1] }, 1, 3) as MixedPrompts;
 * assert.deepEqual(Array.from(part.rows), [1, 1]);
 * tf.dispose(prompts);
 * ```
 */
export function slicePromptRows(prompt: PromptInput, start: number, end: number): PromptInput {
  if (prompt instanceof tf.Tensor) return prompt;
  return { prompts: prompt.prompts, rows: Array.from(prompt.rows).slice(start, end) };
}

/**
 * Checks that mixed prompts name one prompt per example (a single prompt fits any number).
 *
 * @param prompt one prompt, or one per row
 * @param n the examples
 * @param who the message's lead (`"Rank classification"`, `"Generation"`)
 * @throws {RangeError} when mixed prompts have another number of rows
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { checkPromptRows } from "./mixed.ts";
 * import assert from "node:assert/strict";
 * const prompts = [tf.zeros([1, 2])];
 * assert.throws(() => checkPromptRows({ prompts, rows: [0] }, 2, "Generation"), /^RangeError: Generation: 1 prompt rows; expected 2/);
 * tf.dispose(prompts);
 * ```
 */
export function checkPromptRows(prompt: PromptInput | undefined, n: number, who: string): void {
  if (prompt === undefined || prompt instanceof tf.Tensor || prompt.rows.length === n) return;
  throw new RangeError(
    `${who}: ${prompt.rows.length} prompt rows; expected ${n} (one per example)`,
  );
}
