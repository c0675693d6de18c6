/**
 * Prompt tuning: the losses of a prompt, gradients restricted to it, optimizers as pure state
 * transitions, and a resumable training loop with atomic checkpoints and PEFT export. (How the
 * prompt meets the input is `model/combine.ts`.)
 *
 * ```ts
 * import { adafactor } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const opt = adafactor(); // the paper's settings: lr 0.3, decay 0.8, clipping 1.0, wd 1e-5
 * assert(opt.name === "adafactor" && opt.init !== undefined);
 * ```
 *
 * @module
 */
export * from "./objective.ts";
export * from "./rank_objective.ts";
export * from "./grad.ts";
export * from "./optim/mod.ts";
export * from "./batches.ts";
export * from "./checkpoint.ts";
export * from "./evaluate.ts";
export * from "./interrupt.ts";
export * from "./metrics_log.ts";
export * from "./progress.ts";
export * from "./step.ts";
export * from "./loop.ts";
export * from "./peft.ts";
export * from "./prompt_objective.ts";
export * from "./tune.ts";
