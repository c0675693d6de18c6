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
import type * as tf from "@tensorflow/tfjs";
import { errorText, readFileCapped, tmpSuffix, writeAtomic } from "../io/files.ts";
import { isFloatDType } from "../io/dtype.ts";
import { type HostTensor, hostTensor, toFloat64 } from "../io/host_tensor.ts";
import { openSafetensors, writeSafetensors } from "../io/safetensors.ts";
import { type Problem, problem } from "../problem.ts";
import {
  ADAPTER_CONFIG,
  ADAPTER_METADATA,
  ADAPTER_WEIGHTS,
  isPositiveInt,
  type PeftAdapter,
  type PeftAdapterConfig,
  peftAdapterContents,
  type PeftAdapterOptions,
} from "./peft_adapter.ts";

export {
  ADAPTER_CONFIG,
  ADAPTER_WEIGHTS,
  encodePeftAdapter,
  PEFT_FORMAT_VERSION,
  type PeftAdapter,
  type PeftAdapterConfig,
  type PeftAdapterOptions,
  peftOptionsFor,
  type PeftTaskType,
} from "./peft_adapter.ts";

/** Config files larger than this are refused (PEFT's are under 1 KB). */
const MAX_CONFIG_BYTES = 1024 * 1024;

async function writeFiles(
  dir: string,
  weights: HostTensor,
  config: string,
): Promise<E.Either<Problem, void>> {
  // Weights first, config last: a reader that finds the new config also finds the new weights.
  const w = await writeSafetensors(
    join(dir, ADAPTER_WEIGHTS),
    { prompt_embeddings: weights },
    ADAPTER_METADATA,
  );
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
  const contents = await peftAdapterContents(prompt, options, dir);
  if (E.isLeft(contents)) return contents;
  const { weights, config } = contents.right;
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

/** A config value as a message shows it: `missing` when absent, else its JSON. */
const shown = (x: unknown): string => x === undefined ? "missing" : JSON.stringify(x);

const optionalString = (x: unknown): string | null => (typeof x === "string" ? x : null);
const optionalInt = (x: unknown): number | null => (isPositiveInt(x) ? x : null);

function parseConfig(json: unknown, where: string): E.Either<Problem, PeftAdapterConfig> {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return E.left(problem("Invalid", where, "Expected a JSON object"));
  }
  const c = json as Record<string, unknown>;
  const problems: string[] = [];
  if (c.peft_type !== "PROMPT_TUNING") {
    problems.push(`peft_type is ${shown(c.peft_type)}; expected "PROMPT_TUNING"`);
  }
  if (!isPositiveInt(c.num_virtual_tokens)) {
    problems.push(
      `num_virtual_tokens is ${shown(c.num_virtual_tokens)}; expected a positive integer`,
    );
  }
  if (!isPositiveInt(c.token_dim)) {
    problems.push(`token_dim is ${shown(c.token_dim)}; expected a positive integer`);
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
    return E.left(problem("Corrupt", configPath, `Not valid JSON: ${errorText(e)}`));
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
