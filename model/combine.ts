/**
 * How the soft prompt meets the input: a pluggable {@link Combine} function, as the original
 * prompt-tuning code's `prefix_prompt`, `prefix_prompt_after_bos` and `suffix_prompt`.
 *
 * A combine inserts the `[P, H]` prompt into every row of `[B, T, H]` input embeddings at a
 * column chosen per row from the padding mask, giving `[B, P + T, H]` and a `[B, P + T]` mask
 * with the prompt visible. The placement is computed in JavaScript, as index maps, and applied
 * with one gather over `[embeds as [B·T, H] ; prompt [P, H]]`. The same maps move labels
 * ({@link moveLabels}) and take the outputs at the input's own positions back out
 * ({@link dropPrompt}).
 *
 * - {@link prefix} (the default): right before each row's first real token. With right padding
 *   that is column 0; with **left padding** it is after the pads, not before them (PEFT puts the
 *   prompt before the pads, huggingface/peft#1093). Models that count positions from the mask
 *   (`cumsum(mask) - 1`) then give the prompt positions `0 … P-1` and the tokens `P …`, whatever
 *   the padding.
 * - {@link prefixAfterBos}: after each row's first real token (decoder-only inputs that start
 *   with BOS).
 * - {@link suffix}: right before each row's last real token (the EOS).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * What a {@link Combine} returns. The tensors are new; the caller owns them.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { type Combined, prefix } from "./combine.ts";
 * import assert from "node:assert/strict";
 * const prompt = tf.zeros([1, 2]);
 * const embeds = tf.ones([2, 3, 2]);
 * const mask = tf.ones([2, 3], "int32");
 * const c: Combined = prefix(prompt, embeds, mask);
 * // Row 1's input position 0 (flat 3) went to output row 1·4 + 1 = 5.
 * assert(c.placed[3] === 5 && c.index[0] === 6);
 * tf.dispose([prompt, embeds, mask, c.embeds, c.mask]);
 * ```
 */
export interface Combined {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, P + T, H]` the inputs with the prompt inserted in every row. */
  readonly embeds: tf.Tensor3D;
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** `[B, P + T]` int32: 1 at the prompt's positions, the input mask (as 0/1) elsewhere. */
  readonly mask: tf.Tensor2D;
  /**
   * `[B·(P + T)]`: for each output row (flat), its source row in `[inputs as [B·T] ; prompt
   * [P]]`; a value `v ≥ B·T` is prompt row `v − B·T` (with {@link MixedPrompts}, the prompts'
   * rows one after another, then one zero row at the masked slack).
   */
  readonly index: Int32Array;
  /** `[B·T]`: for each input position (flat, `b·T + t`), the flat output row it went to. */
  readonly placed: Int32Array;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Puts a prompt into a batch of input embeddings.
 *
 * @param prompt `[P, H]` float32, or one per row ({@link MixedPrompts}); gradients flow back
 * @param embeds `[B, T, H]` float32 input embeddings
 * @param mask `[B, T]` padding mask (int32, float32 or bool; non-zero means a real token)
 * @returns the combined embeddings and mask, and the index maps
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { type Combine, prefix, suffix } from "./combine.ts";
 * import assert from "node:assert/strict";
 * const pick = (name: string): Combine => (name === "suffix" ? suffix : prefix);
 * const prompt = tf.zeros([4, 2]);
 * const embeds = tf.ones([1, 3, 2]);
 * const mask = tf.ones([1, 3], "int32");
 * const c = pick("suffix")(prompt, embeds, mask);
 * assert(c.embeds.shape.join() === "1,7,2");
 * tf.dispose([prompt, embeds, mask, c.embeds, c.mask]);
 * ```
 */
export type Combine = (prompt: PromptInput, embeds: tf.Tensor, mask: tf.Tensor) => Combined;

