/**
 * `serve`: one frozen model, loaded once, and a directory of prompts behind an HTTP server on
 * loopback. Requests name a prompt and ask to rank label words (`POST /classify`) or to generate
 * (`POST /generate`); concurrent requests, whatever their prompts, are batched (a short window,
 * a most rows per batch). SIGTERM (or SIGINT) stops accepting, answers what was accepted, exits 0.
 *
 * @module
 */
import { problem } from "../problem.ts";
import { Failure, one, orFail, parseCommand, positionals, required, UsageError } from "./args.ts";
import { disposeFrozen, loadFrozen } from "./_model.ts";
import { type BatchStats, makeBatcher } from "./_serve_batcher.ts";
import { batchEngine } from "./_serve_engine.ts";
import { makeHandler } from "./_serve_http.ts";
import { type Catalog, EMPTY_CATALOG, promptSource, scanPrompts } from "./_serve_prompts.ts";
import { DEFAULT_LIMITS, type Limits } from "./_serve_request.ts";
import type { RunBatch } from "./_serve_rows.ts";

export type { BatchStats } from "./_serve_batcher.ts";
export type { Limits } from "./_serve_request.ts";
export type { Row, RowResult, RowTask, RunBatch, ServedPrompt } from "./_serve_rows.ts";

/**
 * `serve --help`.
 *
 * @example
 * ```ts
 * import { SERVE_HELP } from "./serve.ts";
 * import assert from "node:assert/strict";
 * assert(SERVE_HELP.includes("--prompts"));
 * ```
 */
export const SERVE_HELP =
  `Usage: deno run --allow-net=127.0.0.1:PORT --allow-read=MODEL,PROMPTS,WASM cli.ts serve --prompts DIR [options]

Serves the prompts of DIR in front of one frozen model, loaded once, over HTTP on 127.0.0.1.
WASM is TensorFlow.js's WASM backend in node_modules (node_modules/.deno/@tensorflow+tfjs-backend-wasm@4.22.0).

Prompts: DIR/NAME.npy, NAME.npz, NAME.safetensors, or NAME/ (a PEFT adapter, training
checkpoint or run directory); an optional DIR/NAME.json gives {"labels": [...], "combine":
"prefix"|"prefix_after_bos"|"suffix", "length_normalize": false}. A request for a name not yet
served scans DIR again (at most once a second), so a prompt dropped in is served without a
restart; POST /reload scans at once (and re-reads changed files).

Endpoints:
  POST /classify  {"prompt": NAME, "inputs": [TEXT, ...], "labels": [WORD, ...]?}
                  → {"prompt", "labels", "results": [{"label", "index", "scores"}]}
  POST /generate  {"prompt": NAME, "inputs": [TEXT, ...], "max_new_tokens": 16?, "decoding":
                  {"mode": "greedy"|"beam"|"sample", "num_beams", "length_penalty",
                  "temperature", "top_k", "top_p", "seed"}?}
                  → {"prompt", "results": [{"text", "ids", "score"}]}
  GET /health     status, prompts, batching and the batch counters
  GET /prompts    every prompt: name, length, combine, labels
  POST /reload    scan DIR now
Errors: {"error": "one line"}: 400 bad body, 404 unknown prompt or path, 405 wrong method,
413 body, inputs or input over its limit, 500 the batch failed, 503 stopping.

Options:
  --prompts DIR         The prompt directory (required)
  --model NAME          A model directory or embedded:NAME (default embedded:default)
  --port N              The port (default 8000; 0: any free port, printed)
  --hostname H          The address (default 127.0.0.1)
  --window-ms MS        How long a batch waits for more requests (default 5; 0: none)
  --max-batch N         The most rows (inputs) of one batch (default 16; 1: one at a time)
  --max-inputs N        The most inputs of one request (default 64)
  --max-input-tokens N  The most tokens of one input, special tokens included (default 256)
  --max-body-bytes N    The most bytes of a request body (default 1048576)
  --max-new-tokens N    The most tokens a generation may ask for (default 64)
  --debug               Show the stack trace of an error`;

