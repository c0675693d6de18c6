/**
 * Test helpers shared by the decoder-only model tests (`gpt2_test.ts`, `llama_test.ts`): loading
 * a fixture, reading its `transformers` references, and checking a forward pass against them on
 * padded batches, a prompt given as embeddings and cached greedy decoding, and cached against
 * uncached logits. Each test file passes its architecture's functions to {@link decoderHarness}.
 * Tensors are read with `await data()`, so the checks run on every backend (WebGPU has no
 * synchronous read in Deno): `tests_webgpu/` runs them there.
 *
 * Not a test file itself (no `_test` suffix); it imports nothing but the library.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/Either";
import {
  type HostTensor,
  hostTensor,
  openTensorFile,
  type TensorSource,
  toTensor,
  writeSafetensors,
} from "../io/mod.ts";
import { bfloat16Bits, float16Bits, toFloat64 } from "../io/host_tensor.ts";
import type { DecoderOptions, DecoderOutput } from "../model/gpt2/mod.ts";
import { disposeCache, type KVCache } from "../model/types.ts";
import { orThrow, type Problem } from "../problem.ts";
import { disposeTree, flatten, type ParamTree } from "../tree/tree.ts";

const TOLERANCE = 1e-4;

/** The directory of a model fixture under `tests/fixtures/models/`. */
export const fixtureDir = (name: string): string =>
  new URL(`./fixtures/models/${name}/`, import.meta.url).pathname.replace(/\/$/, "");

/** Runs `body` and asserts that it left no tensor behind. */
export async function withoutLeaks(body: () => Promise<void>): Promise<void> {
  const before = tf.memory().numTensors;
  await body();
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
}

async function readAll(source: TensorSource): Promise<Map<string, HostTensor>> {
  const out = new Map<string, HostTensor>();
  for (const e of source.entries) out.set(e.name, orThrow(await source.read(e.name)));
  return out;
}

async function readRefs(dir: string): Promise<Map<string, tf.Tensor>> {
  const source = orThrow(await openTensorFile(`${dir}/refs.safetensors`));
  const hosts = await readAll(source);
  source.close();
  return new Map([...hosts].map(([k, h]) => [k, orThrow(toTensor(h, k))]));
}

/** Max |a - b| over the rows where `mask` is 1 (`a`, `b`: [B, T, V]; mask [B, T] or none). */
export async function maxDiff(a: tf.Tensor, b: tf.Tensor, mask?: tf.Tensor): Promise<number> {
  assert.deepEqual(a.shape, b.shape);
  const [bs, t, v] = a.shape as number[];
  const x = await a.data(), y = await b.data();
  const m = await mask?.data();
  let worst = 0;
  for (let i = 0; i < bs * t; i++) {
    if (m !== undefined && m[i] === 0) continue;
    for (let j = 0; j < v; j++) worst = Math.max(worst, Math.abs(x[i * v + j] - y[i * v + j]));
  }
  return worst;
}

async function checkClose(
  label: string,
  got: tf.Tensor,
  want: tf.Tensor,
  mask?: tf.Tensor,
): Promise<number> {
  const d = await maxDiff(got, want, mask);
  assert.ok(d <= TOLERANCE, `${label}: max |difference| ${d} > ${TOLERANCE}`);
  return d;
}

/** A temp copy of a fixture whose tensors are rewritten by `edit`. */
export async function editedCopy(
  name: string,
  edit: (tensors: Map<string, HostTensor>) => Map<string, HostTensor>,
): Promise<string> {
  const from = fixtureDir(name);
  const dir = await Deno.makeTempDir();
  await Deno.copyFile(`${from}/config.json`, `${dir}/config.json`);
  const source = orThrow(await openTensorFile(`${from}/model.safetensors`));
  const tensors = edit(await readAll(source));
  source.close();
  orThrow(await writeSafetensors(`${dir}/model.safetensors`, tensors));
  return dir;
}

/** A temp copy of a fixture with every tensor rounded to `dtype`. */
function halfPrecisionCopy(name: string, dtype: "float16" | "bfloat16"): Promise<string> {
  const bits = dtype === "float16" ? float16Bits : bfloat16Bits;
  return editedCopy(name, (m) =>
    new Map(
      [...m].map(([k, v]) => [k, hostTensor(dtype, v.shape, bits(toFloat64(v)))]),
    ));
}

/** A temp copy of a fixture whose `model.safetensors` lacks its last 1000 bytes. */
async function truncatedCopy(name: string): Promise<string> {
  const dir = await Deno.makeTempDir();
  const from = fixtureDir(name);
  await Deno.copyFile(`${from}/config.json`, `${dir}/config.json`);
  const bytes = await Deno.readFile(`${from}/model.safetensors`);
  await Deno.writeFile(`${dir}/model.safetensors`, bytes.slice(0, bytes.length - 1000));
  return dir;
}

