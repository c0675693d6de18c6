/**
 * `cli.ts serve`: answers equal to the library's for each request alone, batching across
 * prompts, every bad request's status and one-line error, an engine failure kept to its batch,
 * a prompt dropped in served without a restart, no tensor left after a burst, and SIGTERM
 * draining the queue under the minimal permissions.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import { type RunBatch, startServe } from "../cli/serve.ts";
import { generateAndMatch, rankClassify } from "../eval/mod.ts";
import { fromEmbeddedList, randomUniform } from "../initializers/mod.ts";
import { hostTensor } from "../io/host_tensor.ts";
import { writeNpy } from "../io/npy.ts";
import { prefix, suffix } from "../model/combine.ts";
import { embeddingTable, type FrozenModel, loadModel } from "../model/load.ts";
import { orThrow } from "../problem.ts";
import { key } from "../random/mod.ts";
import { type HfTokenizer, loadTokenizer } from "../tokenizer/mod.ts";
import { disposeTree } from "../tree/tree.ts";
import { runCli, showRun } from "./_cli.ts";

await initBackend("wasm");

const MODEL = "tests/fixtures/cli/model";
const WASM = "node_modules/.deno/@tensorflow+tfjs-backend-wasm@4.22.0/node_modules/" +
  "@tensorflow/tfjs-backend-wasm/dist";

/** The prompts of the tests: name, initializer, sidecar. */
async function writePrompt(
  dir: string,
  name: string,
  prompt: tf.Tensor,
  sidecar?: Record<string, unknown>,
): Promise<void> {
  const h = hostTensor("float32", prompt.shape, (await prompt.data()) as Float32Array);
  orThrow(await writeNpy(join(dir, `${name}.npy`), h));
  if (sidecar !== undefined) {
    await Deno.writeTextFile(join(dir, `${name}.json`), JSON.stringify(sidecar));
  }
}

interface Fixture {
  readonly model: FrozenModel;
  readonly tokenizer: HfTokenizer;
  readonly dir: string;
  /** Name → [P, H] prompt and its combine. */
  readonly prompts: ReadonlyMap<string, { tensor: tf.Tensor; suffix: boolean }>;
}

/**
 * Three prompts made by the library's initializers: `pos` (class labels, 2 tokens, labels
 * positive / negative), `rnd` (random uniform, 3 tokens, after the input, labels great / awful),
 * `one` (random uniform, 1 token, no sidecar).
 */
async function fixture(): Promise<Fixture> {
  const model = orThrow(await loadModel(MODEL));
  const tokenizer = orThrow(await loadTokenizer(MODEL));
  const h = embeddingTable(model).shape[1] as number;
  const dir = await Deno.makeTempDir({ prefix: "serve_test_" });
  const pos = fromEmbeddedList(embeddingTable(model), tokenizer, ["positive", "negative"], {
    fallback: randomUniform(0.5),
  })(key(1), [2, h]);
  const rnd = randomUniform(0.5)(key(2), [3, h]);
  const one = randomUniform(0.5)(key(3), [1, h]);
  await writePrompt(dir, "pos", pos, { labels: ["positive", "negative"] });
  await writePrompt(dir, "rnd", rnd, { labels: ["great", "awful"], combine: "suffix" });
  await writePrompt(dir, "one", one);
  return {
    model,
    tokenizer,
    dir,
    prompts: new Map([
      ["pos", { tensor: pos, suffix: false }],
      ["rnd", { tensor: rnd, suffix: true }],
      ["one", { tensor: one, suffix: false }],
    ]),
  };
}

async function done(f: Fixture): Promise<void> {
  for (const p of f.prompts.values()) p.tensor.dispose();
  disposeTree(f.model.params);
  await Deno.remove(f.dir, { recursive: true });
}

/** An input as the command line encodes it: the tokenizer's special tokens around the text. */
const inputIds = (t: HfTokenizer, text: string) => [
  ...t.specialPrefix,
  ...t.encode(text),
  ...t.specialSuffix,
];
/** A label as a target: its ids, then the EOS. */
const labelIds = (t: HfTokenizer, word: string) => [...t.encode(word), t.eosId as number];

// Response bodies are read field by field in the assertions.
// deno-lint-ignore no-explicit-any
async function post(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(url, { method: "POST", body: JSON.stringify(body) });
  return { status: r.status, json: await r.json() };
}

const quiet = () => {};