/**
 * Options of {@link startServe}.
 *
 * @example
 * ```ts
 * import type { ServeOptions } from "./serve.ts";
 * import assert from "node:assert/strict";
 * const o: ServeOptions = { model: "embedded:default", prompts: "prompts/", port: 0 };
 * assert.equal(o.port, 0);
 * ```
 */
export interface ServeOptions {
  /** A model directory or `embedded:NAME`. */
  readonly model: string;
  /** The prompt directory. */
  readonly prompts: string;
  /** The port (default 8000; 0: any free port). */
  readonly port?: number;
  /** The address (default `127.0.0.1`). */
  readonly hostname?: string;
  /** The batching window in milliseconds (default 5). */
  readonly windowMs?: number;
  /** The most rows of a batch (default 16). */
  readonly maxBatch?: number;
  /** Bounds of requests over the defaults. */
  readonly limits?: Partial<Limits>;
  /** The least time between scans that an unknown prompt name starts (default 1000 ms). */
  readonly minRescanMs?: number;
  /** Wraps the engine (tests make it fail). */
  readonly wrapEngine?: (run: RunBatch) => RunBatch;
  /** Where lines about the prompts go (default stderr). */
  readonly log?: (line: string) => void;
}

/**
 * A running server.
 *
 * @example
 * ```ts
 * import type { ServeHandle } from "./serve.ts";
 * import assert from "node:assert/strict";
 * const url = (h: ServeHandle) => h.url;
 * assert.equal(typeof url, "function");
 * ```
 */
export interface ServeHandle {
  /** `http://HOST:PORT`. */
  readonly url: string;
  /** The port listened on. */
  readonly port: number;
  /** The batcher's counters. */
  stats(): BatchStats;
  /** Stops accepting, answers what was accepted, frees the model; idempotent. */
  stop(): Promise<void>;
}

function checkInt(v: number, lo: number, hi: number, name: string): void {
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new UsageError(`serve: --${name} is ${v}; expected an integer in [${lo}, ${hi}]`);
  }
}

function printProblems(c: Catalog, log: (line: string) => void, said: Set<string>): void {
  for (const p of c.problems) {
    if (!said.has(p)) log(`Not served: ${p}`);
    said.add(p);
  }
}

/**
 * Loads the model and the prompt directory and starts the server.
 *
 * @param options the model, the prompts, the address and the batching
 * @returns the running server; throws `Failure` (the model or directory cannot be read) or
 *   `UsageError` (an option out of range)
 * @example
 * ```ts
 * import { startServe } from "./serve.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const server = await startServe({ model: "tests/fixtures/cli/model", prompts: dir, port: 0, log: () => {} });
 * const health = await (await fetch(`${server.url}/health`)).json();
 * assert.equal(health.status, "ok");
 * await server.stop();
 * await Deno.remove(dir);
 * ```
 */
