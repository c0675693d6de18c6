/**
 * Loading a frozen model from a GGUF file: the config from its metadata (`config.ts`), then the
 * Hugging Face load plan of the architecture with llama.cpp's tensor names
 * (`blk.N.attn_q.weight` for `model.layers.N.self_attn.q_proj.weight`, …) and its two changes
 * undone: the rotary permutation of LLaMA's query and key rows, and GPT-2's transposed Conv1D
 * weights. Every tensor is checked before any is read; then each is dequantized to float32 and
 * placed, one at a time (peak memory: the float32 tree plus one tensor).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { GGUF_TENSOR_TYPES, type GgufFile, openGguf } from "../../io/gguf.ts";
import { type Problem, problem } from "../../problem.ts";
import { gpt2LoadPlan } from "../gpt2/load.ts";
import type { Gpt2Params } from "../gpt2/forward.ts";
import { llamaLoadPlan } from "../llama/load.ts";
import type { LlamaParams } from "../llama/forward.ts";
import { loadByPlan, type LoadPlan, type TensorPlan } from "../_load_plan.ts";
import type { FrozenModel } from "../frozen.ts";
import { type GgufModelConfig, ggufModelConfig } from "./config.ts";

// llama.cpp's names (after `blk.N.`) → Hugging Face's (after `layers.N.` / `h.N.`).
const LLAMA_LAYER: Readonly<Record<string, string>> = {
  attn_norm: "input_layernorm",
  attn_q: "self_attn.q_proj",
  attn_k: "self_attn.k_proj",
  attn_v: "self_attn.v_proj",
  attn_output: "self_attn.o_proj",
  ffn_norm: "post_attention_layernorm",
  ffn_gate: "mlp.gate_proj",
  ffn_up: "mlp.up_proj",
  ffn_down: "mlp.down_proj",
};
const LLAMA_TOP: Readonly<Record<string, string>> = {
  "token_embd.weight": "embed_tokens.weight",
  "output_norm.weight": "norm.weight",
  "output.weight": "lm_head.weight",
};
const GPT2_LAYER: Readonly<Record<string, string>> = {
  attn_norm: "ln_1",
  attn_qkv: "attn.c_attn",
  attn_output: "attn.c_proj",
  ffn_norm: "ln_2",
  ffn_up: "mlp.c_fc",
  ffn_down: "mlp.c_proj",
};
const GPT2_TOP: Readonly<Record<string, string>> = {
  "token_embd.weight": "wte.weight",
  "position_embd.weight": "wpe.weight",
  "output_norm.weight": "ln_f.weight",
  "output_norm.bias": "ln_f.bias",
  "output.weight": "lm_head.weight",
};

/** A GGUF tensor name in Hugging Face's naming (unknown names are kept, to be reported). */
function renamer(
  top: Readonly<Record<string, string>>,
  layer: Readonly<Record<string, string>>,
  layers: string,
): (name: string) => string {
  return (name) => {
    if (Object.hasOwn(top, name)) return top[name];
    const m = /^blk\.(\d+)\.([a-z_]+)\.(weight|bias)$/.exec(name);
    if (m === null || !Object.hasOwn(layer, m[2])) return name;
    return `${layers}.${m[1]}.${layer[m[2]]}.${m[3]}`;
  };
}

/**
 * Undoes llama.cpp's rotary permutation of query / key rows `[nHead * D, ...]`: it stores each
 * head's rows as (D/2, 2) pairs where Hugging Face keeps (2, D/2) halves (transformers'
 * `reverse_permute_weights`).
 */
function unpermute(t: tf.Tensor, nHead: number): tf.Tensor {
  const rows = t.shape[0], rest = t.shape.slice(1);
  const d2 = rows / nHead / 2;
  const perm = [0, 2, 1, ...rest.map((_, i) => 3 + i)];
  return tf.transpose(tf.reshape(t, [nHead, d2, 2, ...rest]), perm).reshape(t.shape);
}

/** A tensor's shape in the file, and what turns it into the shape the plan places. */
interface Change {
  readonly shape: readonly number[];
  readonly before: (t: tf.Tensor) => tf.Tensor;
}

/** A plan with each tensor's file shape and a change applied before it is placed. */
function adapt(
  plan: LoadPlan,
  rename: (name: string) => string,
  change: (name: string) => Change | undefined,
): LoadPlan {
  return {
    ...plan,
    tensors: plan.tensors.map((t): TensorPlan => {
      const c = change(t.name);
      return c === undefined ? t : { ...t, shape: c.shape, place: (x) => t.place(c.before(x)) };
    }),
    canonical: (name) => plan.canonical(rename(name)),
  };
}