Deno.test("serve answers each request as the library computes it alone, over several prompts at once", async () => {
  const f = await fixture();
  const server = await startServe({
    model: MODEL,
    prompts: f.dir,
    port: 0,
    windowMs: 50,
    log: quiet,
  });
  try {
    const texts = ["a fine film", "dull and long", "the best of the year, truly", "no"];
    const classify = [...f.prompts.keys()].flatMap((name) =>
      // "one" asks for "pos"'s labels: the rows of both go in one mixed-prompt pass.
      texts.map((text) => ({
        name,
        text,
        labels: name === "one" ? ["positive", "negative"] : undefined,
      }))
    );
    const generate = [
      { name: "pos", text: "a fine film", decoding: { mode: "greedy" } },
      { name: "rnd", text: "dull and long", decoding: { mode: "beam", num_beams: 3 } },
      { name: "one", text: "no", decoding: { mode: "sample", seed: 7, top_k: 20 } },
      { name: "pos", text: "the best of the year, truly", decoding: { mode: "greedy" } },
      { name: "one", text: "dull and long", decoding: { mode: "greedy" } },
    ];
    const before = tf.memory().numTensors;
    const [ranked, generated] = await Promise.all([
      Promise.all(classify.map((c) =>
        post(`${server.url}/classify`, {
          prompt: c.name,
          inputs: [c.text],
          ...(c.labels === undefined ? {} : { labels: c.labels }),
        })
      )),
      Promise.all(generate.map((g) =>
        post(`${server.url}/generate`, {
          prompt: g.name,
          inputs: [g.text],
          max_new_tokens: 5,
          decoding: g.decoding,
        })
      )),
    ]);
    assert.equal(tf.memory().numTensors, before, "no tensor left after the burst");
    // The rows were batched: fewer batches than requests, some mixing prompts.
    const stats = server.stats();
    assert(stats.batches < classify.length + generate.length, JSON.stringify(stats));
    assert(stats.mixed_batches >= 1, JSON.stringify(stats));
    for (let i = 0; i < classify.length; i++) {
      const c = classify[i], p = f.prompts.get(c.name)!;
      const words = c.labels ?? (c.name === "pos" ? ["positive", "negative"] : ["great", "awful"]);
      const [alone] = await rankClassify(
        f.model,
        p.tensor,
        [inputIds(f.tokenizer, c.text)],
        words.map((w) => labelIds(f.tokenizer, w)),
        { combine: p.suffix ? suffix : prefix },
      );
      assert.equal(ranked[i].status, 200, JSON.stringify(ranked[i].json));
      const got = ranked[i].json.results[0];
      assert.deepEqual(ranked[i].json.labels, words);
      assert.equal(got.index, alone.predicted, `${c.name} ${c.text}`);
      assert.equal(got.label, words[alone.predicted]);
      got.scores.forEach((s: number, k: number) =>
        assert(Math.abs(s - alone.scores[k]) < 1e-4, `${c.name} ${c.text}: ${s} vs ${alone.scores}`)
      );
    }
    for (let i = 0; i < generate.length; i++) {
      const g = generate[i], p = f.prompts.get(g.name)!;
      const d = g.decoding;
      const [alone] = await generateAndMatch(f.model, p.tensor, [{
        inputIds: inputIds(f.tokenizer, g.text),
        target: "",
      }], {
        tokenizer: f.tokenizer,
        maxNewTokens: 5,
        decoding: d.mode === "beam"
          ? { mode: "beam", numBeams: 3, lengthPenalty: 0.6 }
          : d.mode === "sample"
          ? { mode: "sample", temperature: 1, topP: 1, topK: 20 }
          : { mode: "greedy" },
        key: d.mode === "sample" ? key(7) : undefined,
        combine: p.suffix ? suffix : prefix,
      });
      assert.equal(generated[i].status, 200, JSON.stringify(generated[i].json));
      const got = generated[i].json.results[0];
      assert.deepEqual(got.ids, [...alone.ids], `${g.name} ${d.mode}`);
      assert.equal(got.text, alone.prediction);
      assert(Math.abs(got.score - alone.score) < 1e-3, `${got.score} vs ${alone.score}`);
    }
  } finally {
    await server.stop();
    await done(f);
  }
});

