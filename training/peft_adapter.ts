/**
 * A PEFT prompt-tuning adapter's contents (`adapter_config.json`'s text and the
 * `prompt_embeddings` of `adapter_model.safetensors`), made without Deno: {@link encodePeftAdapter}
 * gives both files' bytes (what a browser offers as downloads); `writePeftAdapter` in `peft.ts`
 * writes the same contents to a directory. The format is PEFT 0.21.2's `PromptTuningConfig`.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import * as tf from "@tensorflow/tfjs";
import { isFloatDType } from "../io/dtype.ts";
import { type HostTensor, hostTensor, toFloat64 } from "../io/host_tensor.ts";
import { encodeSafetensors } from "../io/safetensors_read.ts";
import type { ModelConfig } from "../model/frozen.ts";
import { type Problem, problem } from "../problem.ts";

/**
 * The PEFT version whose adapter format this module writes (as `peft_version`) and was tested
 * against.
 *
 * @example
 * ```ts
 * import { PEFT_FORMAT_VERSION } from "./peft.ts";
 * import assert from "node:assert/strict";
 * assert(PEFT_FORMAT_VERSION === "0.21.2");
 * ```
 */
export const PEFT_FORMAT_VERSION = "0.21.2";

/**
 * The adapter's config file name.
 *
 * @example
 * ```ts
 * import { ADAPTER_CONFIG } from "./peft.ts";
 * import assert from "node:assert/strict";
 * assert(ADAPTER_CONFIG === "adapter_config.json");
 * ```
 */
export const ADAPTER_CONFIG = "adapter_config.json";

/**
 * The adapter's weights file name (one tensor, `prompt_embeddings`).
 *
 * @example
 * ```ts
 * import { ADAPTER_WEIGHTS } from "./peft.ts";
 * import assert from "node:assert/strict";
 * assert(ADAPTER_WEIGHTS.endsWith(".safetensors"));
 * ```
 */
export const ADAPTER_WEIGHTS = "adapter_model.safetensors";

/**
 * PEFT's task types for prompt tuning of language models.
 *
 * @example
 * ```ts
 * import type { PeftTaskType } from "./peft.ts";
 * import assert from "node:assert/strict";
 * const t: PeftTaskType = "SEQ_2_SEQ_LM";
 * assert(["SEQ_2_SEQ_LM", "CAUSAL_LM"].includes(t));
 * ```
 */
export type PeftTaskType = "SEQ_2_SEQ_LM" | "CAUSAL_LM";

/**
 * What {@link writePeftAdapter} needs to know about the model and the run.
 *
 * @example
 * ```ts
 * import type { PeftAdapterOptions } from "./peft.ts";
 * import assert from "node:assert/strict";
 * const o: PeftAdapterOptions = { taskType: "CAUSAL_LM", tokenDim: 24, numLayers: 2, numAttentionHeads: 3 };
 * assert(o.tokenDim === 24);
 * ```
 */
export interface PeftAdapterOptions {
  /** `task_type`: `SEQ_2_SEQ_LM` for encoder-decoders, `CAUSAL_LM` for decoder-only models. */
  readonly taskType: PeftTaskType;
  /** `token_dim`: the model's width `H` (the prompt must be `[P, H]`). */
  readonly tokenDim: number;
  /** `num_layers`: the model's (encoder) layers. */
  readonly numLayers: number;
  /** `num_attention_heads`: the model's attention heads. */
  readonly numAttentionHeads: number;
  /** `base_model_name_or_path` (default null: `PeftModel.from_pretrained` is given the model). */
  readonly baseModelNameOrPath?: string | null;
  /** `tokenizer_name_or_path` (default null; required by PEFT when the init is `TEXT`). */
  readonly tokenizerNameOrPath?: string | null;
  /** `prompt_tuning_init` (default `RANDOM`; `TEXT` when initialized from a text's embedding). */
  readonly promptTuningInit?: "RANDOM" | "TEXT";
  /** `prompt_tuning_init_text`, required with `TEXT`. */
  readonly initText?: string | null;
  /** `revision` of the base model (default null). */
  readonly revision?: string | null;
  /**
   * Seq2seq only: `"encoder-only"` (default) writes `[P, H]` with one transformer submodule;
   * `"peft"` writes PEFT's own `[2P, H]` (the second block, which PEFT's prompt tuning never
   * reads, is a copy of the first) with `num_transformer_submodules: 2`.
   */
  readonly seq2seqLayout?: "encoder-only" | "peft";
}

