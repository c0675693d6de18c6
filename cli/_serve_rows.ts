/**
 * What the server's batcher hands the engine: rows, each naming its prompt and what to do with
 * its input (rank over label words, or generate), and what comes back per row. The engine
 * (`_serve_engine.ts`) is the one file that decides how a batch of rows is computed (rows of
 * different prompts in one mixed-prompt pass).
 *
 * @module
 */
import type { CombineKind } from "../config/mod.ts";
import type { Decoding } from "../decode/mod.ts";
import type { HostTensor } from "../io/host_tensor.ts";

/**
 * A prompt the server serves: its name in the prompt directory, the `[P, H]` array, and how it
 * meets the input; label words and their normalization as the prompt's sidecar `NAME.json` says.
 *
 * @example
 * ```ts
 * import { hostTensor } from "../io/host_tensor.ts";
 * import type { ServedPrompt } from "./_serve_rows.ts";
 * import assert from "node:assert/strict";
 * const p: ServedPrompt = {
 *   name: "spam", values: hostTensor("float32", [2, 4], new Float32Array(8)), combine: "prefix",
 * };
 * assert.equal(p.values.shape[0], 2);
 * ```
 */
export interface ServedPrompt {
  /** The name requests give (the file name without its extension). */
  readonly name: string;
  /** The prompt, float32 `[P, H]`. */
  readonly values: HostTensor;
  /** Where the prompt goes (the sidecar's `combine`, default `prefix`). */
  readonly combine: CombineKind;
  /** The label words of `classify` when a request gives none (the sidecar's `labels`). */
  readonly labels?: readonly string[];
  /** Rank by the mean token log-likelihood (the sidecar's `length_normalize`, default false). */
  readonly lengthNormalize?: boolean;
}

/**
 * What a row asks for: ranking label words, or generating.
 *
 * @example
 * ```ts
 * import type { RowTask } from "./_serve_rows.ts";
 * import assert from "node:assert/strict";
 * const t: RowTask = { kind: "classify", labels: [[30, 1], [31, 1]], lengthNormalize: false };
 * assert.equal(t.kind, "classify");
 * ```
 */
export type RowTask =
  | {
    readonly kind: "classify";
    /** Each label's token ids (with the EOS, as targets are encoded). */
    readonly labels: readonly (readonly number[])[];
    /** Score by the mean token log-likelihood instead of the sum. */
    readonly lengthNormalize: boolean;
  }
  | {
    readonly kind: "generate";
    /** How to decode. */
    readonly decoding: Decoding;
    /** The most tokens to generate. */
    readonly maxNewTokens: number;
    /**
     * Sampling's seed; every input of a request draws from the key of its seed, so a sampled
     * request is decoded on its own (its result does not depend on what it was batched with).
     */
    readonly seed?: number;
  };

/**
 * One row of a batch: a prompt, an input's token ids and the task; `request` tells the rows of
 * one request apart from another's.
 *
 * @example
 * ```ts
 * import { hostTensor } from "../io/host_tensor.ts";
 * import type { Row } from "./_serve_rows.ts";
 * import assert from "node:assert/strict";
 * const prompt = { name: "a", values: hostTensor("float32", [1, 4], new Float32Array(4)), combine: "prefix" } as const;
 * const row: Row = { request: 7, prompt, inputIds: [5, 6, 1], task: { kind: "generate", decoding: { mode: "greedy" }, maxNewTokens: 4 } };
 * assert.equal(row.inputIds.length, 3);
 * ```
 */
export interface Row {
  /** The request the row belongs to (a number unique while the server runs). */
  readonly request: number;
  /** The row's prompt. */
  readonly prompt: ServedPrompt;
  /** The input's token ids (special tokens included, not empty). */
  readonly inputIds: readonly number[];
  /** What to compute. */
  readonly task: RowTask;
}

/**
 * One row's result.
 *
 * @example
 * ```ts
 * import type { RowResult } from "./_serve_rows.ts";
 * import assert from "node:assert/strict";
 * const r: RowResult = { kind: "classify", scores: [-3.5, -1.25], predicted: 1 };
 * assert.equal(r.kind === "classify" && r.predicted, 1);
 * ```
 */
export type RowResult =
  | { readonly kind: "classify"; readonly scores: readonly number[]; readonly predicted: number }
  | {
    readonly kind: "generate";
    readonly ids: readonly number[];
    readonly text: string;
    readonly score: number;
  };

/**
 * Computes a batch of rows, in order: one result per row. It may throw (or reject); then every
 * request of the batch gets a 500 and the server goes on.
 *
 * @example
 * ```ts
 * import type { RunBatch } from "./_serve_rows.ts";
 * import assert from "node:assert/strict";
 * const none: RunBatch = (rows) => Promise.resolve(rows.map(() => ({ kind: "classify", scores: [0], predicted: 0 })));
 * assert.deepEqual(await none([]), []);
 * ```
 */
export type RunBatch = (rows: readonly Row[]) => Promise<readonly RowResult[]>;
