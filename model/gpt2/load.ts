/**
 * Loading GPT-2 from a Hugging Face checkpoint (`GPT2LMHeadModel` or `GPT2Model`) into the
 * parameter tree of {@link Gpt2Params}.
 *
 * Names are accepted with or without the `transformer.` prefix. GPT-2's `Conv1D` weights are
 * already `[in, out]` and stay as they are; the fused `attn.c_attn` (`[H, 3H]`, bias `[3H]`) is
 * split into query, key and value. The `attn.bias` / `attn.masked_bias` buffers of old
 * checkpoints are ignored, and so is a saved copy of the tied `lm_head.weight`. float16 and
 * bfloat16 weights are upcast to float32 on load (exactly; the tree is float32, twice the bytes).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type * as E from "fp-ts/Either";
import type { Problem } from "../../problem.ts";
import type { TensorSource } from "../../io/tensor_source.ts";
import { type Gpt2Config, parseGpt2Config } from "./config.ts";
import type { Gpt2Params } from "./forward.ts";
import { asIs, loadByPlan, type LoadPlan, loadWithConfig, type TensorPlan } from "../_load_plan.ts";

const IGNORED = /^(h\.\d+\.attn\.(bias|masked_bias)|lm_head\.weight)$/;

/** Splits the fused `[H, 3H]` kernel (or `[3H]` bias) into query, key and value leaves. */
function splitQkv(prefix: string, leaf: "kernel" | "bias", h: number) {
  return (t: tf.Tensor) => {
    const parts = leaf === "kernel" ? tf.split(t, [h, h, h], 1) : tf.split(t, [h, h, h], 0);
    return ["query", "key", "value"].map((name, i) =>
      [`${prefix}/attention/${name}/${leaf}`, parts[i]] as const
    );
  };
}

/**
 * The tensors a GPT-2 checkpoint must hold for a config, in the file's own names (without the
 * `transformer.` prefix) and shapes, with the tree leaves each becomes.
 *
 * @param config the model's config
 * @returns the load plan
 * @example
 * ```ts
 * import { gpt2LoadPlan } from "./load.ts";
 * import { parseGpt2Config } from "./config.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const plan = gpt2LoadPlan(orThrow(parseGpt2Config({ n_embd: 24, n_head: 3, n_layer: 2 }, "c")));
 * assert(plan.tensors.some((t) => t.name === "h.1.attn.c_attn.weight" && t.shape[1] === 72));
 * ```
 */
export function gpt2LoadPlan(config: Gpt2Config): LoadPlan {
  const { vocabSize: v, hiddenSize: h, innerSize: f, maxPositions: p } = config;
  const tensors: TensorPlan[] = [
    { name: "wte.weight", shape: [v, h], place: asIs("token_embedder/embedding") },
    { name: "wpe.weight", shape: [p, h], place: asIs("position_embedder/embedding") },
  ];
  const add = (name: string, shape: number[], place: TensorPlan["place"]) =>
    tensors.push({ name, shape, place });
  for (let i = 0; i < config.numLayers; i++) {
    const from = `h.${i}`, to = `layers/${i}`;
    add(`${from}.ln_1.weight`, [h], asIs(`${to}/ln_1/scale`));
    add(`${from}.ln_1.bias`, [h], asIs(`${to}/ln_1/bias`));
    add(`${from}.attn.c_attn.weight`, [h, 3 * h], splitQkv(to, "kernel", h));
    add(`${from}.attn.c_attn.bias`, [3 * h], splitQkv(to, "bias", h));
    add(`${from}.attn.c_proj.weight`, [h, h], asIs(`${to}/attention/out/kernel`));
    add(`${from}.attn.c_proj.bias`, [h], asIs(`${to}/attention/out/bias`));
    add(`${from}.ln_2.weight`, [h], asIs(`${to}/ln_2/scale`));
    add(`${from}.ln_2.bias`, [h], asIs(`${to}/ln_2/bias`));
    add(`${from}.mlp.c_fc.weight`, [h, f], asIs(`${to}/mlp/fc/kernel`));
    add(`${from}.mlp.c_fc.bias`, [f], asIs(`${to}/mlp/fc/bias`));
    add(`${from}.mlp.c_proj.weight`, [f, h], asIs(`${to}/mlp/proj/kernel`));
    add(`${from}.mlp.c_proj.bias`, [h], asIs(`${to}/mlp/proj/bias`));
  }
  add("ln_f.weight", [h], asIs("final_norm/scale"));
  add("ln_f.bias", [h], asIs("final_norm/bias"));
  return {
    label: "GPT-2",
    tensors,
    canonical: (name) => name.startsWith("transformer.") ? name.slice("transformer.".length) : name,
    ignore: (name) => IGNORED.test(name),
  };
}

// deno-doc-ignore private-type-ref -- fp-ts Either is an npm type (denoland/deno#27364); TensorSource is io/mod.ts's
/**
 * Loads a GPT-2 checkpoint: parses the config, checks every tensor's name and shape against it
 * (all problems in one), then reads the tensors one at a time into a float32 tree.
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
 * import { loadGpt2FromHuggingFace } from "./load.ts";
 * import { openTensorFile } from "../../io/tensor_file.ts";
 * import assert from "node:assert/strict";
 * const dir = new URL("../../tests/fixtures/models/gpt2_tiny/", import.meta.url);
 * const config = JSON.parse(await Deno.readTextFile(new URL("config.json", dir)));
 * const source = await openTensorFile(new URL("model.safetensors", dir));
 * if (source._tag === "Right") {
 *   const params = await loadGpt2FromHuggingFace(dir.pathname, config, source.right);
 *   source.right.close();
 *   assert(params._tag === "Right");
 * }
 * ```
 */
export async function loadGpt2FromHuggingFace(
  dir: string,
  configJson: unknown,
  source: TensorSource,
): Promise<E.Either<Problem, Gpt2Params>> {
  return await loadWithConfig(
    dir,
    configJson,
    parseGpt2Config,
    (config) => loadByPlan<Gpt2Params>(source, gpt2LoadPlan(config), dir),
  );
}
