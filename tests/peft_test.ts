import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { initBackend } from "../backend.ts";
import { hostTensor, openSafetensors, toTensor } from "../io/mod.ts";
import { type FrozenModel, loadModel } from "../model/load.ts";
import { orThrow } from "../problem.ts";
import { disposeTree } from "../tree/tree.ts";
import { adam, disposeState } from "../training/optim/mod.ts";
import { promptLogits, promptLoss } from "../training/objective.ts";
import type { PromptBatch } from "../model/prompted.ts";
import { valueAndGradOfPrompt } from "../training/grad.ts";
import {
  ADAPTER_CONFIG,
  ADAPTER_WEIGHTS,
  type PeftAdapterOptions,
  peftOptionsFor,
  readPeftAdapter,
  writePeftAdapter,
} from "../training/peft.ts";

await initBackend("wasm");

// References from tools/make_peft_fixtures.py (PEFT 0.21.2, transformers 5.23.0, torch 2.13.0).
const FIXTURES = new URL("./fixtures/peft/", import.meta.url).pathname;
const modelDir = (name: string) => new URL(`./fixtures/models/${name}`, import.meta.url).pathname;
const STEPS = 20;
// Measured on the WASM backend: losses within 2.2e-7 relative at every step, final prompts within
// 7.2e-7 (T5) and 3.3e-7 (GPT-2) absolute.
const LOSS_RTOL = 1e-4;
const PROMPT_ATOL = 1e-5;
const LOGITS_ATOL = 1e-4;

async function withoutLeaks(body: () => Promise<void>): Promise<void> {
  const before = tf.memory().numTensors;
  await body();
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
}

/** Every tensor of a fixture file, as tfjs tensors (int ids as int32, floats as float32). */
async function readRefs(file: string): Promise<Map<string, tf.Tensor>> {
  const source = orThrow(await openSafetensors(`${FIXTURES}/${file}`));
  const out = new Map<string, tf.Tensor>();
  try {
    for (const e of source.entries) {
      out.set(e.name, orThrow(toTensor(orThrow(await source.read(e.name)), e.name)));
    }
  } finally {
    source.close();
  }
  return out;
}

function batchFrom(refs: Map<string, tf.Tensor>, prefix: string): PromptBatch {
  const get = (k: string) => refs.get(`${prefix}_${k}`);
  const targetIds = get("target_ids");
  if (targetIds !== undefined) {
    return {
      inputIds: get("input_ids")!,
      inputMask: get("input_mask")!,
      targetIds,
      targetMask: get("target_mask")!,
    };
  }
  return { inputIds: get("input_ids")!, inputMask: get("input_mask")!, labels: get("labels")! };
}

async function withModel(
  name: string,
  body: (model: FrozenModel, refs: Map<string, tf.Tensor>) => Promise<void>,
): Promise<void> {
  const model = orThrow(await loadModel(modelDir(name)));
  const refs = await readRefs(`${name}.safetensors`);
  try {
    await body(model, refs);
  } finally {
    tf.dispose([...refs.values()]);
    disposeTree(model.params);
  }
}

/** Max |a − b| over the positions where `keep` (`[B, T]`) is non-zero; `a`, `b` are `[B, T, V]`. */
function maxDiffAt(a: tf.Tensor, b: tf.Tensor, keep: tf.Tensor): number {
  return tf.tidy(() => {
    const d = tf.max(tf.abs(tf.sub(a, b)), -1); // [B, T]
    return tf.max(tf.mul(d, tf.cast(tf.notEqual(keep, 0), "float32"))).dataSync()[0];
  });
}

/**
 * The logits to compare with PEFT's: T5's decoder logits at real targets; GPT-2's at the input
 * positions' real tokens (PEFT's `[B, P + T, V]` has the prompt's `P` first).
 */
function compareLogits(
  model: FrozenModel,
  batch: PromptBatch,
  prompt: tf.Tensor,
  theirs: tf.Tensor,
): number {
  const ours = promptLogits(model, batch)(prompt);
  try {
    if ("targetIds" in batch) return maxDiffAt(ours, theirs, batch.targetMask);
    const [b, width, v] = theirs.shape;
    const p = prompt.shape[0];
    const atInputs = tf.slice(theirs, [0, p, 0], [b, width - p, v]); // [B, T, V]
    const d = maxDiffAt(ours, atInputs, batch.inputMask);
    atInputs.dispose();
    return d;
  } finally {
    ours.dispose();
  }
}

