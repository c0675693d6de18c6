/**
 * Loads a Hugging Face T5 checkpoint (`T5ForConditionalGeneration`: original T5, T5 1.1,
 * LM-adapted, Flan-T5) into the T5X-named tree of `params.ts`.
 *
 * PyTorch `Linear` weights (`[out, in]`) and the relative attention bias (`[buckets, heads]`) are
 * transposed; float16, bfloat16 and float64 weights are converted to float32 (the tree is always
 * float32; a half-precision checkpoint takes twice its file size in memory once loaded).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import type { TensorSource } from "../../io/tensor_source.ts";
import { isFloatDType } from "../../io/dtype.ts";
import { type Problem, problem } from "../../problem.ts";
import { type FlatEntry, unflatten } from "../../tree/tree.ts";
import { parseT5Config, type T5Config, t5ParamShapes } from "./config.ts";
import { shapeDifferences, type T5Params } from "./params.ts";
import { asIs, loadWithConfig, readByPlan, type TensorPlan, transposed } from "../_load_plan.ts";

const ATTENTION: Readonly<Record<string, string>> = { query: "q", key: "k", value: "v", out: "o" };

/** The Hugging Face name of one tree path (see {@link t5HuggingFaceNames}). */
function hfName(path: string): string {
  const p = path.split("/");
  if (path === "token_embedder/embedding") return "shared.weight";
  if (path === "decoder/logits_dense/kernel") return "lm_head.weight";
  const stack = p[0]; // encoder | decoder
  if (p[1] === "relpos_bias") {
    return `${stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight`;
  }
  if (p[1] === "encoder_norm" || p[1] === "decoder_norm") return `${stack}.final_layer_norm.weight`;
  // <stack>/layers/<i>/<part>/...
  const block = `${stack}.block.${p[2]}.layer`;
  const part = p[3];
  const ffLayer = stack === "encoder" ? 1 : 2;
  switch (part) {
    case "pre_attention_layer_norm":
    case "pre_self_attention_layer_norm":
      return `${block}.0.layer_norm.weight`;
    case "pre_cross_attention_layer_norm":
      return `${block}.1.layer_norm.weight`;
    case "pre_mlp_layer_norm":
      return `${block}.${ffLayer}.layer_norm.weight`;
    case "attention":
    case "self_attention":
      return `${block}.0.SelfAttention.${ATTENTION[p[4]]}.weight`;
    case "encoder_decoder_attention":
      return `${block}.1.EncDecAttention.${ATTENTION[p[4]]}.weight`;
    case "mlp":
      return `${block}.${ffLayer}.DenseReluDense.${p[4]}.weight`;
  }
  throw new RangeError(`No Hugging Face name for the T5 path "${path}"`);
}

/**
 * The Hugging Face tensor name of every path of {@link t5ParamShapes}: `shared.weight`,
 * `encoder.block.<i>.layer.0.SelfAttention.q.weight`, …, `lm_head.weight` (untied head).
 *
 * @param config the configuration
 * @returns tree path → Hugging Face name, in the tree's order
 * @example
 * ```ts
 * import { parseT5Config } from "./config.ts";
 * import { t5HuggingFaceNames } from "./hf.ts";
 * import assert from "node:assert/strict";
 * const c = parseT5Config({ num_layers: 1 }, "config.json");
 * if (c._tag === "Right") {
 *   const names = t5HuggingFaceNames(c.right);
 *   assert(names.get("decoder/layers/0/mlp/wo/kernel") === "decoder.block.0.layer.2.DenseReluDense.wo.weight");
 * }
 * ```
 */
export function t5HuggingFaceNames(config: T5Config): Map<string, string> {
  return new Map([...t5ParamShapes(config).keys()].map((p) => [p, hfName(p)]));
}

