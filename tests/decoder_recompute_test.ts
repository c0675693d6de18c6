/**
 * Per-layer recomputation (`recompute: "layer"`) on the decoder-only models: the same loss and
 * prompt gradient as keeping every activation, with a lower peak of tfjs's bytes.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import type { Recompute } from "../model/kernels/recompute.ts";
import type { CausalBatch } from "../model/prompted.ts";
import { promptLoss } from "../training/objective.ts";
import { int2d, width, withModel } from "./model_helpers.ts";

await initBackend("wasm");

function batch(): CausalBatch {
  return {
    inputIds: int2d([[1, 5, 17, 33, 8, 9, 2], [0, 0, 1, 44, 60, 61, 2]]),
    inputMask: int2d([[1, 1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1, 1]]),
    labels: int2d([[-100, -100, -100, -100, 8, 9, 2], [-100, -100, -100, -100, 60, 61, 2]]),
  };
}

for (const name of ["gpt2_tiny", "llama_gqa"]) {
  Deno.test(`promptLoss() on ${name} with recompute "layer" gives the same loss and gradient in less memory`, () =>
    withModel(name, async (model) => {
      const b = batch();
      const prompt = tf.randomNormal([4, width(model)], 0, 0.5, "float32", 11);
      const measured = async (recompute: Recompute) => {
        const loss = promptLoss(model, b, { recompute });
        let out: tf.Tensor[] = [];
        const info = await tf.profile(() => {
          const { value, grad } = tf.valueAndGrad(loss)(prompt);
          out = [value, grad];
          return out;
        });
        const [value, grad] = out.map((t) => t.dataSync().slice());
        tf.dispose(out);
        return { value: value[0], grad, peak: info.peakBytes };
      };
      const none = await measured("none");
      const layer = await measured("layer");
      assert(Math.abs(layer.value - none.value) <= 1e-6 * Math.abs(none.value));
      const scale = Math.max(...none.grad.map(Math.abs));
      const diff = Math.max(...none.grad.map((g, i) => Math.abs(g - layer.grad[i])));
      assert(diff <= 1e-5 * scale, `gradients differ by ${diff} (largest ${scale})`);
      assert(layer.peak < none.peak, `peak ${layer.peak} with recompute, ${none.peak} without`);
      tf.dispose([prompt, ...Object.values(b)]);
    }));
}