/**
 * Where the prompt goes in one row: a column in `[0, T]`, from the row's mask.
 *
 * @param rowMask the row's padding mask, `[T]`, non-zero at real tokens
 * @returns the column the prompt's first row goes to (the row's tokens from there on move right
 *   by `P`)
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { combineAt, type Placement } from "./combine.ts";
 * import assert from "node:assert/strict";
 * // After the second real token.
 * const afterTwo: Placement = (row) => Math.min(Array.from(row).indexOf(1) + 2, row.length);
 * assert(afterTwo([0, 1, 1, 1]) === 3);
 * // A one-row prompt of 9s into a left-padded row of embeddings 0, 1, 2, 3 (H = 1).
 * const out = combineAt(afterTwo)(
 *   tf.fill([1, 1], 9),
 *   tf.tensor3d([[[0], [1], [2], [3]]]),
 *   tf.tensor2d([[0, 1, 1, 1]], [1, 4], "int32"),
 * );
 * assert.deepEqual(Array.from(out.embeds.dataSync()), [0, 1, 2, 9, 3]); // [B, P + T, H]
 * ```
 */
export type Placement = (rowMask: ArrayLike<number>) => number;

const shapeText = (t: tf.Tensor) => `[${t.shape.join(", ")}]`;

function checkInputs(mixed: MixedPrompts, embeds: tf.Tensor, mask: tf.Tensor): void {
  if (mixed.prompts.length === 0) {
    throw new RangeError("Combine: no prompts; expected at least one [P, H] prompt");
  }
  mixed.prompts.forEach((prompt, k) => {
    if (prompt.rank !== 2 || prompt.dtype !== "float32") {
      const which = mixed.prompts.length === 1 ? "the prompt" : `prompt ${k}`;
      throw new TypeError(
        `Combine: ${which} is ${prompt.dtype} ${shapeText(prompt)}; expected float32 [P, H]`,
      );
    }
  });
  const h = mixed.prompts[0].shape[1];
  const other = mixed.prompts.findIndex((x) => x.shape[1] !== h);
  if (other >= 0) {
    throw new RangeError(
      `Combine: prompt ${other} is ${
        shapeText(mixed.prompts[other])
      }; expected [P, ${h}] (prompt 0's width)`,
    );
  }
  if (embeds.rank !== 3 || embeds.dtype !== "float32" || embeds.shape[2] !== h) {
    throw new RangeError(
      `Combine: the input embeddings are ${embeds.dtype} ${
        shapeText(embeds)
      }; expected float32 [B, T, ${h}] (the prompt's width)`,
    );
  }
  if (mask.rank !== 2 || mask.shape[0] !== embeds.shape[0] || mask.shape[1] !== embeds.shape[1]) {
    throw new RangeError(
      `Combine: the mask has shape ${shapeText(mask)}; expected [${embeds.shape[0]}, ${
        embeds.shape[1]
      }] (the embeddings' [B, T])`,
    );
  }
  checkRows(mixed, embeds.shape[0]);
}

/**
 * Checks a {@link MixedPrompts}' row indices: one per batch row, each `-1` or a prompt's index.
 *
 * @param mixed the prompts and each row's index
 * @param b the batch's rows
 * @throws {RangeError} naming the first row that is wrong
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { checkRows } from "./combine.ts";
 * import assert from "node:assert/strict";
 * const prompts = [tf.zeros([1, 2])];
 * assert.throws(() => checkRows({ prompts, rows: [0, 1] }, 2), /row 1 names prompt 1; expected -1 or an index in \[0, 1\)/);
 * tf.dispose(prompts);
 * ```
 */
