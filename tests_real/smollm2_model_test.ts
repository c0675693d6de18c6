/**
 * The real SmolLM2-135M-Instruct GGUF (Q4_1) against transformers: it loads, `inspect` lists its
 * tensors, and its logits match those transformers computes from the same file
 * (tests/fixtures/gguf/smollm2_logits.safetensors, written by tools/make_gguf_model_fixtures.py).
 * Run with `deno task test:real`, which fetches the model first (tools/fetch_models.ts).
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import { openSafetensors } from "../io/safetensors.ts";
import { toTensor } from "../io/host_tensor.ts";
import { loadModel } from "../model/load.ts";
import { llamaEmbed, llamaForward } from "../model/llama/mod.ts";
import { orThrow } from "../problem.ts";
import { countParams } from "../tree/tree.ts";

await initBackend("wasm");

const ROOT = new URL("../", import.meta.url);
const GGUF = new URL(".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf", ROOT).pathname;
const REFS = new URL("tests/fixtures/gguf/smollm2_logits.safetensors", ROOT).pathname;

const model = orThrow(await loadModel(GGUF));
if (model.architecture !== "llama") throw new Error(`${GGUF} is not a LLaMA-family model`);
const { config, params } = model;

async function refs(): Promise<Map<string, tf.Tensor>> {
  const file = orThrow(await openSafetensors(REFS));
  try {
    const out = new Map<string, tf.Tensor>();
    for (const e of file.entries) {
      out.set(e.name, orThrow(toTensor(orThrow(await file.read(e.name)))));
    }
    return out;
  } finally {
    file.close();
  }
}

Deno.test("SmolLM2's GGUF loads as a tied LLaMA model of the published sizes", () => {
  assert.equal(model.format, "gguf");
  assert.deepEqual(
    [config.numLayers, config.hiddenSize, config.numHeads, config.numKvHeads, config.vocabSize],
    [30, 576, 9, 3, 49152],
  );
  assert(config.tieWordEmbeddings);
  assert.equal(config.ropeTheta, 100000);
  assert.equal(countParams(params), 134_515_008);
});

Deno.test("cli.ts inspect prints the GGUF's 272 tensors", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli.ts", "inspect", GGUF],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const lines = text.trimEnd().split("\n");
  assert.match(lines[0], /^name\s+dtype\s+shape/);
  assert.equal(lines.length - 1, 272);
  assert.match(text, /^token_embd\.weight\s+float32\s+\[49152, 576\]/m);
  assert.match(text, /^blk\.29\.ffn_down\.weight\s+float32\s+\[576, 1536\]/m);
});

Deno.test("SmolLM2's last-token logits match transformers' within 1e-3, with and without a prompt", async () => {
  const r = await refs();
  const get = (k: string) => r.get(k)!;
  const ids = get("ids"), mask = get("mask"), prompt = get("prompt"); // [B, T], [B, T], [P, H]
  const [b] = ids.shape as number[];
  const [p, h] = prompt.shape as number[];
  const last = (mask.sum(1).dataSync() as Int32Array).map((n) => n - 1); // each row's last token
  const logitsAt = (options: Parameters<typeof llamaForward>[2], offset: number) => {
    const out = llamaForward(params, config, options);
    const rows = tf.tidy(() =>
      tf.stack(
        [...last].map((t, i) => out.logits.slice([i, offset + t, 0], [1, 1, -1]).reshape([-1])),
      )
    ); // [B, V]
    tf.dispose([out.logits, ...out.cache.flatMap((c) => [c.key, c.value])]);
    const values = rows.arraySync() as number[][];
    rows.dispose();
    return values;
  };
  const plain = logitsAt({ inputIds: ids, attentionMask: mask }, 0);
  const embeds = tf.tidy(() =>
    tf.concat([tf.tile(prompt.reshape([1, p, h]), [b, 1, 1]), llamaEmbed(params, ids)], 1)
  ); // [B, P + T, H]
  const embedsMask = tf.tidy(() => tf.concat([tf.ones([b, p], "int32"), mask], 1)); // [B, P + T]
  const prompted = logitsAt({ inputsEmbeds: embeds, attentionMask: embedsMask }, p);
  tf.dispose([embeds, embedsMask]);
  const topIds = get("top_ids").arraySync() as number[][][]; // [2, B, K]
  const topLogits = get("top_logits").arraySync() as number[][][];
  const probeIds = get("probe_ids").arraySync() as number[]; // [N]
  const probeLogits = get("probe_logits").arraySync() as number[][][]; // [2, B, N]
  let worst = 0;
  [plain, prompted].forEach((ours, c) => {
    for (let i = 0; i < b; i++) {
      topIds[c][i].forEach((id, k) => {
        worst = Math.max(worst, Math.abs(ours[i][id] - topLogits[c][i][k]));
      });
      probeIds.forEach((id, k) => {
        worst = Math.max(worst, Math.abs(ours[i][id] - probeLogits[c][i][k]));
      });
      const argmax = ours[i].indexOf(Math.max(...ours[i]));
      assert.equal(argmax, topIds[c][i][0], `condition ${c}, row ${i}: the top token`);
    }
  });
  console.log(`max |logit - transformers| = ${worst.toExponential(2)}`);
  assert(worst < 1e-3, `max difference ${worst}`);
  tf.dispose([...r.values()]);
});
