/**
 * Load test of `cli.ts serve`, bounded and on loopback only: a fixed number of requests from N
 * concurrent clients over several prompts, against the same server started twice as a
 * subprocess under its minimal permissions: batched (`--window-ms 5 --max-batch 16`, rows of
 * different prompts in one pass) and one request at a time (`--window-ms 0 --max-batch 1`).
 * Reports throughput, p50 / p99 latency, errors, the batches run, and the gain of batching;
 * checks every batched answer against the one-at-a-time server's (each request computed alone),
 * and the first 16 distinct requests of both against the library's result for that request
 * alone (`rankClassify` / `generateAndMatch` in this process). Exits 1 on any error or mismatch.
 *
 * ```text
 * deno run -A bench/serve_load.ts [--requests 160] [--clients 8] [--model embedded:default]
 *                                 [--window-ms 5] [--max-batch 16] [--deadline-s 110]
 *                                 [--out FILE.json]
 * ```
 *
 * The prompts (made here by the library's initializers, written as `.npy` with sidecars):
 * `spam` (class labels ordinary / commercial, 8 tokens), `ham` (sampled vocabulary, 4 tokens,
 * the same labels), `promo` (random uniform, 8 tokens, the same labels), `review` (class labels
 * positive / negative, 4 tokens). Seven requests in eight classify, one block of four (one per
 * prompt) in eight generates 4 tokens greedily; the batched server ranks the rows of the three
 * prompts that share labels in one mixed-prompt pass, and decodes the generating rows of every
 * prompt in another. The default 160 requests keep the run under its 110 s deadline on 2 cores
 * shared with ten times their load (200 took 110 s there, 400 did not finish).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { initBackend } from "../backend.ts";
import { localModelDir } from "../cli/embedded.ts";
import { generateAndMatch, rankClassify } from "../eval/mod.ts";
import { fromEmbeddedList, fromSampleOfEmbeddings, randomUniform } from "../initializers/mod.ts";
import { writeFileAtomic } from "../io/files.ts";
import { hostTensor } from "../io/host_tensor.ts";
import { writeNpy } from "../io/npy.ts";
import { embeddingTable, loadModel } from "../model/load.ts";
import { orThrow } from "../problem.ts";
import { key } from "../random/mod.ts";
import { loadTokenizer } from "../tokenizer/mod.ts";
import { disposeTree } from "../tree/tree.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    requests: { type: "string", default: "160" },
    clients: { type: "string", default: "8" },
    model: { type: "string", default: "embedded:default" },
    "window-ms": { type: "string", default: "5" },
    "max-batch": { type: "string", default: "16" },
    "deadline-s": { type: "string", default: "110" },
    out: { type: "string" },
  },
});

const int = (name: string, v: string, lo: number, hi: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) {
    console.error(`Error: --${name} is ${v}; expected an integer in [${lo}, ${hi}]`);
    Deno.exit(2);
  }
  return n;
};
const REQUESTS = int("requests", args.requests, 1, 10_000);
const CLIENTS = int("clients", args.clients, 1, 64);
const WINDOW = int("window-ms", args["window-ms"], 0, 1000);
const MAX_BATCH = int("max-batch", args["max-batch"], 1, 256);
const NEW_TOKENS = 4;
/** The whole run stops (exit 1) past this, so that CI never hangs on it. */
const DEADLINE_MS = 1000 * int("deadline-s", args["deadline-s"], 1, 3600);

const log = (s: string) => console.error(s);
const started = performance.now();
/** The server running now, killed if the deadline passes (Deno.exit leaves children running). */
const active = new Set<Deno.ChildProcess>();
// deno-lint-ignore prefer-const -- set once the prompt directory exists, below
let tempDir: string | undefined;
const timer = setTimeout(() => {
  console.error(`Error: the load test ran past ${DEADLINE_MS / 1000} s`);
  for (const child of active) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
  if (tempDir !== undefined) Deno.removeSync(tempDir, { recursive: true });
  Deno.exit(1);
}, DEADLINE_MS);

const TEXTS = [
  "Win a free cruise now, click the link below to claim your prize",
  "Meeting moved to Thursday at ten, same room as last week",
  "Lowest prices on watches and bags, limited offer for valued customers",
  "Can you send me the slides from yesterday's talk?",
  "A moving film with a wonderful cast and a sharp script",
  "Dull, overlong and badly acted from start to finish",
  "Your account has been selected for an exclusive reward",
  "The build is broken again on the main branch, please have a look",
  "I laughed, I cried, I would see it again tomorrow",
  "Cheap loans approved in minutes, no credit check needed",
  "Lunch on Friday? The new place near the station is good",
  "The plot makes no sense and the ending is a letdown",
  "Refinance today and save hundreds every month",
  "Here are the minutes of the board meeting, comments welcome",
  "A quiet, beautiful story that stays with you",
  "Act now: only three days left to upgrade your plan",
];

