/**
 * Evaluation by generation: decode every example (greedy, beam search or sampling), turn the ids
 * into text with the tokenizer, and compare with the target text. The task metrics (exact match,
 * token F1, accuracy over label words) are computed from the predictions by `eval/metrics.ts`.
 *
 * @module
 */
import type { FrozenModel } from "../model/frozen.ts";
import { foldIn, type Key } from "../random/mod.ts";
import type { Tokenizer } from "../tokenizer/mod.ts";
import type { Combine, PromptInput } from "../model/combine.ts";
import { decode, type Decoding, DECODING_PRESETS, specialIds } from "../decode/mod.ts";
import { vocabSize } from "../model/frozen.ts";
import { checkPromptRows, slicePromptRows } from "../model/mixed.ts";
import { checkBatchSize, padRows } from "../data/batch.ts";
import { yielder } from "./_yield.ts";

/**
 * An example to generate for: the input's token ids and the expected text.
 *
 * @example
 * ```ts
 * import type { GenerationExample } from "./generate.ts";
 * import assert from "node:assert/strict";
 * const ex: GenerationExample = { inputIds: [5, 6, 1], target: "positive" };
 * assert(ex.inputIds.length === 3);
 * ```
 */
export interface GenerationExample {
  /** The input's token ids (not empty). */
  readonly inputIds: readonly number[];
  /** The target text. */
  readonly target: string;
}

/**
 * Options of {@link generateAndMatch}.
 *
 * @example
 * ```ts
 * import type { GenerateOptions } from "./generate.ts";
 * import assert from "node:assert/strict";
 * const options: Omit<GenerateOptions, "tokenizer"> = {
 *   decoding: { mode: "beam", numBeams: 4, lengthPenalty: 0.6 },
 *   maxNewTokens: 16,
 * };
 * assert(options.maxNewTokens === 16);
 * ```
 */
export interface GenerateOptions {
  /** Turns generated ids into text (EOS and padding ids are removed first). */
  readonly tokenizer: Pick<Tokenizer, "decode">;
  /** The most tokens to generate per example. */
  readonly maxNewTokens: number;
  /** How to decode; default greedy. */
  readonly decoding?: Decoding;
  /** For sampling: batch `i` draws from `foldIn(key, i)`. */
  readonly key?: Key;
  /** Examples per batch; default 16. */
  readonly batchSize?: number;
  /** Where the prompt goes (default `prefix`). */
  readonly combine?: Combine;
  /** Ids that end generation; default the model's. */
  readonly eosTokenIds?: readonly number[];
  /** The padding id; default the model's. */
  readonly padTokenId?: number;
  /** Applied to both texts before they are compared; default: trim whitespace. */
  readonly normalize?: (text: string) => string;
}

/**
 * One example's generation.
 *
 * @example
 * ```ts
 * import type { GeneratedExample } from "./generate.ts";
 * import assert from "node:assert/strict";
 * const g: GeneratedExample = { ids: [9, 1], prediction: "yes", target: "yes", match: true, score: -0.3 };
 * assert(g.match);
 * ```
 */
export interface GeneratedExample {
  /** The generated ids (with the EOS if one was generated). */
  readonly ids: readonly number[];
  /** Their text, EOS and padding ids removed. */
  readonly prediction: string;
  /** The target text, as given. */
  readonly target: string;
  /** Whether the normalized prediction equals the normalized target. */
  readonly match: boolean;
  /** The decoding's score (see `DecodeResult.scores`). */
  readonly score: number;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Generates a prediction for every example, batch by batch, and compares it with the target.
 *
 * @param model a loaded frozen model
 * @param prompt `[P, H]` soft prompt, one per example (`MixedPrompts`), or undefined for the
 *   frozen model alone
 * @param examples the inputs' ids and target texts
 * @param options the tokenizer, maximum length, decoding mode (default greedy) and the rest
 * @returns one {@link GeneratedExample} per example, in order
 * @throws {RangeError} or {TypeError} for invalid ids or options (sampling needs `key`)
 * @example
 * ```ts
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "../model/load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { generateAndMatch } from "./generate.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/t5_v1_1"));
 * const tokenizer = { decode: (ids: readonly number[]) => ids.map((i) => `<${i}>`).join("") };
 * const out = await generateAndMatch(model, undefined, [{ inputIds: [5, 6, 1], target: "<51>" }], {
 *   tokenizer,
 *   maxNewTokens: 1,
 * });
 * assert(out[0].prediction === `<${out[0].ids[0]}>`);
 * disposeTree(model.params);
 * ```
 */
export async function generateAndMatch(
  model: FrozenModel,
  prompt: PromptInput | undefined,
  examples: readonly GenerationExample[],
  options: GenerateOptions,
): Promise<GeneratedExample[]> {
  const batchSize = options.batchSize ?? 16;
  checkBatchSize(batchSize, "Generation");
  const defaults = specialIds(model);
  const eos = options.eosTokenIds ?? defaults.eosTokenIds;
  const pad = options.padTokenId ?? defaults.padTokenId;
  const normalize = options.normalize ?? ((text: string) => text.trim());
  const decoding = options.decoding ?? DECODING_PRESETS.greedy;
  const special = new Set([...eos, pad]);
  const vocab = vocabSize(model);
  checkPromptRows(prompt, examples.length, "Generation");
  const out: GeneratedExample[] = [];
  const pause = yielder();
  for (let start = 0, i = 0; start < examples.length; start += batchSize, i++) {
    await pause(); // lets a Ctrl-C listener run
    const chunk = examples.slice(start, start + batchSize);
    const batch = padRows(chunk.map((e) => e.inputIds), pad, vocab, "Generation: example", start);
    try {
      const rowsPrompt = prompt && slicePromptRows(prompt, start, start + chunk.length);
      const result = await decode(model, rowsPrompt, batch, decoding, {
        maxNewTokens: options.maxNewTokens,
        eosTokenIds: eos,
        padTokenId: pad,
        combine: options.combine,
        key: options.key === undefined ? undefined : foldIn(options.key, i),
      });
      chunk.forEach((example, r) => {
        const ids = result.tokens[r];
        const prediction = options.tokenizer.decode(ids.filter((id) => !special.has(id)));
        out.push({
          ids,
          prediction,
          target: example.target,
          match: normalize(prediction) === normalize(example.target),
          score: result.scores[r],
        });
      });
    } finally {
      batch.inputIds.dispose();
      batch.inputMask.dispose();
    }
  }
  return out;
}