/** Every leaf of `got` is float32 and within `tolerance(y)` of the value `y` of `want`'s leaf. */
function assertLeavesClose(
  got: ParamTree,
  want: ParamTree,
  tolerance: (y: number) => number,
): void {
  const b = new Map(flatten(want));
  for (const [path, t] of flatten(got)) {
    assert.equal(t.dtype, "float32");
    const x = t.dataSync(), y = b.get(path)!.dataSync();
    for (let i = 0; i < x.length; i++) {
      assert.ok(Math.abs(x[i] - y[i]) <= tolerance(y[i]), `${path}[${i}]`);
    }
  }
}

/** A problem's message is one line, starting with a capital and without a final period. */
export function assertOneLine(p: Problem): void {
  assert.ok(!p.message.includes("\n"), "one line");
  assert.match(p.message, /^[A-Z]/);
  assert.doesNotMatch(p.message, /\.$/);
}

/** One decoder-only architecture's functions, as its `mod.ts` exports them. */
export interface DecoderArchitecture<P, C> {
  /** `load…FromHuggingFace`. */
  readonly load: (
    dir: string,
    configJson: unknown,
    source: TensorSource,
  ) => Promise<E.Either<Problem, P>>;
  /** `parse…Config`. */
  readonly parseConfig: (json: unknown, where: string) => E.Either<Problem, C>;
  /** `…Forward`. */
  readonly forward: (params: P, config: C, options: DecoderOptions) => DecoderOutput;
  /** `…Embed`. */
  readonly embed: (params: P, ids: tf.Tensor) => tf.Tensor;
}

/** A loaded fixture: its directory, its `config.json` and its parameters. */
export type Model<P> = { dir: string; config: unknown; params: P };

/** The helpers a decoder test file uses, bound to its architecture. */
export interface DecoderHarness<P> {
  /** Loads `dir`'s `model.safetensors` with its `config.json` (or `configJson`). */
  loadFrom(dir: string, configJson?: unknown): Promise<E.Either<Problem, Model<P>>>;
  /** The forward pass with the model's parsed config. */
  forward(model: Model<P>, options: DecoderOptions): DecoderOutput;
  /** Every reference of one fixture, and cached against uncached logits, without leaks. */
  checkFixture(name: string): Promise<void>;
  /**
   * A fixture with every tensor rounded to `dtype` loads as float32, each value within
   * `tolerance(y)` of the fixture's own `y`.
   */
  checkUpcast(
    name: string,
    dtype: "float16" | "bfloat16",
    tolerance: (y: number) => number,
  ): Promise<void>;
  /** A fixture cut short gives a one-line `Truncated` problem naming `model.safetensors`. */
  checkTruncated(name: string): Promise<void>;
}

/**
 * Binds the shared loading and parity checks to one architecture.
 *
 * @param arch the architecture's functions
 * @returns the helpers
 */
