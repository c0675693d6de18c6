/**
 * GPT-2: config, parameter tree, forward pass and loading from Hugging Face checkpoints.
 *
 * ```ts
 * import { gpt2Forward, loadGpt2FromHuggingFace, parseGpt2Config } from "./mod.ts";
 * ```
 *
 * Tree layout (kernels `[in, out]`): `token_embedder/embedding` `[V, H]`,
 * `position_embedder/embedding` `[P, H]`, `layers/<i>/ln_1/{scale,bias}`,
 * `layers/<i>/attention/{query,key,value,out}/{kernel,bias}`, `layers/<i>/ln_2/{scale,bias}`,
 * `layers/<i>/mlp/{fc,proj}/{kernel,bias}`, `final_norm/{scale,bias}`; the head is tied to the
 * token embedding.
 *
 * @module
 */
export { type Gpt2Config, gpt2ParamShapes, parseGpt2Config } from "./config.ts";
export {
  type Gpt2Dense,
  gpt2Embed,
  gpt2Forward,
  type Gpt2Layer,
  type Gpt2Norm,
  type Gpt2Params,
} from "./forward.ts";
export { loadGpt2FromHuggingFace } from "./load.ts";
export type { DecoderOptions, DecoderOutput } from "../_decoder.ts";
export type { Activation } from "../layers.ts";
export type { Problem, ProblemTag } from "../../problem.ts";
