/**
 * Loading a frozen model from a directory: a Hugging Face checkpoint (config.json +
 * model.safetensors or a sharded index), a T5X checkpoint (msgpack + zarr) or a GGUF file (or a
 * directory holding one), dispatched on what the path is and holds and on `model_type`.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { join } from "node:path";
import { openSafetensorsIndex } from "../io/safetensors.ts";
import { openTensorFile, type TensorSource } from "../io/tensor_file.ts";
import { ggufFilesIn } from "../io/gguf.ts";
import { errorText, exists, readFileCapped } from "../io/files.ts";
import { type Problem, problem } from "../problem.ts";
import { disposeTree } from "../tree/tree.ts";
import {
  type Gpt2Config,
  type Gpt2Params,
  loadGpt2FromHuggingFace,
  parseGpt2Config,
} from "./gpt2/mod.ts";
import {
  LLAMA_MODEL_TYPES,
  type LlamaConfig,
  type LlamaParams,
  loadLlamaFromHuggingFace,
  parseLlamaConfig,
} from "./llama/mod.ts";
import {
  checkT5Params,
  loadT5FromHuggingFace,
  parseT5Config,
  type T5Config,
  type T5Params,
} from "./t5/mod.ts";
import { loadT5x } from "./t5x/mod.ts";
import { loadGguf } from "./gguf/load.ts";
import { type GenerationConfig, parseGenerationConfig } from "./generation_config.ts";
import type { FrozenModel, ModelConfig } from "./frozen.ts";

export { embeddingTable, type FrozenModel, type ModelConfig, vocabSize } from "./frozen.ts";

/**
 * Config and JSON files larger than this are refused (they are a few KB in practice).
 *
 * @example
 * ```ts
 * import { MAX_CONFIG_BYTES, readJsonFile } from "./load.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/config.json`;
 * await Deno.writeTextFile(path, " ".repeat(MAX_CONFIG_BYTES + 1));
 * const r = await readJsonFile(path);
 * assert(r._tag === "Left" && r.left._tag === "TooLarge");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/**
 * Reads a small JSON file (config.json, generation_config.json) as untrusted input.
 *
 * @param path the file
 * @returns the parsed value, or a problem (missing, too large, not JSON)
 * @example
 * ```ts
 * import { readJsonFile } from "./load.ts";
 * import assert from "node:assert/strict";
 * const r = await readJsonFile("missing/config.json");
 * assert(r._tag === "Left");
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
export async function readJsonFile(path: string): Promise<E.Either<Problem, unknown>> {
  const bytes = await readFileCapped(path, MAX_CONFIG_BYTES, "a JSON file");
  if (E.isLeft(bytes)) return bytes;
  try {
    return E.right(JSON.parse(new TextDecoder().decode(bytes.right)));
  } catch (e) {
    return E.left(problem("Corrupt", path, `Not valid JSON: ${errorText(e)}`));
  }
}

/** Opens the weights of a Hugging Face directory: a sharded index, else model.safetensors. */
async function openWeights(dir: string): Promise<E.Either<Problem, TensorSource>> {
  const index = join(dir, "model.safetensors.index.json");
  if (await exists(index)) return await openSafetensorsIndex(index);
  const single = join(dir, "model.safetensors");
  if (await exists(single)) return await openTensorFile(single);
  const bin = await exists(join(dir, "pytorch_model.bin"));
  return E.left(
    problem(
      "NotFound",
      dir,
      bin
        ? "Only pytorch_model.bin was found; convert it to model.safetensors (pickle files are not read, for safety)"
        : "No model.safetensors or model.safetensors.index.json in the directory",
    ),
  );
}

/** The optional `generation_config.json`: undefined when absent, a problem when malformed. */
async function readGenerationConfig(
  dir: string,
): Promise<E.Either<Problem, GenerationConfig | undefined>> {
  const path = join(dir, "generation_config.json");
  if (!(await exists(path))) return E.right(undefined);
  const json = await readJsonFile(path);
  if (E.isLeft(json)) return json;
  return parseGenerationConfig(json.right, path);
}

async function loadHuggingFace(dir: string): Promise<E.Either<Problem, FrozenModel>> {
  const configPath = join(dir, "config.json");
  const json = await readJsonFile(configPath);
  if (E.isLeft(json)) return json;
  const config = json.right as { model_type?: unknown } | null;
  const modelType = typeof config === "object" && config !== null ? config.model_type : undefined;
  const known = ["t5", "gpt2", ...LLAMA_MODEL_TYPES];
  if (typeof modelType !== "string" || !known.includes(modelType)) {
    return E.left(
      problem(
        "Unsupported",
        configPath,
        `${
          modelType === undefined
            ? "No model_type"
            : `Unknown model_type ${JSON.stringify(modelType)}`
        }; expected one of: ${known.join(", ")}`,
      ),
    );
  }
  // Parse the config before opening the weights, so a bad config is reported first.
  const parsed: E.Either<Problem, ModelConfig> = modelType === "t5"
    ? E.map((config: T5Config) => ({ architecture: "t5" as const, config }))(
      parseT5Config(json.right, configPath),
    )
    : modelType === "gpt2"
    ? E.map((config: Gpt2Config) => ({ architecture: "gpt2" as const, config }))(
      parseGpt2Config(json.right, configPath),
    )
    : E.map((config: LlamaConfig) => ({ architecture: "llama" as const, config }))(
      parseLlamaConfig(json.right, configPath),
    );
  if (E.isLeft(parsed)) return parsed;
  const generation = await readGenerationConfig(dir);
  if (E.isLeft(generation)) return generation;
  const extra = generation.right === undefined ? {} : { generation: generation.right };
  const weights = await openWeights(dir);
  if (E.isLeft(weights)) return weights;
  const source = weights.right;
  try {
    const c = parsed.right;
    const format = "huggingface" as const;
    if (c.architecture === "t5") {
      const params = await loadT5FromHuggingFace(dir, json.right, source);
      return E.map((p: T5Params): FrozenModel => ({ ...c, params: p, format, ...extra }))(params);
    }
    if (c.architecture === "gpt2") {
      const params = await loadGpt2FromHuggingFace(dir, json.right, source);
      return E.map((p: Gpt2Params): FrozenModel => ({ ...c, params: p, format, ...extra }))(
        params,
      );
    }
    const params = await loadLlamaFromHuggingFace(dir, json.right, source);
    return E.map((p: LlamaParams): FrozenModel => ({ ...c, params: p, format, ...extra }))(params);
  } finally {
    source.close();
  }
}

