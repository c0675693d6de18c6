/**
 * Beam search, as `transformers`' `generate(num_beams=K, length_penalty=α, do_sample=False)`
 * (`GenerationMixin._beam_search` of transformers 5.23, the vectorized rewrite of
 * huggingface/transformers#35802, which keeps `BeamSearchScorer`'s scoring).
 *
 * Per example, `K` running beams start from one (the others at -1e9). At each step every beam's
 * log-probabilities are added to its running sum and the best `(1 + #EOS ids, at least 2) · K`
 * candidates over all beams are taken, best first:
 * - a candidate that ends with an EOS id, or reaches `maxNewTokens`, is finished: when it ranks
 *   among the first `K` it is offered to the example's finished hypotheses with the score
 *   `sum_logprobs / (generated_length ** α)` (the EOS counted in the length), and the best `K`
 *   finished ones are kept;
 * - the best `K` candidates that did not finish become the running beams (the cache is reordered
 *   to them).
 *
 * An example is done when it has `K` finished hypotheses and no running beam can beat the worst
 * of them, judged by `early_stopping`:
 * - `false` (the default, `transformers`' too): the best running sum divided by the *current*
 *   length `** α` (a heuristic: with α > 0 a longer continuation could still score higher);
 * - `"never"`: with α > 0, divided by the maximum length instead (the exact bound), else as false;
 * - `true`: done as soon as `K` hypotheses finished.
 * Decoding stops when every example is done, or after `maxNewTokens` steps; the result of each
 * example is its best finished hypothesis.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { FrozenModel } from "../model/frozen.ts";
import { resolveIds } from "./_common.ts";
import type { DecodeResult, DecodingOptions } from "./options.ts";
import { decodeStep, prefill } from "./prefill.ts";
import { vocabSize } from "../model/frozen.ts";
import type { InputBatch } from "../model/prompted.ts";
import type { PromptInput } from "../model/combine.ts";
import { type DecodeState, disposeDecodeState, selectRows } from "./state.ts";

/** `transformers`' stand-in for minus infinity in beam scores. */
const NEG = -1e9;

const f32 = Math.fround;

/**
 * Options of {@link beamSearch}.
 *
 * @example
 * ```ts
 * import { BEAM_PRESET, type BeamOptions } from "./beam.ts";
 * import assert from "node:assert/strict";
 * const options: BeamOptions = { ...BEAM_PRESET, maxNewTokens: 32 };
 * assert(options.numBeams === 4 && options.lengthPenalty === 0.6);
 * ```
 */
export interface BeamOptions extends DecodingOptions {
  /** Beams per example (a positive integer). */
  readonly numBeams: number;
  /** The exponent α of the length in `score = sum_logprobs / length ** α` (default 1). */
  readonly lengthPenalty?: number;
  /** When an example is done (see the module doc); default false. */
  readonly earlyStopping?: boolean | "never";
}

/**
 * The original prompt-tuning code's beam search preset: 4 beams, length penalty α = 0.6.
 *
 * @example
 * ```ts
 * import { BEAM_PRESET } from "./beam.ts";
 * import assert from "node:assert/strict";
 * assert(BEAM_PRESET.numBeams === 4);
 * ```
 */
export const BEAM_PRESET: { readonly numBeams: number; readonly lengthPenalty: number } = Object
  .freeze({ numBeams: 4, lengthPenalty: 0.6 });

interface Hypothesis {
  readonly tokens: readonly number[];
  readonly score: number;
}

/** One example's search: running beams (best first) and finished hypotheses (best first). */
interface Search {
  running: { tokens: number[]; sum: number }[];
  finished: Hypothesis[];
  open: boolean;
}

function checkBeamOptions(options: BeamOptions): void {
  const { numBeams, lengthPenalty, earlyStopping } = options;
  if (!Number.isInteger(numBeams) || numBeams < 1) {
    throw new RangeError(`Beam search: numBeams is ${numBeams}; expected a positive integer`);
  }
  if (lengthPenalty !== undefined && !Number.isFinite(lengthPenalty)) {
    throw new RangeError(`Beam search: lengthPenalty is ${lengthPenalty}; expected a number`);
  }
  if (
    earlyStopping !== undefined && typeof earlyStopping !== "boolean" && earlyStopping !== "never"
  ) {
    throw new RangeError(
      `Beam search: earlyStopping is ${String(earlyStopping)}; expected true, false or "never"`,
    );
  }
}

/**
 * The best `keep` candidates of every example: accumulated log-probabilities `[B, keep]` (float32)
 * and flat indices `beam · V + token`, best first.
 */