for (const name of ["t5_v1_1", "gpt2_tiny"]) {
  Deno.test(`promptLoss() with adam() replays PEFT's ${STEPS} prompt-tuning steps on ${name}`, async () => {
    await withoutLeaks(() =>
      withModel(name, async (model, refs) => {
        const batches = [batchFrom(refs, "batch0"), batchFrom(refs, "batch1")];
        const steps = batches.map((b) => valueAndGradOfPrompt(promptLoss(model, b)));
        const opt = adam({ learningRate: 1e-2 });
        let prompt = tf.clone(refs.get("prompt_init")!);
        let state = opt.init(prompt);
        const losses: number[] = [];
        for (let i = 0; i < STEPS; i++) {
          const { value, grad } = steps[i % 2](prompt);
          const next = opt.update(grad, state, prompt);
          losses.push((await value.data())[0]);
          tf.dispose([value, grad, prompt]);
          disposeState(state);
          ({ params: prompt, state } = next);
        }
        const expected = refs.get("losses")!.dataSync();
        const worst = Math.max(...losses.map((l, i) => Math.abs(l - expected[i]) / expected[i]));
        const drift = tf.tidy(() =>
          tf.max(tf.abs(tf.sub(prompt, refs.get("final_prompt")!))).dataSync()[0]
        );
        tf.dispose(prompt);
        disposeState(state);
        assert.ok(worst <= LOSS_RTOL, `loss differs by ${worst} relative`);
        assert.ok(drift <= PROMPT_ATOL, `final prompt differs by ${drift}`);
      })
    );
  });
}

for (const name of ["t5_v1_1", "gpt2_tiny"]) {
  Deno.test(`readPeftAdapter() loads PEFT's saved ${name} adapter and gives PEFT's logits`, async () => {
    await withoutLeaks(() =>
      withModel(name, async (model, refs) => {
        const adapter = orThrow(await readPeftAdapter(`${FIXTURES}/peft_${name}`));
        const seq2seq = model.architecture === "t5";
        assert.equal(adapter.config.taskType, seq2seq ? "SEQ_2_SEQ_LM" : "CAUSAL_LM");
        assert.equal(adapter.config.numTransformerSubmodules, seq2seq ? 2 : 1);
        assert.deepEqual(adapter.prompt.shape, refs.get("final_prompt")!.shape);
        const prompt = orThrow(toTensor(adapter.prompt));
        // The encoder's first P rows of PEFT's [2P, H] are exactly its trained prompt.
        assert.deepEqual(prompt.dataSync(), refs.get("final_prompt")!.dataSync());
        const diff = compareLogits(
          model,
          batchFrom(refs, "eval"),
          prompt,
          refs.get("eval_logits")!,
        );
        prompt.dispose();
        assert.ok(diff <= LOGITS_ATOL, `logits differ by ${diff}`);
      })
    );
  });
}

const OURS = [
  { dir: "ours_t5_v1_1_encoder_only", model: "t5_v1_1", layout: "encoder-only" as const },
  { dir: "ours_t5_v1_1_peft", model: "t5_v1_1", layout: "peft" as const },
  { dir: "ours_gpt2_tiny", model: "gpt2_tiny", layout: undefined },
];

