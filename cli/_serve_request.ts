/**
 * The server's requests, checked as untrusted input: `POST /classify` and `POST /generate`
 * bodies (JSON) into what to compute, then, with the prompt found, into rows of token ids.
 * Every refusal is an HTTP status and a one-line message saying what was wrong, where, and what
 * was expected.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { isJsonObject, type JsonObject, type JsonValue } from "../config/json.ts";
import type { Decoding } from "../decode/mod.ts";
import type { HfTokenizer } from "../tokenizer/mod.ts";
import { encodeInput, encodeTarget } from "./_encode.ts";
import { MAX_LABEL_CHARS, MAX_LABELS, PROMPT_NAME } from "./_serve_prompts.ts";
import type { Row, RowTask, ServedPrompt } from "./_serve_rows.ts";

/**
 * A refused request: the HTTP status and the one-line message of its `{"error": ...}` body.
 *
 * @example
 * ```ts
 * import type { HttpError } from "./_serve_request.ts";
 * import assert from "node:assert/strict";
 * const e: HttpError = { status: 404, message: 'prompt: No prompt "x"' };
 * assert.equal(e.status, 404);
 * ```
 */
export interface HttpError {
  /** The status (4xx for the request's fault, 5xx for the server's). */
  readonly status: number;
  /** One line, no final period. */
  readonly message: string;
}

/**
 * The bounds every request is checked against.
 *
 * @example
 * ```ts
 * import { DEFAULT_LIMITS } from "./_serve_request.ts";
 * import assert from "node:assert/strict";
 * assert(DEFAULT_LIMITS.maxInputs >= 1);
 * ```
 */
export interface Limits {
  /** The most bytes of a request body (413 above). */
  readonly maxBodyBytes: number;
  /** The most inputs of one request (413 above). */
  readonly maxInputs: number;
  /** The most characters of one input, checked before tokenizing (413 above). */
  readonly maxInputChars: number;
  /** The most token ids of one input, special tokens included (413 above). */
  readonly maxInputTokens: number;
  /** The most tokens a label word may have, the EOS included (400 above). */
  readonly maxLabelTokens: number;
  /** The most new tokens a generation may ask for (400 above). */
  readonly maxNewTokens: number;
  /** The most beams of beam search (400 above). */
  readonly maxBeams: number;
}

/** The limits of `serve` unless its options say otherwise. */
export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxBodyBytes: 1 << 20,
  maxInputs: 64,
  maxInputChars: 16_384,
  maxInputTokens: 256,
  maxLabelTokens: 16,
  maxNewTokens: 64,
  maxBeams: 8,
});

/** The new tokens of a generation that gives no `max_new_tokens`. */
const DEFAULT_NEW_TOKENS = 16;

/** Sampling's seed when a request gives none. */
const DEFAULT_SEED = 42;

/**
 * A checked request, before its prompt is looked up.
 *
 * @example
 * ```ts
 * import type { ServeRequest } from "./_serve_request.ts";
 * import assert from "node:assert/strict";
 * const r: ServeRequest = { kind: "classify", prompt: "spam", inputs: ["hi"] };
 * assert.equal(r.inputs.length, 1);
 * ```
 */
export type ServeRequest =
  | {
    readonly kind: "classify";
    readonly prompt: string;
    readonly inputs: readonly string[];
    readonly labels?: readonly string[];
  }
  | {
    readonly kind: "generate";
    readonly prompt: string;
    readonly inputs: readonly string[];
    readonly decoding: Decoding;
    readonly maxNewTokens: number;
    readonly seed?: number;
  };

const bad = (message: string, status = 400): E.Either<HttpError, never> =>
  E.left({ status, message });

const describe = (v: JsonValue | undefined): string =>
  v === undefined ? "nothing" : Array.isArray(v) ? "an array" : v === null ? "null" : typeof v;

function checkFields(o: JsonObject, allowed: readonly string[], where: string): string | undefined {
  const extra = Object.keys(o).find((k) => !allowed.includes(k));
  return extra === undefined
    ? undefined
    : `${where}: Unknown field ${JSON.stringify(extra.slice(0, 64))}; expected ${
      allowed.join(", ")
    }`;
}

function isInt(v: JsonValue | undefined, lo: number, hi: number): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi;
}

function inputsOf(o: JsonObject, limits: Limits): E.Either<HttpError, string[]> {
  const inputs = o.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) {
    return bad(`inputs: Got ${describe(inputs)}; expected a non-empty array of strings`);
  }
  if (inputs.length > limits.maxInputs) {
    return bad(
      `inputs: ${inputs.length} inputs, over the limit of ${limits.maxInputs}; expected at most ${limits.maxInputs} per request`,
      413,
    );
  }
  for (let i = 0; i < inputs.length; i++) {
    const v = inputs[i];
    if (typeof v !== "string") return bad(`inputs[${i}]: Got ${describe(v)}; expected a string`);
    if (v.length > limits.maxInputChars) {
      return bad(
        `inputs[${i}]: ${v.length} characters, over the limit of ${limits.maxInputChars}; expected a shorter input`,
        413,
      );
    }
  }
  return E.right(inputs as string[]);
}

