/**
 * Every label's continuation packed after one input, so that a decoder-only model scores all the
 * labels of a batch in one pass: the prompted input `[B, W]`, then for each label `c` of `L_c`
 * tokens a block of its first `L_c − 1` tokens (the last token of a label is only predicted,
 * never read). A block's tokens see the input and their own block's earlier tokens, at the
 * positions they would have right after the input; the input's last real position predicts every
 * label's first token, a block's token `j` its label's token `j + 1`. With one-token labels
 * nothing is added: the pass is the input's alone.
 *
 * Host-side bookkeeping only (ids, positions, masks); `label_scores.ts` runs the model.
 *
 * @module
 */
import { MASK_BIAS } from "./layers.ts";

/** The inputs shared by every choice and each choice's label tokens, read from the batches. */
export interface SplitChoices {
  /** `[B · T]` the input ids, right-padded with 0, `T` the longest input. */
  readonly inputIds: Int32Array;
  /** `[B · T]` 1 at the input's tokens. */
  readonly inputMask: Int32Array;
  /** `T`. */
  readonly inputLength: number;
  /** `labels[c][i]`: label `c`'s tokens in row `i`. */
  readonly labels: readonly (readonly number[])[][];
}

/** One choice batch on the host: `[B · T]` ids, mask and labels (`ignore` off the label). */
export interface HostChoice {
  readonly ids: ArrayLike<number>;
  readonly mask: ArrayLike<number>;
  readonly labels: ArrayLike<number>;
  readonly b: number;
  readonly t: number;
}

/**
 * Splits decoder-only choice batches (the input followed by one label each, labels at the
 * label's tokens) into the input they share and each label's tokens.
 *
 * @param choices the choices on the host, one per label
 * @param ignore the label of positions that are not the label's tokens
 * @returns the shared input and the labels' tokens
 * @throws RangeError when the choices' inputs differ, or a label token precedes an input token
 */
export function splitChoices(choices: readonly HostChoice[], ignore: number): SplitChoices {
  const { b } = choices[0];
  const rows: number[][] = [];
  const labels = choices.map((choice, c) => {
    if (choice.b !== b) {
      throw new RangeError(`choices[${c}] has ${choice.b} rows; choices[0] has ${b}`);
    }
    const perRow: number[][] = [];
    for (let i = 0; i < b; i++) {
      const input: number[] = [], label: number[] = [];
      for (let j = 0; j < choice.t; j++) {
        const k = i * choice.t + j;
        if (choice.labels[k] !== ignore) label.push(choice.labels[k]);
        else if (choice.mask[k] !== 0) {
          if (label.length > 0) {
            throw new RangeError(
              `choices[${c}] row ${i}: an input token follows the label's; expected the input, then the label`,
            );
          }
          input.push(choice.ids[k]);
        }
      }
      if (c === 0) rows.push(input);
      else if (input.length !== rows[i].length || input.some((x, j) => x !== rows[i][j])) {
        throw new RangeError(
          `choices[${c}] row ${i} has another input than choices[0]; expected the same inputs, one batch per label`,
        );
      }
      perRow.push(label);
    }
    return perRow;
  });
  const t = Math.max(1, ...rows.map((r) => r.length));
  const inputIds = new Int32Array(b * t), inputMask = new Int32Array(b * t);
  rows.forEach((row, i) =>
    row.forEach((id, j) => {
      inputIds[i * t + j] = id;
      inputMask[i * t + j] = 1;
    })
  );
  return { inputIds, inputMask, inputLength: t, labels };
}

/** The packed sequence's layout for a batch: what to append, where, and who sees whom. */
export interface PackedLayout {
  /** `S = W + Σ_c (L_c − 1)`, the packed length. */
  readonly length: number;
  /** `[B · (S − W)]` the blocks' token ids (0 at padding). */
  readonly blockIds: Int32Array;
  /** `[B · S]` positions: `cumsum(mask) − 1` over the input, `n_i + j` in each block. */
  readonly positions: Int32Array;
  /** `[B]` each row's last real input position (it predicts every label's first token). */
  readonly last: Int32Array;
  /** Per label: its offset among the blocks, `L_c`, and its targets `[B · L_c]` (`ignore`-padded). */
  readonly blocks: readonly { offset: number; width: number; targets: Int32Array }[];
  /** `[B, 1, S, S]` the additive attention bias, for a sliding window or none. */
  readonly bias: (window: number | null) => Float32Array;
}

/**
 * Lays the labels' blocks out after the prompted input.
 *
 * @param mask `[B · W]` the prompted input's mask (1 where the model may attend)
 * @param b rows
 * @param w `W`
 * @param labels `labels[c][i]`, label `c`'s tokens in row `i`
 * @param ignore the label of padded targets
 * @returns the layout
 */
export function packLayout(
  mask: ArrayLike<number>,
  b: number,
  w: number,
  labels: readonly (readonly (readonly number[])[])[],
  ignore: number,
): PackedLayout {
  const widths = labels.map((rows) => Math.max(1, ...rows.map((r) => r.length))); // L_c
  const offsets: number[] = [];
  let extra = 0;
  for (const width of widths) {
    offsets.push(extra);
    extra += width - 1;
  }
  const s = w + extra;
  const blockIds = new Int32Array(b * extra);
  const positions = new Int32Array(b * s);
  const last = new Int32Array(b);
  const block = new Int32Array(s).fill(-1); // which label's block a packed index is in (-1: input)
  labels.forEach((_, c) => block.fill(c, w + offsets[c], w + offsets[c] + widths[c] - 1));
  for (let i = 0; i < b; i++) {
    let n = 0;
    for (let j = 0; j < w; j++) {
      if (mask[i * w + j] !== 0) {
        last[i] = j;
        n++;
      }
      positions[i * s + j] = Math.max(0, n - 1);
    }
    labels.forEach((rows, c) => {
      for (let j = 0; j < widths[c] - 1; j++) {
        positions[i * s + w + offsets[c] + j] = n + j;
        blockIds[i * extra + offsets[c] + j] = rows[i][j] ?? 0;
      }
    });
  }
  const blocks = labels.map((rows, c) => {
    const targets = new Int32Array(b * widths[c]).fill(ignore);
    rows.forEach((row, i) => row.forEach((id, j) => targets[i * widths[c] + j] = id));
    return { offset: offsets[c], width: widths[c], targets };
  });
  const bias = (window: number | null) => {
    const out = new Float32Array(b * s * s).fill(MASK_BIAS);
    for (let i = 0; i < b; i++) {
      const pos = (k: number) => positions[i * s + k];
      const near = (q: number, k: number) => window === null || pos(q) - pos(k) < window;
      for (let q = 0; q < s; q++) {
        const row = (i * s + q) * s;
        for (let k = 0; k < s; k++) {
          const input = k < w;
          const seen = input
            ? mask[i * w + k] !== 0 && (q >= w || k <= q)
            : block[k] === block[q] && k <= q;
          if (seen && near(q, k)) out[row + k] = 0;
        }
      }
    }
    return out;
  };
  return { length: s, blockIds, positions, last, blocks, bias };
}
