/**
 * Test helpers shared by the T5 tests (`tests/t5_test.ts` on WASM, `tests_webgpu/` on WebGPU):
 * loading a fixture with its `transformers` references, and the parity checks of the encoder,
 * the logits, a prompt through `inputs_embeds` and cached decoding. Tensors are read with
 * `await data()`, so the checks run on every backend (WebGPU has no synchronous read in Deno).
 *
 * Not a test file itself (no `_test` suffix); it imports nothing but the library.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import { type HostTensor, openTensorFile, parseSafetensors, type TensorSource } from "../io/mod.ts";
import {
  loadT5FromHuggingFace,
  parseT5Config,
  t5Apply,
  t5CacheLength,
  type T5Config,
  t5Decode,
  t5Embed,
  t5Encode,
  type T5Params,
} from "../model/t5/mod.ts";
import { disposeCache, type KVCache } from "../model/types.ts";
import type { Problem } from "../problem.ts";
import { disposeTree } from "../tree/tree.ts";
import { maxDiffOf, ref } from "./model_helpers.ts";

/** The tolerance of every comparison with transformers. */
export const TOLERANCE = 1e-4;
/** The T5 fixtures under `tests/fixtures/models/t5_*`. */
export const FIXTURES = ["original", "v1_1", "odd"] as const;
/** One of {@link FIXTURES}. */
export type Fixture = (typeof FIXTURES)[number];

/** The directory of fixture `t5_<name>`. */
export const fixtureDir = (name: Fixture): string =>
  new URL(`./fixtures/models/t5_${name}`, import.meta.url).pathname;

/** The value of a `Right`, or a failed assertion naming the problem. */
export function right<A>(r: E.Either<Problem, A>): A {
  if (E.isLeft(r)) {
    assert.fail(`Expected Right, got ${r.left._tag}: ${r.left.where}: ${r.left.message}`);
  }
  return r.right;
}

/** The parsed `config.json` of a directory. */
export async function readConfig(dir: string): Promise<Record<string, unknown>> {
  return JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
}

/** Opens a tensor file, or fails the test. */
export async function open(path: string): Promise<TensorSource> {
  return right(await openTensorFile(path));
}

/** A loaded fixture: its parsed config and its parameters. */
export interface Loaded {
  /** The parsed config. */
  readonly config: T5Config;
  /** The parameters (the caller disposes them). */
  readonly params: T5Params;
}

/** Loads fixture `t5_<name>`. */
export async function load(name: Fixture): Promise<Loaded> {
  const dir = fixtureDir(name);
  const json = await readConfig(dir);
  const source = await open(`${dir}/model.safetensors`);
  try {
    const params = right(await loadT5FromHuggingFace(dir, json, source));
    return { config: right(parseT5Config(json, dir)), params };
  } finally {
    source.close();
  }
}

/** The reference outputs of a fixture, read on the host. */
export async function refs(name: Fixture): Promise<ReadonlyMap<string, HostTensor>> {
  const path = `${fixtureDir(name)}/refs.safetensors`;
  return right(parseSafetensors(await Deno.readFile(path), path)).tensors;
}

/** Asserts closeness, logs the max |difference| for the record, and returns it. */
export async function assertClose(
  label: string,
  a: tf.Tensor,
  b: tf.Tensor,
  tol = TOLERANCE,
): Promise<number> {
  const d = await maxDiffOf(a, b);
  console.log(`  ${label}: max |diff| ${d.toExponential(2)}`);
  assert.ok(d <= tol, `${label}: max |diff| ${d} > ${tol}`);
  return d;
}

/** Runs `f` and asserts that it left no tensor behind. */
export async function withNoLeaks(f: () => Promise<void>): Promise<void> {
  const before = tf.memory().numTensors;
  await f();
  assert.equal(tf.memory().numTensors, before, "no tensor leaked");
}

/** `t5Encode()` gives transformers' encoder states on a padded batch, leaking nothing. */
export async function checkEncoderStates(name: Fixture): Promise<void> {
  await withNoLeaks(async () => {
    const { config, params } = await load(name);
    const r = await refs(name);
    const [ids, mask, want] = ["enc_ids", "enc_mask", "enc_states"].map((k) => ref(r, k));
    const got = t5Encode(params, config, { inputIds: ids, attentionMask: mask });
    await assertClose(`t5_${name} encoder states`, got, want);
    tf.dispose([ids, mask, want, got]);
    disposeTree(params);
  });
}