function labelsOf(v: JsonValue | undefined): E.Either<HttpError, string[] | undefined> {
  if (v === undefined) return E.right(undefined);
  if (
    !Array.isArray(v) || v.length === 0 || v.length > MAX_LABELS ||
    !v.every((l) => typeof l === "string" && l !== "" && l.length <= MAX_LABEL_CHARS)
  ) {
    return bad(
      `labels: Expected 1 to ${MAX_LABELS} non-empty strings of at most ${MAX_LABEL_CHARS} characters`,
    );
  }
  return E.right(v as string[]);
}

function decodingOf(
  v: JsonValue | undefined,
  limits: Limits,
): E.Either<HttpError, { decoding: Decoding; seed?: number }> {
  if (v === undefined) return E.right({ decoding: { mode: "greedy" } });
  if (!isJsonObject(v)) return bad(`decoding: Got ${describe(v)}; expected an object`);
  const mode = v.mode ?? "greedy";
  const finite = (x: JsonValue | undefined): x is number =>
    typeof x === "number" && Number.isFinite(x);
  if (mode === "greedy") {
    const extra = checkFields(v, ["mode"], "decoding");
    return extra === undefined ? E.right({ decoding: { mode } }) : bad(extra);
  }
  if (mode === "beam") {
    const extra = checkFields(v, ["mode", "num_beams", "length_penalty"], "decoding");
    if (extra !== undefined) return bad(extra);
    const beams = v.num_beams ?? 4, alpha = v.length_penalty ?? 0.6;
    if (!isInt(beams, 1, limits.maxBeams)) {
      return bad(
        `decoding.num_beams: Got ${
          JSON.stringify(beams)
        }; expected an integer in [1, ${limits.maxBeams}]`,
      );
    }
    if (!finite(alpha)) return bad(`decoding.length_penalty: Expected a finite number`);
    return E.right({ decoding: { mode, numBeams: beams, lengthPenalty: alpha } });
  }
  if (mode === "sample") {
    const fields = ["mode", "temperature", "top_k", "top_p", "seed"];
    const extra = checkFields(v, fields, "decoding");
    if (extra !== undefined) return bad(extra);
    const t = v.temperature ?? 1, k = v.top_k ?? 0, p = v.top_p ?? 1, seed = v.seed ?? DEFAULT_SEED;
    if (!finite(t) || t <= 0) return bad(`decoding.temperature: Expected a positive number`);
    if (!isInt(k, 0, 1 << 20)) return bad(`decoding.top_k: Expected an integer ≥ 0 (0: no limit)`);
    if (!finite(p) || p <= 0 || p > 1) return bad(`decoding.top_p: Expected a number in (0, 1]`);
    if (!isInt(seed, 0, 2 ** 31 - 1)) return bad(`decoding.seed: Expected an integer in [0, 2^31)`);
    return E.right({
      decoding: { mode, temperature: t, topP: p, ...(k > 0 ? { topK: k } : {}) },
      seed,
    });
  }
  return bad(`decoding.mode: Got ${JSON.stringify(mode)}; expected greedy, beam or sample`);
}

/**
 * Checks a request body: `classify` takes `prompt`, `inputs` and optionally `labels`;
 * `generate` takes `prompt`, `inputs`, and optionally `decoding` (`mode` greedy, beam with
 * `num_beams` and `length_penalty`, or sample with `temperature`, `top_k`, `top_p`, `seed`) and
 * `max_new_tokens`.
 *
 * @param kind the endpoint
 * @param body the parsed JSON body
 * @param limits the bounds
 * @returns the request, or the status (400, or 413 over a size limit) and message
 * @example
 * ```ts
 * import { DEFAULT_LIMITS, parseRequest } from "./_serve_request.ts";
 * import assert from "node:assert/strict";
 * const ok = parseRequest("classify", { prompt: "spam", inputs: ["hi"] }, DEFAULT_LIMITS);
 * assert(ok._tag === "Right");
 * const no = parseRequest("generate", { prompt: "spam", inputs: [] }, DEFAULT_LIMITS);
 * assert(no._tag === "Left" && no.left.status === 400);
 * ```
 */