/**
 * An adapter's config as read by {@link readPeftAdapter} (PEFT's fields, camel-cased).
 *
 * @example
 * ```ts
 * import { hostTensor } from "../io/host_tensor.ts";
 * import { orThrow } from "../problem.ts";
 * import { type PeftAdapterConfig, readPeftAdapter, writePeftAdapter } from "./peft.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const prompt = hostTensor("float32", [1, 2], new Float32Array([1, 2]));
 * await writePeftAdapter(`${dir}/a`, prompt, { taskType: "SEQ_2_SEQ_LM", tokenDim: 2, numLayers: 1, numAttentionHeads: 1 });
 * const config: PeftAdapterConfig = orThrow(await readPeftAdapter(`${dir}/a`)).config;
 * assert(config.numVirtualTokens === 1 && config.numTransformerSubmodules === 1);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface PeftAdapterConfig {
  /** Always `PROMPT_TUNING` (other types are refused). */
  readonly peftType: "PROMPT_TUNING";
  /** `task_type`, or null when absent. */
  readonly taskType: string | null;
  /** `num_virtual_tokens`: `P`. */
  readonly numVirtualTokens: number;
  /** `token_dim`: `H`. */
  readonly tokenDim: number;
  /** `num_transformer_submodules` (absent: 2 for `SEQ_2_SEQ_LM`, else 1, as PEFT does). */
  readonly numTransformerSubmodules: number;
  /** `num_attention_heads`, or null. */
  readonly numAttentionHeads: number | null;
  /** `num_layers`, or null. */
  readonly numLayers: number | null;
  /** `prompt_tuning_init` (`RANDOM`, `TEXT`, `SAMPLE_VOCAB`). */
  readonly promptTuningInit: string;
  /** `prompt_tuning_init_text`, or null. */
  readonly promptTuningInitText: string | null;
  /** `tokenizer_name_or_path`, or null. */
  readonly tokenizerNameOrPath: string | null;
  /** `base_model_name_or_path`, or null. */
  readonly baseModelNameOrPath: string | null;
  /** `revision`, or null. */
  readonly revision: string | null;
  /** `inference_mode`. */
  readonly inferenceMode: boolean;
  /** `peft_version`, or null. */
  readonly peftVersion: string | null;
}

/**
 * What {@link readPeftAdapter} returns.
 *
 * @example
 * ```ts
 * import { hostTensor } from "../io/host_tensor.ts";
 * import { orThrow } from "../problem.ts";
 * import { type PeftAdapter, readPeftAdapter, writePeftAdapter } from "./peft.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const prompt = hostTensor("float32", [1, 2], new Float32Array([1, 2]));
 * await writePeftAdapter(`${dir}/a`, prompt, { taskType: "CAUSAL_LM", tokenDim: 2, numLayers: 1, numAttentionHeads: 1 });
 * const adapter: PeftAdapter = orThrow(await readPeftAdapter(`${dir}/a`));
 * assert(adapter.prompt.shape.join() === "1,2" && adapter.config.taskType === "CAUSAL_LM");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface PeftAdapter {
  /** The prompt, float32 `[P, H]` (for PEFT's seq2seq `[2P, H]`, the encoder's first `P` rows). */
  readonly prompt: HostTensor;
  /** The adapter's config. */
  readonly config: PeftAdapterConfig;
}

/**
 * The model-dependent part of {@link PeftAdapterOptions}, as PEFT derives it from the model's
 * config (`task_type` from the architecture, `token_dim`, `num_layers`, `num_attention_heads`).
 *
 * @param model a loaded model, or just its architecture and configuration
 * @returns task type, width, layers and heads
 * @example
 * ```ts
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "../model/load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { peftOptionsFor } from "./peft.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/t5_v1_1"));
 * const o = peftOptionsFor(model);
 * assert(o.taskType === "SEQ_2_SEQ_LM" && o.tokenDim === 32 && o.numLayers === 2);
 * disposeTree(model.params);
 * ```
 */