/** Tensors `transformers` accepts and ignores: tied copies of `shared.weight`, and an unused bias. */
const TIED_COPIES = ["encoder.embed_tokens.weight", "decoder.embed_tokens.weight"];
const IGNORED = "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight";

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Loads a Hugging Face T5 checkpoint into a T5 tree. Before reading any data it checks every
 * tensor's name, shape and dtype against the config and reports everything missing, unexpected or
 * of the wrong shape in one problem. Tensors are then read one at a time (the host copy is
 * dropped once on the device), so loading takes about the model's float32 size plus one tensor.
 *
 * Like `transformers`: `encoder.embed_tokens.weight` / `decoder.embed_tokens.weight` (copies of
 * `shared.weight` in older checkpoints) and
 * `decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight` are accepted and
 * ignored; with a tied config, an `lm_head.weight` that differs from `shared.weight` is kept as
 * an untied head (`decoder/logits_dense/kernel`); with an untied config `lm_head.weight` is
 * required.
 *
 * @param dir the checkpoint directory, for problems
 * @param configJson the parsed `config.json`
 * @param source the opened weights (`model.safetensors` or a sharded index)
 * @returns the tree, or a problem: `Invalid` config, `Mismatch` listing every name, shape or
 *   dtype problem, or what reading a tensor reported
 * @example
 * ```ts
 * import { loadT5FromHuggingFace } from "./hf.ts";
 * import { openTensorFile } from "../../io/tensor_file.ts";
 * import assert from "node:assert/strict";
 * const dir = new URL("../../tests/fixtures/models/t5_v1_1", import.meta.url).pathname;
 * const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
 * const source = await openTensorFile(`${dir}/model.safetensors`);
 * if (source._tag === "Right") {
 *   const r = await loadT5FromHuggingFace(dir, config, source.right);
 *   source.right.close();
 *   assert(r._tag === "Right" && "logits_dense" in r.right.decoder);
 * }
 * ```
 */
export async function loadT5FromHuggingFace(
  dir: string,
  configJson: unknown,
  source: TensorSource,
): Promise<E.Either<Problem, T5Params>> {
  return await loadWithConfig(
    dir,
    configJson,
    parseT5Config,
    (config) => loadT5Tensors(dir, config, source),
  );
}

/** {@link loadT5FromHuggingFace} once the config is parsed. */
async function loadT5Tensors(
  dir: string,
  config: T5Config,
  source: TensorSource,
): Promise<E.Either<Problem, T5Params>> {
  const embeddingShape = [config.vocabSize, config.dModel];

  // Expected names and their shapes in the checkpoint's (PyTorch) layout, and the leaves they make.
  const plan: TensorPlan[] = [...t5ParamShapes(config)].map(([path, shape]) => {
    const name = hfName(path);
    return shape.length === 2 && name !== "shared.weight"
      ? { name, shape: [shape[1], shape[0]], place: transposed(path) }
      : { name, shape, place: asIs(path) };
  });
  const expected = new Map(plan.map((p) => [p.name, p.shape]));
  const optional = new Set(TIED_COPIES);
  for (const name of TIED_COPIES) expected.set(name, embeddingShape);
  if (config.tieWordEmbeddings) {
    expected.set("lm_head.weight", embeddingShape);
    optional.add("lm_head.weight");
  }
  const entries = source.entries.filter((e) => e.name !== IGNORED);
  const diffs = shapeDifferences(
    expected,
    new Map(entries.map((e) => [e.name, e.shape])),
    optional,
  );
  const notFloat = entries.filter((e) => !isFloatDType(e.dtype)).map((e) =>
    `${e.name} (${e.dtype})`
  );
  if (notFloat.length > 0) {
    diffs.push(`${notFloat.length} not floating point: ${notFloat.slice(0, 8).join(", ")}`);
  }
  if (diffs.length > 0) {
    return E.left(
      problem(
        "Mismatch",
        dir,
        `Checkpoint tensors do not fit the T5 config: ${diffs.join("; ")}`,
      ),
    );
  }

  // With a tied config, a checkpoint's lm_head.weight is read last, to compare with the embedding.
  const head = "lm_head.weight";
  const readHead = config.tieWordEmbeddings && entries.some((e) => e.name === head);
  const lmHead = readHead ? [{ name: head, shape: embeddingShape, place: asIs(head) }] : [];
  const loaded: FlatEntry[] = [];
  try {
    const read = await readByPlan(source, [...plan, ...lmHead], dir);
    if (E.isLeft(read)) return read;
    loaded.push(...read.right);
    if (readHead) {
      // transformers ties only when the two are equal; a different head stays untied.
      const [, lm] = loaded.pop()!;
      const embedding = loaded[0][1];
      try {
        // Read asynchronously: WebGPU has no synchronous read in Deno.
        const any = tf.tidy(() => tf.any(tf.notEqual(lm, embedding)));
        const differs = await any.data().finally(() => any.dispose());
        if (differs[0] !== 0) {
          loaded.push(["decoder/logits_dense/kernel", tf.transpose(lm)]); // [H, V]
        }
      } finally {
        lm.dispose();
      }
    }
  } catch (e) {
    tf.dispose(loaded.map(([, t]) => t));
    return E.left(
      problem("Io", dir, `Could not load the checkpoint: ${e instanceof Error ? e.message : e}`),
    );
  }
  return E.right(unflatten(loaded) as T5Params);
}
