/**
 * Private: turning lists of token ids into padded `[B, T]` int32 batches.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { DecodeBatch } from "../decode/mod.ts";

/**
 * Right-pads rows of ids into `inputIds` and `inputMask` tensors `[B, T]` (T the longest row).
 * The caller disposes both.
 *
 * @throws {RangeError} when a row is empty or holds something that is not a token id
 */
export function padRows(
  rows: readonly (readonly number[])[],
  pad: number,
  vocab: number,
  what: string,
  offset = 0,
): DecodeBatch {
  const t = Math.max(...rows.map((r) => r.length));
  const ids = new Int32Array(rows.length * t).fill(pad);
  const mask = new Int32Array(rows.length * t);
  rows.forEach((row, i) => {
    if (row.length === 0) {
      throw new RangeError(`${what} ${offset + i} has no tokens; expected at least one`);
    }
    row.forEach((id, j) => {
      if (!Number.isInteger(id) || id < 0 || id >= vocab) {
        throw new RangeError(
          `${what} ${offset + i}: token ${j} is ${id}; expected an integer in [0, ${vocab})`,
        );
      }
      ids[i * t + j] = id;
      mask[i * t + j] = 1;
    });
  });
  return {
    inputIds: tf.tensor2d(ids, [rows.length, t], "int32"),
    inputMask: tf.tensor2d(mask, [rows.length, t], "int32"),
  };
}

/** Checks a batch size option. */
export function checkBatchSize(batchSize: number, who: string): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`${who}: batchSize is ${batchSize}; expected a positive integer`);
  }
}
