/**
 * The T5 configuration, read from a Hugging Face `config.json`, and the shapes of the parameter
 * tree it implies.
 *
 * Missing fields take `transformers`' `T5Config` defaults, derived fields (`dense_act_fn`,
 * `is_gated_act`, `scale_decoder_outputs`) are derived as `transformers` derives them, and every
 * invalid field is reported in one problem.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import type { Activation } from "../layers.ts";
import { type Problem, problem } from "../../problem.ts";
import { booleanField, fieldReader, numberField } from "../../config/fields.ts";
import { ACTIVATIONS, MAX_LAYERS } from "../config_fields.ts";

/**
 * A T5 encoder-decoder's configuration (original T5, T5 1.1, LM-adapted, Flan-T5).
 *
 * @example
 * ```ts
 * import { parseT5Config, type T5Config } from "./config.ts";
 * import { orThrow } from "../../problem.ts";
 * import assert from "node:assert/strict";
 * const file = new URL("../../tests/fixtures/models/t5_v1_1/config.json", import.meta.url);
 * const config: T5Config = orThrow(parseT5Config(JSON.parse(await Deno.readTextFile(file)), "config.json"));
 * assert(config.isGatedAct && config.denseActFn === "gelu_new" && !config.tieWordEmbeddings);
 * assert(config.numHeads * config.dKv === 32 && config.decoderStartTokenId === 0);
 * ```
 */