async function loadT5xDir(dir: string): Promise<E.Either<Problem, FrozenModel>> {
  const loaded = await loadT5x(dir);
  if (E.isLeft(loaded)) return loaded;
  const { params, sizes } = loaded.right;
  // T5X stores no config: sizes come from the shapes; a config.json beside it may add the rest
  // (activation, epsilon, max distance), else T5 1.1 defaults apply.
  const beside = join(dir, "config.json");
  let extra: Record<string, unknown> = {};
  if (await exists(beside)) {
    const json = await readJsonFile(beside);
    if (E.isLeft(json)) return json;
    if (typeof json.right === "object" && json.right !== null) {
      extra = json.right as Record<string, unknown>;
    }
  }
  const derived = {
    model_type: "t5",
    vocab_size: sizes.vocabSize,
    d_model: sizes.dModel,
    d_kv: sizes.dKv,
    d_ff: sizes.dFf,
    num_layers: sizes.numLayers,
    num_decoder_layers: sizes.numDecoderLayers,
    num_heads: sizes.numHeads,
    relative_attention_num_buckets: sizes.relativeAttentionNumBuckets,
    feed_forward_proj: sizes.gated ? "gated-gelu" : "relu",
    tie_word_embeddings: sizes.tied,
  };
  const config = parseT5Config({ ...extra, ...derived }, join(dir, "checkpoint"));
  const checked = E.isLeft(config)
    ? config
    : checkT5Params(params, config.right, join(dir, "checkpoint"));
  if (E.isLeft(config) || E.isLeft(checked)) {
    disposeTree(params);
    return E.isLeft(config) ? config : checked as E.Left<Problem>;
  }
  return E.right({
    architecture: "t5",
    config: config.right,
    params: checked.right,
    format: "t5x",
  });
}

/**
 * Loads a frozen model from a checkpoint: a Hugging Face directory (`config.json` with
 * `model_type` t5, gpt2, llama, qwen2 or mistral, and `model.safetensors` or a sharded
 * `model.safetensors.index.json`), a T5X checkpoint directory (a `checkpoint` msgpack file with
 * zarr arrays), or a `.gguf` file (`general.architecture` llama, qwen2 or gpt2; quantized
 * tensors are dequantized) or a directory holding exactly one. An optional
 * `generation_config.json` gives the decoding defaults (`generation`). Weights are checked
 * against the configuration before they are read; half-precision weights are upcast to float32.
 * The caller owns the tree (see `disposeTree`).
 *
 * @param dir the checkpoint directory, or a `.gguf` file
 * @returns the model, or one problem listing what is wrong
 * @example
 * ```ts
 * import { loadModel } from "./load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import assert from "node:assert/strict";
 * const r = await loadModel("no/such/dir");
 * assert(r._tag === "Left" && r.left._tag === "NotFound");
 * const gguf = await loadModel("tests/fixtures/gguf/qwen2.gguf");
 * assert(gguf._tag === "Right" && gguf.right.format === "gguf");
 * disposeTree(gguf.right.params);
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
export async function loadModel(dir: string): Promise<E.Either<Problem, FrozenModel>> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch {
    return E.left(problem("NotFound", dir, "No such directory"));
  }
  if (!info.isDirectory) {
    if (dir.toLowerCase().endsWith(".gguf")) return await loadGguf(dir);
    return E.left(
      problem("Invalid", dir, "Expected a checkpoint directory or a .gguf file, got another file"),
    );
  }
  if (await exists(join(dir, "config.json")) && !(await exists(join(dir, "checkpoint")))) {
    return await loadHuggingFace(dir);
  }
  if (await exists(join(dir, "checkpoint"))) return await loadT5xDir(dir);
  const gguf = await ggufFilesIn(dir);
  if (gguf.length === 1) return await loadGguf(join(dir, gguf[0]));
  if (gguf.length > 1) {
    return E.left(
      problem(
        "Invalid",
        dir,
        `The directory holds ${gguf.length} .gguf files (${gguf.join(", ")}); pass one of them`,
      ),
    );
  }
  return E.left(
    problem(
      "NotFound",
      dir,
      "Not a checkpoint directory: expected config.json (Hugging Face), checkpoint (T5X) or a .gguf file",
    ),
  );
}
