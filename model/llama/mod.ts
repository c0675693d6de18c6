/**
 * The LLaMA family (LLaMA, SmolLM, TinyLlama, Qwen2, Mistral): config, parameter tree, forward
 * pass and loading from Hugging Face checkpoints.
 *
 * ```ts
 * import { llamaForward, loadLlamaFromHuggingFace, parseLlamaConfig } from "./mod.ts";
 * ```
 *
 * Tree layout (kernels `[in, out]`): `token_embedder/embedding` `[V, H]`,
 * `layers/<i>/input_norm/scale`, `layers/<i>/attention/{query,key,value,out}/kernel` (and
 * `/bias` where the config has them: Qwen2's q/k/v, LLaMA's `attention_bias`),
 * `layers/<i>/post_attention_norm/scale`, `layers/<i>/mlp/{gate,up,down}/kernel` (`/bias` with
 * `mlp_bias`), `final_norm/scale`, and `lm_head/kernel` `[H, V]` only when the head is untied.
 *
 * @module
 */
export {
  LLAMA_MODEL_TYPES,
  type LlamaConfig,
  type LlamaModelType,
  llamaParamShapes,
  parseLlamaConfig,
} from "./config.ts";
export {
  type LlamaDense,
  llamaEmbed,
  llamaForward,
  type LlamaLayer,
  type LlamaNorm,
  type LlamaParams,
} from "./forward.ts";
export { loadLlamaFromHuggingFace } from "./load.ts";
export type { DecoderOptions, DecoderOutput } from "../_decoder.ts";
export type { Activation } from "../layers.ts";
export type { Problem, ProblemTag } from "../../problem.ts";