interface Prompt {
  readonly name: string;
  readonly length: number;
  readonly labels: readonly string[];
  readonly init: "class" | "vocab" | "uniform";
  readonly seed: number;
}
const PROMPTS: readonly Prompt[] = [
  { name: "spam", length: 8, labels: ["ordinary", "commercial"], init: "class", seed: 1 },
  { name: "ham", length: 4, labels: ["ordinary", "commercial"], init: "vocab", seed: 2 },
  { name: "promo", length: 8, labels: ["ordinary", "commercial"], init: "uniform", seed: 3 },
  { name: "review", length: 4, labels: ["positive", "negative"], init: "class", seed: 4 },
];

interface Req {
  readonly i: number;
  readonly prompt: Prompt;
  readonly text: string;
  readonly kind: "classify" | "generate";
}
/**
 * Request i: prompts in turn, texts stepped by 5 (coprime with 16); one block of four requests
 * (one per prompt) in eight generates.
 */
const REQS: readonly Req[] = Array.from({ length: REQUESTS }, (_, i) => ({
  i,
  prompt: PROMPTS[i % PROMPTS.length],
  text: TEXTS[(i * 5 + Math.floor(i / 16)) % TEXTS.length],
  kind: (i >> 2) % 8 === 7 ? "generate" : "classify",
}));

const bodyOf = (r: Req) =>
  JSON.stringify(
    r.kind === "classify"
      ? { prompt: r.prompt.name, inputs: [r.text] }
      : { prompt: r.prompt.name, inputs: [r.text], max_new_tokens: NEW_TOKENS },
  );

// --- The prompts, made by the library's initializers.
await initBackend("wasm");
const dir = await localModelDir(args.model);
if (dir === undefined) {
  console.error(`Error: unknown model ${args.model}`);
  Deno.exit(2);
}
const model = orThrow(await loadModel(dir));
const tokenizer = orThrow(await loadTokenizer(dir));
const table = embeddingTable(model); // [V, H]
const width = table.shape[1] as number;
const promptDir = await Deno.makeTempDir({ prefix: "serve_load_" });
tempDir = promptDir;
const tensors = new Map<string, tf.Tensor>();
for (const p of PROMPTS) {
  const init = p.init === "class"
    ? fromEmbeddedList(table, tokenizer, p.labels, { fallback: randomUniform(0.5) })
    : p.init === "vocab"
    ? fromSampleOfEmbeddings(table, { populationSize: 5000 })
    : randomUniform(0.5);
  const t = init(key(p.seed), [p.length, width]); // [P, H]
  tensors.set(p.name, t);
  const h = hostTensor("float32", [p.length, width], (await t.data()) as Float32Array);
  orThrow(await writeNpy(join(promptDir, `${p.name}.npy`), h));
  await writeFileAtomic(join(promptDir, `${p.name}.json`), JSON.stringify({ labels: p.labels }));
}

const setupS = (performance.now() - started) / 1000;

// --- The server, as a subprocess under its minimal permissions.
const WASM = "node_modules/.deno/@tensorflow+tfjs-backend-wasm@4.22.0/node_modules/" +
  "@tensorflow/tfjs-backend-wasm/dist";

interface Server {
  readonly url: string;
  stop(): Promise<{ code: number; stderr: string }>;
}