export async function startServe(options: ServeOptions): Promise<ServeHandle> {
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const windowMs = options.windowMs ?? 5;
  const maxBatch = options.maxBatch ?? 16;
  checkInt(windowMs, 0, 10_000, "window-ms");
  checkInt(maxBatch, 1, 4096, "max-batch");
  checkInt(options.port ?? 8000, 0, 65535, "port");
  for (const [k, v] of Object.entries(limits)) checkInt(v, 1, 2 ** 30, k);
  const log = options.log ?? ((line: string) => console.error(line));
  const frozen = await loadFrozen(options.model);
  try {
    const first = await scanPrompts(options.prompts, frozen.width, EMPTY_CATALOG);
    const catalog = orFail(first);
    const said = new Set<string>();
    printProblems(catalog, log, said);
    const prompts = promptSource(options.prompts, frozen.width, catalog, {
      minRescanMs: options.minRescanMs,
      onScan: (c) => printProblems(c, log, said),
    });
    const engine = batchEngine(frozen.model, frozen.tokenizer);
    const batcher = makeBatcher(options.wrapEngine?.(engine) ?? engine, { windowMs, maxBatch });
    let draining = false;
    const handler = makeHandler({
      model: options.model,
      tokenizer: frozen.tokenizer,
      limits,
      batcher,
      prompts,
      draining: () => draining,
      batching: { window_ms: windowMs, max_batch: maxBatch },
    });
    const hostname = options.hostname ?? "127.0.0.1";
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = Deno.serve({
        hostname,
        port: options.port ?? 8000,
        onListen: () => {},
        onError: (e) =>
          new Response(
            JSON.stringify({ error: `Server: ${e instanceof Error ? e.message : e}` }) + "\n",
            { status: 500, headers: { "content-type": "application/json" } },
          ),
      }, handler);
    } catch (e) {
      throw new Failure([
        problem(
          "Io",
          `${hostname}:${options.port ?? 8000}`,
          `Cannot listen: ${e instanceof Error ? e.message.split("\n")[0] : e}`,
        ),
      ]);
    }
    const port = server.addr.port;
    let stopped: Promise<void> | undefined;
    return {
      url: `http://${hostname}:${port}`,
      port,
      stats: () => batcher.stats(),
      stop() {
        stopped ??= (async () => {
          draining = true;
          await server.shutdown();
          await batcher.idle();
          disposeFrozen(frozen);
        })();
        return stopped;
      },
    };
  } catch (e) {
    disposeFrozen(frozen);
    throw e;
  }
}

const SERVE_OPTIONS = {
  prompts: "string",
  model: "string",
  port: "string",
  hostname: "string",
  "window-ms": "string",
  "max-batch": "string",
  "max-inputs": "string",
  "max-input-tokens": "string",
  "max-body-bytes": "string",
  "max-new-tokens": "string",
} as const;

function intOption(p: ReturnType<typeof parseCommand>, name: string): number | undefined {
  const v = one(p, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,10}$/.test(v)) {
    throw new UsageError(`serve: --${name} is ${JSON.stringify(v)}; expected a whole number`);
  }
  return Number(v);
}

/**
 * Runs `serve` with the arguments after the command's name, until SIGTERM or SIGINT.
 *
 * @param args the arguments
 * @returns when stopped; throws `UsageError` or `Failure`
 * @example
 * ```ts
 * import { runServe } from "./serve.ts";
 * import assert from "node:assert/strict";
 * await assert.rejects(runServe([]), /--prompts/);
 * ```
 */
export async function runServe(args: readonly string[]): Promise<void> {
  const p = parseCommand("serve", args, SERVE_OPTIONS);
  if (p.flags.has("help")) return console.log(SERVE_HELP);
  positionals(p, "serve", []);
  const dir = required(p, "serve", "prompts", "DIR");
  const maxInputs = intOption(p, "max-inputs");
  const maxInputTokens = intOption(p, "max-input-tokens");
  const maxBodyBytes = intOption(p, "max-body-bytes");
  const maxNewTokens = intOption(p, "max-new-tokens");
  const server = await startServe({
    model: one(p, "model") ?? "embedded:default",
    prompts: dir,
    port: intOption(p, "port"),
    hostname: one(p, "hostname"),
    windowMs: intOption(p, "window-ms"),
    maxBatch: intOption(p, "max-batch"),
    limits: {
      ...(maxInputs === undefined ? {} : { maxInputs }),
      ...(maxInputTokens === undefined ? {} : { maxInputTokens }),
      ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
      ...(maxNewTokens === undefined ? {} : { maxNewTokens }),
    },
  });
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGTERM", "SIGINT"];
  await new Promise<void>((resolve) => {
    const onSignal = () => {
      for (const s of signals) Deno.removeSignalListener(s, onSignal);
      console.error("Stopping: answering the requests accepted");
      server.stop().then(resolve, resolve);
    };
    for (const s of signals) Deno.addSignalListener(s, onSignal);
    console.log(`Listening on ${server.url}/`);
  });
  const s = server.stats();
  console.error(`Stopped after ${s.requests} requests in ${s.batches} batches`);
}
