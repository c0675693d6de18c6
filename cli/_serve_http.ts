/**
 * The server's HTTP side: routes, methods, the body read under its size limit, JSON answers, and
 * every refusal as a status with a one-line `{"error": "..."}` body. Nothing a request sends can
 * throw out of the handler: what is not foreseen is a 500 with one line.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import type { JsonValue } from "../config/json.ts";
import { parseJson } from "../config/json.ts";
import type { HfTokenizer } from "../tokenizer/mod.ts";
import type { Batcher } from "./_serve_batcher.ts";
import type { Catalog, PromptSource } from "./_serve_prompts.ts";
import { type HttpError, type Limits, parseRequest, requestRows } from "./_serve_request.ts";
import type { RowResult } from "./_serve_rows.ts";

/**
 * What the handler needs.
 *
 * @example
 * ```ts
 * import type { HandlerContext } from "./_serve_http.ts";
 * import assert from "node:assert/strict";
 * const keys: (keyof HandlerContext)[] = ["model", "tokenizer", "limits", "batcher", "prompts", "draining", "batching"];
 * assert.equal(keys.length, 7);
 * ```
 */
export interface HandlerContext {
  /** The model's name, for `/health`. */
  readonly model: string;
  /** The model's tokenizer. */
  readonly tokenizer: HfTokenizer;
  /** The bounds of requests. */
  readonly limits: Limits;
  /** The batcher. */
  readonly batcher: Batcher;
  /** The prompts. */
  readonly prompts: PromptSource;
  /** Whether the server is stopping (new work gets a 503). */
  readonly draining: () => boolean;
  /** The batching settings, for `/health`. */
  readonly batching: { readonly window_ms: number; readonly max_batch: number };
}

const json = (status: number, body: JsonValue, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body) + "\n", {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

const oneLine = (s: string) => s.replace(/[\r\n]+/g, " ").slice(0, 1000);

const fail = (e: HttpError, headers: Record<string, string> = {}) =>
  json(e.status, { error: oneLine(e.message) }, headers);

/** The routes and their methods. */
const ROUTES: Readonly<Record<string, string>> = {
  "/health": "GET",
  "/prompts": "GET",
  "/reload": "POST",
  "/classify": "POST",
  "/generate": "POST",
};

/** Reads the body, at most `max` bytes, as JSON. */
async function readBody(req: Request, max: number): Promise<E.Either<HttpError, JsonValue>> {
  const tooLarge = (n: string): E.Either<HttpError, never> =>
    E.left({
      status: 413,
      message: `body: ${n} bytes, over the limit of ${max}; expected a smaller request`,
    });
  const declared = req.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > max) {
    return tooLarge(declared);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (req.body !== null) {
    const reader = req.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        if (size > max) {
          await reader.cancel();
          return tooLarge(`More than ${max}`);
        }
        chunks.push(value);
      }
    } catch (e) {
      return E.left({
        status: 400,
        message: `body: Could not be read (${e instanceof Error ? e.message : e})`,
      });
    }
  }
  if (size === 0) return E.left({ status: 400, message: "body: Empty; expected a JSON object" });
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return E.left({ status: 400, message: "body: Not UTF-8 text; expected a JSON object" });
  }
  const parsed = parseJson(text, "body");
  return E.isLeft(parsed)
    ? E.left({ status: 400, message: `${parsed.left.where}: ${parsed.left.message}` })
    : parsed;
}

const finite = (x: number): number | null => Number.isFinite(x) ? x : null;

function answer(labels: readonly string[], r: RowResult): JsonValue {
  if (r.kind === "classify") {
    return { label: labels[r.predicted], index: r.predicted, scores: r.scores.map(finite) };
  }
  return { text: r.text, ids: [...r.ids], score: finite(r.score) };
}

async function compute(
  kind: "classify" | "generate",
  req: Request,
  ctx: HandlerContext,
  id: number,
): Promise<Response> {
  const body = await readBody(req, ctx.limits.maxBodyBytes);
  if (E.isLeft(body)) return fail(body.left);
  const request = parseRequest(kind, body.right, ctx.limits);
  if (E.isLeft(request)) return fail(request.left);
  const name = request.right.prompt;
  const prompt = await ctx.prompts.find(name);
  if (prompt === undefined) {
    const known = [...ctx.prompts.current().prompts.keys()].slice(0, 20).join(", ");
    return fail({
      status: 404,
      message: `prompt: No prompt "${name}" in the prompt directory; known: ${known || "none"}`,
    });
  }
  const rows = requestRows(request.right, prompt, ctx.tokenizer, ctx.limits, id);
  if (E.isLeft(rows)) return fail(rows.left);
  const results = await ctx.batcher.submit(rows.right);
  if (E.isLeft(results)) return fail(results.left);
  const labels = request.right.kind === "classify"
    ? request.right.labels ?? prompt.labels ?? []
    : [];
  return json(200, {
    prompt: name,
    ...(kind === "classify" ? { labels: [...labels] } : {}),
    results: results.right.map((r) => answer(labels, r)),
  });
}

function promptList(c: Catalog): JsonValue {
  return [...c.prompts.values()].map((p) => ({
    name: p.name,
    length: p.values.shape[0],
    combine: p.combine,
    ...(p.labels === undefined ? {} : { labels: [...p.labels] }),
  }));
}

/**
 * The request handler: `GET /health`, `GET /prompts`, `POST /reload`, `POST /classify`,
 * `POST /generate`; 404 for another path, 405 for another method (with `Allow`), 503 while
 * stopping, and a 500 with one line for what was not foreseen.
 *
 * @param ctx what the handler needs
 * @returns the handler for `Deno.serve`
 * @example
 * ```ts
 * import { makeHandler } from "./_serve_http.ts";
 * import assert from "node:assert/strict";
 * const handler = makeHandler({} as never);
 * const r = await handler(new Request("http://x/nowhere"));
 * assert.equal(r.status, 404);
 * assert.match((await r.json()).error, /nowhere/);
 * ```
 */
export function makeHandler(ctx: HandlerContext): (req: Request) => Promise<Response> {
  let requests = 0;
  return async (req) => {
    try {
      const path = new URL(req.url).pathname;
      const method = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
      if (method === undefined) {
        return fail({
          status: 404,
          message: `${JSON.stringify(path.slice(0, 100))}: No such path; expected one of ${
            Object.keys(ROUTES).join(", ")
          }`,
        });
      }
      if (req.method !== method) {
        return fail({
          status: 405,
          message: `${path}: Method ${req.method.slice(0, 20)} is not allowed; expected ${method}`,
        }, { allow: method });
      }
      if (path === "/health") {
        const c = ctx.prompts.current();
        return json(200, {
          status: ctx.draining() ? "draining" : "ok",
          model: ctx.model,
          prompts: [...c.prompts.keys()],
          problems: [...c.problems],
          batching: ctx.batching,
          stats: { ...ctx.batcher.stats() },
        });
      }
      if (path === "/prompts") return json(200, { prompts: promptList(ctx.prompts.current()) });
      if (ctx.draining()) {
        return fail({ status: 503, message: "Server is shutting down; expected no new requests" });
      }
      if (path === "/reload") {
        const c = await ctx.prompts.reload();
        return json(200, { prompts: promptList(c), problems: [...c.problems] });
      }
      return await compute(path === "/classify" ? "classify" : "generate", req, ctx, ++requests);
    } catch (e) {
      return fail({
        status: 500,
        message: `Server: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`,
      });
    }
  };
}