/** `t5Apply()` gives transformers' logits with and without a decoder mask, leaking nothing. */
export async function checkLogits(name: Fixture): Promise<void> {
  await withNoLeaks(async () => {
    const { config, params } = await load(name);
    const r = await refs(name);
    const [ids, mask, decIds, decMask, want, wantMasked] = [
      "enc_ids",
      "enc_mask",
      "dec_ids",
      "dec_mask",
      "logits",
      "logits_dmask",
    ].map((k) => ref(r, k));
    const got = t5Apply(params, config, {
      inputIds: ids,
      attentionMask: mask,
      decoderInputIds: decIds,
    });
    await assertClose(`t5_${name} logits`, got, want);
    const gotMasked = t5Apply(params, config, {
      inputIds: ids,
      attentionMask: mask,
      decoderInputIds: decIds,
      decoderMask: decMask,
    });
    await assertClose(`t5_${name} logits with a decoder mask`, gotMasked, wantMasked);
    tf.dispose([ids, mask, decIds, decMask, want, wantMasked, got, gotMasked]);
    disposeTree(params);
  });
}

/** `t5Apply()` with a prompt in `inputsEmbeds` gives transformers' states and logits. */
export async function checkPromptLogits(name: Fixture): Promise<void> {
  await withNoLeaks(async () => {
    const { config, params } = await load(name);
    const r = await refs(name);
    const [ids, mask, decIds, prompt, wantStates, want] = [
      "enc_ids",
      "enc_mask",
      "dec_ids",
      "prompt",
      "prompt_enc_states",
      "prompt_logits",
    ].map((k) => ref(r, k));
    const [embeds, fullMask] = tf.tidy(() => {
      const [b] = ids.shape as [number, number];
      const [p, h] = prompt.shape as [number, number];
      const rows = tf.broadcastTo(prompt.reshape([1, p, h]), [b, p, h]); // [B, P, H]
      return [
        tf.concat([rows, t5Embed(params, ids)], 1), // [B, P + T, H]
        tf.concat([tf.ones([b, p], "int32"), mask], 1), // [B, P + T]
      ];
    });
    const states = t5Encode(params, config, { inputsEmbeds: embeds, attentionMask: fullMask });
    await assertClose(`t5_${name} prompt encoder states`, states, wantStates);
    const got = t5Apply(params, config, {
      inputsEmbeds: embeds,
      attentionMask: fullMask,
      decoderInputIds: decIds,
    });
    await assertClose(`t5_${name} prompt logits`, got, want);
    tf.dispose([ids, mask, decIds, prompt, wantStates, want, embeds, fullMask, states, got]);
    disposeTree(params);
  });
}

/**
 * Cached greedy decoding with `t5Decode()` gives transformers' logits and tokens at each step,
 * and the cached steps equal decoding the whole sequence at once.
 */
export async function checkCachedDecoding(name: Fixture): Promise<void> {
  await withNoLeaks(async () => {
    const { config, params } = await load(name);
    const r = await refs(name);
    const [ids, mask, wantSteps] = ["enc_ids", "enc_mask", "greedy_logits"].map((k) => ref(r, k));
    const tokens = r.get("greedy_tokens")!.data as Int32Array; // [2, 3]
    const encoderStates = t5Encode(params, config, { inputIds: ids, attentionMask: mask });
    const b = 2;
    const fed = [Array(b).fill(config.decoderStartTokenId)];
    let cache: KVCache | undefined;
    const stepLogits: tf.Tensor[] = [];
    for (let step = 0; step < 3; step++) {
      const input = tf.tensor2d(fed[step], [b, 1], "int32");
      const out = t5Decode(params, config, {
        decoderInputIds: input,
        encoderStates,
        encoderMask: mask,
        cache,
      });
      assert.equal(
        t5CacheLength(out.cache),
        step + 1,
        "positions continue from the cache length",
      );
      assert.equal(out.cache.length, 2 * config.numDecoderLayers);
      if (cache) disposeCache(cache);
      cache = out.cache;
      const want = tf.tidy(() => tf.gather(wantSteps, step).reshape([b, 1, config.vocabSize]));
      await assertClose(`t5_${name} cached step ${step}`, out.logits, want);
      const best = tf.argMax(out.logits, -1); // [B, 1]
      const argmax = await best.data();
      best.dispose();
      const wantTokens = [tokens[step], tokens[3 + step]];
      assert.deepEqual([...argmax], wantTokens, "the same greedy tokens");
      fed.push(wantTokens);
      stepLogits.push(out.logits);
      tf.dispose([input, want]);
    }
    // Cached decoding equals decoding the whole sequence at once.
    const seq = tf.tensor2d(
      Array.from({ length: b }, (_, i) => fed.slice(0, 3).map((col) => col[i])),
      [b, 3],
      "int32",
    ); // [B, 3]
    const whole = t5Decode(params, config, {
      decoderInputIds: seq,
      encoderStates,
      encoderMask: mask,
    });
    const cached = tf.concat(stepLogits, 1); // [B, 3, V]
    await assertClose(`t5_${name} cached vs uncached`, cached, whole.logits, 1e-5);
    disposeCache(whole.cache);
    disposeCache(cache!);
    tf.dispose([ids, mask, wantSteps, encoderStates, seq, whole.logits, cached, ...stepLogits]);
    disposeTree(params);
  });
}
