/**
 * Private safetensors layout: parsing and validating the JSON header, and planning one for
 * writing. The public readers and writers are in `safetensors.ts`.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { errorText, type Problem, problem, shownValue } from "../problem.ts";
import { itemSize, SAFETENSORS_DTYPES, safetensorsName } from "./dtype.ts";
import { quoted } from "./_quote.ts";
import {
  type HostTensor,
  namedEntries,
  type NamedTensors,
  type TensorEntry,
} from "./host_tensor.ts";

/**
 * The largest JSON header accepted: 100,000,000 bytes, the limit of the reference `safetensors`
 * library. It is checked before the header is read.
 *
 * @example
 * ```ts
 * import { parseSafetensors, SAFETENSORS_MAX_HEADER_BYTES } from "./safetensors.ts";
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array(8); // only the header length, little-endian
 * new DataView(bytes.buffer).setBigUint64(0, BigInt(SAFETENSORS_MAX_HEADER_BYTES + 1), true);
 * const r = parseSafetensors(bytes, "huge-header.safetensors");
 * assert(r._tag === "Left" && r.left._tag === "TooLarge");
 * ```
 */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

/** Where a tensor's bytes lie in the data section. */
export interface Slot extends TensorEntry {
  readonly begin: number; // offsets within the data section
  readonly end: number;
}

/** A validated header: metadata, and the tensors in file order. */
export interface Layout {
  readonly metadata: Readonly<Record<string, string>>;
  readonly slots: readonly Slot[];
}

