/**
 * The decoding state: what a model needs to compute the next token's logits, as a value of
 * tensors that {@link disposeDecodeState} frees and {@link selectRows} reorders (beam search).
 *
 * Two kinds: a **cached** state holds the incremental key/value cache, so one more token costs one
 * token's work; a **full** state holds the whole sequence so far and recomputes everything at
 * each step (the reference that cached decoding is tested against).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Architecture, KVCache } from "../model/types.ts";

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * A decoding state over `B` rows. Every tensor belongs to the state: {@link disposeDecodeState} frees
 * them, and a step returns a new state (the caller disposes the old one).
 *
 * - `mask`: T5, the encoder mask `[B, P + T]` (prompt included); decoder-only, the attention
 *   mask over every position so far `[B, P + T + steps]`, 1 at the prompt, real tokens and
 *   generated tokens.
 * - `encoderStates`: T5 only, `[B, P + T, H]`.
 * - cached: `cache`, the model's key/value cache (T5: self-attention entries of each decoder
 *   layer, then cross-attention ones).
 * - full: `sequence`, T5's decoder input ids so far `[B, S]` int32 (starting with
 *   `decoder_start_token_id`); decoder-only, the input embeddings so far `[B, W, H]`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { type DecodeState, disposeDecodeState } from "./state.ts";
 * import assert from "node:assert/strict";
 * const state: DecodeState = {
 *   _tag: "Full",
 *   architecture: "gpt2",
 *   mask: tf.ones([1, 3], "int32"),
 *   sequence: tf.zeros([1, 3, 4]),
 * };
 * assert(state.mask.shape[0] === 1);
 * disposeDecodeState(state);
 * ```
 */
export type DecodeState =
  | {
    readonly _tag: "Cached";
    readonly architecture: Architecture;
    readonly mask: tf.Tensor;
    readonly encoderStates?: tf.Tensor;
    readonly cache: KVCache;
  }
  | {
    readonly _tag: "Full";
    readonly architecture: Architecture;
    readonly mask: tf.Tensor;
    readonly encoderStates?: tf.Tensor;
    readonly sequence: tf.Tensor;
  };

/** Every tensor of a state, once each. */
function tensorsOf(state: DecodeState): tf.Tensor[] {
  const out = [state.mask];
  if (state.encoderStates !== undefined) out.push(state.encoderStates);
  if (state._tag === "Cached") {
    for (const layer of state.cache) out.push(layer.key, layer.value);
  } else {
    out.push(state.sequence);
  }
  return out;
}

/**
 * Disposes every tensor of a state.
 *
 * @param state the state (not usable afterwards)
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { disposeDecodeState } from "./state.ts";
 * import assert from "node:assert/strict";
 * const before = tf.memory().numTensors;
 * const key = tf.zeros([1, 1, 2, 4]);
 * const value = tf.zeros([1, 1, 2, 4]);
 * disposeDecodeState({ _tag: "Cached", architecture: "llama", mask: tf.ones([1, 2], "int32"), cache: [{ key, value }] });
 * assert(tf.memory().numTensors === before);
 * ```
 */
export function disposeDecodeState(state: DecodeState): void {
  tf.dispose(tensorsOf(state));
}

/**
 * The number of rows of a state.
 *
 * @param state the state
 * @returns `B`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { disposeDecodeState, stateRows } from "./state.ts";
 * import assert from "node:assert/strict";
 * const state = { _tag: "Full", architecture: "t5", mask: tf.ones([3, 2], "int32"), sequence: tf.zeros([3, 1], "int32") } as const;
 * assert(stateRows(state) === 3);
 * disposeDecodeState(state);
 * ```
 */
export function stateRows(state: DecodeState): number {
  return state.mask.shape[0];
}

/**
 * Options of {@link selectRows}.
 *
 * @example
 * ```ts
 * import type { SelectOptions } from "./state.ts";
 * import assert from "node:assert/strict";
 * const beams: SelectOptions = { withinGroups: true };
 * assert(beams.withinGroups);
 * ```
 */
export interface SelectOptions {
  /**
   * The rows only move between rows that share their input (the beams of one example): the
   * input's part of the state (encoder states and mask, T5's cross-attention keys and values,
   * a decoder-only mask) is then the same for the source and the target row and is kept as is;
   * only what was generated (self-attention keys and values, the full sequence) is gathered.
   * Default false: everything is gathered.
   */
  readonly withinGroups?: boolean;
}

/**
 * A new state whose row `i` is row `rows[i]` of the given one: repeats rows (one per beam) or
 * reorders them (beams that survive a step). The given state is left as it was; the caller
 * disposes it when done.
 *
 * @param state the state, `B` rows
 * @param rows the source row of each new row, integers in `[0, B)`
 * @param options whether only the generated part needs gathering
 * @returns a state of `rows.length` rows
 * @throws {RangeError} when a row is not an integer in `[0, B)`
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { disposeDecodeState, selectRows } from "./state.ts";
 * import assert from "node:assert/strict";
 * const state = { _tag: "Full", architecture: "t5", mask: tf.ones([2, 2], "int32"), sequence: tf.tensor2d([[0, 5], [0, 6]], [2, 2], "int32") } as const;
 * const beams = selectRows(state, [1, 1, 0]);
 * assert(beams._tag === "Full" && beams.sequence.arraySync().toString() === "0,6,0,6,0,5");
 * disposeDecodeState(state);
 * disposeDecodeState(beams);
 * ```
 */
export function selectRows(
  state: DecodeState,
  rows: ArrayLike<number>,
  options: SelectOptions = {},
): DecodeState {
  const b = stateRows(state);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (!Number.isInteger(r) || r < 0 || r >= b) {
      throw new RangeError(`selectRows: row ${i} selects ${r}; expected an integer in [0, ${b})`);
    }
  }
  const within = options.withinGroups ?? false;
  return tf.tidy(() => {
    const index = tf.tensor1d(Int32Array.from(rows), "int32"); // [B']
    const take = (t: tf.Tensor) => tf.gather(t, index); // [B, ...] → [B', ...]
    const shared = (t: tf.Tensor) => within ? tf.clone(t) : take(t);
    const mask = shared(state.mask);
    const encoderStates = state.encoderStates === undefined
      ? undefined
      : shared(state.encoderStates);
    const base = {
      architecture: state.architecture,
      mask,
      ...(encoderStates === undefined ? {} : { encoderStates }),
    };
    if (state._tag === "Full") {
      return { _tag: "Full", ...base, sequence: take(state.sequence) } as const;
    }
    // T5's cache: self-attention entries first (generated tokens), then cross-attention ones
    // (the input's).
    const generated = state.architecture === "t5" ? state.cache.length / 2 : state.cache.length;
    const cache = state.cache.map((layer, i) => {
      const pick = i < generated ? take : shared;
      return { key: pick(layer.key), value: pick(layer.value) };
    });
    return { _tag: "Cached", ...base, cache } as const;
  }) as unknown as DecodeState;
}