export function checkRows(mixed: MixedPrompts, b: number): void {
  if (mixed.rows.length !== b) {
    throw new RangeError(
      `Combine: ${mixed.rows.length} prompt rows; expected ${b} (one per batch row)`,
    );
  }
  for (let i = 0; i < b; i++) {
    const k = mixed.rows[i];
    if (!Number.isInteger(k) || k < -1 || k >= mixed.prompts.length) {
      throw new RangeError(
        `Combine: row ${i} names prompt ${k}; expected -1 or an index in [0, ${mixed.prompts.length})`,
      );
    }
  }
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Every row's prompt: one `[P, H]` prompt for the whole batch, or a {@link MixedPrompts} naming
 * one per row.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import type { PromptInput } from "./combine.ts";
 * import assert from "node:assert/strict";
 * const one: PromptInput = tf.zeros([2, 4]);
 * assert(one instanceof tf.Tensor);
 * one.dispose();
 * ```
 */
export type PromptInput = tf.Tensor | MixedPrompts;

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Several prompts over one batch, each row naming its own: `prompts[rows[i]]` is row `i`'s
 * prompt, `-1` none. Prompts may differ in length (not in width); a combine gives the batch the
 * longest used prompt's width and masks the slack of a row with a shorter one (placed before the
 * row, where it changes neither positions nor attention), so that each row's result is the one
 * it gets alone with its own prompt. Gradients reach each row's own prompt only; a prompt no row
 * names gets a zero gradient.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { type MixedPrompts, prefix } from "./combine.ts";
 * import assert from "node:assert/strict";
 * const mixed: MixedPrompts = { prompts: [tf.fill([1, 1], 8), tf.fill([2, 1], 9)], rows: [0, 1] };
 * const embeds = tf.tensor3d([[[1], [2]], [[3], [4]]]); // [B = 2, T = 2, H = 1]
 * const c = prefix(mixed, embeds, tf.ones([2, 2], "int32"));
 * assert.equal(c.embeds.dataSync().join(), "0,8,1,2,9,9,3,4"); // [B, 2 + T, H]: row 0 has slack
 * assert.equal(c.mask.dataSync().join(), "0,1,1,1,1,1,1,1");
 * tf.dispose([...mixed.prompts, embeds, c.embeds, c.mask]);
 * ```
 */
export interface MixedPrompts {
  // deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
  /** The prompts, each `[P_k, H]` float32; the caller keeps owning them. */
  readonly prompts: readonly tf.Tensor[];
  /** `[B]`: each row's index into `prompts`, or -1 for no prompt. */
  readonly rows: ArrayLike<number>;
}

/** A {@link PromptInput} as a list of prompts and each row's index: one prompt is every row's. */
function asMixed(prompt: PromptInput, b: number): MixedPrompts {
  return prompt instanceof tf.Tensor ? { prompts: [prompt], rows: new Int32Array(b) } : prompt;
}

/**
 * The index maps of an insertion: `index` (output → source), `placed` (input → output), the
 * new 0/1 mask and, for each prompt's gradient, `promptRows[k]` `[P_k·B_k]`: the output rows of
 * prompt `k`'s row `r` at `r·B_k … r·B_k + B_k − 1` (`B_k` the rows naming it, `users[k]`). The
 * source is `[inputs [B·T] ; prompt 0 ; prompt 1 ; … ; a zero row]`; a row whose prompt is
 * shorter than the width's `P` starts with `P − P_i` slack positions (the zero row, masked).
 */
function plan(
  placement: Placement,
  mask: ArrayLike<number>,
  b: number,
  t: number,
  lengths: readonly number[],
  rowPrompt: ArrayLike<number>,
): {
  index: Int32Array;
  placed: Int32Array;
  mask: Int32Array;
  promptRows: Int32Array[];
  users: number[];
  p: number;
} {
  const offsets: number[] = [];
  let total = b * t;
  for (const length of lengths) {
    offsets.push(total);
    total += length;
  }
  const zero = total; // the zero row, after every prompt's
  const lengthOf = (i: number) => rowPrompt[i] < 0 ? 0 : lengths[rowPrompt[i]];
  let p = b === 0 ? Math.max(0, ...lengths) : 0;
  for (let i = 0; i < b; i++) p = Math.max(p, lengthOf(i));
  const users = lengths.map(() => 0);
  for (let i = 0; i < b; i++) if (rowPrompt[i] >= 0) users[rowPrompt[i]]++;
  const width = p + t;
  const index = new Int32Array(b * width);
  const placed = new Int32Array(b * t);
  const newMask = new Int32Array(b * width);
  const promptRows = lengths.map((length, k) => new Int32Array(length * users[k]));
  const seen = lengths.map(() => 0); // the rows so far naming each prompt
  const row = new Float64Array(t);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < t; j++) row[j] = mask[i * t + j] ? 1 : 0;
    const at = placement(row);
    if (!Number.isInteger(at) || at < 0 || at > t) {
      throw new RangeError(
        `Combine: the placement of row ${i} is ${at}; expected an integer in [0, ${t}]`,
      );
    }
    const k = rowPrompt[i], pi = lengthOf(i), slack = p - pi;
    for (let j = 0; j < width; j++) {
      const out = i * width + j;
      const c = j - slack; // the column in the row as it is alone, `[0, P_i + T)`
      if (c < 0) {
        index[out] = zero; // slack: masked, so no position counts it and nothing attends to it
      } else if (c >= at && c < at + pi) {
        index[out] = offsets[k] + (c - at);
        newMask[out] = 1;
        promptRows[k][(c - at) * users[k] + seen[k]] = out;
      } else {
        const src = c < at ? c : c - pi;
        index[out] = i * t + src;
        newMask[out] = row[src];
        placed[i * t + src] = out;
      }
    }
    if (k >= 0) seen[k]++;
  }
  return { index, placed, mask: newMask, promptRows, users, p };
}

