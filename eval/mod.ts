/**
 * Evaluation: task metrics over predictions and targets.
 *
 * ```ts
 * import { accuracy, matthews } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert(accuracy([1, 0, 1], [1, 1, 1]) === 2 / 3);
 * assert(matthews([1, 0], [1, 0]) === 1);
 * ```
 *
 * @module
 */
export * from "./metrics.ts";
export * from "./rank.ts";
export * from "./generate.ts";
export * from "./report.ts";
export * from "./baseline.ts";
