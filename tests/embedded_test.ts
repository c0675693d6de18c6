/**
 * The embedded checkpoints (assets/embedded/{span_corruption,lm_adapted}) load here unchanged
 * and compute what `transformers` computes: the same token ids from the shipped tokenizer, and
 * the same encoder states and logits (references from tools/make_embedded_refs.py).
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { initBackend } from "../backend.ts";
import { type HostTensor, openSafetensors } from "../io/mod.ts";
import { loadModel } from "../model/load.ts";
import { t5Apply, type T5Config, t5Encode, type T5Params } from "../model/t5/mod.ts";
import { loadTokenizer } from "../tokenizer/mod.ts";
import type { Problem } from "../problem.ts";
import { disposeTree } from "../tree/tree.ts";
import { SPAM_LABEL_WORDS } from "../data/spam.ts";
import { maxDiff, ref } from "./_model_helpers.ts";

await initBackend("wasm");

const TOLERANCE = 1e-4;
const NAMES = ["span_corruption", "lm_adapted"] as const;
const assetDir = (name: string) => new URL(`../assets/embedded/${name}`, import.meta.url).pathname;
const fixture = (file: string) => new URL(`./fixtures/embedded/${file}`, import.meta.url).pathname;

interface IdsFixture {
  readonly tokenizer_sha256: string;
  readonly texts: readonly { text: string; ids: number[]; ids_with_special: number[] }[];
  readonly label_words: Readonly<Record<string, number[]>>;
}
const IDS: IdsFixture = JSON.parse(await Deno.readTextFile(fixture("tokenizer_ids.json")));

function right<A>(r: E.Either<Problem, A>): A {
  if (E.isLeft(r)) assert.fail(`${r.left._tag}: ${r.left.where}: ${r.left.message}`);
  return r.right;
}

async function refs(name: string): Promise<ReadonlyMap<string, HostTensor>> {
  const file = right(await openSafetensors(fixture(`refs_${name}.safetensors`)));
  const out = new Map<string, HostTensor>();
  for (const e of file.entries) out.set(e.name, right(await file.read(e.name)));
  file.close();
  return out;
}

async function sha256(path: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", await Deno.readFile(path)));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

for (const name of NAMES) {
  Deno.test(`the shipped tokenizer of ${name} gives transformers' ids`, async () => {
    assert.equal(await sha256(`${assetDir(name)}/tokenizer.json`), IDS.tokenizer_sha256);
    const tok = right(await loadTokenizer(assetDir(name)));
    assert.equal(tok.padId, 0);
    assert.equal(tok.eosId, 1);
    assert.equal(tok.unkId, 2);
    assert.equal(tok.sentinelId(0), 8099);
    assert.equal(tok.sentinelId(99), 8000);
    for (const t of IDS.texts) {
      assert.deepEqual(tok.encode(t.text), t.ids, `ids of ${JSON.stringify(t.text)}`);
      assert.deepEqual(tok.encodeWithSpecial(t.text), t.ids_with_special);
    }
    for (const w of SPAM_LABEL_WORDS) {
      assert.deepEqual(tok.encode(w), IDS.label_words[w], `label word ${w}`);
      assert.equal(tok.encode(w).length, 1, `label word ${w} is one token`);
    }
  });

  Deno.test(`the ${name} checkpoint gives transformers' encoder states and logits`, async () => {
    const before = tf.memory().numTensors;
    const model = right(await loadModel(assetDir(name)));
    assert.equal(model.architecture, "t5");
    if (model.architecture !== "t5") return;
    const config: T5Config = model.config;
    const params = model.params as T5Params;
    assert.equal(config.vocabSize, 8192);
    const r = await refs(name);
    const tok = right(await loadTokenizer(assetDir(name)));
    const batch = tok.encodeBatch([
      IDS.texts[2].text, // the e-mail-like text
      IDS.texts[0].text,
    ]);
    const [ids, mask, wantStates, decIds, wantLogits] = [
      "enc_ids",
      "enc_mask",
      "enc_states",
      "dec_ids",
      "logits",
    ].map((k) => ref(r, k));
    assert.deepEqual(batch.ids, ids.arraySync(), "our padded batch is transformers'");
    assert.deepEqual(batch.attentionMask, mask.arraySync());
    assert.equal(r.get("lm_head_differs")?.data[0], 1, "the head is untied");

    const states = t5Encode(params, config, { inputIds: ids, attentionMask: mask });
    const logits = t5Apply(params, config, {
      inputIds: ids,
      attentionMask: mask,
      decoderInputIds: decIds,
    });
    const dStates = maxDiff(states, wantStates);
    const dLogits = maxDiff(logits, wantLogits);
    const scale = tf.tidy(() => tf.max(tf.abs(wantLogits)).dataSync()[0]);
    console.log(
      `  ${name}: encoder states max |diff| ${dStates.toExponential(2)}, ` +
        `logits max |diff| ${dLogits.toExponential(2)} (max |logit| ${scale.toFixed(1)})`,
    );
    assert.ok(dStates <= TOLERANCE, `encoder states: max |diff| ${dStates} > ${TOLERANCE}`);
    assert.ok(dLogits <= TOLERANCE, `logits: max |diff| ${dLogits} > ${TOLERANCE}`);
    tf.dispose([ids, mask, wantStates, decIds, wantLogits, states, logits]);
    disposeTree(params);
    assert.equal(tf.memory().numTensors, before, "no tensor leaked");
  });
}

Deno.test("both embedded checkpoints together stay within the 25 MB budget", async () => {
  let total = 0;
  for (const name of NAMES) {
    for await (const e of Deno.readDir(assetDir(name))) {
      total += (await Deno.stat(`${assetDir(name)}/${e.name}`)).size;
    }
  }
  assert.ok(total <= 25 * 1024 * 1024, `${total} bytes`);
});
