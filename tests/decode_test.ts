import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import type { FrozenModel } from "../model/load.ts";
import { gpt2Forward, type Gpt2Params } from "../model/gpt2/mod.ts";
import { t5Decode, t5Encode, type T5Params } from "../model/t5/mod.ts";
import { key, normal } from "../random/mod.ts";
import { promptLogits } from "../training/objective.ts";
import {
  BEAM_PRESET,
  beamSearch,
  decode,
  type DecodeResult,
  decodeStep,
  DECODING_PRESETS,
  disposeDecodeState,
  extend,
  filterLogits,
  greedy,
  prefill,
  sample,
  selectRows,
} from "../decode/mod.ts";
import { int2d, MODELS, table, width, withModel } from "./model_helpers.ts";

await initBackend("wasm");

const P = 3;

/** The inputs of tools/make_decode_fixtures.py: right-padded for T5, left-padded otherwise. */
function rowsFor(model: FrozenModel): { ids: number[][]; mask: number[][] } {
  return model.architecture === "t5"
    ? {
      ids: [[5, 17, 33, 60, 8, 1], [44, 9, 71, 1, 0, 0]],
      mask: [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]],
    }
    : {
      ids: [[1, 5, 17, 33, 60, 8], [0, 0, 1, 44, 9, 71]],
      mask: [[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1]],
    };
}

async function withBatch<T>(
  rows: { ids: number[][]; mask: number[][] },
  body: (batch: { inputIds: tf.Tensor; inputMask: tf.Tensor }) => Promise<T>,
): Promise<T> {
  const batch = { inputIds: int2d(rows.ids), inputMask: int2d(rows.mask) };
  try {
    return await body(batch);
  } finally {
    tf.dispose([batch.inputIds, batch.inputMask]);
  }
}

const promptFor = (model: FrozenModel, seed = 5) =>
  normal(key(seed), [P, width(model)], { stddev: 0.5 });

/**
 * The next-token logits of one row after `generated`, from a full forward pass with no cache:
 * `promptLogits` of the training objective (teacher forcing), an independent code path.
 */
function fullNextLogits(
  model: FrozenModel,
  prompt: tf.Tensor,
  input: number[],
  generated: number[],
): Float32Array {
  return tf.tidy(() => {
    const n = input.length;
    if (model.architecture === "t5") {
      const targets = [...generated, 0]; // the last position predicts the next token
      const batch = {
        inputIds: int2d([input]),
        inputMask: tf.ones([1, n], "int32"),
        targetIds: int2d([targets]),
        targetMask: tf.ones([1, targets.length], "int32"),
      };
      const logits = promptLogits(model, batch)(prompt); // [1, S + 1, V]
      return logits.slice([0, generated.length, 0], [1, 1, -1]).dataSync() as Float32Array;
    }
    const ids = [...input, ...generated];
    const batch = { inputIds: int2d([ids]), inputMask: tf.ones([1, ids.length], "int32") };
    const logits = promptLogits(model, batch)(prompt); // [1, T, V]
    return logits.slice([0, ids.length - 1, 0], [1, 1, -1]).dataSync() as Float32Array;
  });
}

const argmax = (xs: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
};
const logSoftmaxAt = (xs: ArrayLike<number>, i: number) => {
  const max = Math.max(...Array.from(xs));
  const total = Array.from(xs).reduce((a, x) => a + Math.exp(x - max), 0);
  return xs[i] - max - Math.log(total);
};

/** Greedy decoding of one row (its real tokens only) by full forward passes. */
function referenceGreedy(
  model: FrozenModel,
  prompt: tf.Tensor,
  input: number[],
  maxNew: number,
  eos: number[],
): { tokens: number[]; score: number } {
  const tokens: number[] = [];
  let score = 0;
  while (tokens.length < maxNew) {
    const logits = fullNextLogits(model, prompt, input, tokens);
    const id = argmax(logits);
    tokens.push(id);
    score += logSoftmaxAt(logits, id);
    if (eos.includes(id)) break;
  }
  return { tokens, score };
}

const realTokens = (rows: { ids: number[][]; mask: number[][] }, r: number) =>
  rows.ids[r].filter((_, j) => rows.mask[r][j] !== 0);

