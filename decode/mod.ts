/**
 * Decoding with the incremental key/value cache, the soft prompt applied at prefill: greedy
 * search, beam search (beams, length penalty α; preset 4 beams, α 0.6) and top-k / nucleus
 * sampling with temperature driven by PRNG keys; maximum length, stop at EOS, batched.
 *
 * The building blocks are model-agnostic: {@link prefill} reads the inputs and gives the first
 * logits and a {@link DecodeState}; {@link step} feeds one token per row (one token's work);
 * {@link extend} feeds several (teacher forcing); {@link selectRows} repeats or reorders rows
 * (beams); {@link disposeDecodeState} frees a state.
 *
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "../model/load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { BEAM_PRESET, beamSearch, greedy } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/t5_v1_1"));
 * const inputIds = tf.tensor2d([[5, 6, 1]], [1, 3], "int32");
 * const inputMask = tf.ones([1, 3], "int32");
 * const prompt = tf.zeros([4, 32]); // [P, H]
 * const batch = { inputIds, inputMask };
 * const g = await greedy(model, prompt, batch, { maxNewTokens: 4 });
 * const b = await beamSearch(model, prompt, batch, { ...BEAM_PRESET, maxNewTokens: 4 });
 * assert(g.tokens[0].length > 0 && b.tokens[0].length > 0);
 * tf.dispose([inputIds, inputMask, prompt]);
 * disposeTree(model.params);
 * ```
 *
 * @module
 */
export {
  type DecodeState,
  disposeDecodeState,
  type SelectOptions,
  selectRows,
  stateRows,
} from "./state.ts";
export {
  decodeStep,
  extend,
  type ExtendOutput,
  prefill,
  type PrefillOptions,
  type StepOutput,
} from "./prefill.ts";
export { type DecodeResult, type DecodingOptions, type SpecialIds, specialIds } from "./options.ts";
export { greedy } from "./greedy.ts";
export { BEAM_PRESET, type BeamOptions, beamSearch } from "./beam.ts";
export { filterLogits, type FilterOptions } from "./filter.ts";
export { sample, type SamplingOptions } from "./sample.ts";
export { decode, type Decoding, DECODING_PRESETS, type RunDecodingOptions } from "./decode.ts";
// The types the signatures above name, so that this entry point documents them too.
export type {
  Activation,
  FrozenModel,
  GenerationConfig,
  Gpt2Config,
  LlamaConfig,
  LlamaModelType,
  T5Config,
} from "../model/mod.ts";
export type { Key } from "../random/key.ts";
export type { Combine, MixedPrompts, PromptInput } from "../model/combine.ts";
export type { ParamTree } from "../tree/tree.ts";
export type { T5Params } from "../model/t5/params.ts";
export type { Gpt2Params } from "../model/gpt2/forward.ts";
export type { LlamaParams } from "../model/llama/forward.ts";