async function startServer(windowMs: number, maxBatch: number): Promise<Server> {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--allow-net=127.0.0.1:${port}`,
      `--allow-read=${dir},${promptDir},${WASM}`,
      "cli.ts",
      "serve",
      "--model",
      args.model,
      "--prompts",
      promptDir,
      "--port",
      String(port),
      "--window-ms",
      String(windowMs),
      "--max-batch",
      String(maxBatch),
    ],
    cwd: new URL("../", import.meta.url),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  active.add(child);
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("Listening on")) {
    const { done, value } = await reader.read();
    if (done) {
      console.error(`Error: the server exited before listening: ${await stderr}`);
      Deno.exit(1);
    }
    out += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill("SIGTERM");
      const { code } = await child.status;
      active.delete(child);
      return { code, stderr: await stderr };
    },
  };
}

// --- The load.
interface Answer {
  readonly status: number;
  readonly ms: number;
  readonly json?: Record<string, unknown>;
  readonly error?: string;
}

async function ask(url: string, r: Req): Promise<Answer> {
  const t0 = performance.now();
  try {
    const res = await fetch(`${url}/${r.kind}`, { method: "POST", body: bodyOf(r) });
    const json = await res.json();
    return { status: res.status, ms: performance.now() - t0, json };
  } catch (e) {
    return { status: 0, ms: performance.now() - t0, error: String(e) };
  }
}

type Stats = Record<string, number>;
const statsOf = async (url: string): Promise<Stats> =>
  (await (await fetch(`${url}/health`)).json()).stats;

async function load(
  url: string,
): Promise<{ answers: Answer[]; wallMs: number; stats: Stats }> {
  // Warm-up: each prompt and kind once, not counted (the counters are taken after it).
  await Promise.all(REQS.slice(0, 8).map((r) => ask(url, r)));
  await Promise.all(REQS.slice(28, 32).map((r) => ask(url, r)));
  const before = await statsOf(url);
  const answers: Answer[] = new Array(REQS.length);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    for (let i = next++; i < REQS.length; i = next++) answers[i] = await ask(url, REQS[i]);
  }));
  const wallMs = performance.now() - t0;
  const after = await statsOf(url);
  const stats = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]]));
  return { answers, wallMs, stats };
}

const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

interface Summary {
  readonly mode: string;
  readonly window_ms: number;
  readonly max_batch: number;
  readonly requests: number;
  readonly clients: number;
  readonly wall_s: number;
  readonly throughput_rps: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly errors: number;
  readonly batches: number;
  readonly mixed_batches: number;
  readonly mean_batch_rows: number;
  readonly engine_busy: number;
}

const runs: { summary: Summary; answers: Answer[] }[] = [];
const MODES = [["batched", WINDOW, MAX_BATCH], ["one at a time", 0, 1]] as const;
// Both servers start together (loading the model is most of it); each is loaded alone.
log(
  `starting the servers: ${
    MODES.map(([m, w, b]) => `${m} (--window-ms ${w} --max-batch ${b})`).join(", ")
  }`,
);
const startT0 = performance.now();
const servers = await Promise.all(MODES.map(([, w, b]) => startServer(w, b)));
log(`  listening after ${((performance.now() - startT0) / 1000).toFixed(1)} s`);
for (const [k, [mode, w, b]] of MODES.entries()) {
  const server = servers[k];
  log(`${mode}: ${REQS.length} requests from ${CLIENTS} clients`);
  const { answers, wallMs, stats: s } = await load(server.url);
  const stopped = await server.stop();
  if (stopped.code !== 0) {
    console.error(`Error: the server exited ${stopped.code} on SIGTERM: ${stopped.stderr}`);
    Deno.exit(1);
  }
  const errors = answers.filter((a) => a.status !== 200);
  for (const e of errors.slice(0, 3)) {
    log(`  error: ${e.status} ${e.error ?? JSON.stringify(e.json)}`);
  }
  const ms = answers.map((a) => a.ms).sort((x, y) => x - y);
  const summary: Summary = {
    mode,
    window_ms: w,
    max_batch: b,
    requests: REQS.length,
    clients: CLIENTS,
    wall_s: wallMs / 1000,
    throughput_rps: REQS.length / (wallMs / 1000),
    p50_ms: quantile(ms, 0.5),
    p99_ms: quantile(ms, 0.99),
    errors: errors.length,
    batches: s.batches,
    mixed_batches: s.mixed_batches,
    mean_batch_rows: s.rows / s.batches,
    engine_busy: s.engine_ms / wallMs,
  };
  log(`  ${JSON.stringify(summary)}`);
  runs.push({ summary, answers });
}

// --- Every answer against the library's result for the request alone.
log("checking every answer against the library, request by request");
const checkStarted = performance.now();
type Result = { index?: number; scores?: number[]; ids?: number[] };
const cache = new Map<string, Result>();
const encode = (text: string) => [
  ...tokenizer.specialPrefix,
  ...tokenizer.encode(text),
  ...tokenizer.specialSuffix,
];
async function alone(r: Req): Promise<Result> {
  const k = `${r.kind}|${r.prompt.name}|${r.text}`;
  const known = cache.get(k);
  if (known !== undefined) return known;
  const prompt = tensors.get(r.prompt.name) as tf.Tensor;
  let v: Result;
  if (r.kind === "classify") {
    const labels = r.prompt.labels.map((w) => [...tokenizer.encode(w), tokenizer.eosId as number]);
    const [x] = await rankClassify(model, prompt, [encode(r.text)], labels);
    v = { index: x.predicted, scores: [...x.scores] };
  } else {
    const [g] = await generateAndMatch(model, prompt, [{ inputIds: encode(r.text), target: "" }], {
      tokenizer,
      maxNewTokens: NEW_TOKENS,
    });
    v = { ids: [...g.ids] };
  }
  cache.set(k, v);
  return v;
}
/** The most distinct requests computed again in this process (each alone, at ~0.1–0.3 s). */
const LIBRARY_CHECKS = 16;
const resultOf = (a: Answer): Result | undefined =>
  a.status === 200 && a.json !== undefined ? (a.json.results as Result[])[0] : undefined;
const same = (r: Req, got: Result, want: Result) =>
  r.kind === "classify"
    ? got.index === want.index &&
      (got.scores ?? []).every((s, k) => Math.abs(s - (want.scores ?? [])[k]) < 1e-3)
    : JSON.stringify(got.ids) === JSON.stringify(want.ids);
let mismatches = 0;
const mismatch = (what: string, got: Result, want: Result) => {
  mismatches++;
  if (mismatches <= 3) {
    log(`  mismatch (${what}): ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
  }
};
// Every batched answer against the one-at-a-time server's (each request computed alone).
const [batchedRun, singleRun] = runs;
for (const r of REQS) {
  const got = resultOf(batchedRun.answers[r.i]), want = resultOf(singleRun.answers[r.i]);
  if (got !== undefined && want !== undefined && !same(r, got, want)) {
    mismatch(`batched vs one at a time, request ${r.i}`, got, want);
  }
}
// The first distinct requests against the library in this process, for both servers.
const distinct = [...new Map(REQS.map((r) => [`${r.kind}|${r.prompt.name}|${r.text}`, r])).values()]
  .sort((a, b) => a.i - b.i).slice(0, LIBRARY_CHECKS);