/**
 * One gather over `[flat ; prompts ; zero row]` with a gradient written as gathers too:
 * TensorFlow.js's own gradient of `gather` needs `UnsortedSegmentSum`, which the WASM backend
 * lacks. Each input row appears once in the output (its gradient is one gather); each row of
 * prompt `k` appears once per batch row naming it (its gradient sums those `B_k` rows).
 */
function insertRows(
  prompts: readonly tf.Tensor[],
  flat: tf.Tensor,
  maps: { index: Int32Array; placed: Int32Array; promptRows: Int32Array[]; users: number[] },
): tf.Tensor {
  const h = flat.shape[1] as number;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const inputs = args.slice(0, prompts.length + 1) as tf.Tensor2D[];
    const source = tf.concat([...inputs, tf.zeros([1, h])], 0); // [B·T + ΣP_k + 1, H]
    const value = tf.gather(source, tf.tensor1d(maps.index, "int32")); // [B·(P + T), H]
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
        const g = dy as tf.Tensor;
        const dFlat = tf.gather(g, tf.tensor1d(maps.placed, "int32")); // [B·T, H]
        const dPrompts = prompts.map((prompt, k) => {
          const pk = prompt.shape[0] as number, bk = maps.users[k];
          if (bk === 0 || pk === 0) return tf.zerosLike(prompt); // no row names it
          const rows = tf.gather(g, tf.tensor1d(maps.promptRows[k], "int32")); // [P_k·B_k, H]
          return tf.sum(tf.reshape(rows, [pk, bk, h]), 1); // [P_k, H]
        });
        return [dFlat, ...dPrompts];
      },
    };
  }) as (...xs: tf.Tensor[]) => tf.Tensor;
  return f(flat, ...prompts);
}

/**
 * Makes a {@link Combine} from a {@link Placement}: the rule that picks each row's column. The
 * built-in {@link prefix}, {@link prefixAfterBos} and {@link suffix} are made this way.
 *
 * @param placement the column of the prompt in a row, from the row's mask
 * @returns the combine function
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { combineAt } from "./combine.ts";
 * import assert from "node:assert/strict";
 * // PEFT's placement: always column 0, before any padding.
 * const peft = combineAt(() => 0);
 * const prompt = tf.ones([2, 1]);
 * const embeds = tf.tensor3d([[[0], [5]]]); // [1, 2, 1], left-padded
 * const mask = tf.tensor2d([[0, 1]], [1, 2], "int32");
 * const c = peft(prompt, embeds, mask);
 * assert(c.mask.dataSync().join() === "1,1,0,1");
 * tf.dispose([prompt, embeds, mask, c.embeds, c.mask]);
 * ```
 */
export function combineAt(placement: Placement): Combine {
  return (prompt, embeds, mask) => {
    const [b, t, h] = embeds.shape;
    const mixed = asMixed(prompt, b);
    checkInputs(mixed, embeds, mask);
    const lengths = mixed.prompts.map((x) => x.shape[0] as number);
    const maps = plan(placement, mask.dataSync(), b, t, lengths, mixed.rows);
    const p = maps.p;
    return tf.tidy(() => {
      const flat = tf.reshape(embeds, [b * t, h]); // [B·T, H]
      const rows = insertRows(mixed.prompts, flat, maps); // [B·(P + T), H]
      return {
        embeds: tf.reshape(rows, [b, p + t, h]) as tf.Tensor3D, // [B, P + T, H]
        mask: tf.tensor2d(maps.mask, [b, p + t], "int32"),
        index: maps.index,
        placed: maps.placed,
      };
    });
  };
}

function firstReal(row: ArrayLike<number>): number {
  for (let j = 0; j < row.length; j++) if (row[j]) return j;
  return -1;
}