export function parseRequest(
  kind: "classify" | "generate",
  body: JsonValue,
  limits: Limits,
): E.Either<HttpError, ServeRequest> {
  if (!isJsonObject(body)) return bad(`body: Got ${describe(body)}; expected a JSON object`);
  const allowed = kind === "classify"
    ? ["prompt", "inputs", "labels"]
    : ["prompt", "inputs", "decoding", "max_new_tokens"];
  const extra = checkFields(body, allowed, "body");
  if (extra !== undefined) return bad(extra);
  const prompt = body.prompt;
  if (typeof prompt !== "string" || !PROMPT_NAME.test(prompt)) {
    return bad(
      `prompt: Got ${
        typeof prompt === "string" ? JSON.stringify(prompt.slice(0, 64)) : describe(prompt)
      }; expected a prompt's name (${PROMPT_NAME.source})`,
    );
  }
  const inputs = inputsOf(body, limits);
  if (E.isLeft(inputs)) return inputs;
  if (kind === "classify") {
    const labels = labelsOf(body.labels);
    if (E.isLeft(labels)) return labels;
    return E.right({
      kind,
      prompt,
      inputs: inputs.right,
      ...(labels.right === undefined ? {} : { labels: labels.right }),
    });
  }
  const n = body.max_new_tokens ?? DEFAULT_NEW_TOKENS;
  if (!isInt(n, 1, limits.maxNewTokens)) {
    return bad(
      `max_new_tokens: Got ${
        JSON.stringify(n)
      }; expected an integer in [1, ${limits.maxNewTokens}]`,
    );
  }
  const d = decodingOf(body.decoding, limits);
  if (E.isLeft(d)) return d;
  return E.right({
    kind,
    prompt,
    inputs: inputs.right,
    decoding: d.right.decoding,
    maxNewTokens: n,
    ...(d.right.seed === undefined ? {} : { seed: d.right.seed }),
  });
}

/**
 * A checked request's rows, its prompt found: every input encoded as the command line encodes
 * inputs (the tokenizer's special tokens around it), refused when longer than the limit rather
 * than cut; the label words (the request's, else the prompt's sidecar's) encoded as targets.
 *
 * @param request the checked request
 * @param prompt its prompt
 * @param tokenizer the model's tokenizer
 * @param limits the bounds
 * @param id the request's number
 * @returns one row per input, or the status and message
 * @example
 * ```ts
 * import { hostTensor } from "../io/host_tensor.ts";
 * import { orThrow } from "../problem.ts";
 * import { loadTokenizer } from "../tokenizer/mod.ts";
 * import { DEFAULT_LIMITS, requestRows } from "./_serve_request.ts";
 * import assert from "node:assert/strict";
 * const tokenizer = orThrow(await loadTokenizer("tests/fixtures/cli/model"));
 * const prompt = { name: "p", values: hostTensor("float32", [1, 8], new Float32Array(8)), combine: "prefix" } as const;
 * const r = requestRows({ kind: "classify", prompt: "p", inputs: ["a b"] }, prompt, tokenizer, DEFAULT_LIMITS, 1);
 * assert(r._tag === "Left" && r.left.message.startsWith("labels:")); // no labels anywhere
 * ```
 */
export function requestRows(
  request: ServeRequest,
  prompt: ServedPrompt,
  tokenizer: HfTokenizer,
  limits: Limits,
  id: number,
): E.Either<HttpError, Row[]> {
  let task: RowTask;
  if (request.kind === "classify") {
    const words = request.labels ?? prompt.labels;
    if (words === undefined) {
      return bad(
        `labels: Prompt "${prompt.name}" has no label words (no "labels" in ${prompt.name}.json); expected "labels" in the request`,
      );
    }
    const labels: number[][] = [];
    for (let i = 0; i < words.length; i++) {
      const ids = tokenizer.encode(words[i]);
      if (ids.length === 0) {
        return bad(`labels[${i}]: No tokens; expected a word the tokenizer knows`);
      }
      if (ids.length + 1 > limits.maxLabelTokens) {
        return bad(
          `labels[${i}]: ${ids.length} tokens, over the limit of ${
            limits.maxLabelTokens - 1
          }; expected a shorter label`,
        );
      }
      labels.push(encodeTarget(tokenizer, words[i], limits.maxLabelTokens));
    }
    task = { kind: "classify", labels, lengthNormalize: prompt.lengthNormalize ?? false };
  } else {
    task = {
      kind: "generate",
      decoding: request.decoding,
      maxNewTokens: request.maxNewTokens,
      ...(request.seed === undefined ? {} : { seed: request.seed }),
    };
  }
  const rows: Row[] = [];
  const special = tokenizer.specialPrefix.length + tokenizer.specialSuffix.length;
  for (let i = 0; i < request.inputs.length; i++) {
    const n = tokenizer.encode(request.inputs[i]).length + special;
    if (n > limits.maxInputTokens) {
      return bad(
        `inputs[${i}]: ${n} tokens, over the limit of ${limits.maxInputTokens}; expected a shorter input`,
        413,
      );
    }
    const inputIds = encodeInput(tokenizer, request.inputs[i], limits.maxInputTokens);
    if (inputIds.length === 0) return bad(`inputs[${i}]: No tokens; expected some text`);
    rows.push({ request: id, prompt, inputIds, task });
  }
  return E.right(rows);
}