function assertClose(actual: readonly number[], expected: readonly number[], tol: number) {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) =>
    assert.ok(Math.abs(a - expected[i]) <= tol, `value ${i}: ${a} vs ${expected[i]}`)
  );
}

interface RefCase {
  readonly model: string;
  readonly inputIds: number[][];
  readonly inputMask: number[][];
  readonly eosTokenIds: number[];
  readonly maxNewTokens: number;
  readonly numBeams: number;
  readonly lengthPenalty?: number;
  readonly earlyStopping?: boolean | "never";
  readonly prompt?: number[][];
  readonly tokens: number[][];
  readonly scores?: number[];
}

const REFS: readonly RefCase[] = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/decode/generate_refs.json", import.meta.url)),
).cases;

/** The EOS of the fixture cases chosen to be likely (a token greedy decoding emits early). */
const hotEos = (name: string) =>
  REFS.find((c) =>
    c.model === name && c.numBeams === 1 && c.eosTokenIds.length === 1 &&
    c.eosTokenIds[0] !== REFS.find((d) => d.model === name)!.eosTokenIds[0]
  )!.eosTokenIds;

for (const name of MODELS) {
  Deno.test(`greedy() on ${name} is the argmax chain of full forward passes, with a prompt`, async () => {
    await withModel(name, async (model) => {
      const rows = rowsFor(model);
      const prompt = promptFor(model);
      const eos = hotEos(name);
      const out = await withBatch(
        rows,
        (batch) => greedy(model, prompt, batch, { maxNewTokens: 5, eosTokenIds: eos }),
      );
      rows.ids.forEach((_, r) => {
        const ref = referenceGreedy(model, prompt, realTokens(rows, r), 5, eos);
        assert.deepEqual(out.tokens[r], ref.tokens, `row ${r}`);
        assert.ok(Math.abs(out.scores[r] - ref.score) < 1e-4, `row ${r} score`);
        assert.equal(out.finished[r], eos.includes(ref.tokens.at(-1)!));
      });
      prompt.dispose();
    });
  });

  Deno.test(`greedy() on ${name} without a prompt is the argmax chain too`, async () => {
    await withModel(name, async (model) => {
      const rows = rowsFor(model);
      const none = tf.zeros([0, width(model)]); // a zero-length prompt: promptLogits adds nothing
      const out = await withBatch(
        rows,
        (batch) => greedy(model, undefined, batch, { maxNewTokens: 4, eosTokenIds: [] }),
      );
      rows.ids.forEach((_, r) => {
        const ref = referenceGreedy(model, none, realTokens(rows, r), 4, []);
        assert.deepEqual(out.tokens[r], ref.tokens, `row ${r}`);
        assert.equal(out.finished[r], false);
      });
      none.dispose();
    });
  });
}

Deno.test("greedy() and beamSearch() give transformers' generate() tokens and scores", async () => {
  for (const name of MODELS) {
    await withModel(name, async (model) => {
      for (const c of REFS.filter((x) => x.model === name)) {
        const prompt = c.prompt === undefined ? undefined : tf.tensor2d(c.prompt);
        const options = { maxNewTokens: c.maxNewTokens, eosTokenIds: c.eosTokenIds };
        const out: DecodeResult = await withBatch(
          { ids: c.inputIds, mask: c.inputMask },
          (batch) =>
            c.numBeams === 1
              ? greedy(model, prompt, batch, options)
              : beamSearch(model, prompt, batch, {
                ...options,
                numBeams: c.numBeams,
                lengthPenalty: c.lengthPenalty,
                earlyStopping: c.earlyStopping,
              }),
        );
        const label = `${name} beams ${c.numBeams} α ${c.lengthPenalty} early ${c.earlyStopping}`;
        assert.deepEqual(out.tokens, c.tokens, label);
        if (c.scores !== undefined) assertClose(out.scores, c.scores, 1e-4);
        prompt?.dispose();
      }
    });
  }
});

Deno.test("beamSearch() with one beam equals greedy(), its score divided by length ** α", async () => {
  for (const name of MODELS) {
    await withModel(name, async (model) => {
      const rows = rowsFor(model);
      const prompt = promptFor(model, 9);
      const options = { maxNewTokens: 6, eosTokenIds: hotEos(name) };
      const [g, b] = await withBatch(rows, async (batch) => [
        await greedy(model, prompt, batch, options),
        await beamSearch(model, prompt, batch, { ...options, numBeams: 1, lengthPenalty: 0.6 }),
      ]);
      assert.deepEqual(b.tokens, g.tokens, name);
      assertClose(b.scores, g.scores.map((s, r) => s / g.tokens[r].length ** 0.6), 1e-4);
      assert.deepEqual(b.finished, g.finished);
      prompt.dispose();
    });
  }
});

