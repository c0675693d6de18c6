/**
 * PEFT prompt-tuning adapter directories (`adapter_config.json` + `adapter_model.safetensors`
 * holding `prompt_embeddings`), written so that `PeftModel.from_pretrained` loads them and read
 * from what PEFT's `save_pretrained` writes. The format is PEFT 0.21.2's `PromptTuningConfig`.
 *
 * Seq2seq layouts: PEFT's own keeps `[2P, H]` with `num_transformer_submodules: 2` (one block of
 * `P` virtual tokens per transformer: encoder, decoder), but its prompt-tuning forward and
 * `generate` only ever read the first `P` rows, into the encoder. `"encoder-only"` writes `[P, H]`
 * with `num_transformer_submodules: 1`, which PEFT loads and runs the same way.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { basename, dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { isFloatDType } from "../io/dtype.ts";
import { errorText, readFileCapped, tmpSuffix, writeAtomic } from "../io/files.ts";
import { type HostTensor, hostTensor, toFloat64 } from "../io/host_tensor.ts";
import { openSafetensors, writeSafetensors } from "../io/safetensors.ts";
import type { ModelConfig } from "../model/load.ts";
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

/** Config files larger than this are refused (PEFT's are under 1 KB). */
const MAX_CONFIG_BYTES = 1024 * 1024;

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

function isPositiveInt(x: unknown): x is number {
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

async function writeFiles(
  dir: string,
  weights: HostTensor,
  config: string,
): Promise<E.Either<Problem, void>> {
  // Weights first, config last: a reader that finds the new config also finds the new weights.
  const w = await writeSafetensors(join(dir, ADAPTER_WEIGHTS), { prompt_embeddings: weights }, {
    format: "pt",
  });
  if (E.isLeft(w)) return w;
  return await writeAtomic(join(dir, ADAPTER_CONFIG), config);
}

async function isDirectory(path: string): Promise<boolean | undefined> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Writes a prompt as a PEFT prompt-tuning adapter directory: `adapter_config.json` (PEFT's field
 * names and values: `peft_type` `PROMPT_TUNING`, `task_type`, `num_virtual_tokens`, `token_dim`,
 * `num_transformer_submodules`, …, `inference_mode` true, `peft_version` {@link PEFT_FORMAT_VERSION})
 * and `adapter_model.safetensors` holding float32 `prompt_embeddings`.
 *
 * Atomic: a new directory is filled under a temporary name beside it, then renamed into place,
 * so it appears complete or not at all. Into an existing directory (other files in it are kept)
 * each file is written to a temporary name and renamed over the old one, weights first, config
 * last.
 *
 * @param dir the adapter directory (its parent is created if missing)
 * @param prompt `[P, H]` float32 tensor (not disposed) or floating-point host tensor
 * @param options task type, model sizes, init, and the seq2seq layout
 * @returns nothing, or a problem: `Invalid` listing every bad option, or the writer's
 * @example
 * ```ts
 * import { hostTensor } from "../io/host_tensor.ts";
 * import { readPeftAdapter, writePeftAdapter } from "./peft.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const prompt = hostTensor("float32", [2, 3], new Float32Array([1, 2, 3, 4, 5, 6]));
 * const options = { taskType: "CAUSAL_LM", tokenDim: 3, numLayers: 1, numAttentionHeads: 1 } as const;
 * const w = await writePeftAdapter(`${dir}/adapter`, prompt, options);
 * const r = await readPeftAdapter(`${dir}/adapter`);
 * assert(w._tag === "Right" && r._tag === "Right" && r.right.prompt.data[5] === 6);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writePeftAdapter(
  dir: string,
  prompt: tf.Tensor | HostTensor,
  options: PeftAdapterOptions,
): Promise<E.Either<Problem, void>> {
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
  const config = configText(options, p, submodules);
  try {
    const existing = await isDirectory(dir);
    if (existing === false) {
      return E.left(
        problem("Invalid", dir, "Exists and is not a directory; expected an adapter directory"),
      );
    }
    if (existing === true) return await writeFiles(dir, weights, config);
    await Deno.mkdir(dirname(dir), { recursive: true });
    const tmp = join(dirname(dir), `.${basename(dir)}.${tmpSuffix()}`);
    await Deno.mkdir(tmp);
    const written = await writeFiles(tmp, weights, config);
    if (E.isLeft(written)) {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
      // Named by the adapter's final name: the temporary directory is gone.
      return E.left(
        problem(
          written.left._tag,
          dir,
          `Could not write the adapter's ${basename(written.left.where)}: ${written.left.message}`,
        ),
      );
    }
    try {
      await Deno.rename(tmp, dir);
    } catch (e) {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
      throw e;
    }
    return E.right(undefined);
  } catch (e) {
    return E.left(
      problem("Io", dir, `Could not write the adapter: ${errorText(e)}`),
    );
  }
}

const optionalString = (x: unknown): string | null => (typeof x === "string" ? x : null);
const optionalInt = (x: unknown): number | null => (isPositiveInt(x) ? x : null);

