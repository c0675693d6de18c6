/**
 * One entry point for every decoding mode, chosen by a plain (JSON) description, and the presets
 * of the original prompt-tuning code's `configs/decoding/`.
 *
 * @module
 */
import type { FrozenModel } from "../model/frozen.ts";
import type { Key } from "../random/mod.ts";
import { beamSearch } from "./beam.ts";
import { greedy } from "./greedy.ts";
import type { DecodeResult, DecodingOptions } from "./options.ts";
import type { InputBatch } from "../model/prompted.ts";
import type { PromptInput } from "../model/combine.ts";
import { sample } from "./sample.ts";

/**
 * How to decode, as configuration (no tensors, no keys): greedy, beam search or sampling.
 *
 * @example
 * ```ts
 * import type { Decoding } from "./decode.ts";
 * import assert from "node:assert/strict";
 * const modes: Decoding[] = [
 *   { mode: "greedy" },
 *   { mode: "beam", numBeams: 4, lengthPenalty: 0.6 },
 *   { mode: "sample", topP: 0.9, temperature: 0.8 },
 * ];
 * assert(modes.length === 3);
 * ```
 */
export type Decoding =
  | { readonly mode: "greedy" }
  | {
    readonly mode: "beam";
    readonly numBeams: number;
    readonly lengthPenalty?: number;
    readonly earlyStopping?: boolean | "never";
  }
  | {
    readonly mode: "sample";
    readonly temperature?: number;
    readonly topK?: number;
    readonly topP?: number;
  };

/**
 * The decoding presets: greedy; beam search with 4 beams and α = 0.6 (the original's
 * `beam_search`); nucleus sampling with top-p 0.9 at temperature 1.
 *
 * @example
 * ```ts
 * import { DECODING_PRESETS } from "./decode.ts";
 * import assert from "node:assert/strict";
 * const beam = DECODING_PRESETS.beam;
 * assert(beam.mode === "beam" && beam.numBeams === 4 && beam.lengthPenalty === 0.6);
 * ```
 */
export const DECODING_PRESETS: {
  readonly greedy: { readonly mode: "greedy" };
  readonly beam: {
    readonly mode: "beam";
    readonly numBeams: number;
    readonly lengthPenalty: number;
  };
  readonly sample: { readonly mode: "sample"; readonly topP: number; readonly temperature: number };
} = Object.freeze({
  greedy: Object.freeze({ mode: "greedy" as const }),
  beam: Object.freeze({ mode: "beam" as const, numBeams: 4, lengthPenalty: 0.6 }),
  sample: Object.freeze({ mode: "sample" as const, topP: 0.9, temperature: 1 }),
});

/**
 * Options of {@link decode}: the common decoding options and, for sampling, the key.
 *
 * @example
 * ```ts
 * import { key } from "../random/mod.ts";
 * import type { RunDecodingOptions } from "./decode.ts";
 * import assert from "node:assert/strict";
 * const options: RunDecodingOptions = { maxNewTokens: 10, key: key(3) };
 * assert(options.key !== undefined);
 * ```
 */
export interface RunDecodingOptions extends DecodingOptions {
  /** The PRNG key; required for sampling, unused otherwise. */
  readonly key?: Key;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Decodes with the mode a {@link Decoding} describes: `greedy`, `beamSearch` or `sample`.
 *
 * @param model a loaded frozen model
 * @param prompt `[P, H]` soft prompt, one per row (`MixedPrompts`), or undefined for none
 * @param batch input ids and mask `[B, T]`
 * @param decoding the mode and its settings
 * @param options maximum length, special ids, combine, cache, and the key for sampling
 * @returns the generated ids, scores and finished flags per row
 * @throws {TypeError} when sampling without a key, or what the mode throws
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "../model/load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { decode, DECODING_PRESETS } from "./decode.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/gpt2_tiny"));
 * const inputIds = tf.tensor2d([[1, 5, 6]], [1, 3], "int32");
 * const inputMask = tf.ones([1, 3], "int32");
 * const out = await decode(model, undefined, { inputIds, inputMask }, DECODING_PRESETS.greedy, { maxNewTokens: 3 });
 * assert(out.tokens.length === 1);
 * tf.dispose([inputIds, inputMask]);
 * disposeTree(model.params);
 * ```
 */
export function decode(
  model: FrozenModel,
  prompt: PromptInput | undefined,
  batch: InputBatch,
  decoding: Decoding,
  options: RunDecodingOptions,
): Promise<DecodeResult> {
  switch (decoding.mode) {
    case "greedy":
      return greedy(model, prompt, batch, options);
    case "beam":
      return beamSearch(model, prompt, batch, { ...options, ...decoding });
    case "sample": {
      const key = options.key;
      if (key === undefined) {
        return Promise.reject(
          new TypeError("Decoding: sampling needs a PRNG key; expected options.key"),
        );
      }
      return sample(model, prompt, batch, { ...options, ...decoding, key });
    }
    default:
      return Promise.reject(
        new TypeError(
          `Decoding: unknown mode ${
            JSON.stringify((decoding as { mode?: unknown }).mode)
          }; expected greedy, beam or sample`,
        ),
      );
  }
}