Deno.test("beamSearch() finds the best hypothesis of an exhaustive search over short outputs", async () => {
  // Two steps, EOS never: every 2-token continuation is a hypothesis of length 2, so beam search
  // with as many beams as tokens is exact, and with fewer beams it can only score lower.
  await withModel("gpt2_tiny", async (model) => {
    const rows = { ids: [[1, 5, 17]], mask: [[1, 1, 1]] };
    const none = tf.zeros([0, width(model)]);
    const first = fullNextLogits(model, none, rows.ids[0], []);
    let best = -Infinity;
    let bestPair: number[] = [];
    for (let a = 0; a < first.length; a++) {
      const second = fullNextLogits(model, none, rows.ids[0], [a]);
      const j = argmax(second);
      const total = logSoftmaxAt(first, a) + logSoftmaxAt(second, j);
      if (total > best) [best, bestPair] = [total, [a, j]];
    }
    const out = await withBatch(rows, (batch) =>
      beamSearch(model, undefined, batch, {
        numBeams: 48,
        lengthPenalty: 1,
        maxNewTokens: 2,
        eosTokenIds: [],
      }));
    assert.deepEqual(out.tokens[0], bestPair);
    assert.ok(Math.abs(out.scores[0] - best / 2) < 1e-4);
    none.dispose();
  });
});

Deno.test("sample() is deterministic per key and varies across keys", async () => {
  await withModel("llama_gqa", async (model) => {
    const rows = rowsFor(model);
    const run = (seed: number) =>
      withBatch(
        rows,
        (batch) =>
          sample(model, undefined, batch, { key: key(seed), maxNewTokens: 6, eosTokenIds: [] }),
      );
    const a = await run(1);
    const again = await run(1);
    assert.deepEqual(again, a);
    const others = await Promise.all([2, 3, 4, 5].map(run));
    assert.ok(others.some((o) => JSON.stringify(o.tokens) !== JSON.stringify(a.tokens)));
    // The reported scores are the model's log-probabilities of the sampled tokens.
    const none = tf.zeros([0, width(model)]);
    const input = realTokens(rows, 1);
    let score = 0;
    a.tokens[1].forEach((id, s) => {
      score += logSoftmaxAt(fullNextLogits(model, none, input, a.tokens[1].slice(0, s)), id);
    });
    assert.ok(Math.abs(a.scores[1] - score) < 1e-4);
    none.dispose();
  });
});

Deno.test("sample() with top-k 1, or a tiny temperature, equals greedy()", async () => {
  for (const name of MODELS) {
    await withModel(name, async (model) => {
      const rows = rowsFor(model);
      const options = { maxNewTokens: 5, eosTokenIds: hotEos(name) };
      const [g, k1, cold] = await withBatch(rows, async (batch) => [
        await greedy(model, undefined, batch, options),
        await sample(model, undefined, batch, { ...options, key: key(11), topK: 1 }),
        await sample(model, undefined, batch, { ...options, key: key(12), temperature: 1e-4 }),
      ]);
      assert.deepEqual(k1.tokens, g.tokens, name);
      assert.deepEqual(k1.finished, g.finished, name);
      assertClose(k1.scores, g.scores, 1e-5);
      assert.deepEqual(cold.tokens, g.tokens, name);
    });
  }
});

Deno.test("sample() with top-p keeps to the nucleus", async () => {
  await withModel("gpt2_tiny", async (model) => {
    const rows = { ids: [[1, 5, 17]], mask: [[1, 1, 1]] };
    const none = tf.zeros([0, width(model)]);
    const logits = fullNextLogits(model, none, rows.ids[0], []);
    const allowed = filterLogits(logits, { topP: 0.3 });
    const firsts = new Set<number>();
    for (let seed = 1; seed <= 12; seed++) {
      const out = await withBatch(
        rows,
        (batch) => sample(model, undefined, batch, { key: key(seed), maxNewTokens: 1, topP: 0.3 }),
      );
      firsts.add(out.tokens[0][0]);
    }
    for (const id of firsts) assert.ok(Number.isFinite(allowed[id]), `token ${id} is outside`);
    none.dispose();
  });
});

