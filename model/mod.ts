/**
 * Frozen models as pure functions over parameter trees: loading a checkpoint directory
 * ({@link loadModel}: Hugging Face T5, GPT-2 and the LLaMA family, or T5X), and each
 * architecture's config, forward pass and loader.
 *
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { disposeTree } from "../tree/tree.ts";
 * import { gpt2Forward, type Gpt2Params, loadModel } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const loaded = await loadModel(new URL("../tests/fixtures/models/gpt2_tiny", import.meta.url).pathname);
 * assert(loaded._tag === "Right" && loaded.right.architecture === "gpt2");
 * const model = loaded.right; // narrowed by its architecture: typed GPT-2 parameters and config
 * const params: Gpt2Params = model.params;
 * const ids = tf.tensor2d([[1, 2, 3]], [1, 3], "int32"); // [B, T]
 * const out = gpt2Forward(params, model.config, { inputIds: ids });
 * assert.deepEqual(out.logits.shape, [1, 3, model.config.vocabSize]); // [B, T, V]
 * tf.dispose([ids, out.logits]);
 * disposeTree(model.params);
 * ```
 *
 * @module
 */
export { type FrozenModel, loadModel } from "./load.ts";
export type { MixedPrompts, PromptInput } from "./combine.ts";
export { mixPrompts, slicePromptRows } from "./mixed.ts";
export { type GenerationConfig, parseGenerationConfig } from "./generation_config.ts";
export { type Architecture, disposeCache, type KVCache, type LayerCache } from "./types.ts";
export type { Activation } from "./layers.ts";
export type { Recompute } from "./kernels/recompute.ts";
export type { DecoderOptions, DecoderOutput } from "./_decoder.ts";
export {
  checkT5Params,
  loadT5FromHuggingFace,
  makeT5Params,
  parseT5Config,
  shiftRight,
  t5Apply,
  type T5ApplyInputs,
  type T5Config,
  t5Decode,
  type T5DecodeInputs,
  type T5DecodeOutput,
  t5Embed,
  t5Encode,
  type T5EncodeInputs,
  type T5Params,
  t5ParamShapes,
  type T5Sizes,
} from "./t5/mod.ts";
export {
  type Gpt2Config,
  gpt2Embed,
  gpt2Forward,
  type Gpt2Params,
  gpt2ParamShapes,
  loadGpt2FromHuggingFace,
  parseGpt2Config,
} from "./gpt2/mod.ts";
export {
  LLAMA_MODEL_TYPES,
  type LlamaConfig,
  llamaEmbed,
  llamaForward,
  type LlamaModelType,
  type LlamaParams,
  llamaParamShapes,
  loadLlamaFromHuggingFace,
  parseLlamaConfig,
} from "./llama/mod.ts";
export {
  type LoadedT5x,
  loadT5x,
  readT5xCheckpoint,
  type ReadT5xOptions,
  type T5xCheckpoint,
  t5xToTree,
} from "./t5x/mod.ts";
export type { ParamTree } from "../tree/tree.ts";
export type { DType } from "../io/dtype.ts";
export type { TensorEntry } from "../io/host_tensor.ts";
export type { TensorSource } from "../io/tensor_file.ts";
export type { T5xSizes } from "./t5x/tree.ts";
export type { ZarrLimits } from "./t5x/zarr.ts";
export type { Problem, ProblemTag } from "../problem.ts";
