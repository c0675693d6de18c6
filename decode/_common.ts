/**
 * Private helpers of the decoding modes: resolving and checking special ids, and the token-by-token
 * loop that greedy search and sampling share.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { FrozenModel } from "../model/frozen.ts";
import { type DecodeResult, type DecodingOptions, specialIds } from "./options.ts";
import { decodeStep, prefill } from "./prefill.ts";
import { vocabSize } from "../model/frozen.ts";
import type { InputBatch } from "../model/prompted.ts";
import type { PromptInput } from "../model/combine.ts";
import { disposeDecodeState } from "./state.ts";

/**
 * The special ids a decoding uses: the options' where given, else the model's; checked.
 *
 * @param model the model
 * @param options the decoding options
 * @param vocab the vocabulary size
 * @returns the EOS ids (as a set) and the padding id
 * @throws {RangeError} when `maxNewTokens` is not a positive integer or an id is out of range
 */
export function resolveIds(
  model: FrozenModel,
  options: DecodingOptions,
  vocab: number,
): { eos: ReadonlySet<number>; pad: number } {
  const defaults = specialIds(model);
  const eos = options.eosTokenIds ?? defaults.eosTokenIds;
  const pad = options.padTokenId ?? defaults.padTokenId;
  if (!Number.isInteger(options.maxNewTokens) || options.maxNewTokens < 1) {
    throw new RangeError(
      `Decoding: maxNewTokens is ${options.maxNewTokens}; expected a positive integer`,
    );
  }
  for (const id of [...eos, pad]) {
    if (!Number.isInteger(id) || id < 0 || id >= vocab) {
      throw new RangeError(
        `Decoding: special id ${id} (EOS or padding) is not a token id; expected an integer in [0, ${vocab})`,
      );
    }
  }
  return { eos: new Set(eos), pad };
}

/** One step's choice: a token per row and its log-probability under the model. */
export interface Choice {
  readonly ids: ArrayLike<number>;
  readonly logprobs: ArrayLike<number>;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * The decoding loop of greedy search and sampling: prefill, then per step `choose` a token for
 * every row from the logits `[B, V]` (it must not dispose them), keep the EOS and feed padding
 * to finished rows, stop when every row finished or after `maxNewTokens`. Every tensor made here
 * is disposed, also on error.
 */
export async function tokenLoop(
  model: FrozenModel,
  prompt: PromptInput | undefined,
  batch: InputBatch,
  options: DecodingOptions,
  choose: (logits: tf.Tensor, stepIndex: number) => Promise<Choice>,
): Promise<DecodeResult> {
  const { eos, pad } = resolveIds(model, options, vocabSize(model));
  let out = prefill(model, prompt, batch, { combine: options.combine, useCache: options.useCache });
  const b = batch.inputIds.shape[0];
  const tokens: number[][] = Array.from({ length: b }, () => []);
  const scores = new Array<number>(b).fill(0);
  const finished = new Array<boolean>(b).fill(false);
  try {
    for (let i = 0; i < options.maxNewTokens; i++) {
      const choice = await choose(out.logits, i);
      const next = new Int32Array(b);
      for (let r = 0; r < b; r++) {
        if (finished[r]) {
          next[r] = pad;
          continue;
        }
        const id = choice.ids[r];
        tokens[r].push(id);
        scores[r] += choice.logprobs[r];
        finished[r] = eos.has(id);
        next[r] = id;
      }
      if (finished.every((f) => f) || i + 1 === options.maxNewTokens) break;
      const following = decodeStep(model, out.state, next);
      out.logits.dispose();
      disposeDecodeState(out.state);
      out = following;
    }
  } finally {
    out.logits.dispose();
    disposeDecodeState(out.state);
  }
  return { tokens, scores, finished };
}