Deno.test("filterLogits() applies temperature, then top-k (ties kept), then top-p", () => {
  assert.deepEqual(Array.from(filterLogits([1, 2, 2, 0], { topK: 2 })), [
    -Infinity,
    2,
    2,
    -Infinity,
  ]);
  assert.deepEqual(Array.from(filterLogits([2, 4], { temperature: 2 })), [1, 2]);
  // Probabilities of [0, ln 2, ln 3, ln 4] are .1, .2, .3, .4: cumulative ascending .1, .3, .6, 1.
  const logits = [0, Math.log(2), Math.log(3), Math.log(4)];
  const kept = (p: number) =>
    Array.from(filterLogits(logits, { topP: p })).map((x) => Number.isFinite(x) ? 1 : 0).join("");
  assert.equal(kept(0.65), "0011"); // remove cumulative ≤ 0.35: the first two
  assert.equal(kept(0.85), "0111");
  assert.equal(kept(0.95), "1111");
  assert.equal(kept(0.05), "0001"); // the most likely one always stays
  assert.equal(kept(1), "1111");
  // top-k runs before top-p: the nucleus is taken over the k survivors.
  assert.equal(
    Array.from(filterLogits(logits, { topK: 2, topP: 0.5 })).map((x) => Number.isFinite(x) ? 1 : 0)
      .join(""),
    "0001",
  );
});

for (const name of MODELS) {
  Deno.test(`cached and uncached decoding agree on ${name}`, async () => {
    await withModel(name, async (model) => {
      const rows = rowsFor(model);
      const prompt = promptFor(model, 21);
      const base = { maxNewTokens: 5, eosTokenIds: hotEos(name) };
      const run = (useCache: boolean) =>
        withBatch(rows, async (batch) => [
          await greedy(model, prompt, batch, { ...base, useCache }),
          await beamSearch(model, prompt, batch, { ...base, ...BEAM_PRESET, useCache }),
          await sample(model, prompt, batch, { ...base, key: key(4), topK: 20, useCache }),
        ]);
      const cached = await run(true);
      const full = await run(false);
      cached.forEach((c, i) => {
        assert.deepEqual(c.tokens, full[i].tokens, `mode ${i}`);
        assertClose(c.scores, full[i].scores, 1e-4);
      });
      // The logits themselves, step by step.
      await withBatch(rows, (batch) => {
        let a = prefill(model, prompt, batch);
        let b = prefill(model, prompt, batch, { useCache: false });
        for (let s = 0; s < 4; s++) {
          const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a.logits, b.logits))).dataSync()[0]);
          assert.ok(diff < 1e-4, `step ${s}: ${diff}`);
          const next = [7 + s, 30 + s];
          const a2 = decodeStep(model, a.state, next);
          const b2 = decodeStep(model, b.state, next);
          tf.dispose([a.logits, b.logits]);
          disposeDecodeState(a.state);
          disposeDecodeState(b.state);
          [a, b] = [a2, b2];
        }
        tf.dispose([a.logits, b.logits]);
        disposeDecodeState(a.state);
        disposeDecodeState(b.state);
        return Promise.resolve();
      });
      prompt.dispose();
    });
  });
}

Deno.test("decodeStep() grows the cache by one token and continues the positions", async () => {
  await withModel("llama_gqa", async (model) => {
    await withBatch(rowsFor(model), (batch) => {
      const first = prefill(model, undefined, batch);
      assert.equal(first.state._tag, "Cached");
      const next = decodeStep(model, first.state, [3, 4]);
      if (first.state._tag !== "Cached" || next.state._tag !== "Cached") throw new Error("cached");
      assert.equal(next.state.cache[0].key.shape[2], first.state.cache[0].key.shape[2]! + 1);
      assert.equal(next.state.mask.shape[1], first.state.mask.shape[1]! + 1);
      // Feeding the same token through extend() gives the same logits.
      const tokens = int2d([[3], [4]]);
      const more = extend(model, first.state, tokens);
      const diff = tf.tidy(() =>
        tf.max(tf.abs(tf.sub(tf.reshape(more.logits, [2, -1]), next.logits))).dataSync()[0]
      );
      assert.ok(diff < 1e-6);
      tf.dispose([first.logits, next.logits, more.logits, tokens]);
      [first.state, next.state, more.state].forEach(disposeDecodeState);
      return Promise.resolve();
    });
  });
});

