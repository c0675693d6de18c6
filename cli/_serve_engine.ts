/**
 * The server's engine: a batch of rows (see `_serve_rows.ts`) computed on the frozen model.
 * Rows are grouped by what they ask (the same label words, the same decoding, the same combine),
 * whatever their prompts, and each group is one mixed-prompt call (`rankClassify`,
 * `generateAndMatch` with a `MixedPrompts`: every row its own prompt) with the whole group in
 * one pass.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { specialIds } from "../decode/mod.ts";
import { generateAndMatch, rankClassify } from "../eval/mod.ts";
import { toTensor } from "../io/host_tensor.ts";
import type { PromptInput } from "../model/combine.ts";
import type { FrozenModel } from "../model/load.ts";
import { orThrow } from "../problem.ts";
import { key } from "../random/mod.ts";
import type { HfTokenizer } from "../tokenizer/mod.ts";
import { combineOf } from "./_run_config.ts";
import type { Row, RowResult, RunBatch, ServedPrompt } from "./_serve_rows.ts";

/**
 * What rows of one group share, as a string: the task and the combine (one call places every
 * row's prompt the same way); the prompts may differ.
 */
function signature(row: Row): string {
  const t = row.task, c = row.prompt.combine;
  if (t.kind === "classify") return JSON.stringify(["c", c, t.labels, t.lengthNormalize]);
  // A sampled request draws from its own seed's key: it is decoded alone.
  if (t.decoding.mode === "sample") return JSON.stringify(["s", c, row.request, t.seed ?? 0]);
  return JSON.stringify(["g", c, t.decoding, t.maxNewTokens]);
}

/** The rows' indices, grouped by signature, in order of first appearance. */
function groups(rows: readonly Row[]): number[][] {
  const bySig = new Map<string, number[]>();
  rows.forEach((row, i) => {
    const s = signature(row);
    bySig.set(s, [...(bySig.get(s) ?? []), i]);
  });
  return [...bySig.values()];
}

/**
 * The group's prompts as one input: the prompt itself when every row has the same, else a
 * `MixedPrompts` (each distinct prompt once, each row its index). The caller disposes `owned`.
 */
function promptsOf(rows: readonly Row[]): { input: PromptInput; owned: readonly tf.Tensor[] } {
  const index = new Map<ServedPrompt, number>();
  const owned: tf.Tensor[] = [];
  const at = Int32Array.from(rows, (r) => {
    const known = index.get(r.prompt);
    if (known !== undefined) return known;
    owned.push(orThrow(toTensor(r.prompt.values, r.prompt.name))); // [P_k, H]
    index.set(r.prompt, owned.length - 1);
    return owned.length - 1;
  });
  return { input: owned.length === 1 ? owned[0] : { prompts: owned, rows: at }, owned };
}

/** One group of rows (one task, one combine, any prompts) in one call. */
async function runGroup(
  model: FrozenModel,
  tokenizer: HfTokenizer,
  rows: readonly Row[],
): Promise<RowResult[]> {
  const first = rows[0];
  const { input: prompt, owned } = promptsOf(rows);
  const combine = combineOf(first.prompt.combine);
  const padTokenId = specialIds(model).padTokenId;
  const inputs = rows.map((r) => r.inputIds);
  try {
    const task = first.task;
    if (task.kind === "classify") {
      const ranked = await rankClassify(model, prompt, inputs, task.labels, {
        lengthNormalize: task.lengthNormalize,
        batchSize: rows.length,
        combine,
        padTokenId,
      });
      return ranked.map((r) => ({ kind: "classify", scores: r.scores, predicted: r.predicted }));
    }
    const generated = await generateAndMatch(
      model,
      prompt,
      inputs.map((inputIds) => ({ inputIds, target: "" })),
      {
        tokenizer,
        maxNewTokens: task.maxNewTokens,
        decoding: task.decoding,
        key: task.decoding.mode === "sample" ? key(task.seed ?? 0) : undefined,
        batchSize: rows.length,
        combine,
        padTokenId,
      },
    );
    return generated.map((g) => ({
      kind: "generate",
      ids: g.ids,
      text: g.prediction,
      score: g.score,
    }));
  } finally {
    tf.dispose([...owned]);
  }
}

/**
 * The engine of one frozen model: a batch's rows grouped by task and combine, each group, its
 * rows' prompts mixed, in one pass of `rankClassify` or `generateAndMatch`; the results put back
 * in the rows' order. A sampled request is a group of its own, decoded from `key(seed)`.
 *
 * @param model the frozen model
 * @param tokenizer turns generated ids into text
 * @returns the batch function; it throws what the model throws (bad ids, an exhausted heap)
 * @example
 * ```ts
 * import { hostTensor } from "../io/host_tensor.ts";
 * import { loadModel } from "../model/load.ts";
 * import { orThrow } from "../problem.ts";
 * import { loadTokenizer } from "../tokenizer/mod.ts";
 * import { disposeTree } from "../tree/tree.ts";
 * import { batchEngine } from "./_serve_engine.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/cli/model"));
 * const tokenizer = orThrow(await loadTokenizer("tests/fixtures/cli/model"));
 * const p = { name: "p", values: hostTensor("float32", [2, 8], new Float32Array(16)), combine: "prefix" } as const;
 * const q = { name: "q", values: hostTensor("float32", [1, 8], new Float32Array(8).fill(1)), combine: "prefix" } as const;
 * const task = { kind: "classify", labels: [[5, 1], [6, 1]], lengthNormalize: false } as const;
 * const run = batchEngine(model, tokenizer);
 * // Two prompts, one pass; each row as it would be alone with its prompt.
 * const both = await run([{ request: 1, prompt: p, inputIds: [7, 1], task }, { request: 2, prompt: q, inputIds: [8, 9, 1], task }]);
 * const [alone] = await run([{ request: 3, prompt: q, inputIds: [8, 9, 1], task }]);
 * assert(both[1].kind === "classify" && alone.kind === "classify");
 * both[1].scores.forEach((s, k) => assert(Math.abs(s - alone.scores[k]) < 1e-5));
 * disposeTree(model.params);
 * ```
 */
export function batchEngine(model: FrozenModel, tokenizer: HfTokenizer): RunBatch {
  return async (rows) => {
    const out: RowResult[] = new Array(rows.length);
    for (const indices of groups(rows)) {
      const results = await runGroup(model, tokenizer, indices.map((i) => rows[i]));
      indices.forEach((i, k) => out[i] = results[k]);
    }
    return out;
  };
}