function lastReal(row: ArrayLike<number>): number {
  for (let j = row.length - 1; j >= 0; j--) if (row[j]) return j;
  return -1;
}

/**
 * The prompt right before each row's first real token: column 0 with right padding, after the
 * pads with left padding (a row with no real token gets it at column 0). The default.
 *
 * @param prompt `[P, H]` float32, or one per row ({@link MixedPrompts})
 * @param embeds `[B, T, H]` float32
 * @param mask `[B, T]`, non-zero at real tokens
 * @returns `[B, P + T, H]` embeddings, `[B, P + T]` int32 mask and the index maps
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { prefix } from "./combine.ts";
 * import assert from "node:assert/strict";
 * const prompt = tf.tensor2d([[9], [9]]); // [P = 2, H = 1]
 * const embeds = tf.tensor3d([[[0], [1], [2]]]); // [1, 3, 1], one pad on the left
 * const mask = tf.tensor2d([[0, 1, 1]], [1, 3], "int32");
 * const c = prefix(prompt, embeds, mask);
 * assert(c.embeds.dataSync().join() === "0,9,9,1,2");
 * assert(c.mask.dataSync().join() === "0,1,1,1,1");
 * tf.dispose([prompt, embeds, mask, c.embeds, c.mask]);
 * ```
 */
export const prefix: Combine = combineAt((row) => Math.max(firstReal(row), 0));

/**
 * The prompt right after each row's first real token (the BOS of decoder-only inputs); a row
 * with no real token gets it at column 0.
 *
 * @param prompt `[P, H]` float32, or one per row ({@link MixedPrompts})
 * @param embeds `[B, T, H]` float32
 * @param mask `[B, T]`, non-zero at real tokens
 * @returns `[B, P + T, H]` embeddings, `[B, P + T]` int32 mask and the index maps
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { prefixAfterBos } from "./combine.ts";
 * import assert from "node:assert/strict";
 * const prompt = tf.tensor2d([[9]]); // [P = 1, H = 1]
 * const embeds = tf.tensor3d([[[1], [2], [3]]]); // [1, 3, 1]: BOS, 2, 3
 * const mask = tf.ones([1, 3], "int32");
 * const c = prefixAfterBos(prompt, embeds, mask);
 * assert(c.embeds.dataSync().join() === "1,9,2,3");
 * tf.dispose([prompt, embeds, mask, c.embeds, c.mask]);
 * ```
 */
export const prefixAfterBos: Combine = combineAt((row) => {
  const first = firstReal(row);
  return first < 0 ? 0 : first + 1;
});

/**
 * The prompt right before each row's last real token (the EOS); a row with no real token gets
 * it at column 0.
 *
 * @param prompt `[P, H]` float32, or one per row ({@link MixedPrompts})
 * @param embeds `[B, T, H]` float32
 * @param mask `[B, T]`, non-zero at real tokens
 * @returns `[B, P + T, H]` embeddings, `[B, P + T]` int32 mask and the index maps
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { suffix } from "./combine.ts";
 * import assert from "node:assert/strict";
 * const prompt = tf.tensor2d([[9]]); // [P = 1, H = 1]
 * const embeds = tf.tensor3d([[[4], [5], [1], [0]]]); // [1, 4, 1]: 4, 5, EOS, pad
 * const mask = tf.tensor2d([[1, 1, 1, 0]], [1, 4], "int32");
 * const c = suffix(prompt, embeds, mask);
 * assert(c.embeds.dataSync().join() === "4,5,9,1,0");
 * tf.dispose([prompt, embeds, mask, c.embeds, c.mask]);
 * ```
 */