Deno.test("serve batches concurrent requests for different prompts, and one at a time with --max-batch 1", async () => {
  const f = await fixture();
  try {
    for (const maxBatch of [64, 1]) {
      const server = await startServe({
        model: MODEL,
        prompts: f.dir,
        port: 0,
        windowMs: maxBatch === 1 ? 0 : 1000, // long enough for six requests on a loaded machine
        maxBatch,
        log: quiet,
      });
      try {
        const names = ["pos", "rnd", "one", "pos", "rnd", "one"];
        const answers = await Promise.all(
          names.map((name) =>
            post(`${server.url}/classify`, { prompt: name, inputs: ["x y"], labels: ["yes", "no"] })
          ),
        );
        assert(answers.every((a) => a.status === 200));
        const health = await (await fetch(`${server.url}/health`)).json();
        assert.equal(health.stats.requests, 6);
        if (maxBatch === 64) {
          assert.equal(health.stats.batches, 1, JSON.stringify(health.stats));
          assert.equal(health.stats.mixed_batches, 1);
          assert.equal(health.stats.largest_batch, 6);
        } else {
          assert.equal(health.stats.batches, 6, JSON.stringify(health.stats));
          assert.equal(health.stats.mixed_batches, 0);
        }
      } finally {
        await server.stop();
      }
    }
  } finally {
    await done(f);
  }
});

Deno.test("serve refuses every bad request with its status and a one-line JSON error", async () => {
  const f = await fixture();
  const server = await startServe({
    model: MODEL,
    prompts: f.dir,
    port: 0,
    windowMs: 0,
    limits: { maxInputs: 3, maxInputTokens: 12, maxInputChars: 300, maxBodyBytes: 2048 },
    log: quiet,
  });
  const u = server.url;
  const long = "word ".repeat(40);
  const cases: readonly {
    what: string;
    status: number;
    error: RegExp;
    path?: string;
    method?: string;
    body?: BodyInit;
    headers?: Record<string, string>;
  }[] = [
    {
      what: "unknown prompt",
      status: 404,
      error: /^prompt: No prompt "nope".*known: one, pos, rnd$/,
      body: JSON.stringify({ prompt: "nope", inputs: ["a"] }),
    },
    {
      what: "malformed body",
      status: 400,
      error: /^body:1:\d+: /,
      body: '{"prompt": "pos", "inputs": [',
    },
    {
      what: "not UTF-8",
      status: 400,
      error: /^body: Not UTF-8/,
      body: new Uint8Array([0x7b, 0xff, 0x7d]),
    },
    { what: "empty body", status: 400, error: /^body: Empty/, body: "" },
    {
      what: "body not an object",
      status: 400,
      error: /^body: Got an array; expected a JSON object$/,
      body: "[1]",
    },
    {
      what: "unknown field",
      status: 400,
      error: /^body: Unknown field "input"; expected prompt, inputs, labels$/,
      body: JSON.stringify({ prompt: "pos", input: ["a"] }),
    },
    {
      what: "no inputs",
      status: 400,
      error: /^inputs: Got nothing; expected a non-empty array of strings$/,
      body: JSON.stringify({ prompt: "pos" }),
    },
    {
      what: "an input not a string",
      status: 400,
      error: /^inputs\[1\]: Got number; expected a string$/,
      body: JSON.stringify({ prompt: "pos", inputs: ["a", 3] }),
    },
    {
      what: "bad prompt name",
      status: 400,
      error: /^prompt: Got "\.\.\/x"; expected a prompt's name/,
      body: JSON.stringify({ prompt: "../x", inputs: ["a"] }),
    },
    {
      what: "no labels anywhere",
      status: 400,
      error: /^labels: Prompt "one" has no label words/,
      body: JSON.stringify({ prompt: "one", inputs: ["a"] }),
    },
    {
      what: "bad labels",
      status: 400,
      error: /^labels: Expected 1 to 64 non-empty strings/,
      body: JSON.stringify({ prompt: "pos", inputs: ["a"], labels: [""] }),
    },
    {
      what: "too many inputs",
      status: 413,
      error: /^inputs: 4 inputs, over the limit of 3; expected at most 3 per request$/,
      body: JSON.stringify({ prompt: "pos", inputs: ["a", "b", "c", "d"] }),
    },
    {
      what: "too long input (tokens)",
      status: 413,
      error: /^inputs\[0\]: \d+ tokens, over the limit of 12; expected a shorter input$/,
      body: JSON.stringify({ prompt: "pos", inputs: [long] }),
    },
    {
      what: "too long input (characters)",
      status: 413,
      error: /^inputs\[0\]: 400 characters, over the limit of 300/,
      body: JSON.stringify({ prompt: "pos", inputs: ["abcd".repeat(100)] }),
    },
    {
      what: "body over the limit",
      status: 413,
      error: /^body: \d+ bytes, over the limit of 2048; expected a smaller request$/,
      body: JSON.stringify({ prompt: "pos", inputs: ["a".repeat(3000)] }),
    },
    {
      what: "body over the limit, streamed without a length",
      status: 413,
      error: /^body: More than 2048 bytes, over the limit of 2048/,
      body: new ReadableStream({
        start(c) {
          for (let i = 0; i < 5; i++) c.enqueue(new TextEncoder().encode("x".repeat(1000)));
          c.close();
        },
      }),
    },
    {
      what: "bad decoding mode",
      status: 400,
      error: /^decoding\.mode: Got "topk"; expected greedy, beam or sample$/,
      path: "/generate",
      body: JSON.stringify({ prompt: "pos", inputs: ["a"], decoding: { mode: "topk" } }),
    },
    {
      what: "too many beams",
      status: 400,
      error: /^decoding\.num_beams: Got 99; expected an integer in \[1, 8\]$/,
      path: "/generate",
      body: JSON.stringify({
        prompt: "pos",
        inputs: ["a"],
        decoding: { mode: "beam", num_beams: 99 },
      }),
    },
    {
      what: "max_new_tokens out of range",
      status: 400,
      error: /^max_new_tokens: Got 0; expected an integer in \[1, 64\]$/,
      path: "/generate",
      body: JSON.stringify({ prompt: "pos", inputs: ["a"], max_new_tokens: 0 }),
    },
    {
      what: "forbidden key",
      status: 400,
      error: /^body:1:\d+: /,
      body: '{"__proto__": {}, "prompt": "pos", "inputs": ["a"]}',
    },
    {
      what: "wrong method",
      status: 405,
      error: /^\/classify: Method GET is not allowed; expected POST$/,
      method: "GET",
    },
    {
      what: "wrong method on /health",
      status: 405,
      error: /^\/health: Method POST is not allowed; expected GET$/,
      path: "/health",
      body: "{}",
    },
    {
      what: "unknown path",
      status: 404,
      error: /^"\/predict": No such path; expected one of /,
      path: "/predict",
      body: "{}",
    },
  ];
  try {
    for (const c of cases) {
      const method = c.method ?? "POST";
      const r = await fetch(`${u}${c.path ?? "/classify"}`, {
        method,
        headers: c.headers,
        ...(method === "GET" ? {} : { body: c.body }),
      });
      const text = await r.text();
      assert.equal(r.status, c.status, `${c.what}: ${text}`);
      assert.equal(r.headers.get("content-type"), "application/json", c.what);
      assert.equal(text.trimEnd().split("\n").length, 1, `${c.what}: one line`);
      const body = JSON.parse(text);
      assert.deepEqual(Object.keys(body), ["error"], c.what);
      assert.match(body.error, c.error, c.what);
      if (c.status === 405) {
        assert.equal(r.headers.get("allow"), c.method === "GET" ? "POST" : "GET");
      }
    }
    // The server lives on: a good request after all that.
    const ok = await post(`${u}/classify`, { prompt: "pos", inputs: ["a"] });
    assert.equal(ok.status, 200);
    assert.equal(server.stats().failed_batches, 0);
  } finally {
    await server.stop();
    await done(f);
  }
});

