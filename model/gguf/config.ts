/**
 * A model's configuration from a GGUF file's metadata: `general.architecture` picks the family
 * (`llama` for LLaMA, SmolLM, TinyLlama and Mistral; `qwen2`; `gpt2`), and its keys
 * (`llama.block_count`, `llama.embedding_length`, …) become the fields of a Hugging Face
 * `config.json`, parsed by the family's own config parser, as transformers' GGUF loader does.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import type { GgufValue } from "../../io/gguf.ts";
import { type Problem, problem } from "../../problem.ts";
import { type Gpt2Config, parseGpt2Config } from "../gpt2/config.ts";
import { type LlamaConfig, parseLlamaConfig } from "../llama/config.ts";
import type { ModelConfig } from "../frozen.ts";

/**
 * The `general.architecture` values {@link ggufModelConfig} reads.
 *
 * @example
 * ```ts
 * import { GGUF_ARCHITECTURES } from "./config.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(GGUF_ARCHITECTURES, ["llama", "qwen2", "gpt2"]);
 * ```
 */
export const GGUF_ARCHITECTURES: readonly string[] = ["llama", "qwen2", "gpt2"];

const describe = (v: GgufValue | undefined) =>
  v === undefined ? "absent" : typeof v === "bigint" ? `${v}` : JSON.stringify(v);

/** `config.json` field ← metadata key (after `<arch>.`), and whether the key must be there. */
type Fields = readonly (readonly [string, string, boolean])[];

const LLAMA_FIELDS: Fields = [
  ["num_hidden_layers", "block_count", true],
  ["hidden_size", "embedding_length", true],
  ["intermediate_size", "feed_forward_length", true],
  ["num_attention_heads", "attention.head_count", true],
  ["num_key_value_heads", "attention.head_count_kv", false],
  ["head_dim", "attention.key_length", false],
  ["rms_norm_eps", "attention.layer_norm_rms_epsilon", true],
  ["rope_theta", "rope.freq_base", false],
];

const GPT2_FIELDS: Fields = [
  ["n_layer", "block_count", true],
  ["n_embd", "embedding_length", true],
  ["n_inner", "feed_forward_length", false],
  ["n_head", "attention.head_count", true],
  ["n_positions", "context_length", true],
  ["layer_norm_epsilon", "attention.layer_norm_epsilon", true],
];

// Special tokens: `config.json` field ← `tokenizer.ggml.` key.
const TOKEN_FIELDS: Fields = [
  ["bos_token_id", "bos_token_id", false],
  ["eos_token_id", "eos_token_id", false],
  ["pad_token_id", "padding_token_id", false],
];

/**
 * The configurations a GGUF file can give: a LLaMA-family or a GPT-2 model.
 *
 * @example
 * ```ts
 * import type { GgufModelConfig } from "./config.ts";
 * import { parseGpt2Config } from "../gpt2/config.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const c: GgufModelConfig = { architecture: "gpt2", config: orThrow(parseGpt2Config({}, "c")) };
 * assert.equal(c.config.hiddenSize, 768);
 * ```
 */
export type GgufModelConfig = Exclude<ModelConfig, { readonly architecture: "t5" }>;

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * A model's configuration from GGUF metadata. The vocabulary size is the length of
 * `tokenizer.ggml.tokens` (else `<arch>.vocab_size`); a LLaMA-family head is tied when the file
 * has no `output.weight` (GPT-2's always is). RoPE scaling and partial rotary embeddings are
 * refused as `Unsupported`.
 *
 * @param metadata the file's metadata
 * @param tensorNames the names of the file's tensors
 * @param where the file, for problems
 * @returns the architecture and its config, or a problem: `Unsupported` (another architecture,
 * RoPE scaling), `Invalid` (missing or malformed keys, listed together)
 * @example
 * ```ts
 * import { ggufModelConfig } from "./config.ts";
 * import type { GgufValue } from "../../io/gguf.ts";
 * import assert from "node:assert/strict";
 * const metadata = new Map<string, GgufValue>([
 *   ["general.architecture", "llama"], ["llama.block_count", 2], ["llama.embedding_length", 32],
 *   ["llama.feed_forward_length", 48], ["llama.attention.head_count", 4],
 *   ["llama.attention.head_count_kv", 2], ["llama.attention.layer_norm_rms_epsilon", 1e-5],
 *   ["tokenizer.ggml.tokens", Array.from({ length: 96 }, (_, i) => `t${i}`)],
 * ]);
 * const r = ggufModelConfig(metadata, ["token_embd.weight"], "m.gguf");
 * assert(r._tag === "Right" && r.right.architecture === "llama");
 * assert(r.right.config.vocabSize === 96 && r.right.config.tieWordEmbeddings);
 * assert(r.right.config.numKvHeads === 2 && r.right.config.headDim === 8);
 * ```
 */
export function ggufModelConfig(
  metadata: ReadonlyMap<string, GgufValue>,
  tensorNames: readonly string[],
  where: string,
): E.Either<Problem, GgufModelConfig> {
  const arch = metadata.get("general.architecture");
  if (typeof arch !== "string" || !GGUF_ARCHITECTURES.includes(arch)) {
    return E.left(
      problem(
        "Unsupported",
        where,
        `general.architecture ${describe(arch)} is not supported; expected one of ${
          GGUF_ARCHITECTURES.join(", ")
        }`,
      ),
    );
  }
  const missing: string[] = [];
  const json: Record<string, unknown> = { model_type: arch };
  const copy = (fields: Fields, prefix: string) => {
    for (const [field, key, required] of fields) {
      const v = metadata.get(`${prefix}.${key}`);
      if (v !== undefined) json[field] = typeof v === "bigint" ? describe(v) : v;
      else if (required) missing.push(`${prefix}.${key}`);
    }
  };
  copy(arch === "gpt2" ? GPT2_FIELDS : LLAMA_FIELDS, arch);
  copy(TOKEN_FIELDS, "tokenizer.ggml");
  const tokens = metadata.get("tokenizer.ggml.tokens");
  const vocab = Array.isArray(tokens) ? tokens.length : metadata.get(`${arch}.vocab_size`);
  if (vocab === undefined) missing.push("tokenizer.ggml.tokens");
  json.vocab_size = vocab;
  if (missing.length > 0) {
    return E.left(problem("Invalid", where, `GGUF metadata lacks ${missing.join(", ")}`));
  }
  const at = `${where} (GGUF metadata as config.json)`;
  if (arch === "gpt2") {
    return E.map((config: Gpt2Config): GgufModelConfig => ({ architecture: "gpt2", config }))(
      parseGpt2Config(json, at),
    );
  }
  const scaling = metadata.get(`${arch}.rope.scaling.type`);
  if (scaling !== undefined && scaling !== "none") {
    return E.left(
      problem(
        "Unsupported",
        where,
        `${arch}.rope.scaling.type ${describe(scaling)} is not supported (expected "none")`,
      ),
    );
  }
  json.tie_word_embeddings = !tensorNames.includes("output.weight");
  const parsed = parseLlamaConfig(json, at);
  if (E.isLeft(parsed)) return parsed;
  const rotary = metadata.get(`${arch}.rope.dimension_count`);
  if (rotary !== undefined && rotary !== parsed.right.headDim) {
    return E.left(
      problem(
        "Unsupported",
        where,
        `${arch}.rope.dimension_count ${
          describe(rotary)
        } is not the head dimension ${parsed.right.headDim} (partial rotary embeddings are not supported)`,
      ),
    );
  }
  return E.right({ architecture: "llama", config: parsed.right as LlamaConfig });
}