export const suffix: Combine = combineAt((row) => Math.max(lastReal(row), 0));

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Moves labels the way a combine moved the inputs, with `ignoreIndex` at the prompt's positions.
 *
 * @param labels `[B, T]` int32
 * @param index the combine's {@link Combined.index}, `[B·(P + T)]`
 * @param promptLength `P` (with {@link MixedPrompts}, the longest used: the width less `T`)
 * @param ignoreIndex the label of a position that is not a target (default -100)
 * @returns `[B, P + T]` int32
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { moveLabels, prefix } from "./combine.ts";
 * import assert from "node:assert/strict";
 * const prompt = tf.zeros([1, 2]);
 * const embeds = tf.zeros([1, 2, 2]);
 * const mask = tf.ones([1, 2], "int32");
 * const c = prefix(prompt, embeds, mask);
 * const labels = tf.tensor2d([[7, 8]], [1, 2], "int32");
 * const moved = moveLabels(labels, c.index, 1);
 * assert(moved.dataSync().join() === "-100,7,8");
 * tf.dispose([prompt, embeds, mask, c.embeds, c.mask, labels, moved]);
 * ```
 */
export function moveLabels(
  labels: tf.Tensor,
  index: Int32Array,
  promptLength: number,
  ignoreIndex = -100,
): tf.Tensor2D {
  if (labels.rank !== 2 || labels.dtype !== "int32") {
    throw new TypeError(
      `moveLabels: the labels are ${labels.dtype} ${shapeText(labels)}; expected int32 [B, T]`,
    );
  }
  const [b, t] = labels.shape;
  if (index.length !== b * (t + promptLength)) {
    throw new RangeError(
      `moveLabels: the index has ${index.length} entries; expected ${
        b * (t + promptLength)
      } (B·(P + T) for labels ${shapeText(labels)} and P = ${promptLength})`,
    );
  }
  return tf.tidy(() => {
    const flat = tf.reshape(labels, [b * t]); // [B·T]
    // Every source row past the inputs (the prompts' rows, the slack's zero row) is ignored.
    const past = index.reduce((m, v) => Math.max(m, v + 1), b * t) - b * t;
    const source = tf.concat([flat, tf.fill([past], ignoreIndex, "int32")]); // [B·T + ΣP_k + 1]
    const moved = tf.gather(source, tf.tensor1d(index, "int32")); // [B·(P + T)]
    return tf.reshape(moved, [b, t + promptLength]) as tf.Tensor2D; // [B, P + T]
  });
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Takes a combined sequence's values at the input's own positions, dropping the prompt's: the
 * inverse of a combine for outputs such as logits. Differentiable (by gathers, so also on the
 * WASM backend).
 *
 * @param values `[B, P + T, ...]` (for example logits `[B, P + T, V]`)
 * @param placed the combine's {@link Combined.placed}, `[B·T]`
 * @returns `[B, T, ...]`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { dropPrompt, prefix } from "./combine.ts";
 * import assert from "node:assert/strict";
 * const prompt = tf.fill([1, 1], 9);
 * const embeds = tf.tensor3d([[[1], [2]]]);
 * const mask = tf.ones([1, 2], "int32");
 * const c = prefix(prompt, embeds, mask);
 * const back = dropPrompt(c.embeds, c.placed);
 * assert(back.dataSync().join() === "1,2");
 * tf.dispose([prompt, embeds, mask, c.embeds, c.mask, back]);
 * ```
 */
export function dropPrompt(values: tf.Tensor, placed: Int32Array): tf.Tensor {
  const [b, width, ...rest] = values.shape;
  if (values.rank < 2 || placed.length % b !== 0 || placed.length / b > width) {
    throw new RangeError(
      `dropPrompt: values of shape ${
        shapeText(values)
      } do not fit ${placed.length} placed positions`,
    );
  }
  const t = placed.length / b;
  const inner = rest.reduce((a, d) => a * d, 1);
  // The inverse map: each output row's input position, or the appended zero row (a prompt row).
  const inverse = new Int32Array(b * width).fill(b * t);
  placed.forEach((out, i) => inverse[out] = i);
  // The gather runs on `[B·(P + T), inner]` rows; the reshapes stay outside the custom gradient.
  const f = tf.customGrad((v) => {
    const kept = tf.gather(v as tf.Tensor, tf.tensor1d(placed, "int32")); // [B·T, inner]
    return {
      value: kept,
      gradFunc: (dy: tf.Tensor) => {
        const padded = tf.concat([dy, tf.zeros([1, inner])], 0); // [B·T + 1, inner]
        return tf.gather(padded, tf.tensor1d(inverse, "int32")); // [B·(P + T), inner]
      },
    };
  });
  return tf.tidy(() => {
    const rows = tf.reshape(values, [b * width, inner]); // [B·(P + T), inner]
    return tf.reshape(f(rows), [b, t, ...rest]); // [B·T, inner] → [B, T, ...]
  });
}