Deno.test("an engine failure answers 500 to its batch's requests and the server goes on", async () => {
  const f = await fixture();
  const failing = (run: RunBatch): RunBatch => (rows) =>
    rows.some((r) => r.prompt.name === "one")
      ? Promise.reject(new Error("Kernel failed\nsecond line"))
      : run(rows);
  const server = await startServe({
    model: MODEL,
    prompts: f.dir,
    port: 0,
    windowMs: 100,
    wrapEngine: failing,
    log: quiet,
  });
  try {
    const before = tf.memory().numTensors;
    const [a, b] = await Promise.all([
      post(`${server.url}/classify`, { prompt: "one", inputs: ["a"], labels: ["yes", "no"] }),
      post(`${server.url}/classify`, { prompt: "pos", inputs: ["b"] }),
    ]);
    assert.equal(a.status, 500);
    assert.equal(b.status, 500, "the other request of the batch fails with it");
    assert.deepEqual(a.json, { error: "Engine: Kernel failed" });
    const c = await post(`${server.url}/classify`, { prompt: "pos", inputs: ["b"] });
    assert.equal(c.status, 200);
    assert.equal(server.stats().failed_batches, 1);
    assert.equal(tf.memory().numTensors, before);
  } finally {
    await server.stop();
    await done(f);
  }
});

