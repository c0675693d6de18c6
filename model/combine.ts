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
   * [P]]`; a value `v ≥ B·T` is prompt row `v − B·T`.
   */
  readonly index: Int32Array;
  /** `[B·T]`: for each input position (flat, `b·T + t`), the flat output row it went to. */
  readonly placed: Int32Array;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Puts a prompt into a batch of input embeddings.
 *
 * @param prompt `[P, H]` float32; gradients flow back to it
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
export type Combine = (prompt: tf.Tensor, embeds: tf.Tensor, mask: tf.Tensor) => Combined;

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

function checkInputs(prompt: tf.Tensor, embeds: tf.Tensor, mask: tf.Tensor): void {
  if (prompt.rank !== 2 || prompt.dtype !== "float32") {
    throw new TypeError(
      `Combine: the prompt is ${prompt.dtype} ${shapeText(prompt)}; expected float32 [P, H]`,
    );
  }
  if (embeds.rank !== 3 || embeds.dtype !== "float32" || embeds.shape[2] !== prompt.shape[1]) {
    throw new RangeError(
      `Combine: the input embeddings are ${embeds.dtype} ${
        shapeText(embeds)
      }; expected float32 [B, T, ${prompt.shape[1]}] (the prompt's width)`,
    );
  }
  if (mask.rank !== 2 || mask.shape[0] !== embeds.shape[0] || mask.shape[1] !== embeds.shape[1]) {
    throw new RangeError(
      `Combine: the mask has shape ${shapeText(mask)}; expected [${embeds.shape[0]}, ${
        embeds.shape[1]
      }] (the embeddings' [B, T])`,
    );
  }
}

/**
 * The index maps of an insertion: `index` (output → source), `placed` (input → output), the
 * new 0/1 mask and, for the prompt's gradient, `promptRows` `[P·B]`: the output rows of prompt
 * row `k` at `k·B … k·B + B − 1`.
 */
function plan(
  placement: Placement,
  mask: ArrayLike<number>,
  b: number,
  t: number,
  p: number,
): { index: Int32Array; placed: Int32Array; mask: Int32Array; promptRows: Int32Array } {
  const width = p + t;
  const index = new Int32Array(b * width);
  const placed = new Int32Array(b * t);
  const newMask = new Int32Array(b * width);
  const promptRows = new Int32Array(p * b);
  const row = new Float64Array(t);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < t; j++) row[j] = mask[i * t + j] ? 1 : 0;
    const at = placement(row);
    if (!Number.isInteger(at) || at < 0 || at > t) {
      throw new RangeError(
        `Combine: the placement of row ${i} is ${at}; expected an integer in [0, ${t}]`,
      );
    }
    for (let j = 0; j < width; j++) {
      const out = i * width + j;
      if (j >= at && j < at + p) {
        index[out] = b * t + (j - at);
        newMask[out] = 1;
        promptRows[(j - at) * b + i] = out;
      } else {
        const src = j < at ? j : j - p;
        index[out] = i * t + src;
        newMask[out] = row[src];
        placed[i * t + src] = out;
      }
    }
  }
  return { index, placed, mask: newMask, promptRows };
}

/**
 * One gather over `[flat ; prompt]` with a gradient written as gathers too: TensorFlow.js's own
 * gradient of `gather` needs `UnsortedSegmentSum`, which the WASM backend lacks. Each input row
 * appears once in the output (its gradient is one gather); each prompt row appears once per
 * batch row (its gradient sums `B` gathered rows).
 */
function insertRows(
  prompt: tf.Tensor,
  flat: tf.Tensor,
  maps: { index: Int32Array; placed: Int32Array; promptRows: Int32Array },
  b: number,
): tf.Tensor {
  const [p, h] = prompt.shape;
  const f = tf.customGrad((pr, fl) => {
    const source = tf.concat([fl as tf.Tensor2D, pr as tf.Tensor2D], 0); // [B·T + P, H]
    const value = tf.gather(source, tf.tensor1d(maps.index, "int32")); // [B·(P + T), H]
    return {
      value,
      gradFunc: (dy: tf.Tensor) => {
        const rows = tf.gather(dy, tf.tensor1d(maps.promptRows, "int32")); // [P·B, H]
        const dPrompt = tf.sum(tf.reshape(rows, [p, b, h]), 1); // [P, H]
        const dFlat = tf.gather(dy, tf.tensor1d(maps.placed, "int32")); // [B·T, H]
        return [dPrompt, dFlat];
      },
    };
  });
  return f(prompt, flat);
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
    checkInputs(prompt, embeds, mask);
    const [b, t, h] = embeds.shape;
    const p = prompt.shape[0];
    const maps = plan(placement, mask.dataSync(), b, t, p);
    return tf.tidy(() => {
      const flat = tf.reshape(embeds, [b * t, h]); // [B·T, H]
      const rows = insertRows(prompt, flat, maps, b); // [B·(P + T), H]
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
 * @param prompt `[P, H]` float32
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
 * @param prompt `[P, H]` float32
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
 * @param prompt `[P, H]` float32
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
 * @param promptLength `P`
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
    const source = tf.concat([flat, tf.fill([promptLength], ignoreIndex, "int32")]); // [B·T + P]
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
