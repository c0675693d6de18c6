/**
 * What the prompt objectives share (private): batch and prompt checks, embedding, and the forward
 * pass of a frozen model with the prompt combined into its input.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { FrozenModel } from "../model/load.ts";
import { t5Decode, t5Encode, type T5Params } from "../model/t5/mod.ts";
import { shiftRight } from "../model/t5/apply.ts";
import { gpt2Forward, type Gpt2Params } from "../model/gpt2/mod.ts";
import { llamaForward, type LlamaParams } from "../model/llama/mod.ts";
import type { Recompute } from "../model/kernels/recompute.ts";
import { type Combine, moveLabels } from "./prompt.ts";
import type { CausalBatch, PromptBatch, Seq2SeqBatch } from "./objective.ts";

export const shapeText = (t: tf.Tensor) => `[${t.shape.join(", ")}]`;

function checkIds(t: tf.Tensor, name: string): void {
  if (t.dtype !== "int32" || t.rank !== 2) {
    throw new TypeError(`Batch ${name} is ${t.dtype} ${shapeText(t)}; expected int32 [B, T]`);
  }
}

export function checkSame(a: tf.Tensor, b: tf.Tensor, nameA: string, nameB: string): void {
  if (a.shape.join() !== b.shape.join()) {
    throw new RangeError(
      `Batch ${nameA} has shape ${shapeText(a)}; expected ${nameB}'s ${shapeText(b)}`,
    );
  }
}

function isSeq2Seq(batch: PromptBatch): batch is Seq2SeqBatch {
  return "targetIds" in batch && batch.targetIds !== undefined;
}

export function checkBatch(model: FrozenModel, batch: PromptBatch, needLabels: boolean): void {
  checkIds(batch.inputIds, "inputIds");
  checkSame(batch.inputMask, batch.inputIds, "inputMask", "inputIds");
  if (model.architecture === "t5") {
    if (!isSeq2Seq(batch)) {
      throw new TypeError(
        "Batch has no targetIds; an encoder-decoder (t5) model needs inputIds, inputMask, targetIds, targetMask",
      );
    }
    checkIds(batch.targetIds, "targetIds");
    checkSame(batch.targetMask, batch.targetIds, "targetMask", "targetIds");
    if (batch.targetIds.shape[0] !== batch.inputIds.shape[0]) {
      throw new RangeError(
        `Batch targetIds has ${batch.targetIds.shape[0]} rows; expected ${
          batch.inputIds.shape[0]
        } as inputIds`,
      );
    }
    return;
  }
  if (isSeq2Seq(batch)) {
    throw new TypeError(
      `Batch has targetIds; a decoder-only (${model.architecture}) model takes inputIds, inputMask and labels`,
    );
  }
  if (needLabels) {
    if (batch.labels === undefined) {
      throw new TypeError("Batch has no labels; a decoder-only loss needs labels [B, T]");
    }
    checkIds(batch.labels, "labels");
    checkSame(batch.labels, batch.inputIds, "labels", "inputIds");
  }
}

/** The model's input embedding table, `token_embedder/embedding` `[V, H]`, in every architecture. */
function embeddingTable(model: FrozenModel): tf.Tensor {
  return (model.params as unknown as { token_embedder: { embedding: tf.Tensor } }).token_embedder
    .embedding;
}

export function checkPrompt(model: FrozenModel, prompt: tf.Tensor): void {
  const width = embeddingTable(model).shape[1];
  if (prompt.rank !== 2 || prompt.dtype !== "float32" || prompt.shape[1] !== width) {
    throw new RangeError(
      `The prompt is ${prompt.dtype} ${
        shapeText(prompt)
      }; expected float32 [P, ${width}] (the model's width)`,
    );
  }
}

/** Embeds ids with the model's `token_embedder/embedding`: `[B, T]` → `[B, T, H]`. */
function embed(model: FrozenModel, ids: tf.Tensor): tf.Tensor {
  return tf.gather(embeddingTable(model), ids); // [V, H] by [B, T] → [B, T, H]
}

/** Labels with `ignore` wherever the mask is 0: `[B, S]` int32. */
function maskedLabels(ids: tf.Tensor, mask: tf.Tensor, ignore: number): tf.Tensor {
  return tf.where(tf.notEqual(mask, 0), ids, tf.fill(ids.shape, ignore, "int32"));
}

