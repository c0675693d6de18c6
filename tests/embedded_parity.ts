/**
 * Test helpers shared by the tests of the embedded checkpoints (`tests/embedded_test.ts` on WASM,
 * `tests_webgpu/` on WebGPU): where the checkpoints and their `transformers` references are, and
 * the check of their encoder states and logits. Tensors are read with `await data()`, so the
 * check runs on every backend (WebGPU has no synchronous read in Deno).
 *
 * Not a test file itself (no `_test` suffix); it imports nothing but the library.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { type HostTensor, openSafetensors } from "../io/mod.ts";
import { loadModel } from "../model/load.ts";
import { t5Apply, type T5Config, t5Encode, type T5Params } from "../model/t5/mod.ts";
import { loadTokenizer } from "../tokenizer/mod.ts";
import type { Problem } from "../problem.ts";
import { disposeTree } from "../tree/tree.ts";
import { maxDiffOf, ref } from "./model_helpers.ts";

/** The tolerance of the comparisons with transformers. */
export const TOLERANCE = 1e-4;
/** The embedded checkpoints, under `assets/embedded/`. */
export const NAMES = ["span_corruption", "lm_adapted"] as const;
/** The directory of embedded checkpoint `name`. */
export const assetDir = (name: string): string =>
  new URL(`../assets/embedded/${name}`, import.meta.url).pathname;
/** A file of `tests/fixtures/embedded/`. */
export const fixture = (file: string): string =>
  new URL(`./fixtures/embedded/${file}`, import.meta.url).pathname;

/** The token ids transformers gives (`tokenizer_ids.json`). */
export interface IdsFixture {
  /** The SHA-256 of the shipped `tokenizer.json`. */
  readonly tokenizer_sha256: string;
  /** Texts with their ids, without and with special tokens. */
  readonly texts: readonly { text: string; ids: number[]; ids_with_special: number[] }[];
  /** The ids of each label word. */
  readonly label_words: Readonly<Record<string, number[]>>;
}
/** The ids fixture. */
export const IDS: IdsFixture = JSON.parse(await Deno.readTextFile(fixture("tokenizer_ids.json")));

/** The value of a `Right`, or a failed assertion naming the problem. */
export function right<A>(r: E.Either<Problem, A>): A {
  if (E.isLeft(r)) assert.fail(`${r.left._tag}: ${r.left.where}: ${r.left.message}`);
  return r.right;
}

/** The references of checkpoint `name`, read on the host. */
export async function refs(name: string): Promise<ReadonlyMap<string, HostTensor>> {
  const file = right(await openSafetensors(fixture(`refs_${name}.safetensors`)));
  const out = new Map<string, HostTensor>();
  for (const e of file.entries) out.set(e.name, right(await file.read(e.name)));
  file.close();
  return out;
}

/**
 * Checkpoint `name` loads unchanged and gives transformers' encoder states and logits on a
 * padded batch of the shipped tokenizer's ids, leaking no tensor.
 */
export async function checkEmbeddedForward(name: string): Promise<void> {
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
  assert.deepEqual(batch.ids, await ids.array(), "our padded batch is transformers'");
  assert.deepEqual(batch.attentionMask, await mask.array());
  assert.equal(r.get("lm_head_differs")?.data[0], 1, "the head is untied");

  const states = t5Encode(params, config, { inputIds: ids, attentionMask: mask });
  const logits = t5Apply(params, config, {
    inputIds: ids,
    attentionMask: mask,
    decoderInputIds: decIds,
  });
  const dStates = await maxDiffOf(states, wantStates);
  const dLogits = await maxDiffOf(logits, wantLogits);
  const top = tf.tidy(() => tf.max(tf.abs(wantLogits)));
  const [scale] = await top.data();
  top.dispose();
  console.log(
    `  ${name}: encoder states max |diff| ${dStates.toExponential(2)}, ` +
      `logits max |diff| ${dLogits.toExponential(2)} (max |logit| ${scale.toFixed(1)})`,
  );
  assert.ok(dStates <= TOLERANCE, `encoder states: max |diff| ${dStates} > ${TOLERANCE}`);
  assert.ok(dLogits <= TOLERANCE, `logits: max |diff| ${dLogits} > ${TOLERANCE}`);
  tf.dispose([ids, mask, wantStates, decIds, wantLogits, states, logits]);
  disposeTree(params);
  assert.equal(tf.memory().numTensors, before, "no tensor leaked");
}