export function peftOptionsFor(
  model: ModelConfig,
): Pick<PeftAdapterOptions, "taskType" | "tokenDim" | "numLayers" | "numAttentionHeads"> {
  switch (model.architecture) {
    case "t5":
      return {
        taskType: "SEQ_2_SEQ_LM",
        tokenDim: model.config.dModel,
        numLayers: model.config.numLayers,
        numAttentionHeads: model.config.numHeads,
      };
    case "gpt2":
    case "llama":
      return {
        taskType: "CAUSAL_LM",
        tokenDim: model.config.hiddenSize,
        numLayers: model.config.numLayers,
        numAttentionHeads: model.config.numHeads,
      };
  }
}

/** A positive safe integer. */
export function isPositiveInt(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x > 0;
}

function checkOptions(options: PeftAdapterOptions, rows: number, width: number): string[] {
  const problems: string[] = [];
  if (options.taskType !== "SEQ_2_SEQ_LM" && options.taskType !== "CAUSAL_LM") {
    problems.push(
      `taskType is ${JSON.stringify(options.taskType)}; expected "SEQ_2_SEQ_LM" or "CAUSAL_LM"`,
    );
  }
  for (const k of ["tokenDim", "numLayers", "numAttentionHeads"] as const) {
    if (!isPositiveInt(options[k])) {
      problems.push(`${k} is ${options[k]}; expected a positive integer`);
    }
  }
  if (rows < 1 || width !== options.tokenDim) {
    problems.push(
      `The prompt is [${rows}, ${width}]; expected [P ≥ 1, ${options.tokenDim}] (tokenDim)`,
    );
  }
  const init = options.promptTuningInit ?? "RANDOM";
  if (init !== "RANDOM" && init !== "TEXT") {
    problems.push(`promptTuningInit is ${JSON.stringify(init)}; expected "RANDOM" or "TEXT"`);
  }
  if (init === "TEXT" && !options.tokenizerNameOrPath) {
    problems.push(
      "promptTuningInit TEXT needs tokenizerNameOrPath (PEFT refuses to load it without)",
    );
  }
  if (init === "TEXT" && (options.initText === undefined || options.initText === null)) {
    problems.push("promptTuningInit TEXT needs initText (PEFT refuses to load it without)");
  }
  const layout = options.seq2seqLayout ?? "encoder-only";
  if (layout !== "encoder-only" && layout !== "peft") {
    problems.push(`seq2seqLayout is ${JSON.stringify(layout)}; expected "encoder-only" or "peft"`);
  }
  return problems;
}

/** The prompt's values and shape, from a tensor or a host tensor. */
async function promptValues(
  prompt: tf.Tensor | HostTensor,
): Promise<{ values: Float32Array; shape: readonly number[] } | string> {
  if (!(prompt instanceof tf.Tensor)) {
    const h = prompt;
    if (!isFloatDType(h.dtype)) {
      return `The prompt has dtype ${h.dtype}; expected a floating-point type`;
    }
    return { values: Float32Array.from(toFloat64(h)), shape: h.shape };
  }
  const t = prompt;
  if (t.dtype !== "float32") return `The prompt has dtype ${t.dtype}; expected float32`;
  return { values: Float32Array.from(await t.data<"float32">()), shape: t.shape };
}

/** adapter_config.json's text: PEFT's fields, sorted, indented by 2 as `save_pretrained` does. */
function configText(options: PeftAdapterOptions, p: number, submodules: number): string {
  const init = options.promptTuningInit ?? "RANDOM";
  const fields: Record<string, unknown> = {
    auto_mapping: null,
    base_model_name_or_path: options.baseModelNameOrPath ?? null,
    inference_mode: true,
    modules_to_save: null,
    num_attention_heads: options.numAttentionHeads,
    num_layers: options.numLayers,
    num_transformer_submodules: submodules,
    num_virtual_tokens: p,
    peft_type: "PROMPT_TUNING",
    peft_version: PEFT_FORMAT_VERSION,
    prompt_tuning_init: init,
    prompt_tuning_init_text: init === "TEXT" ? options.initText : null,
    revision: options.revision ?? null,
    task_type: options.taskType,
    token_dim: options.tokenDim,
    tokenizer_kwargs: null,
    tokenizer_name_or_path: options.tokenizerNameOrPath ?? null,
  };
  return JSON.stringify(fields, null, 2);
}

