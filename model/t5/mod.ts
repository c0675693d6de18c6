/**
 * T5 encoder-decoders (original T5, T5 1.1, LM-adapted T5, Flan-T5) as pure functions over a
 * parameter tree named as in T5X, loaded from Hugging Face checkpoints, and numerically identical
 * to `transformers`' `T5ForConditionalGeneration` (float32, max |difference| ≤ 1e-4).
 *
 * ```ts
 * import { loadT5FromHuggingFace, parseT5Config, t5Apply, t5Decode, t5Encode } from "./mod.ts";
 * ```
 *
 * @module
 */
export * from "./config.ts";
export * from "./params.ts";
export * from "./position.ts";
export * from "./encoder.ts";
export * from "./decoder.ts";
export * from "./apply.ts";
export * from "./hf.ts";
export type { Problem, ProblemTag } from "../../problem.ts";
export type { ParamTree } from "../../tree/tree.ts";
export type { DType } from "../../io/dtype.ts";
export type { TensorEntry } from "../../io/host_tensor.ts";
export type { TensorSource } from "../../io/tensor_source.ts";
export type { KVCache, LayerCache } from "../types.ts";
export type { Activation } from "../layers.ts";