Deno.test("a prompt file dropped in the directory is served without a restart; a bad one is named in /health", async () => {
  const f = await fixture();
  const server = await startServe({
    model: MODEL,
    prompts: f.dir,
    port: 0,
    minRescanMs: 0,
    log: quiet,
  });
  try {
    const ask = () => post(`${server.url}/classify`, { prompt: "late", inputs: ["a b"] });
    assert.equal((await ask()).status, 404);
    const late = randomUniform(0.5)(key(9), [4, 8]);
    await writePrompt(f.dir, "late", late, { labels: ["yes", "no"] });
    const got = await ask();
    assert.equal(got.status, 200, JSON.stringify(got.json));
    const [alone] = await rankClassify(
      f.model,
      late,
      [inputIds(f.tokenizer, "a b")],
      [labelIds(f.tokenizer, "yes"), labelIds(f.tokenizer, "no")],
    );
    assert.equal(got.json.results[0].index, alone.predicted);
    late.dispose();
    // A prompt of the wrong width: not served, its problem in /health; POST /reload lists prompts.
    orThrow(
      await writeNpy(join(f.dir, "wide.npy"), hostTensor("float32", [2, 5], new Float32Array(10))),
    );
    const reload = await post(`${server.url}/reload`, {});
    assert.equal(reload.status, 200);
    assert.deepEqual(reload.json.prompts.map((p: { name: string }) => p.name), [
      "late",
      "one",
      "pos",
      "rnd",
    ]);
    const health = await (await fetch(`${server.url}/health`)).json();
    assert.equal(health.problems.length, 1);
    assert.match(
      health.problems[0],
      /wide\.npy: The prompt is \[2, 5\] but the model's width is 8/,
    );
    assert.equal(
      (await post(`${server.url}/classify`, { prompt: "wide", inputs: ["a"] })).status,
      404,
    );
  } finally {
    await server.stop();
    await done(f);
  }
});

Deno.test("cli.ts serve under --allow-net=127.0.0.1:PORT --allow-read=MODEL,PROMPTS,WASM answers what it accepted on SIGTERM and exits 0", async () => {
  const f = await fixture();
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--allow-net=127.0.0.1:${port}`,
      `--allow-read=${MODEL},${f.dir},${WASM}`,
      "cli.ts",
      "serve",
      "--model",
      MODEL,
      "--prompts",
      f.dir,
      "--port",
      String(port),
      "--window-ms",
      "5000",
    ],
    cwd: new URL("../", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  try {
    while (!out.includes("Listening on")) {
      const { done: end, value } = await stdout.read();
      if (end) break;
      out += value;
    }
    assert.match(out, new RegExp(`Listening on http://127\\.0\\.0\\.1:${port}/`));
    const url = `http://127.0.0.1:${port}`;
    const pending = ["pos", "rnd", "one", "pos"].map((name) =>
      post(`${url}/classify`, { prompt: name, inputs: ["q"], labels: ["yes", "no"] })
    );
    // All four wait in the 5 s window when SIGTERM comes.
    for (let polls = 0;; polls++) {
      const h = await (await fetch(`${url}/health`)).json();
      if (h.stats.queued_rows === 4) break;
      assert(polls < 200 && h.stats.batches === 0, `not queued: ${JSON.stringify(h.stats)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGTERM");
    const answers = await Promise.all(pending);
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200]);
    const status = await child.status;
    const err = await new Response(child.stderr).text();
    assert.equal(status.code, 0, err);
    assert.match(err, /Stopped after 4 requests in 1 batches/);
    await assert.rejects(fetch(`${url}/health`), "no longer listening");
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await stdout.cancel();
    await done(f);
  }
});

Deno.test("cli.ts serve: --help, and one-line errors for a missing --prompts, a bad --port, an unreadable directory", async () => {
  const help = await runCli(["serve", "--help"]);
  assert.equal(help.code, 0, showRun(help));
  assert.match(help.stdout, /POST \/classify/);
  const cases: readonly [readonly string[], number, RegExp][] = [
    [["serve"], 2, /^Error: serve needs --prompts DIR \(see serve --help\)$/],
    [
      ["serve", "--prompts", ".", "--port", "http"],
      2,
      /^Error: serve: --port is "http"; expected a whole number$/,
    ],
    [
      ["serve", "--prompts", ".", "--port", "70000"],
      2,
      /^Error: serve: --port is 70000; expected an integer in \[0, 65535\]$/,
    ],
    [
      ["serve", "--model", MODEL, "--prompts", "/nonexistent/prompts"],
      1,
      /^Error: \/nonexistent\/prompts: Cannot read the prompt directory: /,
    ],
  ];
  for (const [args, code, error] of cases) {
    const r = await runCli(args, ["--allow-read", "--allow-net=127.0.0.1"]);
    assert.equal(r.code, code, showRun(r));
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, showRun(r));
    assert.match(r.stderr.trimEnd(), error);
  }
});
