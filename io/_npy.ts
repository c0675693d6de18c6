/**
 * Private `.npy` format code: the header (a Python dict literal, parsed strictly, never
 * evaluated), size checks against the bytes present, and the header numpy writes.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { type Problem, problem } from "../problem.ts";
import { decodeData, fortranToC } from "./bytes.ts";
import { type DType, NUMPY_DTYPE_CODES, numpyDescr } from "./dtype.ts";
import { parsePyLiteral, type PyValue } from "./_pyliteral.ts";
import { quoted } from "./_quote.ts";
import { type HostTensor, hostTensor, toFloat64 } from "./host_tensor.ts";

export const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * The largest header accepted (numpy writes well under 1 KB for a plain array).
 *
 * @example
 * ```ts
 * import { NPY_MAX_HEADER_BYTES, parseNpy } from "./npy.ts";
 * import assert from "node:assert/strict";
 * const bytes = new Uint8Array(12);
 * bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]); // \x93NUMPY, format version 2.0
 * new DataView(bytes.buffer).setUint32(8, NPY_MAX_HEADER_BYTES + 1, true); // header length
 * const r = parseNpy(bytes, "huge-header.npy"); // refused before the header is read
 * assert(r._tag === "Left" && r.left._tag === "TooLarge");
 * ```
 */
export const NPY_MAX_HEADER_BYTES = 1 << 20;

const SUPPORTED = "<f2 <f4 <f8 |i1 <i2 <i4 <i8 |u1 |b1 (or big-endian >)";

interface Header {
  readonly dtype: DType;
  readonly size: number; // bytes per item
  readonly littleEndian: boolean;
  readonly fortran: boolean;
  readonly shape: readonly number[];
}

function parseDescr(
  v: PyValue,
  where: string,
): E.Either<Problem, { dtype: DType; size: number; little: boolean }> {
  const unsupported = (m: string) => E.left(problem("Unsupported", where, m));
  if (v.kind === "list") {
    return unsupported(
      "Structured dtypes (a list of fields) are not supported; expected a plain numeric dtype such as '<f4'",
    );
  }
  if (v.kind !== "str") {
    return E.left(
      problem("Corrupt", where, "Field 'descr' is not a string; expected a dtype such as '<f4'"),
    );
  }
  const m = /^([<>=|]?)([a-zA-Z])(\d*)$/.exec(v.value);
  if (m && m[2] === "O") {
    return unsupported(
      "Object arrays (dtype 'O') are refused: reading them needs pickle; save a numeric array instead",
    );
  }
  const code = m ? `${m[2]}${m[3]}` : "";
  if (!m || !Object.hasOwn(NUMPY_DTYPE_CODES, code)) {
    return unsupported(`Unsupported dtype ${quoted(v.value)}; expected one of ${SUPPORTED}`);
  }
  // '=' (native) and '|' (not applicable) are read as little-endian: numpy itself writes '<' or
  // '>' for multi-byte types and '|' only for one-byte ones.
  return E.right({ dtype: NUMPY_DTYPE_CODES[code], size: Number(m[3]), little: m[1] !== ">" });
}

function parseHeader(text: string, where: string): E.Either<Problem, Header> {
  const bad = (m: string) => E.left(problem("Corrupt", where, m));
  const parsed = parsePyLiteral(text);
  if (!parsed.ok) return bad(`Header is not a Python dict literal: ${parsed.error}`);
  const v = parsed.value;
  if (v.kind !== "dict") {
    return bad("Header is not a dict; expected {'descr': …, 'fortran_order': …, 'shape': …}");
  }
  const keys = [...v.entries.keys()].sort();
  if (keys.join(",") !== "descr,fortran_order,shape") {
    return bad(
      `Header has keys [${keys.map(quoted)}]; expected exactly descr, fortran_order and shape`,
    );
  }
  const descr = parseDescr(v.entries.get("descr")!, where);
  if (E.isLeft(descr)) return descr;
  const fo = v.entries.get("fortran_order")!;
  if (fo.kind !== "bool") return bad("Field 'fortran_order' is not True or False");
  const sh = v.entries.get("shape")!;
  if (sh.kind !== "tuple") return bad("Field 'shape' is not a tuple of integers");
  if (sh.items.length > 64) {
    return bad(`Field 'shape' has ${sh.items.length} axes; numpy allows at most 64`);
  }
  const shape: number[] = [];
  for (const d of sh.items) {
    if (d.kind !== "int" || d.value < 0n || d.value > BigInt(Number.MAX_SAFE_INTEGER)) {
      return bad(`Field 'shape' holds ${showPy(d)}; expected non-negative integers`);
    }
    shape.push(Number(d.value));
  }
  return E.right({
    dtype: descr.right.dtype,
    size: descr.right.size,
    littleEndian: descr.right.little,
    fortran: fo.value,
    shape,
  });
}

