/**
 * Which examples make the next batch: shuffled epoch by epoch with an explicit PRNG key, and a
 * data position `(epoch, offset)` that a checkpoint stores so a resumed run draws the same
 * batches. Plain integers only; turning examples into tensors (`collate`) is the caller's job.
 *
 * Epoch `e` visits the examples in the order `permutationIndices(foldIn(dataKey, e), n)`
 * (`jax.random.permutation` bit for bit) and cuts it into consecutive batches. Batches are not
 * packed and never straddle two epochs. With `dropLast` (the default, as the original's
 * `drop_remainder=True` input pipelines) an epoch's last `n mod batchSize` examples are skipped,
 * so every batch has `batchSize` examples; without it the epoch ends with one smaller batch.
 *
 * @module
 */
import { foldIn, type Key, permutationIndices } from "../random/mod.ts";

/**
 * Where the next batch starts: the epoch and the offset into that epoch's shuffled order. A run
 * starts at `{ epoch: 0, offset: 0 }`.
 *
 * @example
 * ```ts
 * import type { DataPosition } from "./batches.ts";
 * import assert from "node:assert/strict";
 * const start: DataPosition = { epoch: 0, offset: 0 };
 * assert(start.offset === 0);
 * ```
 */
export interface DataPosition {
  /** The 0-based epoch. */
  readonly epoch: number;
  /** How many examples of this epoch's order were already used. */
  readonly offset: number;
}

/**
 * Options of {@link nextBatch} and {@link batchesPerEpoch}.
 *
 * @example
 * ```ts
 * import { type BatchOptions, batchesPerEpoch } from "./batches.ts";
 * import assert from "node:assert/strict";
 * const keepLast: BatchOptions = { batchSize: 3, dropLast: false };
 * assert(batchesPerEpoch(7, keepLast) === 3 && batchesPerEpoch(7, { batchSize: 3 }) === 2);
 * ```
 */
export interface BatchOptions {
  /** Examples per batch (a positive integer). */
  readonly batchSize: number;
  /** Skip an epoch's last partial batch (default true); false keeps it as a smaller batch. */
  readonly dropLast?: boolean;
}

/**
 * A batch's example indices and the data position after it.
 *
 * @example
 * ```ts
 * import { key } from "../random/mod.ts";
 * import { type DrawnBatch, nextBatch } from "./batches.ts";
 * import assert from "node:assert/strict";
 * const b: DrawnBatch = nextBatch(key(0), 4, { epoch: 0, offset: 0 }, { batchSize: 4 });
 * // One batch is the whole epoch: every example once, in a shuffled order.
 * assert(Array.from(b.indices).sort((x, y) => x - y).join() === "0,1,2,3");
 * assert(b.epoch === 0 && b.next.epoch === 0 && b.next.offset === 4);
 * ```
 */
export interface DrawnBatch {
  /** Indices into the training examples, in batch order. */
  readonly indices: Int32Array;
  /** The epoch this batch belongs to. */
  readonly epoch: number;
  /** Where the following batch starts. */
  readonly next: DataPosition;
}

/**
 * The number of batches in one epoch.
 *
 * @param n the number of training examples
 * @param options batch size and whether a last partial batch is dropped
 * @returns `floor(n / batchSize)` with `dropLast`, `ceil(n / batchSize)` without
 * @example
 * ```ts
 * import { batchesPerEpoch } from "./batches.ts";
 * import assert from "node:assert/strict";
 * assert(batchesPerEpoch(10, { batchSize: 4 }) === 2);
 * assert(batchesPerEpoch(10, { batchSize: 4, dropLast: false }) === 3);
 * ```
 */
export function batchesPerEpoch(n: number, options: BatchOptions): number {
  const { batchSize } = options;
  return (options.dropLast ?? true) ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/**
 * Draws the batch at a data position. Pure: the same key, position and sizes give the same
 * batch, which is what makes a resumed run identical to an uninterrupted one. An epoch's order is
 * recomputed from the key on each call (about a microsecond per example).
 *
 * @param dataKey the run's data key (only folded, never used directly)
 * @param n the number of training examples
 * @param position where the batch starts
 * @param options batch size and whether a last partial batch is dropped
 * @returns the example indices and the position after the batch
 * @throws {RangeError} when no batch can be drawn (`n` is 0, or `n < batchSize` with `dropLast`)
 *   or the position is not one a run can reach
 * @example
 * ```ts
 * import { key } from "../random/mod.ts";
 * import { nextBatch } from "./batches.ts";
 * import assert from "node:assert/strict";
 * const k = key(0);
 * const a = nextBatch(k, 5, { epoch: 0, offset: 0 }, { batchSize: 2 });
 * const b = nextBatch(k, 5, a.next, { batchSize: 2 });
 * const c = nextBatch(k, 5, b.next, { batchSize: 2 }); // the 5th example is dropped: epoch 1
 * assert(a.indices.length === 2 && b.next.offset === 4 && c.epoch === 1);
 * ```
 */
export function nextBatch(
  dataKey: Key,
  n: number,
  position: DataPosition,
  options: BatchOptions,
): DrawnBatch {
  const { batchSize } = options;
  const dropLast = options.dropLast ?? true;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`Batch size is ${batchSize}; expected a positive integer`);
  }
  if (!Number.isSafeInteger(n) || n < 1 || (dropLast && n < batchSize)) {
    throw new RangeError(
      `Cannot draw a batch of ${batchSize} from ${n} examples${
        dropLast ? " with dropLast" : ""
      }; expected at least ${dropLast ? batchSize : 1}`,
    );
  }
  let { epoch, offset } = position;
  if (
    !Number.isSafeInteger(epoch) || epoch < 0 || epoch >= 2 ** 32 ||
    !Number.isSafeInteger(offset) ||
    offset < 0 || offset > n
  ) {
    throw new RangeError(
      `Data position (epoch ${epoch}, offset ${offset}) is invalid; expected epoch in [0, 2^32) and offset in [0, ${n}]`,
    );
  }
  // The epoch is over when nothing (or, with dropLast, less than a batch) is left.
  if (offset >= n || (dropLast && n - offset < batchSize)) {
    epoch += 1;
    offset = 0;
  }
  const order = permutationIndices(foldIn(dataKey, epoch), n);
  const end = Math.min(n, offset + batchSize);
  return { indices: order.slice(offset, end), epoch, next: { epoch, offset: end } };
}
