/**
 * Loading a frozen Hugging Face checkpoint from a {@link FileSet}: `config.json` (`model_type`
 * t5, gpt2, llama, qwen2 or mistral), an optional `generation_config.json`, and
 * `model.safetensors` or a sharded `model.safetensors.index.json`, wherever the files are: in
 * memory, behind a URL (a browser, JSR, the Hugging Face Hub) or on disk (`loadModel` in
 * `load.ts` reads a directory through this). No Deno API is used.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import type { FileSet } from "../io/file_set.ts";
import { openSafetensorsFrom, openSafetensorsIndexIn } from "../io/safetensors_read.ts";
import type { TensorSource } from "../io/tensor_source.ts";
import { errorText, type Problem, problem } from "../problem.ts";
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
import { loadT5FromHuggingFace, parseT5Config, type T5Config, type T5Params } from "./t5/mod.ts";
import { type GenerationConfig, parseGenerationConfig } from "./generation_config.ts";
import type { FrozenModel, ModelConfig } from "./frozen.ts";

/**
 * Config and JSON files larger than this are refused (they are a few KB in practice).
 *
 * @example
 * ```ts
 * import { MAX_CONFIG_BYTES } from "./load_files.ts";
 * import { readJsonFile } from "./load.ts";
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
 * Parses a small JSON file's bytes (config.json, generation_config.json) as untrusted input.
 *
 * @param bytes the file's bytes
 * @param where the file's name, for problems
 * @returns the parsed value, or a `Corrupt` problem
 * @example
 * ```ts
 * import { parseJsonBytes } from "./load_files.ts";
 * import assert from "node:assert/strict";
 * const ok = parseJsonBytes(new TextEncoder().encode('{"a": 1}'), "config.json");
 * assert(ok._tag === "Right" && (ok.right as { a: number }).a === 1);
 * assert.equal(parseJsonBytes(new Uint8Array([123]), "config.json")._tag, "Left");
 * ```
 */
// deno-doc-ignore private-type-ref -- fp-ts Either is an npm type (denoland/deno#27364)
export function parseJsonBytes(bytes: Uint8Array, where: string): E.Either<Problem, unknown> {
  try {
    return E.right(JSON.parse(new TextDecoder().decode(bytes)));
  } catch (e) {
    return E.left(problem("Corrupt", where, `Not valid JSON: ${errorText(e)}`));
  }
}

/** A small JSON file of the folder, capped at {@link MAX_CONFIG_BYTES}. */
async function readJsonIn(files: FileSet, name: string): Promise<E.Either<Problem, unknown>> {
  const bytes = await files.read(name, MAX_CONFIG_BYTES, "a JSON file");
  return E.isLeft(bytes) ? bytes : parseJsonBytes(bytes.right, files.path(name));
}

/** Opens the weights of a Hugging Face directory: a sharded index, else model.safetensors. */
async function openWeights(files: FileSet): Promise<E.Either<Problem, TensorSource>> {
  const index = "model.safetensors.index.json";
  if (await files.has(index)) return await openSafetensorsIndexIn(files, index);
  const single = "model.safetensors";
  if (await files.has(single)) {
    const opened = await files.open(single, "a .safetensors file");
    return E.isLeft(opened) ? opened : await openSafetensorsFrom(opened.right, files.path(single));
  }
  const bin = await files.has("pytorch_model.bin");
  return E.left(
    problem(
      "NotFound",
      files.where,
      bin
        ? "Only pytorch_model.bin was found; convert it to model.safetensors (pickle files are not read, for safety)"
        : "No model.safetensors or model.safetensors.index.json in the directory",
    ),
  );
}

/** The optional `generation_config.json`: undefined when absent, a problem when malformed. */
async function readGenerationConfig(
  files: FileSet,
): Promise<E.Either<Problem, GenerationConfig | undefined>> {
  const name = "generation_config.json";
  if (!(await files.has(name))) return E.right(undefined);
  const json = await readJsonIn(files, name);
  if (E.isLeft(json)) return json;
  return parseGenerationConfig(json.right, files.path(name));
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Loads a frozen Hugging Face checkpoint from a folder of files: `config.json` with `model_type`
 * t5, gpt2, llama, qwen2 or mistral, `model.safetensors` or a sharded
 * `model.safetensors.index.json`, and an optional `generation_config.json`. Weights are checked
 * against the configuration before they are read; half-precision weights are upcast to float32.
 * The caller owns the tree (see `disposeTree`).
 *
 * @param files the checkpoint's files (in memory, behind a URL, or on disk)
 * @returns the model, or one problem saying what is wrong
 * @example
 * ```ts
 * import { loadHuggingFaceFiles } from "./load_files.ts";
 * import { fetchFileSet } from "../io/file_set.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import assert from "node:assert/strict";
 * const dir = new URL("../tests/fixtures/models/gpt2_tiny/", import.meta.url);
 * const r = await loadHuggingFaceFiles(fetchFileSet(dir));
 * assert(r._tag === "Right" && r.right.architecture === "gpt2");
 * disposeTree(r.right.params);
 * ```
 */
export async function loadHuggingFaceFiles(
  files: FileSet,
): Promise<E.Either<Problem, FrozenModel>> {
  const dir = files.where;
  const configPath = files.path("config.json");
  const json = await readJsonIn(files, "config.json");
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
  const generation = await readGenerationConfig(files);
  if (E.isLeft(generation)) return generation;
  const extra = generation.right === undefined ? {} : { generation: generation.right };
  const weights = await openWeights(files);
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