function parseConfig(json: unknown, where: string): E.Either<Problem, PeftAdapterConfig> {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return E.left(problem("Invalid", where, "Expected a JSON object"));
  }
  const c = json as Record<string, unknown>;
  const problems: string[] = [];
  if (c.peft_type !== "PROMPT_TUNING") {
    problems.push(`peft_type is ${JSON.stringify(c.peft_type)}; expected "PROMPT_TUNING"`);
  }
  if (!isPositiveInt(c.num_virtual_tokens)) {
    problems.push(
      `num_virtual_tokens is ${JSON.stringify(c.num_virtual_tokens)}; expected a positive integer`,
    );
  }
  if (!isPositiveInt(c.token_dim)) {
    problems.push(`token_dim is ${JSON.stringify(c.token_dim)}; expected a positive integer`);
  }
  const taskType = optionalString(c.task_type);
  let submodules = taskType === "SEQ_2_SEQ_LM" ? 2 : 1;
  if (c.num_transformer_submodules !== undefined && c.num_transformer_submodules !== null) {
    if (c.num_transformer_submodules === 1 || c.num_transformer_submodules === 2) {
      submodules = c.num_transformer_submodules;
    } else {
      problems.push(
        `num_transformer_submodules is ${
          JSON.stringify(c.num_transformer_submodules)
        }; expected 1 or 2`,
      );
    }
  }
  if (problems.length > 0) return E.left(problem("Invalid", where, problems.join("; ")));
  return E.right({
    peftType: "PROMPT_TUNING",
    taskType,
    numVirtualTokens: c.num_virtual_tokens as number,
    tokenDim: c.token_dim as number,
    numTransformerSubmodules: submodules,
    numAttentionHeads: optionalInt(c.num_attention_heads),
    numLayers: optionalInt(c.num_layers),
    promptTuningInit: optionalString(c.prompt_tuning_init) ?? "RANDOM",
    promptTuningInitText: optionalString(c.prompt_tuning_init_text),
    tokenizerNameOrPath: optionalString(c.tokenizer_name_or_path),
    baseModelNameOrPath: optionalString(c.base_model_name_or_path),
    revision: optionalString(c.revision),
    inferenceMode: c.inference_mode === true,
    peftVersion: optionalString(c.peft_version),
  });
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Reads a PEFT prompt-tuning adapter directory, as PEFT's `save_pretrained` writes it or as
 * {@link writePeftAdapter} does. The config is checked (`peft_type` `PROMPT_TUNING`,
 * `num_virtual_tokens`, `token_dim`, `num_transformer_submodules`) and the weights must be
 * `[num_transformer_submodules·P, H]`; for two submodules (PEFT's seq2seq layout) the prompt is
 * the first `P` rows, the ones PEFT feeds to the encoder.
 *
 * @param dir the adapter directory
 * @returns the float32 `[P, H]` prompt and the config, or a problem: `NotFound`, `Corrupt` (not
 * JSON), `Invalid` (listing every bad field), `Mismatch` (weights' shape), the reader's
 * @example
 * ```ts
 * import { readPeftAdapter } from "./peft.ts";
 * import assert from "node:assert/strict";
 * const r = await readPeftAdapter("no/such/adapter");
 * assert(r._tag === "Left" && r.left._tag === "NotFound");
 * ```
 */
export async function readPeftAdapter(dir: string): Promise<E.Either<Problem, PeftAdapter>> {
  const configPath = join(dir, ADAPTER_CONFIG);
  const bytes = await readFileCapped(configPath, MAX_CONFIG_BYTES, "an adapter config");
  if (E.isLeft(bytes)) return bytes;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes.right));
  } catch (e) {
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    return E.left(problem("Corrupt", configPath, `Not valid JSON: ${why}`));
  }
  const parsed = parseConfig(json, configPath);
  if (E.isLeft(parsed)) return parsed;
  const config = parsed.right;
  const weightsPath = join(dir, ADAPTER_WEIGHTS);
  const opened = await openSafetensors(weightsPath);
  if (E.isLeft(opened)) return opened;
  const file = opened.right;
  let read: E.Either<Problem, HostTensor>;
  try {
    read = await file.read("prompt_embeddings");
  } finally {
    file.close();
  }
  if (E.isLeft(read)) return read;
  const t = read.right;
  const p = config.numVirtualTokens;
  const h = config.tokenDim;
  const rows = config.numTransformerSubmodules * p;
  if (t.shape.length !== 2 || t.shape[0] !== rows || t.shape[1] !== h) {
    return E.left(
      problem(
        "Mismatch",
        weightsPath,
        `prompt_embeddings has shape [${
          t.shape.join(", ")
        }]; expected [${rows}, ${h}] (num_transformer_submodules·num_virtual_tokens, token_dim)`,
      ),
    );
  }
  if (!isFloatDType(t.dtype)) {
    return E.left(
      problem(
        "Unsupported",
        weightsPath,
        `prompt_embeddings has dtype ${t.dtype}; expected a float type`,
      ),
    );
  }
  const values = Float32Array.from(toFloat64(t).subarray(0, p * h)); // the first P rows
  return E.right({ prompt: hostTensor("float32", [p, h], values), config });
}