export function decoderHarness<P extends ParamTree, C>(
  arch: DecoderArchitecture<P, C>,
): DecoderHarness<P> {
  type M = Model<P>;

  async function loadFrom(dir: string, configJson?: unknown): Promise<E.Either<Problem, M>> {
    const config = configJson ?? JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    const source = await openTensorFile(`${dir}/model.safetensors`);
    if (E.isLeft(source)) return source;
    const params = await arch.load(dir, config, source.right);
    source.right.close();
    return E.map((p: P) => ({ dir, config, params: p }))(params);
  }

  function forward(model: M, options: DecoderOptions): DecoderOutput {
    const config = orThrow(arch.parseConfig(model.config, "config.json"));
    return arch.forward(model.params, config, options);
  }

  /** Every reference of one fixture; returns the largest difference seen. */
  async function checkAllReferences(model: M, refs: Map<string, tf.Tensor>): Promise<number> {
    const r = (k: string) => refs.get(k)!;
    const diffs: number[] = [];
    const logitsOf = (options: DecoderOptions) => {
      const out = forward(model, options);
      disposeCache(out.cache);
      return out.logits;
    };
    const compare = async (
      label: string,
      options: DecoderOptions,
      want: string,
      mask?: tf.Tensor,
    ) => {
      const got = logitsOf(options);
      diffs.push(await checkClose(label, got, r(want), mask));
      got.dispose();
    };
    await compare(
      "right-padded batch",
      { inputIds: r("right_ids"), attentionMask: r("right_mask") },
      "right_logits",
      r("right_mask"),
    );
    await compare(
      "left-padded batch, default positions",
      { inputIds: r("left_ids"), attentionMask: r("left_mask") },
      "left_logits",
      r("left_mask"),
    );
    await compare(
      "left-padded batch, given positions",
      { inputIds: r("left_ids"), attentionMask: r("left_mask"), positionIds: r("left_positions") },
      "left_logits",
      r("left_mask"),
    );
    const embeds = tf.tidy(() => {
      const [b] = r("right_ids").shape;
      const [p, h] = r("prompt").shape as number[];
      const prompt = tf.tile(r("prompt").reshape([1, p, h]), [b, 1, 1]); // [B, P, H]
      const ids = arch.embed(model.params, r("right_ids")); // [B, T, H]
      return tf.concat([prompt, ids], 1); // [B, P + T, H]
    });
    await compare(
      "prompt through inputs_embeds",
      { inputsEmbeds: embeds, attentionMask: r("embeds_mask") },
      "embeds_logits",
      r("embeds_mask"),
    );
    embeds.dispose();
    diffs.push(await checkDecoding(model, refs));
    return Math.max(...diffs);
  }

  /** Three cached greedy steps after the left-padded batch, each against transformers. */
  async function checkDecoding(model: M, refs: Map<string, tf.Tensor>): Promise<number> {
    const r = (k: string) => refs.get(k)!;
    const [b, t] = r("left_ids").shape as number[];
    const steps = (r("decode_tokens").shape as number[])[1];
    let out = forward(model, { inputIds: r("left_ids"), attentionMask: r("left_mask") });
    out.logits.dispose();
    let worst = 0;
    for (let s = 0; s < steps; s++) {
      const token = r("decode_tokens").slice([0, s], [b, 1]); // [B, 1]
      const mask = tf.tidy(() => tf.concat([r("left_mask"), tf.ones([b, s + 1], "int32")], 1)); // [B, T + s + 1]
      const next = forward(model, { inputIds: token, attentionMask: mask, cache: out.cache });
      disposeCache(out.cache);
      tf.dispose([token, mask]);
      assert.equal((next.cache[0].key.shape as number[])[2], t + s + 1);
      const want = tf.tidy(() =>
        r("decode_logits").slice([s, 0, 0], [1, b, -1]).reshape([b, 1, -1])
      );
      worst = Math.max(worst, await checkClose(`decoding step ${s + 1}`, next.logits, want));
      tf.dispose([want, next.logits]);
      out = next;
    }
    disposeCache(out.cache);
    return worst;
  }

  /** Logits of the whole sequence at once equal those of a prefix plus cached steps. */
  async function checkCachedEqualsUncached(
    model: M,
    refs: Map<string, tf.Tensor>,
    masked: boolean,
  ): Promise<void> {
    const r = (k: string) => refs.get(k)!;
    const [b, t] = r("left_ids").shape as number[];
    const steps = (r("decode_tokens").shape as number[])[1];
    const ids = tf.concat([r("left_ids"), r("decode_tokens")], 1); // [B, T + S]
    const fullMask = masked
      ? tf.tidy(() => tf.concat([r("left_mask"), tf.ones([b, steps], "int32")], 1))
      : tf.ones([b, t + steps], "int32");
    const whole = forward(model, { inputIds: ids, attentionMask: masked ? fullMask : undefined });
    disposeCache(whole.cache);
    let cache: KVCache = [];
    const pieces: tf.Tensor[] = [];
    for (const [start, size] of [[0, t], ...Array.from({ length: steps }, (_, s) => [t + s, 1])]) {
      const piece = ids.slice([0, start], [b, size]);
      const mask = fullMask.slice([0, 0], [b, start + size]);
      const out = forward(model, {
        inputIds: piece,
        attentionMask: masked ? mask : undefined,
        cache,
      });
      disposeCache(cache);
      tf.dispose([piece, mask]);
      cache = out.cache;
      pieces.push(out.logits);
    }
    disposeCache(cache);
    const stepwise = tf.concat(pieces, 1); // [B, T + S, V]
    tf.dispose(pieces);
    const d = await maxDiff(stepwise, whole.logits, fullMask);
    tf.dispose([stepwise, whole.logits, ids, fullMask]);
    assert.ok(d <= 1e-5, `cached and uncached logits differ by ${d}`);
  }

  async function checkFixture(name: string): Promise<void> {
    await withoutLeaks(async () => {
      const model = orThrow(await loadFrom(fixtureDir(name)));
      const refs = await readRefs(model.dir);
      const worst = await checkAllReferences(model, refs);
      await checkCachedEqualsUncached(model, refs, true);
      await checkCachedEqualsUncached(model, refs, false);
      console.log(`${name}: max |difference| from transformers ${worst.toExponential(2)}`);
      tf.dispose([...refs.values()]);
      disposeTree(model.params);
    });
  }

  async function checkUpcast(
    name: string,
    dtype: "float16" | "bfloat16",
    tolerance: (y: number) => number,
  ): Promise<void> {
    await withoutLeaks(async () => {
      const dir = await halfPrecisionCopy(name, dtype);
      const half = orThrow(await loadFrom(dir));
      const full = orThrow(await loadFrom(fixtureDir(name)));
      assertLeavesClose(half.params, full.params, tolerance);
      disposeTree(half.params);
      disposeTree(full.params);
      await Deno.remove(dir, { recursive: true });
    });
  }

  async function checkTruncated(name: string): Promise<void> {
    await withoutLeaks(async () => {
      const dir = await truncatedCopy(name);
      const r = await loadFrom(dir);
      assert.ok(E.isLeft(r));
      assert.equal(r.left._tag, "Truncated");
      assert.match(r.left.where, /model\.safetensors/);
      assertOneLine(r.left);
      await Deno.remove(dir, { recursive: true });
    });
  }

  return { loadFrom, forward, checkFixture, checkUpcast, checkTruncated };
}
