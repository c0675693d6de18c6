/**
 * The server's engine: a batch of rows (see `_serve_rows.ts`) computed on the frozen model.
 * Rows are grouped by prompt and by what they ask (the same label words, the same decoding),
 * and each group is one call of the single-prompt functions (`rankClassify`,
 * `generateAndMatch`) with the whole group in one pass. A mixed-prompt batch (one pass over rows
 * of several prompts) would replace this file and nothing else.
 *
 * @module
 */
import { specialIds } from "../decode/mod.ts";
import { generateAndMatch, rankClassify } from "../eval/mod.ts";
import { toTensor } from "../io/host_tensor.ts";
import type { FrozenModel } from "../model/load.ts";
import { orThrow } from "../problem.ts";
import { key } from "../random/mod.ts";
import type { HfTokenizer } from "../tokenizer/mod.ts";
import { combineOf } from "./_run_config.ts";
import type { Row, RowResult, RunBatch, ServedPrompt } from "./_serve_rows.ts";

/** What rows of one group share, as a string; rows of one prompt and one signature go together. */
function signature(row: Row): string {
  const t = row.task;
  if (t.kind === "classify") return JSON.stringify(["c", t.labels, t.lengthNormalize]);
  // A sampled request draws from its own seed's key: it is decoded alone.
  if (t.decoding.mode === "sample") return JSON.stringify(["s", row.request, t.seed ?? 0]);
  return JSON.stringify(["g", t.decoding, t.maxNewTokens]);
}

/** The rows' indices, grouped by prompt (the object: a reloaded prompt is another) and signature. */
function groups(rows: readonly Row[]): number[][] {
  const byPrompt = new Map<ServedPrompt, Map<string, number[]>>();
  rows.forEach((row, i) => {
    const bySig = byPrompt.get(row.prompt) ?? new Map<string, number[]>();
    byPrompt.set(row.prompt, bySig);
    const s = signature(row);
    bySig.set(s, [...(bySig.get(s) ?? []), i]);
  });
  return [...byPrompt.values()].flatMap((m) => [...m.values()]);
}

/** One group of rows (one prompt, one task) in one call. */
async function runGroup(
  model: FrozenModel,
  tokenizer: HfTokenizer,
  rows: readonly Row[],
): Promise<RowResult[]> {
  const first = rows[0];
  const prompt = orThrow(toTensor(first.prompt.values, first.prompt.name)); // [P, H]
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
    prompt.dispose();
  }
}

/**
 * The engine of one frozen model: a batch's rows grouped by prompt and task, each group in one
 * pass of `rankClassify` or `generateAndMatch`, the results put back in the rows' order. A
 * sampled request is a group of its own, decoded from `key(seed)`.
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
 * import { groupingEngine } from "./_serve_engine.ts";
 * import assert from "node:assert/strict";
 * const model = orThrow(await loadModel("tests/fixtures/cli/model"));
 * const tokenizer = orThrow(await loadTokenizer("tests/fixtures/cli/model"));
 * const prompt = { name: "p", values: hostTensor("float32", [2, 8], new Float32Array(16)), combine: "prefix" } as const;
 * const task = { kind: "classify", labels: [[5, 1], [6, 1]], lengthNormalize: false } as const;
 * const run = groupingEngine(model, tokenizer);
 * const out = await run([{ request: 1, prompt, inputIds: [7, 1], task }, { request: 2, prompt, inputIds: [8, 9, 1], task }]);
 * assert(out.length === 2 && out[1].kind === "classify" && out[1].scores.length === 2);
 * disposeTree(model.params);
 * ```
 */
export function groupingEngine(model: FrozenModel, tokenizer: HfTokenizer): RunBatch {
  return async (rows) => {
    const out: RowResult[] = new Array(rows.length);
    for (const indices of groups(rows)) {
      const results = await runGroup(model, tokenizer, indices.map((i) => rows[i]));
      indices.forEach((i, k) => out[i] = results[k]);
    }
    return out;
  };
}