async function topCandidates(
  logits: tf.Tensor,
  running: Float32Array,
  k: number,
  keep: number,
): Promise<{ values: Float32Array; indices: Int32Array }> {
  const [bk, v] = logits.shape as [number, number];
  const top = tf.tidy(() => {
    const sums = tf.add(tf.logSoftmax(logits), tf.tensor2d(running, [bk, 1])); // [B·K, V]
    const flat = tf.reshape(sums, [bk / k, k * v]); // [B·K, V] → [B, K·V]
    return tf.topk(flat, keep, true); // [B, keep] each
  });
  try {
    return {
      values: await top.values.data() as Float32Array,
      indices: await top.indices.data() as Int32Array,
    };
  } finally {
    tf.dispose([top.values, top.indices]);
  }
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Beam search, batched, with the soft prompt applied at prefill (once per example; the state is
 * then repeated for its beams). See the module doc for the algorithm; it follows `transformers`'
 * `generate(num_beams, length_penalty, early_stopping, do_sample=False)` step by step, so that
 * the tokens agree with it (up to float32 ties). With one beam the result is greedy decoding's.
 *
 * @param model a loaded frozen model
 * @param prompt `[P, H]` soft prompt, one per row (`MixedPrompts`), or undefined for none (the
 *   caller keeps owning it)
 * @param batch input ids and mask `[B, T]`
 * @param options beams, length penalty, early stopping, and the common decoding options
 * @returns per example the best hypothesis: its ids (with the EOS if it has one), its score
 *   `sum_logprobs / length ** α` and whether it ended with an EOS id
 * @throws {RangeError} or {TypeError} for invalid inputs or options
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { orThrow } from "../problem.ts";
 * import { loadModel } from "../model/load.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { BEAM_PRESET, beamSearch } from "./beam.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/models/t5_v1_1"));
 * const inputIds = tf.tensor2d([[5, 6, 7, 1]], [1, 4], "int32");
 * const inputMask = tf.ones([1, 4], "int32");
 * const out = await beamSearch(model, undefined, { inputIds, inputMask }, { ...BEAM_PRESET, maxNewTokens: 5 });
 * assert(out.tokens[0].length <= 5 && out.scores[0] < 0);
 * tf.dispose([inputIds, inputMask]);
 * disposeTree(model.params);
 * ```
 */
export async function beamSearch(
  model: FrozenModel,
  prompt: PromptInput | undefined,
  batch: InputBatch,
  options: BeamOptions,
): Promise<DecodeResult> {
  checkBeamOptions(options);
  const v = vocabSize(model);
  const { eos, pad } = resolveIds(model, options, v);
  const k = options.numBeams;
  const alpha = options.lengthPenalty ?? 1;
  const early = options.earlyStopping ?? false;
  const maxNew = options.maxNewTokens;
  const keep = Math.max(2, 1 + eos.size) * k;
  if (keep > k * v) {
    throw new RangeError(
      `Beam search: ${keep} candidates per step exceed the ${
        k * v
      } that ${k} beams over ${v} tokens offer`,
    );
  }
  const b = batch.inputIds.shape[0];
  const searches: Search[] = Array.from({ length: b }, () => ({
    running: Array.from({ length: k }, (_, j) => ({ tokens: [], sum: j === 0 ? 0 : NEG })),
    finished: [],
    open: true,
  }));
  const first = prefill(model, prompt, batch, {
    combine: options.combine,
    useCache: options.useCache,
  });
  // Each example's row repeated for its beams: [B] → [B·K], example-major.
  const repeat = Int32Array.from({ length: b * k }, (_, i) => Math.floor(i / k));
  let state: DecodeState;
  let logits: tf.Tensor;
  try {
    state = selectRows(first.state, repeat);
    logits = tf.tidy(() => tf.gather(first.logits, tf.tensor1d(repeat, "int32"))); // [B·K, V]
  } finally {
    first.logits.dispose();
    disposeDecodeState(first.state);
  }
  try {
    for (let t = 0; t < maxNew; t++) {
      const running = Float32Array.from(searches.flatMap((s) => s.running.map((r) => r.sum)));
      const top = await topCandidates(logits, running, k, keep);
      const length = t + 1; // generated tokens, the new one included
      const atMax = length >= maxNew;
      const sources = new Int32Array(b * k);
      const next = new Int32Array(b * k).fill(pad);
      searches.forEach((search, e) => {
        const candidates = Array.from({ length: keep }, (_, c) => {
          const flat = top.indices[e * keep + c];
          const beam = Math.floor(flat / v);
          const token = flat % v;
          return {
            beam,
            token,
            sum: top.values[e * keep + c],
            done: atMax || eos.has(token),
            tokens: [...search.running[beam].tokens, token],
          };
        });
        // Finished candidates among the first K are offered to the finished hypotheses.
        const fullAndStopping = early === true && search.finished.length === k;
        if (search.open && !fullAndStopping) {
          const penalty = f32(length ** alpha);
          const offered = candidates.slice(0, k).filter((c) => c.done).map((c) => ({
            tokens: c.tokens,
            score: f32(c.sum / penalty),
          }));
          search.finished = [...search.finished, ...offered]
            .sort((x, y) => y.score - x.score)
            .slice(0, k);
        }
        // The best K candidates that did not finish run on (stable: earlier ranks first).
        const ranked = candidates
          .map((c, rank) => ({ c, rank, sum: c.done ? f32(c.sum + NEG) : c.sum }))
          .sort((x, y) => y.sum - x.sum || x.rank - y.rank)
          .slice(0, k);
        search.running = ranked.map(({ c, sum }) => ({ tokens: c.tokens, sum }));
        ranked.forEach(({ c }, j) => {
          sources[e * k + j] = e * k + c.beam;
          next[e * k + j] = c.token;
        });
        // Can a running beam still beat the worst finished hypothesis?
        if (search.open && search.finished.length === k) {
          const horizon = early === "never" && alpha > 0 ? maxNew : length;
          const best = f32(search.running[0].sum / f32(horizon ** alpha));
          const worst = search.finished[k - 1].score;
          search.open = best > worst;
        }
      });
      const allFull = searches.every((s) => s.finished.length === k);
      if (atMax || searches.every((s) => !s.open) || (early === true && allFull)) break;
      const reordered = selectRows(state, sources, { withinGroups: true });
      disposeDecodeState(state);
      state = reordered;
      const following = decodeStep(model, state, next);
      logits.dispose();
      disposeDecodeState(state);
      state = following.state;
      logits = following.logits;
    }
  } finally {
    logits.dispose();
    disposeDecodeState(state);
  }
  const best = searches.map((s) => s.finished[0]);
  return {
    tokens: best.map((h) => h.tokens),
    scores: best.map((h) => h.score),
    finished: best.map((h) => h.tokens.length > 0 && eos.has(h.tokens[h.tokens.length - 1])),
  };
}