Deno.test("prefill() uses the prompt: the logits change, and equal a manual [prompt ; inputs] pass", async () => {
  for (const name of ["t5_v1_1", "gpt2_tiny"] as const) {
    await withModel(name, async (model) => {
      const rows = rowsFor(model);
      const prompt = promptFor(model, 31);
      await withBatch(rows, (batch) => {
        const withPrompt = prefill(model, prompt, batch);
        const without = prefill(model, undefined, batch);
        const changed = tf.tidy(() =>
          tf.max(tf.abs(tf.sub(withPrompt.logits, without.logits))).dataSync()[0]
        );
        assert.ok(changed > 1e-2, `${name}: the prompt changed nothing`);
        // Manual: per row, [pads ; prompt ; real tokens] (T5 rows start with real tokens).
        const manual = tf.tidy(() => {
          const embeds = tf.gather(table(model), batch.inputIds) as tf.Tensor3D; // [B, T, H]
          const parts = rows.ids.map((_, r) => {
            const at = rows.mask[r].indexOf(1);
            const row = embeds.slice([r, 0, 0], [1, -1, -1]).squeeze([0]); // [T, H]
            const t = rows.ids[r].length;
            return tf.concat([
              row.slice([0, 0], [at, -1]),
              prompt,
              row.slice([at, 0], [t - at, -1]),
            ]);
          });
          const inputs = tf.stack(parts); // [B, P + T, H]
          const mask = int2d(rows.mask.map((m) => {
            const at = m.indexOf(1);
            return [...m.slice(0, at), 1, 1, 1, ...m.slice(at)];
          }));
          if (model.architecture === "t5") {
            const params = model.params as unknown as T5Params;
            const enc = t5Encode(params, model.config, {
              inputsEmbeds: inputs,
              attentionMask: mask,
            });
            const start = tf.zeros([2, 1], "int32");
            const out = t5Decode(params, model.config, {
              decoderInputIds: start,
              encoderStates: enc,
              encoderMask: mask,
            });
            return tf.reshape(out.logits, [2, -1]);
          }
          if (model.architecture !== "gpt2") throw new Error("expected GPT-2");
          const out = gpt2Forward(model.params as unknown as Gpt2Params, model.config, {
            inputsEmbeds: inputs,
            attentionMask: mask,
          });
          const w = out.logits.shape[1] as number;
          return tf.reshape(out.logits.slice([0, w - 1, 0], [2, 1, -1]), [2, -1]); // left-padded
        });
        const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(withPrompt.logits, manual))).dataSync()[0]);
        assert.ok(diff < 1e-5, `${name}: ${diff}`);
        tf.dispose([withPrompt.logits, without.logits, manual]);
        disposeDecodeState(withPrompt.state);
        disposeDecodeState(without.state);
        return Promise.resolve();
      });
      prompt.dispose();
    });
  }
});

Deno.test("greedy() stops each row at its EOS and leaves the other rows as if alone", async () => {
  await withModel("gpt2_tiny", async (model) => {
    const rows = rowsFor(model);
    const eos = hotEos("gpt2_tiny");
    const both = await withBatch(
      rows,
      (batch) => greedy(model, undefined, batch, { maxNewTokens: 6, eosTokenIds: eos }),
    );
    const stopped = both.finished.indexOf(true);
    const running = both.finished.indexOf(false);
    assert.ok(stopped >= 0 && running >= 0, "expected one finished and one unfinished row");
    assert.equal(both.tokens[stopped].at(-1), eos[0]);
    assert.ok(both.tokens[stopped].length < 6);
    assert.equal(both.tokens[running].length, 6);
    for (const r of [stopped, running]) {
      const alone = await withBatch(
        { ids: [realTokens(rows, r)], mask: [realTokens(rows, r).map(() => 1)] },
        (batch) => greedy(model, undefined, batch, { maxNewTokens: 6, eosTokenIds: eos }),
      );
      assert.deepEqual(alone.tokens[0], both.tokens[r]);
    }
  });
});