/**
 * T5's decoder over targets with teacher forcing: `labels = targetIds` where `targetMask` is 1,
 * else `ignore`; decoder inputs `shiftRight(labels)`. Returns the logits `[B, S, V]` and labels.
 */
export function t5DecodeTargets(
  model: Extract<FrozenModel, { architecture: "t5" }>,
  encoderStates: tf.Tensor,
  encoderMask: tf.Tensor,
  targets: Pick<Seq2SeqBatch, "targetIds" | "targetMask">,
  ignore: number,
): { logits: tf.Tensor; labels: tf.Tensor } {
  const labels = maskedLabels(targets.targetIds, targets.targetMask, ignore); // [B, S]
  const decoderInputIds = shiftRight(
    labels,
    model.config.decoderStartTokenId,
    model.config.padTokenId,
  );
  const { logits } = t5Decode(model.params as unknown as T5Params, model.config, {
    decoderInputIds,
    encoderStates,
    encoderMask,
  }); // [B, S, V]; the cache goes with the caller's tidy
  return { logits, labels };
}

/**
 * T5's encoder over `[prompt ; embedded inputs]`: the states `[B, P + T, H]` and the mask
 * `[B, P + T]` the decoder attends with.
 */
export function t5EncodeWithPrompt(
  model: Extract<FrozenModel, { architecture: "t5" }>,
  batch: Pick<PromptBatch, "inputIds" | "inputMask">,
  prompt: tf.Tensor,
  combine: Combine,
  recompute: Recompute,
): { states: tf.Tensor; mask: tf.Tensor } {
  const combined = combine(prompt, embed(model, batch.inputIds), batch.inputMask); // [B, P + T, H]
  const states = t5Encode(model.params as unknown as T5Params, model.config, {
    inputsEmbeds: combined.embeds,
    attentionMask: combined.mask,
    recompute,
  }); // [B, P + T, H]
  return { states, mask: combined.mask };
}

/**
 * The forward pass with the prompt: T5's decoder logits `[B, S, V]`, or a decoder-only model's
 * logits over the combined sequence `[B, P + T, V]` with the maps that undo the combine.
 */
export function forward(
  model: FrozenModel,
  batch: PromptBatch,
  prompt: tf.Tensor,
  combine: Combine,
  ignore: number,
  recompute: Recompute,
): { logits: tf.Tensor; labels?: tf.Tensor; placed?: Int32Array; index?: Int32Array } {
  if (model.architecture === "t5") {
    const encoded = t5EncodeWithPrompt(model, batch, prompt, combine, recompute);
    return t5DecodeTargets(model, encoded.states, encoded.mask, batch as Seq2SeqBatch, ignore);
  }
  const combined = combine(prompt, embed(model, batch.inputIds), batch.inputMask); // [B, P + T, H]
  const options = { inputsEmbeds: combined.embeds, attentionMask: combined.mask };
  const { logits } = model.architecture === "gpt2"
    ? gpt2Forward(model.params as unknown as Gpt2Params, model.config, options)
    : llamaForward(model.params as unknown as LlamaParams, model.config, options); // [B, P + T, V]
  return { logits, placed: combined.placed, index: combined.index };
}

/**
 * A decoder-only forward pass lined up for a next-token loss: `logits[:, :-1]` and the labels
 * (moved with the inputs, ignored at the prompt) at `[:, 1:]`, `[B, P + T − 1, V]` and
 * `[B, P + T − 1]`.
 */
export function causalNextTokens(
  model: FrozenModel,
  batch: CausalBatch,
  prompt: tf.Tensor,
  combine: Combine,
  ignore: number,
  recompute: Recompute,
): { logits: tf.Tensor; next: tf.Tensor } {
  const out = forward(model, batch, prompt, combine, ignore, recompute); // [B, P + T, V]
  const moved = moveLabels(batch.labels!, out.index!, prompt.shape[0], ignore); // [B, P + T]
  const [b, width, v] = out.logits.shape;
  return {
    logits: tf.slice(out.logits, [0, 0, 0], [b, width - 1, v]), // [B, P + T − 1, V]
    next: tf.slice(moved, [0, 1], [b, width - 1]), // [B, P + T − 1]
  };
}
