/**
 * Loading a frozen model from a directory: a Hugging Face checkpoint (config.json +
 * model.safetensors or a sharded index), a T5X checkpoint (msgpack + zarr) or a GGUF file (or a
 * directory holding one), dispatched on what the path is and holds and on `model_type`.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { join } from "node:path";
import { dirFileSet } from "../io/dir_files.ts";
import { ggufFilesIn } from "../io/gguf.ts";
import { exists, readFileCapped } from "../io/files.ts";
import { type Problem, problem } from "../problem.ts";
import { disposeTree } from "../tree/tree.ts";
import { checkT5Params, parseT5Config } from "./t5/mod.ts";
import { loadT5x } from "./t5x/mod.ts";
import { loadGguf } from "./gguf/load.ts";
import type { FrozenModel } from "./frozen.ts";
import { loadHuggingFaceFiles, MAX_CONFIG_BYTES, parseJsonBytes } from "./load_files.ts";
import { EMBEDDED_PREFIX, embeddedModelUrl, unknownEmbedded } from "./embedded.ts";
import { fetchFileSet } from "../io/file_set.ts";

export { loadHuggingFaceFiles, MAX_CONFIG_BYTES } from "./load_files.ts";
export { embeddingTable, type FrozenModel, type ModelConfig, vocabSize } from "./frozen.ts";

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
  return E.isLeft(bytes) ? bytes : parseJsonBytes(bytes.right, path);
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
  const disagree = t5xConfigDisagreements(extra, derived);
  if (disagree.length > 0) {
    disposeTree(params);
    return E.left(
      problem(
        "Mismatch",
        beside,
        `Disagrees with the T5X checkpoint beside it: ${disagree.join("; ")}`,
      ),
    );
  }
  // The activation is the config's when it has one (the shapes tell only gated or not).
  const ff = typeof extra.feed_forward_proj === "string"
    ? { feed_forward_proj: extra.feed_forward_proj }
    : {};
  const config = parseT5Config({ ...extra, ...derived, ...ff }, join(dir, "checkpoint"));
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
 * What a config.json beside a T5X checkpoint says that the checkpoint's shapes contradict, one
 * phrase each: sizes, layer counts (`num_decoder_layers` defaults to `num_layers`), a gated or
 * plain feed-forward, a tied or separate output head. Fields the config leaves out say nothing.
 */
function t5xConfigDisagreements(
  config: Readonly<Record<string, unknown>>,
  derived: Readonly<Record<string, unknown>>,
): string[] {
  const out: string[] = [];
  const says = (k: string) => Object.hasOwn(config, k) && config[k] !== null;
  const what: Record<string, string> = {
    vocab_size: "embedding rows",
    d_model: "d_model",
    d_kv: "d_kv",
    d_ff: "d_ff",
    num_layers: "encoder layers",
    num_decoder_layers: "decoder layers",
    num_heads: "heads",
    relative_attention_num_buckets: "relative attention buckets",
  };
  for (const [k, name] of Object.entries(what)) {
    const stated = k === "num_decoder_layers" && !says(k) ? config.num_layers : config[k];
    const key = k === "num_decoder_layers" && !says(k) ? "num_layers (for the decoder)" : k;
    if (stated !== undefined && stated !== null && stated !== derived[k]) {
      out.push(`${key} is ${JSON.stringify(stated)}, the checkpoint has ${derived[k]} ${name}`);
    }
  }
  if (typeof config.feed_forward_proj === "string") {
    const gated = config.feed_forward_proj.startsWith("gated-");
    const has = (derived.feed_forward_proj as string).startsWith("gated-");
    if (gated !== has) {
      out.push(
        `feed_forward_proj is ${JSON.stringify(config.feed_forward_proj)}, the checkpoint has ${
          has ? "a gated feed-forward (wi_0, wi_1)" : "one wi (not gated)"
        }`,
      );
    }
  }
  if (says("tie_word_embeddings") && config.tie_word_embeddings !== derived.tie_word_embeddings) {
    out.push(
      `tie_word_embeddings is ${config.tie_word_embeddings}, the checkpoint has ${
        derived.tie_word_embeddings
          ? "no decoder/logits_dense (tied)"
          : "a decoder/logits_dense head"
      }`,
    );
  }
  return out;
}

/**
 * Loads a frozen model from a checkpoint: a Hugging Face directory (`config.json` with
 * `model_type` t5, gpt2, llama, qwen2 or mistral, and `model.safetensors` or a sharded
 * `model.safetensors.index.json`), a T5X checkpoint directory (a `checkpoint` msgpack file with
 * zarr arrays), or a `.gguf` file (`general.architecture` llama, qwen2 or gpt2; quantized
 * tensors are dequantized) or a directory holding exactly one. An optional
 * `generation_config.json` gives the decoding defaults (`generation`). `embedded:<name>` is a
 * model shipped with the package, fetched beside its modules (`file:` in a checkout, `https:`
 * from JSR or another URL). Weights are checked
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
  if (dir.startsWith(EMBEDDED_PREFIX)) {
    const url = embeddedModelUrl(dir.slice(EMBEDDED_PREFIX.length));
    return url === undefined
      ? E.left(unknownEmbedded(dir))
      : await loadHuggingFaceFiles(fetchFileSet(url));
  }
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
    return await loadHuggingFaceFiles(dirFileSet(dir));
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