Deno.test("decoder-only decoding gives the same tokens for left and right padding", async () => {
  await withModel("llama_gqa", async (model) => {
    const left = rowsFor(model);
    const right = {
      ids: left.ids.map((_, r) => {
        const real = realTokens(left, r);
        return [...real, ...new Array(left.ids[r].length - real.length).fill(0)];
      }),
      mask: left.mask.map((m) => [...m].sort((a, b) => b - a)),
    };
    const prompt = promptFor(model, 41);
    const options = { ...BEAM_PRESET, maxNewTokens: 4, eosTokenIds: [] };
    const a = await withBatch(left, (batch) => beamSearch(model, prompt, batch, options));
    const b = await withBatch(right, (batch) => beamSearch(model, prompt, batch, options));
    assert.deepEqual(b.tokens, a.tokens);
    assertClose(b.scores, a.scores, 1e-4);
    prompt.dispose();
  });
});

Deno.test("selectRows() repeats and reorders rows of a state", async () => {
  await withModel("t5_v1_1", async (model) => {
    await withBatch(rowsFor(model), (batch) => {
      const first = prefill(model, undefined, batch);
      const picked = selectRows(first.state, [1, 0, 1]);
      const next = decodeStep(model, picked, [9, 9, 9]);
      const base = decodeStep(model, first.state, [9, 9]);
      const rows = tf.tidy(() => tf.gather(base.logits, tf.tensor1d([1, 0, 1], "int32")));
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(next.logits, rows))).dataSync()[0]);
      assert.ok(diff < 1e-6);
      assert.throws(
        () => selectRows(first.state, [2]),
        /selects 2; expected an integer in \[0, 2\)/,
      );
      tf.dispose([first.logits, next.logits, base.logits, rows]);
      [first.state, picked, next.state, base.state].forEach(disposeDecodeState);
      return Promise.resolve();
    });
  });
});

Deno.test("decode() dispatches on the mode and checks its options with one-line errors", async () => {
  await withModel("gpt2_tiny", async (model) => {
    const rows = rowsFor(model);
    await withBatch(rows, async (batch) => {
      const g = await greedy(model, undefined, batch, { maxNewTokens: 3 });
      assert.deepEqual(
        await decode(model, undefined, batch, DECODING_PRESETS.greedy, { maxNewTokens: 3 }),
        g,
      );
      const s = await decode(model, undefined, batch, DECODING_PRESETS.sample, {
        maxNewTokens: 3,
        key: key(2),
      });
      assert.equal(s.tokens.length, 2);
      const oneLine = (re: RegExp) => (e: unknown) =>
        e instanceof Error && re.test(e.message) && !e.message.includes("\n") &&
        !e.message.endsWith(".");
      await assert.rejects(
        decode(model, undefined, batch, DECODING_PRESETS.sample, { maxNewTokens: 3 }),
        oneLine(/^Decoding: sampling needs a PRNG key/),
      );
      await assert.rejects(
        greedy(model, undefined, batch, { maxNewTokens: 0 }),
        oneLine(/^Decoding: maxNewTokens is 0; expected a positive integer/),
      );
      await assert.rejects(
        sample(model, undefined, batch, { maxNewTokens: 2, key: key(1), topP: 0 }),
        oneLine(/^Sampling: topP is 0; expected a number in \(0, 1\]/),
      );
      await assert.rejects(
        beamSearch(model, undefined, batch, { maxNewTokens: 2, numBeams: 0 }),
        oneLine(/^Beam search: numBeams is 0/),
      );
      const wide = tf.zeros([2, 7]);
      await assert.rejects(
        greedy(model, wide, batch, { maxNewTokens: 2 }),
        oneLine(/^Decoding: the prompt is float32 \[2, 7\]; expected float32 \[P, 24\]/),
      );
      wide.dispose();
      await assert.rejects(
        greedy(model, undefined, batch, { maxNewTokens: 2, eosTokenIds: [500] }),
        oneLine(/^Decoding: special id 500/),
      );
    });
    const empty = { ids: [[0, 0]], mask: [[0, 0]] };
    await withBatch(empty, async (batch) => {
      await assert.rejects(
        greedy(model, undefined, batch, { maxNewTokens: 2 }),
        /row 0 has no real token and there is no prompt/,
      );
    });
  });
});