for (const r of distinct) {
  const want = await alone(r);
  for (const { summary, answers } of runs) {
    const got = resultOf(answers[r.i]);
    if (got !== undefined && !same(r, got, want)) {
      mismatch(`${summary.mode} vs library, request ${r.i}`, got, want);
    }
  }
}
tf.dispose([...tensors.values()]);
disposeTree(model.params);
await Deno.remove(promptDir, { recursive: true });

const [batched, single] = runs.map((r) => r.summary);
const result = {
  model: args.model,
  backend: "wasm (SIMD, 1 thread)",
  cpus: navigator.hardwareConcurrency,
  prompts: PROMPTS.map((p) => p.name),
  runs: [batched, single],
  gain: batched.throughput_rps / single.throughput_rps,
  checked_batched_vs_one_at_a_time: REQS.length,
  checked_against_library: runs.length * distinct.length,
  mismatches,
  setup_s: setupS,
  check_s: (performance.now() - checkStarted) / 1000,
  total_s: (performance.now() - started) / 1000,
};
console.log(JSON.stringify(result, null, 2));
const cells = (s: Summary) => [
  s.mode,
  String(s.window_ms),
  String(s.max_batch),
  s.throughput_rps.toFixed(1),
  s.p50_ms.toFixed(0),
  s.p99_ms.toFixed(0),
  String(s.errors),
  String(s.batches),
  s.mean_batch_rows.toFixed(1),
  `${(100 * s.engine_busy).toFixed(0)}%`,
];
const head = [
  "server",
  "window ms",
  "max batch",
  "req/s",
  "p50 ms",
  "p99 ms",
  "errors",
  "batches",
  "rows/batch",
  "engine busy",
];
const line = (c: readonly string[]) =>
  `| ${c.map((x, k) => k === 0 ? x.padEnd(13) : x.padStart(head[k].length)).join(" | ")} |`;
console.log(
  [
    "",
    line(head),
    line(head.map((h, k) => k === 0 ? "-".repeat(13) : "-".repeat(h.length - 1) + ":")),
    line(cells(batched)),
    line(cells(single)),
    "",
    `batching gain: ${
      result.gain.toFixed(2)
    }× throughput; ${mismatches} mismatches (${result.checked_batched_vs_one_at_a_time} batched answers against one at a time, ${result.checked_against_library} against the library alone); ${
      result.total_s.toFixed(0)
    } s in all`,
  ].join("\n"),
);
if (args.out !== undefined) await writeFileAtomic(args.out, JSON.stringify(result, null, 2) + "\n");
clearTimeout(timer);
const failed = batched.errors + single.errors + mismatches;
if (failed > 0) {
  console.error(`Error: ${batched.errors + single.errors} errors, ${mismatches} mismatches`);
  Deno.exit(1);
}
