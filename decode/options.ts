/**
 * What every decoding mode shares: its options (maximum length, end-of-sequence and padding ids,
 * the combine, the cache), its result, and the model's own special ids as defaults.
 *
 * @module
 */
import type { FrozenModel } from "../model/frozen.ts";
import type { Combine } from "../model/combine.ts";

/**
 * Options every decoding mode takes.
 *
 * @example
 * ```ts
 * import type { DecodingOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 * const options: DecodingOptions = { maxNewTokens: 16, eosTokenIds: [1] };
 * assert(options.maxNewTokens === 16);
 * ```
 */
export interface DecodingOptions {
  /** The most tokens to generate per row (a positive integer; EOS included). */
  readonly maxNewTokens: number;
  /**
   * Ids that end a row (the EOS is kept in the output). Default: the model's
   * `generation_config.json` `eos_token_id`, else its config's; `[]` never stops early.
   */
  readonly eosTokenIds?: readonly number[];
  /**
   * What finished rows are fed (they keep padding). Default: the model's `pad_token_id`, else the
   * first EOS id, else 0.
   */
  readonly padTokenId?: number;
  /** Where the prompt goes in each row; default `prefix`. */
  readonly combine?: Combine;
  /** Decode with the key/value cache (default true); false reruns the whole sequence per token. */
  readonly useCache?: boolean;
}

/**
 * What a decoding returns, one entry per input row, as plain arrays.
 *
 * @example
 * ```ts
 * import type { DecodeResult } from "./options.ts";
 * import assert from "node:assert/strict";
 * const result: DecodeResult = { tokens: [[8, 9, 1], [4, 4]], scores: [-2.5, -7.1], finished: [true, false] };
 * assert(result.tokens[0].at(-1) === 1 && !result.finished[1]);
 * ```
 */
export interface DecodeResult {
  /**
   * The generated ids of each row, without the input or padding; ends with the EOS when the row
   * finished (at most `maxNewTokens` ids).
   */
  readonly tokens: readonly (readonly number[])[];
  /**
   * Greedy and sampling: the sum of the model's log-probabilities of the generated ids (before
   * temperature and filtering). Beam search: that sum divided by `length ** lengthPenalty`, as
   * `transformers`' `sequences_scores`.
   */
  readonly scores: readonly number[];
  /** Whether each row ended with an EOS id (else it reached `maxNewTokens`). */
  readonly finished: readonly boolean[];
}

/**
 * A model's special ids for decoding, from its `generation_config.json` and config.
 *
 * @example
 * ```ts
 * import type { SpecialIds } from "./options.ts";
 * import assert from "node:assert/strict";
 * const ids: SpecialIds = { eosTokenIds: [1], padTokenId: 0 };
 * assert(ids.padTokenId === 0);
 * ```
 */
export interface SpecialIds {
  /** The ids that end a sequence (may be empty). */
  readonly eosTokenIds: readonly number[];
  /** The id fed to finished rows and used to pad batches. */
  readonly padTokenId: number;
}

/**
 * The EOS and padding ids a model decodes with by default: `generation_config.json` first, then
 * the model's config; padding falls back to the first EOS id (as `transformers` does for
 * GPT-2-style models that have none), then 0.
 *
 * @param model a loaded model
 * @returns its special ids
 * @example
 * ```ts
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "../model/load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { specialIds } from "./options.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/t5_v1_1"));
 * const ids = specialIds(model);
 * assert(ids.eosTokenIds.join() === "1" && ids.padTokenId === 0);
 * disposeTree(model.params);
 * ```
 */
export function specialIds(model: FrozenModel): SpecialIds {
  const eosTokenIds = model.generation?.eosTokenIds ?? model.config.eosTokenIds;
  const padTokenId = model.generation?.padTokenId ?? model.config.padTokenId ?? eosTokenIds[0] ??
    0;
  return { eosTokenIds, padTokenId };
}
