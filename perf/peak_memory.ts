/**
 * Measures the peak memory of one training step (the prompt's loss and gradient) and of one
 * evaluation batch (rank scores, no tape) against `estimatePeakBytes`: on the fixture models and
 * on random models of SmolLM2-135M's shape (LLaMA, 30 layers, width 576, vocabulary 49,152).
 * Peaks are tfjs's (`tf.profile`'s `peakBytes`, parameters included) and the WASM heap's size
 * after the step (it never shrinks: run one case per process for the heap). Prints one JSON line
 * per case; the table of `training/memory.ts` comes from these.
 *
 * ```sh
 * deno run -A perf/peak_memory.ts [--only fixtures|smollm2] [--batch 1,2,4]
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { parseArgs } from "node:util";
import { initBackend } from "../backend.ts";
import { embeddingTable, type FrozenModel, loadModel } from "../model/load.ts";
import { llamaParamShapes, parseLlamaConfig } from "../model/llama/config.ts";
import type { LlamaParams } from "../model/llama/forward.ts";
import { disposeTree, unflatten } from "../tree/tree.ts";
import { orThrow } from "../problem.ts";
import { promptLoss } from "../training/objective.ts";
import { valueAndGradOfPrompt } from "../training/grad.ts";
import { labelScores } from "../model/label_scores.ts";
import { collateChoices, collateExamples } from "../data/batch.ts";
import type { Recompute } from "../model/kernels/recompute.ts";
import { estimatePeakBytes, type StepShape } from "../training/memory.ts";
import { hashUniform } from "./t5_small.ts";

/** SmolLM2-135M's config (its `config.json`), the weights random. */
export const SMOLLM2_CONFIG: Readonly<Record<string, unknown>> = {
  vocab_size: 49152,
  hidden_size: 576,
  intermediate_size: 1536,
  num_hidden_layers: 30,
  num_attention_heads: 9,
  num_key_value_heads: 3,
  rms_norm_eps: 1e-5,
  rope_theta: 100000,
  tie_word_embeddings: true,
  bos_token_id: 1,
  eos_token_id: 2,
  pad_token_id: 2,
};

/** A random model of SmolLM2-135M's shape (uniform weights, RMSNorm scales 1). */
export function randomSmolLm2(seed = 2024): FrozenModel {
  const config = orThrow(parseLlamaConfig({ ...SMOLLM2_CONFIG }, "smollm2-135m-random"));
  let i = 0;
  const leaves = [...llamaParamShapes(config)].map(([path, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const bound = path.endsWith("embedding") ? 0.1 : Math.sqrt(3 / shape[0]);
    const t = path.endsWith("/scale")
      ? tf.ones([...shape])
      : tf.tensor(hashUniform(n, seed + i++, bound), [...shape], "float32");
    return [path, t] as const;
  });
  const params = unflatten(leaves) as unknown as LlamaParams;
  return { architecture: "llama", config, params, format: "huggingface" } as FrozenModel;
}

const heapBytes = () =>
  (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;

/** `n` token ids from `from` on, inside a vocabulary of `v` and past the special ids 0-2. */
const ids = (n: number, from: number, v: number) =>
  Array.from({ length: n }, (_, j) => 3 + (from + j) % (v - 3));

/** Measures one case and prints it. */
async function measure(
  name: string,
  model: FrozenModel,
  shape: StepShape,
  phase: "train" | "eval",
) {
  const [v, h] = embeddingTable(model).shape as number[];
  const prompt = tf.randomNormal([shape.promptLength, h], 0, 0.5, "float32", 3);
  const inputs = Array.from({ length: shape.batchSize }, (_, r) => ids(shape.inputLength, r, v));
  const target = ids(shape.targetLength, 100, v);
  const heapBefore = heapBytes();
  const t0 = performance.now();
  let info: Awaited<ReturnType<typeof tf.profile>>;
  if (phase === "train") {
    const batch = collateExamples(
      model,
      inputs.map((inputIds) => ({ inputIds, targetIds: target })),
    );
    const loss = promptLoss(model, batch, { recompute: shape.recompute });
    info = await tf.profile(() => {
      const { value, grad } = valueAndGradOfPrompt(loss)(prompt);
      value.dispose();
      return grad;
    });
    tf.dispose(Object.values(batch));
  } else {
    const classes = Array.from(
      { length: shape.labels ?? 2 },
      (_, c) => ids(shape.targetLength, 200 + c, v),
    );
    const choices = collateChoices(model, inputs, classes);
    info = await tf.profile(() => tf.tidy(() => labelScores(model, prompt, choices)));
    tf.dispose(choices.flatMap((c) => Object.values(c)));
  }
  const seconds = (performance.now() - t0) / 1000;
  tf.dispose(info.result);
  prompt.dispose();
  const labels = phase === "eval" ? shape.labels ?? 2 : 1; // rank scoring: two labels
  const estimate = estimatePeakBytes(model, { ...shape, labels }, phase);
  const mib = (n: number) => Number((n / 2 ** 20).toFixed(2));
  console.log(JSON.stringify({
    name,
    phase,
    ...shape,
    estimateMiB: mib(estimate.total),
    peakMiB: mib(info.peakBytes),
    heapMiB: mib(heapBytes()),
    heapBeforeMiB: mib(heapBefore),
    overPeak: Number((estimate.total / info.peakBytes).toFixed(2)),
    overHeap: Number((estimate.total / heapBytes()).toFixed(2)),
    seconds: Number(seconds.toFixed(1)),
  }));
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      only: { type: "string", default: "" },
      batch: { type: "string", default: "1,2" },
      recompute: { type: "string", default: "none" },
      phase: { type: "string", default: "train,eval" },
      input: { type: "string", default: "64" },
      target: { type: "string", default: "4" },
    },
  });
  orThrow(await initBackend("wasm"));
  const recompute = values.recompute as Recompute;
  const batches = values.batch.split(",").map(Number);
  if (values.only !== "smollm2") {
    for (const name of ["t5_v1_1", "gpt2_tiny", "llama_gqa"]) {
      const dir = new URL(`../tests/fixtures/models/${name}`, import.meta.url).pathname;
      const model = orThrow(await loadModel(dir));
      for (const phase of ["train", "eval"] as const) {
        for (const batchSize of [2, 8]) {
          const shape = { batchSize, inputLength: 16, targetLength: 4, promptLength: 6, recompute };
          await measure(name, model, shape, phase);
        }
      }
      disposeTree(model.params);
    }
  }
  if (values.only !== "fixtures") {
    const model = randomSmolLm2();
    const inputLength = Number(values.input), targetLength = Number(values.target);
    for (const phase of values.phase.split(",") as ("train" | "eval")[]) {
      for (const batchSize of batches) {
        const shape = { batchSize, inputLength, targetLength, promptLength: 20, recompute };
        await measure("smollm2-shaped", model, shape, phase);
      }
    }
    disposeTree(model.params);
  }
}
