/**
 * Soft prompt tuning (Lester, Al-Rfou, Constant, 2021) of frozen transformer language models on
 * TensorFlow.js: explicit PRNG keys, parameter trees, tensor files and prompt initializers.
 *
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { initBackend, key, randomUniform, split } from "./mod.ts";
 * import assert from "node:assert/strict";
 * await initBackend("cpu");
 * const [k] = split(key(42));
 * const prompt = randomUniform(0.5)(k, [100, 8]); // [P, H]
 * assert(prompt.shape[0] === 100);
 * prompt.dispose();
 * ```
 *
 * @module
 */
export * from "./problem.ts";
export * from "./backend.ts";
export * from "./random/mod.ts";
export * from "./tree/tree.ts";
export * from "./io/mod.ts";
export * from "./initializers/mod.ts";
export * from "./tokenizer/mod.ts";
export * from "./model/layers.ts";
export * from "./model/types.ts";
export * from "./model/load.ts";
export * from "./model/combine.ts";
export * from "./model/loss.ts";
export * from "./model/prompted.ts";
export * from "./model/label_scores.ts";
export * from "./model/t5/mod.ts";
export * from "./model/gpt2/mod.ts";
export * from "./model/llama/mod.ts";
export * from "./model/t5x/mod.ts";
export * from "./model/generation_config.ts";
export * from "./training/mod.ts";
export * from "./config/mod.ts";
export * from "./data/mod.ts";
export * from "./eval/mod.ts";
export * from "./decode/mod.ts";
export { checkpoint, type Recompute, useFastKernels } from "./model/kernels/mod.ts";