/** The load plan of a GGUF file for its config. */
function ggufPlan(c: GgufModelConfig): LoadPlan {
  if (c.architecture === "gpt2") {
    // llama.cpp stores GPT-2's Conv1D weights [in, out] transposed, as [out, in].
    const conv = /^h\.\d+\.(attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.weight$/;
    const plan = gpt2LoadPlan(c.config);
    const shapes = new Map(plan.tensors.map((t) => [t.name, t.shape]));
    return adapt(
      plan,
      renamer(GPT2_TOP, GPT2_LAYER, "h"),
      (name) =>
        conv.test(name)
          ? { shape: [...shapes.get(name)!].reverse(), before: (t) => tf.transpose(t) }
          : undefined,
    );
  }
  const plan = llamaLoadPlan(c.config);
  const rename = renamer(LLAMA_TOP, LLAMA_LAYER, "layers");
  if (c.config.modelType === "qwen2") return adapt(plan, rename, () => undefined);
  const shapes = new Map(plan.tensors.map((t) => [t.name, t.shape]));
  const { numHeads, numKvHeads } = c.config;
  return adapt(plan, rename, (name) => {
    const m = /^layers\.\d+\.self_attn\.([qk])_proj\.(weight|bias)$/.exec(name);
    if (m === null) return undefined;
    const heads = m[1] === "q" ? numHeads : numKvHeads;
    return { shape: shapes.get(name)!, before: (t) => unpermute(t, heads) };
  });
}

/** Every planned tensor must be of a type that dequantizes: all others listed in one problem. */
function checkTypes(file: GgufFile, plan: LoadPlan, where: string): E.Either<Problem, void> {
  const planned = new Set(plan.tensors.map((t) => t.name));
  const bad = file.tensors
    .filter((t) => planned.has(plan.canonical(t.name)) && !GGUF_TENSOR_TYPES.includes(t.type))
    .map((t) => `${t.name} (${t.type})`);
  if (bad.length === 0) return E.right(undefined);
  const shown = bad.slice(0, 6).join(", ") + (bad.length > 6 ? ` and ${bad.length - 6} more` : "");
  return E.left(
    problem(
      "Unsupported",
      where,
      `Tensor types not supported: ${shown}; expected one of ${GGUF_TENSOR_TYPES.join(", ")}`,
    ),
  );
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Loads a frozen model from a `.gguf` file (`general.architecture` `llama`, `qwen2` or `gpt2`):
 * the config from the metadata, every tensor checked against it (names, shapes, types), then
 * each dequantized to float32 and placed. The caller owns the tree (see `disposeTree`).
 *
 * @param path the `.gguf` file
 * @returns the model (`format: "gguf"`), or a problem: the file's, the metadata's, or a
 * `Mismatch` listing missing, unexpected and mis-shaped tensors
 * @example
 * ```ts
 * import { loadGguf } from "./load.ts";
 * import { disposeTree } from "../../tree/tree.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadGguf("tests/fixtures/gguf/llama.gguf"));
 * assert(model.architecture === "llama" && model.format === "gguf");
 * assert(model.config.numKvHeads === 2 && !model.config.tieWordEmbeddings);
 * assert.deepEqual(model.params.layers[0].attention.key.kernel.shape, [16, 8]); // [H, Nkv * D]
 * disposeTree(model.params);
 * ```
 */
export async function loadGguf(path: string): Promise<E.Either<Problem, FrozenModel>> {
  const opened = await openGguf(path);
  if (E.isLeft(opened)) return opened;
  const file = opened.right;
  try {
    const config = ggufModelConfig(file.metadata, file.tensors.map((t) => t.name), path);
    if (E.isLeft(config)) return config;
    const c = config.right;
    const plan = ggufPlan(c);
    const types = checkTypes(file, plan, path);
    if (E.isLeft(types)) return types;
    const format = "gguf" as const;
    if (c.architecture === "gpt2") {
      const params = await loadByPlan<Gpt2Params>(file, plan, path);
      return E.map((p: Gpt2Params): FrozenModel => ({ ...c, params: p, format }))(params);
    }
    const params = await loadByPlan<LlamaParams>(file, plan, path);
    return E.map((p: LlamaParams): FrozenModel => ({ ...c, params: p, format }))(params);
  } finally {
    file.close();
  }
}