function showPy(v: PyValue): string {
  switch (v.kind) {
    case "int":
      return String(v.value);
    case "str":
      return quoted(v.value);
    default:
      return `a ${v.kind}`;
  }
}

/**
 * Parses an `.npy` file. With `owned`, the caller hands over `bytes` and the tensor's data may
 * be a view of them (no copy) when the layout allows; otherwise the data is copied.
 */
export function decodeNpy(
  bytes: Uint8Array,
  where: string,
  owned: boolean,
): E.Either<Problem, HostTensor> {
  if (bytes.length < 10 || MAGIC.some((b, k) => bytes[k] !== b)) {
    return E.left(problem("Corrupt", where, "Not an .npy file: it does not start with \\x93NUMPY"));
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (major < 1 || major > 3 || minor !== 0) {
    return E.left(
      problem(
        "Unsupported",
        where,
        `Format version ${major}.${minor} is not supported; expected 1.0, 2.0 or 3.0`,
      ),
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = major === 1 ? 10 : 12;
  if (bytes.length < start) {
    return E.left(
      problem("Truncated", where, `File ends at byte ${bytes.length}, inside the header length`),
    );
  }
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  if (hlen > NPY_MAX_HEADER_BYTES) {
    return E.left(
      problem(
        "TooLarge",
        where,
        `Header length ${hlen} is over the limit of ${NPY_MAX_HEADER_BYTES} bytes`,
      ),
    );
  }
  if (start + hlen > bytes.length) {
    return E.left(
      problem(
        "Truncated",
        where,
        `Header length ${hlen} runs past the end of the file (${bytes.length} bytes)`,
      ),
    );
  }
  let text: string;
  try {
    // Versions 1 and 2 store the header in latin-1, version 3 in UTF-8.
    text = new TextDecoder(major === 3 ? "utf-8" : "latin1", { fatal: true }).decode(
      bytes.subarray(start, start + hlen),
    );
  } catch {
    return E.left(problem("Corrupt", where, "Header is not valid UTF-8 (format version 3)"));
  }
  const header = parseHeader(text, where);
  if (E.isLeft(header)) return header;
  const { dtype, size, littleEndian, fortran, shape } = header.right;
  const dataStart = start + hlen;
  const available = bytes.length - dataStart;
  // Exact product in BigInt: the shape may be absurd, the bytes present are not.
  const count = shape.reduce((a, d) => a * BigInt(d), 1n);
  const need = count * BigInt(size);
  const shapeText = `(${shape.join(", ")}${shape.length === 1 ? "," : ""})`;
  if (need > BigInt(available)) {
    return E.left(
      problem(
        "Truncated",
        where,
        `Shape ${shapeText} of ${dtype} needs ${need} data bytes but only ${available} follow the header`,
      ),
    );
  }
  if (need < BigInt(available)) {
    return E.left(
      problem(
        "Corrupt",
        where,
        `Found ${
          BigInt(available) - need
        } unexpected bytes after the data of shape ${shapeText} and dtype ${dtype}`,
      ),
    );
  }
  const n = Number(count);
  const raw = bytes.subarray(dataStart);
  const data = fortran && shape.length > 1
    ? decodeData(dtype, fortranToC(raw, shape, size), n, size, littleEndian, true)
    : decodeData(dtype, raw, n, size, littleEndian, owned);
  return E.right(hostTensor(dtype, shape, data));
}

/** numpy has no bfloat16: it is widened to float32, which holds every bfloat16 value exactly. */
export function npyable(h: HostTensor): HostTensor {
  if (h.dtype !== "bfloat16") return h;
  return hostTensor("float32", h.shape, Float32Array.from(toFloat64(h)));
}

/** The header numpy would write for `h` (which must not be bfloat16; see {@link npyable}). */
export function headerBytes(h: HostTensor): Uint8Array {
  const dtype = h.dtype as Exclude<DType, "bfloat16">;
  const shape = `(${h.shape.join(", ")}${h.shape.length === 1 ? "," : ""})`;
  const dict = `{'descr': '${numpyDescr(dtype)}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Exactly numpy's layout: pad with 1 to 64 spaces, then '\n', so the data starts on a 64-byte
  // boundary; version 2.0 (4-byte length) only when the header does not fit in 65,535 bytes.
  const headerLength = (pre: number) => dict.length + 1 + 64 - ((pre + dict.length + 1) % 64);
  let major = 1;
  let pre = 10;
  if (headerLength(10) > 0xffff) {
    major = 2;
    pre = 12;
  }
  const text = dict + " ".repeat(headerLength(pre) - dict.length - 1) + "\n";
  const out = new Uint8Array(pre + text.length);
  out.set(MAGIC);
  out[6] = major;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(8, text.length, true);
  else dv.setUint32(8, text.length, true);
  for (let k = 0; k < text.length; k++) out[pre + k] = text.charCodeAt(k); // ASCII only
  return out;
}
