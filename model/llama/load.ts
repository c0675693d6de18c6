/**
 * Loading a LLaMA-family model (LLaMA, SmolLM, TinyLlama, Qwen2, Mistral) from a Hugging Face
 * checkpoint into the parameter tree of {@link LlamaParams}.
 *
 * Names are those of `*ForCausalLM` (`model.layers.N.self_attn.q_proj.weight`, …,
 * `lm_head.weight`); the `model.` prefix is optional. PyTorch `Linear` weights `[out, in]` are
 * transposed to kernels `[in, out]`. With a tied head, `lm_head.weight` is not needed and is
 * ignored if present; the `rotary_emb.inv_freq` buffers of old checkpoints are ignored too.
 * float16 and bfloat16 weights are upcast to float32 on load (exactly; the tree is float32,
 * twice the bytes).
 *
 * @module
 */
import type * as E from "fp-ts/Either";
import type { Problem } from "../../problem.ts";
import type { TensorSource } from "../../io/tensor_source.ts";
import { type LlamaConfig, parseLlamaConfig } from "./config.ts";
import type { LlamaParams } from "./forward.ts";
import {
  asIs,
  loadByPlan,
  type LoadPlan,
  loadWithConfig,
  type TensorPlan,
  transposed,
} from "../_load_plan.ts";

/**
 * The tensors a LLaMA-family checkpoint must hold for a config, in the file's names (without
 * the `model.` prefix) and shapes, with the tree leaves each becomes.
 *
 * @param config the model's config
 * @returns the load plan
 * @example
 * ```ts
 * import { llamaLoadPlan } from "./load.ts";
 * import { parseLlamaConfig } from "./config.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const plan = llamaLoadPlan(orThrow(parseLlamaConfig({ hidden_size: 32, intermediate_size: 48, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2 }, "c")));
 * assert(plan.tensors.some((t) => t.name === "layers.0.self_attn.k_proj.weight" && t.shape.join() === "16,32"));
 * ```
 */
export function llamaLoadPlan(config: LlamaConfig): LoadPlan {
  const { vocabSize: v, hiddenSize: h, intermediateSize: f, headDim: d } = config;
  const q = config.numHeads * d, kv = config.numKvHeads * d;
  const tensors: TensorPlan[] = [
    { name: "embed_tokens.weight", shape: [v, h], place: asIs("token_embedder/embedding") },
  ];
  // A Linear [out, in] becomes kernel [in, out] (and its bias, where the config has one).
  const linear = (from: string, to: string, inDim: number, outDim: number, bias: boolean) => {
    tensors.push({
      name: `${from}.weight`,
      shape: [outDim, inDim],
      place: transposed(`${to}/kernel`),
    });
    if (bias) tensors.push({ name: `${from}.bias`, shape: [outDim], place: asIs(`${to}/bias`) });
  };
  // An RMSNorm weight [H] becomes its scale.
  const norm = (from: string, to: string) =>
    tensors.push({ name: `${from}.weight`, shape: [h], place: asIs(`${to}/scale`) });
  for (let i = 0; i < config.numLayers; i++) {
    const from = `layers.${i}`, to = `layers/${i}`;
    norm(`${from}.input_layernorm`, `${to}/input_norm`);
    linear(`${from}.self_attn.q_proj`, `${to}/attention/query`, h, q, config.qkvBias);
    linear(`${from}.self_attn.k_proj`, `${to}/attention/key`, h, kv, config.qkvBias);
    linear(`${from}.self_attn.v_proj`, `${to}/attention/value`, h, kv, config.qkvBias);
    linear(`${from}.self_attn.o_proj`, `${to}/attention/out`, q, h, config.outBias);
    norm(`${from}.post_attention_layernorm`, `${to}/post_attention_norm`);
    linear(`${from}.mlp.gate_proj`, `${to}/mlp/gate`, h, f, config.mlpBias);
    linear(`${from}.mlp.up_proj`, `${to}/mlp/up`, h, f, config.mlpBias);
    linear(`${from}.mlp.down_proj`, `${to}/mlp/down`, f, h, config.mlpBias);
  }
  norm("norm", "final_norm");
  if (!config.tieWordEmbeddings) {
    tensors.push({ name: "lm_head.weight", shape: [v, h], place: transposed("lm_head/kernel") });
  }
  return {
    label: "LLaMA-family",
    tensors,
    canonical: (name) => (name.startsWith("model.") ? name.slice("model.".length) : name),
    ignore: (name) =>
      /^layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/.test(name) ||
      (config.tieWordEmbeddings && name === "lm_head.weight"),
  };
}

// deno-doc-ignore private-type-ref -- fp-ts Either is an npm type (denoland/deno#27364); TensorSource is io/mod.ts's
/**
 * Loads a LLaMA-family checkpoint: parses the config, checks every tensor's name and shape
 * against it (all problems in one), then reads the tensors one at a time into a float32 tree.
 *
 * @param dir the checkpoint directory, for messages
 * @param configJson its parsed `config.json`
 * @param source its tensors (`model.safetensors` or a sharded index, opened by the caller, who
 * also closes it)
 * @returns the tree (the caller disposes it), or a problem: the config's (`Invalid`,
 * `Unsupported`), a `Mismatch` listing missing, unexpected and mis-shaped tensors, or a read's
 * (`Truncated`, `Io`, …)
 * @example
 * ```ts
 * import { loadLlamaFromHuggingFace } from "./load.ts";
 * import { openTensorFile } from "../../io/tensor_file.ts";
 * import assert from "node:assert/strict";
 * const dir = new URL("../../tests/fixtures/models/llama_gqa/", import.meta.url);
 * const config = JSON.parse(await Deno.readTextFile(new URL("config.json", dir)));
 * const source = await openTensorFile(new URL("model.safetensors", dir));
 * if (source._tag === "Right") {
 *   const params = await loadLlamaFromHuggingFace(dir.pathname, config, source.right);
 *   source.right.close();
 *   assert(params._tag === "Right");
 * }
 * ```
 */
export async function loadLlamaFromHuggingFace(
  dir: string,
  configJson: unknown,
  source: TensorSource,
): Promise<E.Either<Problem, LlamaParams>> {
  return await loadWithConfig(
    dir,
    configJson,
    parseLlamaConfig,
    (config) => loadByPlan<LlamaParams>(source, llamaLoadPlan(config), dir),
  );
}