/** A header field as a message shows it: `no shape`, or `shape [1,-2]` (cut when long). */
function given(field: string, v: unknown): string {
  if (v === undefined) return `no ${field}`;
  const text = JSON.stringify(v);
  return `${field} ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Parses and validates the JSON header against the data section's length. */
export function parseLayout(
  headerBytes: Uint8Array,
  dataLength: number,
  where: string,
): E.Either<Problem, Layout> {
  const corrupt = (m: string) => E.left(problem("Corrupt", where, m));
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(headerBytes);
  } catch {
    return corrupt("Header is not valid UTF-8");
  }
  if (!text.startsWith("{")) {
    return corrupt("Header does not start with '{'; expected a JSON object");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return corrupt(`Header is not valid JSON: ${errorText(e)}`);
  }
  if (!isRecord(json)) return corrupt("Header is not a JSON object");
  let metadata: Record<string, string> = {};
  const slots: Slot[] = [];
  for (const [name, v] of Object.entries(json)) {
    if (name === "__metadata__") {
      if (!isRecord(v)) return corrupt("Header field __metadata__ is not an object of strings");
      for (const [k, s] of Object.entries(v)) {
        if (typeof s !== "string") {
          return corrupt(`Value ${quoted(k)} of __metadata__ is a ${typeof s}; expected a string`);
        }
      }
      metadata = Object.fromEntries(Object.entries(v)) as Record<string, string>;
      continue;
    }
    const at = `Tensor ${quoted(name)}`;
    if (!isRecord(v)) return corrupt(`${at} is not an object with dtype, shape and data_offsets`);
    const { dtype, shape, data_offsets: off } = v;
    if (typeof dtype !== "string") {
      return corrupt(`${at} has dtype ${shownValue(dtype)}; expected a string such as "F32"`);
    }
    if (!Object.hasOwn(SAFETENSORS_DTYPES, dtype)) {
      return E.left(
        problem(
          "Unsupported",
          where,
          `${at} has dtype ${quoted(dtype)}; expected one of ${
            Object.keys(SAFETENSORS_DTYPES).join(" ")
          }`,
        ),
      );
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      return corrupt(
        `${at} has ${given("shape", shape)}; expected a list of non-negative integers`,
      );
    }
    if (!Array.isArray(off) || off.length !== 2 || !off.every(isCount) || off[1] < off[0]) {
      return corrupt(
        `${at} has ${given("data_offsets", off)}; expected [begin, end] with 0 <= begin <= end`,
      );
    }
    const dt = SAFETENSORS_DTYPES[dtype];
    const need = shape.reduce((a: bigint, d: number) => a * BigInt(d), 1n) * BigInt(itemSize(dt));
    if (need !== BigInt(off[1] - off[0])) {
      return corrupt(
        `${at} of dtype ${dtype} and shape [${shape}] needs ${need} bytes but data_offsets [${off}] span ${
          off[1] - off[0]
        }`,
      );
    }
    slots.push({ name, dtype: dt, shape: Object.freeze([...shape]), begin: off[0], end: off[1] });
  }
  slots.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let prev = "the start of the data";
  for (const s of slots) {
    if (s.begin < expected) {
      return corrupt(
        `Tensor ${
          quoted(s.name)
        } starts at data byte ${s.begin}, inside ${prev} (which ends at ${expected}); tensors must not overlap`,
      );
    }
    if (s.begin > expected) {
      return corrupt(
        `Tensor ${
          quoted(s.name)
        } starts at data byte ${s.begin} but ${prev} ends at ${expected}; the ${
          s.begin - expected
        }-byte gap is not allowed`,
      );
    }
    expected = s.end;
    prev = `tensor ${quoted(s.name)}`;
  }
  if (expected > dataLength) {
    return E.left(
      problem(
        "Truncated",
        where,
        `Header places tensor data up to byte ${expected} but the file holds only ${dataLength} data bytes`,
      ),
    );
  }
  if (expected < dataLength) {
    return corrupt(
      `Found ${
        dataLength - expected
      } bytes after the last tensor that the header does not describe`,
    );
  }
  return E.right({ metadata: Object.freeze(metadata), slots });
}

/** Reads the 8-byte length and checks it against the cap and the file size. */
export function headerLength(
  first8: Uint8Array,
  fileSize: number,
  where: string,
): E.Either<Problem, number> {
  if (fileSize < 8) {
    return E.left(
      problem(
        "Truncated",
        where,
        `File has ${fileSize} bytes; a safetensors file starts with an 8-byte header length`,
      ),
    );
  }
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    return E.left(
      problem(
        "TooLarge",
        where,
        `Header length ${n} is over the limit of ${SAFETENSORS_MAX_HEADER_BYTES} bytes; this is not a safetensors file or it is corrupt`,
      ),
    );
  }
  if (8n + n > BigInt(fileSize)) {
    return E.left(
      problem(
        "Corrupt",
        where,
        `Header length ${n} runs past the end of the file (${fileSize} bytes)`,
      ),
    );
  }
  return E.right(Number(n));
}

/** Plans the header: tensors sorted by item size (largest first, so each is aligned), then name. */
export function plan(
  tensors: NamedTensors,
  metadata: Readonly<Record<string, string>> | undefined,
): { header: Uint8Array; order: HostTensor[] } {
  const list = namedEntries(tensors);
  for (const [name] of list) {
    if (name === "" || name === "__metadata__") {
      throw new RangeError(
        `Tensor name '${name}' is not allowed; expected a non-empty name other than __metadata__`,
      );
    }
  }
  list.sort(([an, a], [bn, b]) =>
    itemSize(b.dtype) - itemSize(a.dtype) || (an < bn ? -1 : an > bn ? 1 : 0)
  );
  const parts: string[] = [];
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new RangeError(`Metadata value '${k}' is not a string`);
    }
    parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  for (const [name, t] of list) {
    const end = offset + t.data.byteLength;
    const info = { dtype: safetensorsName(t.dtype), shape: t.shape, data_offsets: [offset, end] };
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`); // no object keys: "__proto__" is safe
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const padded = Math.ceil(json.length / 8) * 8; // the format pads with spaces to 8 bytes
  const header = new Uint8Array(8 + padded).fill(0x20, 8);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(json, 8);
  return { header, order: list.map(([, t]) => t) };
}
