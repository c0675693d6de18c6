/**
 * `generation_config.json`: the decoding defaults a Hugging Face checkpoint ships with.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { type Problem, problem } from "../problem.ts";

/**
 * The decoding settings the library reads from `generation_config.json`; all optional.
 *
 * @example
 * ```ts
 * import type { GenerationConfig } from "./generation_config.ts";
 * import assert from "node:assert/strict";
 * const beams: GenerationConfig = { numBeams: 4, lengthPenalty: 0.6, eosTokenIds: [1] };
 * assert(beams.numBeams === 4);
 * ```
 */
export interface GenerationConfig {
  /** `bos_token_id`. */
  readonly bosTokenId?: number;
  /** `eos_token_id`, as a list (the file may hold a number or a list). */
  readonly eosTokenIds?: readonly number[];
  /** `pad_token_id`. */
  readonly padTokenId?: number;
  /** `decoder_start_token_id` (encoder-decoder models). */
  readonly decoderStartTokenId?: number;
  /** `max_length`: prompt plus generated tokens. */
  readonly maxLength?: number;
  /** `max_new_tokens`. */
  readonly maxNewTokens?: number;
  /** `num_beams`. */
  readonly numBeams?: number;
  /** `length_penalty`. */
  readonly lengthPenalty?: number;
  /** `do_sample`. */
  readonly doSample?: boolean;
  /** `temperature`. */
  readonly temperature?: number;
  /** `top_k`. */
  readonly topK?: number;
  /** `top_p`. */
  readonly topP?: number;
}

type Field = readonly [
  json: string,
  key: keyof GenerationConfig,
  kind: "id" | "count" | "number" | "boolean",
];

const FIELDS: readonly Field[] = [
  ["bos_token_id", "bosTokenId", "id"],
  ["pad_token_id", "padTokenId", "id"],
  ["decoder_start_token_id", "decoderStartTokenId", "id"],
  ["max_length", "maxLength", "count"],
  ["max_new_tokens", "maxNewTokens", "count"],
  ["num_beams", "numBeams", "count"],
  ["length_penalty", "lengthPenalty", "number"],
  ["do_sample", "doSample", "boolean"],
  ["temperature", "temperature", "number"],
  ["top_k", "topK", "count"],
  ["top_p", "topP", "number"],
];

const isId = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

/**
 * Reads the fields of a `generation_config.json` object that decoding uses; other fields are
 * ignored, `null` means absent, and every field of the wrong type is reported in one problem.
 *
 * @param json the parsed file
 * @param where the file, for messages
 * @returns the settings, or a problem listing every bad field
 * @example
 * ```ts
 * import { parseGenerationConfig } from "./generation_config.ts";
 * import assert from "node:assert/strict";
 * const r = parseGenerationConfig({ eos_token_id: 1, num_beams: 4 }, "generation_config.json");
 * assert(r._tag === "Right" && r.right.eosTokenIds?.[0] === 1 && r.right.numBeams === 4);
 * ```
 */
// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
export function parseGenerationConfig(
  json: unknown,
  where: string,
): E.Either<Problem, GenerationConfig> {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return E.left(problem("Invalid", where, "Expected a JSON object"));
  }
  const obj = json as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const bad: string[] = [];
  for (const [name, key, kind] of FIELDS) {
    const v = obj[name];
    if (v === undefined || v === null) continue;
    const ok = kind === "id"
      ? isId(v)
      : kind === "count"
      ? Number.isInteger(v) && (v as number) >= 1
      : kind === "number"
      ? typeof v === "number" && Number.isFinite(v)
      : typeof v === "boolean";
    if (!ok) {
      const want = kind === "id"
        ? "an integer ≥ 0"
        : kind === "count"
        ? "an integer ≥ 1"
        : kind === "number"
        ? "a finite number"
        : "true or false";
      bad.push(`${name} is ${JSON.stringify(v)}, expected ${want}`);
    } else out[key] = v;
  }
  const eos = obj.eos_token_id;
  if (eos !== undefined && eos !== null) {
    const list = Array.isArray(eos) ? eos : [eos];
    if (list.length === 0 || !list.every(isId)) {
      bad.push(`eos_token_id is ${JSON.stringify(eos)}, expected an id or a list of ids`);
    } else out.eosTokenIds = list;
  }
  if (bad.length > 0) return E.left(problem("Invalid", where, bad.join("; ")));
  return E.right(out as GenerationConfig);
}