for (const o of OURS) {
  Deno.test(`writePeftAdapter() writes ${o.dir} byte for byte, and PEFT's logits from it match ours`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      await withoutLeaks(() =>
        withModel(o.model, async (model, refs) => {
          const prompt = refs.get("final_prompt")!;
          const options: PeftAdapterOptions = {
            ...peftOptionsFor(model),
            baseModelNameOrPath: `tests/fixtures/models/${o.model}`,
            seq2seqLayout: o.layout,
          };
          orThrow(await writePeftAdapter(`${dir}/adapter`, prompt, options));
          // The committed directory, which PEFT loaded (step 3 of make_peft_fixtures.py), is
          // what the writer produces today.
          for (const file of [ADAPTER_CONFIG, ADAPTER_WEIGHTS]) {
            assert.deepEqual(
              await Deno.readFile(`${dir}/adapter/${file}`),
              await Deno.readFile(`${FIXTURES}/${o.dir}/${file}`),
              file,
            );
          }
          const theirs = await readRefs("ours_logits.safetensors");
          const diff = compareLogits(
            model,
            batchFrom(refs, "eval"),
            prompt,
            theirs.get(`${o.dir}_logits`)!,
          );
          tf.dispose([...theirs.values()]);
          assert.ok(diff <= LOGITS_ATOL, `logits differ by ${diff}`);
        })
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("writePeftAdapter() writes exactly what PEFT's save_pretrained writes for a causal LM", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const adapter = orThrow(await readPeftAdapter(`${FIXTURES}/peft_gpt2_tiny`));
    orThrow(
      await writePeftAdapter(`${dir}/a`, adapter.prompt, {
        taskType: "CAUSAL_LM",
        tokenDim: 24,
        numLayers: 2,
        numAttentionHeads: 3,
        baseModelNameOrPath: "tests/fixtures/models/gpt2_tiny",
      }),
    );
    for (const file of [ADAPTER_CONFIG, ADAPTER_WEIGHTS]) {
      assert.deepEqual(
        await Deno.readFile(`${dir}/a/${file}`),
        await Deno.readFile(`${FIXTURES}/peft_gpt2_tiny/${file}`),
        file,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const SMALL: PeftAdapterOptions = {
  taskType: "SEQ_2_SEQ_LM",
  tokenDim: 2,
  numLayers: 1,
  numAttentionHeads: 1,
};
const small = () => hostTensor("float32", [3, 2], new Float32Array([1, 2, 3, 4, 5, 6]));

Deno.test("writePeftAdapter() round-trips both seq2seq layouts and a tensor prompt", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const layout of ["encoder-only", "peft"] as const) {
      orThrow(
        await writePeftAdapter(`${dir}/${layout}`, small(), { ...SMALL, seq2seqLayout: layout }),
      );
      const r = orThrow(await readPeftAdapter(`${dir}/${layout}`));
      assert.deepEqual([...r.prompt.data], [1, 2, 3, 4, 5, 6]);
      assert.equal(r.config.numTransformerSubmodules, layout === "peft" ? 2 : 1);
      assert.equal(r.config.numVirtualTokens, 3);
    }
    const json = JSON.parse(await Deno.readTextFile(`${dir}/peft/${ADAPTER_CONFIG}`));
    assert.equal(json.num_transformer_submodules, 2);
    const weights = orThrow(await openSafetensors(`${dir}/peft/${ADAPTER_WEIGHTS}`));
    assert.deepEqual(weights.entries.map((e) => [e.name, e.shape.join()]), [[
      "prompt_embeddings",
      "6,2",
    ]]);
    weights.close();
    await withoutLeaks(async () => {
      const t = tf.tensor2d([[0.5, -1]]);
      orThrow(await writePeftAdapter(`${dir}/tensor`, t, { ...SMALL, taskType: "CAUSAL_LM" }));
      t.dispose();
    });
    const r = orThrow(await readPeftAdapter(`${dir}/tensor`));
    assert.deepEqual([...r.prompt.data], [0.5, -1]);
    assert.equal(r.config.taskType, "CAUSAL_LM");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writePeftAdapter() replaces an adapter atomically and keeps other files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    orThrow(await writePeftAdapter(`${dir}/nested/a`, small(), SMALL));
    // A new directory appears by one rename: nothing but it is left beside it.
    assert.deepEqual([...Deno.readDirSync(`${dir}/nested`)].map((e) => e.name), ["a"]);
    await Deno.writeTextFile(`${dir}/nested/a/README.md`, "mine");
    const next = hostTensor("float32", [1, 2], new Float32Array([7, 8]));
    orThrow(await writePeftAdapter(`${dir}/nested/a`, next, SMALL));
    const names = [...Deno.readDirSync(`${dir}/nested/a`)].map((e) => e.name).sort();
    assert.deepEqual(names, ["README.md", ADAPTER_CONFIG, ADAPTER_WEIGHTS].sort());
    assert.deepEqual([...orThrow(await readPeftAdapter(`${dir}/nested/a`)).prompt.data], [7, 8]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writePeftAdapter() lists every bad option and writes nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await writePeftAdapter(`${dir}/a`, small(), {
      ...SMALL,
      tokenDim: 3,
      numLayers: 0,
      promptTuningInit: "TEXT",
    });
    assert.ok(E.isLeft(r));
    assert.equal(r.left._tag, "Invalid");
    for (const part of ["numLayers is 0", "[3, 2]", "tokenizerNameOrPath", "initText"]) {
      assert.ok(r.left.message.includes(part), `${part} in ${r.left.message}`);
    }
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    const text = await writePeftAdapter(`${dir}/t`, small(), {
      ...SMALL,
      promptTuningInit: "TEXT",
      initText: "Classify:",
      tokenizerNameOrPath: "t5-small",
    });
    assert.ok(E.isRight(text));
    const json = JSON.parse(await Deno.readTextFile(`${dir}/t/${ADAPTER_CONFIG}`));
    assert.equal(json.prompt_tuning_init_text, "Classify:");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readPeftAdapter() reports what is wrong with an adapter directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = await readPeftAdapter(`${dir}/none`);
    assert.ok(E.isLeft(missing) && missing.left._tag === "NotFound");
    orThrow(await writePeftAdapter(`${dir}/a`, small(), SMALL));
    const config = `${dir}/a/${ADAPTER_CONFIG}`;
    const good = JSON.parse(await Deno.readTextFile(config));

    await Deno.writeTextFile(config, "{not json");
    const corrupt = await readPeftAdapter(`${dir}/a`);
    assert.ok(E.isLeft(corrupt) && corrupt.left._tag === "Corrupt");

    await Deno.writeTextFile(config, JSON.stringify({ ...good, peft_type: "LORA", token_dim: -1 }));
    const invalid = await readPeftAdapter(`${dir}/a`);
    assert.ok(E.isLeft(invalid) && invalid.left._tag === "Invalid");
    assert.match(invalid.left.message, /peft_type is "LORA".*token_dim is -1/);

    await Deno.writeTextFile(config, JSON.stringify({ ...good, num_virtual_tokens: 4 }));
    const mismatch = await readPeftAdapter(`${dir}/a`);
    assert.ok(E.isLeft(mismatch) && mismatch.left._tag === "Mismatch");
    assert.match(mismatch.left.message, /\[3, 2\]; expected \[4, 2\]/);

    // Without num_transformer_submodules, PEFT's default applies: 2 for SEQ_2_SEQ_LM.
    const { num_transformer_submodules: _, ...rest } = good;
    await Deno.writeTextFile(config, JSON.stringify(rest));
    const defaulted = await readPeftAdapter(`${dir}/a`);
    assert.ok(E.isLeft(defaulted) && defaulted.left._tag === "Mismatch");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