export interface T5Config {
  /** Rows of the embedding table (`vocab_size`). */
  readonly vocabSize: number;
  /** Width of the residual stream, `H` (`d_model`). */
  readonly dModel: number;
  /** Width of one attention head, independent of `dModel / numHeads` (`d_kv`). */
  readonly dKv: number;
  /** Width of the feed-forward layer (`d_ff`). */
  readonly dFf: number;
  /** Encoder layers (`num_layers`). */
  readonly numLayers: number;
  /** Decoder layers (`num_decoder_layers`, default `num_layers`). */
  readonly numDecoderLayers: number;
  /** Attention heads (`num_heads`). */
  readonly numHeads: number;
  /** Relative position buckets (`relative_attention_num_buckets`). */
  readonly relativeAttentionNumBuckets: number;
  /** Distance beyond which relative positions share a bucket (`relative_attention_max_distance`). */
  readonly relativeAttentionMaxDistance: number;
  /** Added to the mean square in the RMS norms (`layer_norm_epsilon`). */
  readonly layerNormEpsilon: number;
  /** `feed_forward_proj` as written: `"relu"`, `"gated-gelu"`, `"gated-silu"`, … */
  readonly feedForwardProj: string;
  /** The feed-forward activation (`dense_act_fn`; `"gated-gelu"` means `gelu_new`). */
  readonly denseActFn: Activation;
  /** Gated feed-forward (`wi_0`, `wi_1`) rather than one `wi` (`is_gated_act`). */
  readonly isGatedAct: boolean;
  /**
   * The output head is the embedding table (`tie_word_embeddings`; original T5: true, T5 1.1 and
   * Flan-T5: false). When false the tree holds `decoder/logits_dense/kernel`.
   */
  readonly tieWordEmbeddings: boolean;
  /**
   * Multiply the decoder output by `dModel^-0.5` before the head (`scale_decoder_outputs`; when
   * absent, `tie_word_embeddings !== false`, as in `transformers`).
   */
  readonly scaleDecoderOutputs: boolean;
  /** The first decoder input (`decoder_start_token_id`; when absent, `pad_token_id` as in T5). */
  readonly decoderStartTokenId: number;
  /** Padding id (`pad_token_id`). */
  readonly padTokenId: number;
  /** End-of-sequence ids (`eos_token_id`, a number or a list). */
  readonly eosTokenIds: readonly number[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 40)}…` : s;
};

/** Reads fields of a JSON object, collecting every problem instead of stopping at the first. */
function t5Fields(json: Record<string, unknown>) {
  const fields = fieldReader(json, {
    wrong: (key, expected, v) => `${key} is ${show(v)}, expected ${expected}`,
    missing: (key) => `${key} is missing`, // every field has a default
  });
  return {
    problems: fields.problems,
    has: fields.has,
    raw: fields.raw,
    int: (key: string, fallback: number, min: number, max?: number): number =>
      fields.read(
        key,
        numberField(
          { integer: true, min, max },
          `${min === 0 ? "a non-negative integer" : "a positive integer"}${
            max === undefined ? "" : ` ≤ ${max}`
          }`,
        ),
        fallback,
        fallback,
      ),
    positive: (key: string, fallback: number): number =>
      fields.read(key, numberField({ above: 0 }, "a positive number"), fallback, fallback),
    bool: (key: string, fallback: boolean): boolean =>
      fields.read(key, booleanField, fallback, fallback),
  };
}

/** `feed_forward_proj` → activation and gating, as `T5Config.__post_init__` derives them. */
function feedForward(
  proj: string,
  problems: string[],
): { act: Activation; gated: boolean } {
  const parts = proj.split("-");
  const bad = (parts.length > 1 && parts[0] !== "gated") || parts.length > 2;
  const name = proj === "gated-gelu" ? "gelu_new" : parts[parts.length - 1];
  if (bad || !(ACTIVATIONS as readonly string[]).includes(name)) {
    problems.push(
      `feed_forward_proj is ${
        show(proj)
      }, expected "relu", "gated-gelu", "gated-silu" or [gated-]ACT with ACT one of ${
        ACTIVATIONS.join(" ")
      }`,
    );
    return { act: "relu", gated: false };
  }
  return { act: name as Activation, gated: parts[0] === "gated" };
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Parses a Hugging Face T5 `config.json` object. Missing fields take `transformers`' defaults
 * (t5-small's sizes); `decoder_start_token_id` defaults to `pad_token_id`. Explicit
 * `dense_act_fn`, `is_gated_act` and `scale_decoder_outputs` override the values derived from
 * `feed_forward_proj` and `tie_word_embeddings`, as they do in `transformers`.
 *
 * Beyond `transformers`' own checks, `relative_attention_num_buckets` must be at least 4 and
 * `relative_attention_max_distance` greater than half of it, so that the logarithmic buckets are
 * defined in the encoder and the decoder.
 *
 * @param json the parsed `config.json`
 * @param where the file it came from, for the problem
 * @returns the config, or an `Invalid` problem listing every invalid field
 * @example
 * ```ts
 * import { parseT5Config } from "./config.ts";
 * import assert from "node:assert/strict";
 * const c = parseT5Config({ model_type: "t5", d_model: 8, feed_forward_proj: "gated-gelu" }, "config.json");
 * assert(c._tag === "Right" && c.right.denseActFn === "gelu_new" && c.right.isGatedAct);
 * const bad = parseT5Config({ d_model: 0, num_heads: "8" }, "config.json");
 * assert(bad._tag === "Left" && bad.left.message.includes("num_heads"));
 * ```
 */
export function parseT5Config(json: unknown, where: string): E.Either<Problem, T5Config> {
  if (!isRecord(json)) {
    return E.left(problem("Invalid", where, `Config is ${show(json)}, expected a JSON object`));
  }
  const f = t5Fields(json);
  const type = f.raw("model_type");
  if (type !== undefined && type !== "t5") {
    f.problems.push(`model_type is ${show(type)}, expected "t5"`);
  }
  const vocabSize = f.int("vocab_size", 32128, 1);
  const dModel = f.int("d_model", 512, 1);
  const dKv = f.int("d_kv", 64, 1);
  const dFf = f.int("d_ff", 2048, 1);
  const numLayers = f.int("num_layers", 6, 1, MAX_LAYERS);
  const numDecoderLayers = f.int("num_decoder_layers", numLayers, 1, MAX_LAYERS);
  const numHeads = f.int("num_heads", 8, 1);
  const buckets = f.int("relative_attention_num_buckets", 32, 4);
  const maxDistance = f.int("relative_attention_max_distance", 128, 1);
  if (maxDistance <= Math.floor(buckets / 2)) {
    f.problems.push(
      `relative_attention_max_distance is ${maxDistance}, expected more than half of relative_attention_num_buckets (${buckets})`,
    );
  }
  const layerNormEpsilon = f.positive("layer_norm_epsilon", 1e-6);
  const projRaw = f.raw("feed_forward_proj") ?? "relu";
  let ff: { act: Activation; gated: boolean } = { act: "relu", gated: false };
  if (typeof projRaw !== "string") {
    f.problems.push(
      `feed_forward_proj is ${show(projRaw)}, expected a string such as "gated-gelu"`,
    );
  } else {
    ff = feedForward(projRaw, f.problems);
  }
  let denseActFn = ff.act;
  if (f.has("dense_act_fn")) {
    const a = f.raw("dense_act_fn");
    if (typeof a === "string" && (ACTIVATIONS as readonly string[]).includes(a)) {
      denseActFn = a as Activation;
    } else f.problems.push(`dense_act_fn is ${show(a)}, expected one of ${ACTIVATIONS.join(" ")}`);
  }
  const isGatedAct = f.bool("is_gated_act", ff.gated);
  const tieWordEmbeddings = f.bool("tie_word_embeddings", true);
  const scaleDecoderOutputs = f.bool("scale_decoder_outputs", tieWordEmbeddings);
  const padTokenId = f.int("pad_token_id", 0, 0);
  const decoderStartTokenId = f.int("decoder_start_token_id", padTokenId, 0);
  const eosRaw = f.raw("eos_token_id") ?? 1;
  const eos = Array.isArray(eosRaw) ? eosRaw : [eosRaw];
  if (eos.length === 0 || !eos.every((x) => Number.isSafeInteger(x) && x >= 0)) {
    f.problems.push(
      `eos_token_id is ${show(eosRaw)}, expected a non-negative integer or a list of them`,
    );
  }
  const ids = { pad_token_id: padTokenId, decoder_start_token_id: decoderStartTokenId };
  for (const [key, id] of Object.entries(ids)) {
    if (id >= vocabSize) {
      f.problems.push(`${key} is ${id}, expected less than vocab_size (${vocabSize})`);
    }
  }
  if (f.problems.length > 0) {
    const n = f.problems.length;
    return E.left(
      problem(
        "Invalid",
        where,
        `Invalid T5 config (${n} problem${n === 1 ? "" : "s"}): ${f.problems.join("; ")}`,
      ),
    );
  }
  return E.right(Object.freeze({
    vocabSize,
    dModel,
    dKv,
    dFf,
    numLayers,
    numDecoderLayers,
    numHeads,
    relativeAttentionNumBuckets: buckets,
    relativeAttentionMaxDistance: maxDistance,
    layerNormEpsilon,
    feedForwardProj: projRaw as string,
    denseActFn,
    isGatedAct,
    tieWordEmbeddings,
    scaleDecoderOutputs,
    decoderStartTokenId,
    padTokenId,
    eosTokenIds: Object.freeze(eos as number[]),
  }));
}

/**
 * The fields of a {@link T5Config} that fix the shapes of its parameter tree: what
 * {@link t5ParamShapes} reads (T5X checkpoints infer them from the shapes).
 *
 * @example
 * ```ts
 * import { t5ParamShapes, type T5Sizes } from "./config.ts";
 * import assert from "node:assert/strict";
 * const sizes: T5Sizes = {
 *   vocabSize: 10, dModel: 4, dKv: 2, dFf: 8, numLayers: 1, numDecoderLayers: 1, numHeads: 2,
 *   relativeAttentionNumBuckets: 8, isGatedAct: true, tieWordEmbeddings: false,
 * };
 * const shapes = t5ParamShapes(sizes);
 * assert(shapes.has("encoder/layers/0/mlp/wi_1/kernel") && shapes.has("decoder/logits_dense/kernel"));
 * ```
 */
export type T5Sizes = Pick<
  T5Config,
  | "vocabSize"
  | "dModel"
  | "dKv"
  | "dFf"
  | "numLayers"
  | "numDecoderLayers"
  | "numHeads"
  | "relativeAttentionNumBuckets"
  | "isGatedAct"
  | "tieWordEmbeddings"
>;

/**
 * Every path of the T5 parameter tree and its shape, in a fixed order (embedding, encoder,
 * decoder). Kernels are `[in, out]`; `relpos_bias/rel_embedding` is `[heads, buckets]` (T5X's
 * layout); `decoder/logits_dense/kernel` `[H, V]` is there only when the head is untied.
 *
 * @param config the configuration (or just its {@link T5Sizes})
 * @returns path → shape
 * @example
 * ```ts
 * import { parseT5Config, t5ParamShapes } from "./config.ts";
 * import assert from "node:assert/strict";
 * const c = parseT5Config({ d_model: 8, d_kv: 2, num_heads: 3, vocab_size: 10 }, "config.json");
 * if (c._tag === "Right") {
 *   const shapes = t5ParamShapes(c.right);
 *   assert(shapes.get("encoder/layers/0/attention/query/kernel")?.join() === "8,6");
 *   assert(shapes.get("encoder/relpos_bias/rel_embedding")?.join() === "3,32");
 * }
 * ```
 */
export function t5ParamShapes(config: T5Sizes): Map<string, number[]> {
  const { vocabSize: v, dModel: h, dFf: ff } = config;
  const inner = config.numHeads * config.dKv;
  const out = new Map<string, number[]>();
  out.set("token_embedder/embedding", [v, h]);
  const attention = (prefix: string) => {
    for (const p of ["query", "key", "value"]) out.set(`${prefix}/${p}/kernel`, [h, inner]);
    out.set(`${prefix}/out/kernel`, [inner, h]);
  };
  const mlp = (prefix: string) => {
    if (config.isGatedAct) {
      out.set(`${prefix}/wi_0/kernel`, [h, ff]);
      out.set(`${prefix}/wi_1/kernel`, [h, ff]);
    } else out.set(`${prefix}/wi/kernel`, [h, ff]);
    out.set(`${prefix}/wo/kernel`, [ff, h]);
  };
  const relpos = [config.numHeads, config.relativeAttentionNumBuckets];
  out.set("encoder/relpos_bias/rel_embedding", relpos);
  for (let i = 0; i < config.numLayers; i++) {
    const l = `encoder/layers/${i}`;
    out.set(`${l}/pre_attention_layer_norm/scale`, [h]);
    attention(`${l}/attention`);
    out.set(`${l}/pre_mlp_layer_norm/scale`, [h]);
    mlp(`${l}/mlp`);
  }
  out.set("encoder/encoder_norm/scale", [h]);
  out.set("decoder/relpos_bias/rel_embedding", relpos);
  for (let i = 0; i < config.numDecoderLayers; i++) {
    const l = `decoder/layers/${i}`;
    out.set(`${l}/pre_self_attention_layer_norm/scale`, [h]);
    attention(`${l}/self_attention`);
    out.set(`${l}/pre_cross_attention_layer_norm/scale`, [h]);
    attention(`${l}/encoder_decoder_attention`);
    out.set(`${l}/pre_mlp_layer_norm/scale`, [h]);
    mlp(`${l}/mlp`);
  }
  out.set("decoder/decoder_norm/scale", [h]);
  if (!config.tieWordEmbeddings) out.set("decoder/logits_dense/kernel", [h, v]);
  return out;
}