/** The safetensors `__metadata__` PEFT writes: torch's format tag. */
export const ADAPTER_METADATA: Readonly<Record<string, string>> = { format: "pt" };

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * An adapter's contents: the checked options' `adapter_config.json` text and the
 * `prompt_embeddings` tensor (`[P, H]`, or `[2P, H]` in PEFT's seq2seq layout).
 *
 * @param prompt `[P, H]` float32 tensor (not disposed) or floating-point host tensor
 * @param options task type, model sizes, init, and the seq2seq layout
 * @param where the adapter's name, for problems
 * @returns the weights and the config's text, or an `Invalid` problem listing every bad option
 * @example
 * ```ts
 * import { hostTensor } from "../io/host_tensor.ts";
 * import { peftAdapterContents } from "./peft_adapter.ts";
 * import assert from "node:assert/strict";
 * const prompt = hostTensor("float32", [1, 2], new Float32Array([1, 2]));
 * const options = { taskType: "SEQ_2_SEQ_LM", tokenDim: 2, numLayers: 1, numAttentionHeads: 1, seq2seqLayout: "peft" } as const;
 * const c = await peftAdapterContents(prompt, options, "adapter");
 * assert(c._tag === "Right" && c.right.weights.shape.join() === "2,2");
 * assert.equal(JSON.parse(c.right.config).num_transformer_submodules, 2);
 * ```
 */
export async function peftAdapterContents(
  prompt: tf.Tensor | HostTensor,
  options: PeftAdapterOptions,
  where: string,
): Promise<E.Either<Problem, { readonly weights: HostTensor; readonly config: string }>> {
  const dir = where;
  const got = await promptValues(prompt);
  if (typeof got === "string") return E.left(problem("Invalid", dir, got));
  const { values, shape } = got;
  if (shape.length !== 2) {
    return E.left(
      problem("Invalid", dir, `The prompt has shape [${shape.join(", ")}]; expected [P, H]`),
    );
  }
  const [p, h] = shape;
  const problems = checkOptions(options, p, h);
  if (problems.length > 0) return E.left(problem("Invalid", dir, problems.join("; ")));
  const twice = options.taskType === "SEQ_2_SEQ_LM" && options.seq2seqLayout === "peft";
  const submodules = twice ? 2 : 1;
  let data = values;
  if (twice) {
    data = new Float32Array(2 * p * h); // [2P, H]: the encoder's P rows, then an unused copy
    data.set(values, 0);
    data.set(values, p * h);
  }
  const weights = hostTensor("float32", [submodules * p, h], data);
  return E.right({ weights, config: configText(options, p, submodules) });
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * A PEFT prompt-tuning adapter as the bytes of its two files, {@link ADAPTER_CONFIG} and
 * {@link ADAPTER_WEIGHTS}: what `writePeftAdapter` writes, for a browser to offer as downloads.
 *
 * @param prompt `[P, H]` float32 tensor (not disposed) or floating-point host tensor
 * @param options task type, model sizes, init, and the seq2seq layout
 * @returns file name → bytes, or an `Invalid` problem listing every bad option
 * @example
 * ```ts
 * import { hostTensor } from "../io/host_tensor.ts";
 * import { parseSafetensors } from "../io/safetensors_read.ts";
 * import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, encodePeftAdapter } from "./peft_adapter.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const prompt = hostTensor("float32", [1, 2], new Float32Array([1, 2]));
 * const options = { taskType: "CAUSAL_LM", tokenDim: 2, numLayers: 1, numAttentionHeads: 1 } as const;
 * const files = orThrow(await encodePeftAdapter(prompt, options));
 * const w = orThrow(parseSafetensors(files[ADAPTER_WEIGHTS], ADAPTER_WEIGHTS));
 * const data = w.tensors.get("prompt_embeddings")?.data;
 * assert(data instanceof Float32Array && data[0] === 1 && data[1] === 2);
 * assert.equal(JSON.parse(new TextDecoder().decode(files[ADAPTER_CONFIG])).peft_type, "PROMPT_TUNING");
 * ```
 */
export async function encodePeftAdapter(
  prompt: tf.Tensor | HostTensor,
  options: PeftAdapterOptions,
): Promise<E.Either<Problem, Readonly<Record<string, Uint8Array>>>> {
  const contents = await peftAdapterContents(prompt, options, "adapter");
  if (E.isLeft(contents)) return contents;
  const { weights, config } = contents.right;
  return E.right({
    [ADAPTER_CONFIG]: new TextEncoder().encode(config),
    [ADAPTER_WEIGHTS]: encodeSafetensors({ prompt_embeddings: weights }, ADAPTER_METADATA),
  });
}
