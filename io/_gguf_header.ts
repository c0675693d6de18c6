/**
 * Private: parsing a GGUF header (magic, version, counts, metadata, tensor infos) from an open
 * file, a chunk at a time, as untrusted input. Every count, length, dimension and offset is
 * checked against the file's size and capped before anything is allocated; a failure is thrown
 * as a {@link ProblemError} naming the field, which `gguf.ts` turns into a `Left`.
 *
 * @module
 */
import { quoted } from "./_quote.ts";
import { problem, ProblemError, type ProblemTag } from "../problem.ts";
import { GGML_TYPES, type GgmlType } from "./_gguf_quant.ts";

/** A metadata value in plain form (see `GgufValue` in gguf.ts). */
export type Value = number | bigint | boolean | string | readonly Value[];

/** The caps applied while parsing (see `GGUF_LIMITS` in gguf.ts). */
export const LIMITS = {
  maxStringBytes: 4 * 1024 * 1024,
  maxKeyBytes: 65535,
  maxArrayLength: 4 * 1024 * 1024,
  maxArrayDepth: 4,
  maxMetadataValues: 16 * 1024 * 1024,
  maxMetadataCount: 1024 * 1024,
  maxTensorCount: 1024 * 1024,
  maxDims: 4,
  maxAlignment: 1 << 24,
} as const;

/** One tensor's entry in the header, checked against the file. */
export interface TensorInfo {
  readonly name: string;
  readonly type: GgmlType;
  /** ggml's `ne`, fastest-varying first. */
  readonly dims: readonly number[];
  /** The absolute offset of its data in the file. */
  readonly offset: number;
  readonly byteLength: number;
}

/** What a parsed header holds. */
export interface Header {
  readonly version: 2 | 3;
  readonly alignment: number;
  readonly metadata: ReadonlyMap<string, Value>;
  readonly tensors: readonly TensorInfo[];
  /** Where the tensor data starts (the end of the header, aligned). */
  readonly dataStart: number;
}

const CHUNK = 1 << 20;
const TYPE_NAMES = [
  "uint8",
  "int8",
  "uint16",
  "int16",
  "uint32",
  "int32",
  "float32",
  "bool",
  "string",
  "array",
  "uint64",
  "int64",
  "float64",
];
// The fewest bytes a value of each type takes (an empty string or array still has its header).
const MIN_BYTES = [1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8];
const STRING = 8, ARRAY = 9;

/** Reads a file front to back through a window of bytes refilled from the handle. */
class Cursor {
  private buf = new Uint8Array(0);
  private view = new DataView(this.buf.buffer);
  private start = 0; // file offset of buf[0]
  pos = 0;
  values = 0; // metadata values read so far
  constructor(
    private readonly file: Deno.FsFile,
    readonly size: number,
    readonly where: string,
  ) {}

  fail(tag: ProblemTag, message: string): never {
    throw new ProblemError(problem(tag, this.where, message));
  }

  get left(): number {
    return this.size - this.pos;
  }

  /** Makes `n` bytes at `pos` available, or fails naming `what`. */
  async need(n: number, what: string): Promise<void> {
    if (this.pos + n <= this.start + this.buf.length) return;
    if (this.pos + n > this.size) {
      this.fail(
        "Truncated",
        `File ends inside ${what}: ${n} bytes needed at offset ${this.pos}, the file has ${this.size}`,
      );
    }
    const len = Math.min(Math.max(n, CHUNK), this.size - this.pos);
    const buf = new Uint8Array(len);
    await this.file.seek(this.pos, Deno.SeekMode.Start);
    let got = 0;
    while (got < len) {
      const r = await this.file.read(buf.subarray(got));
      if (r === null) this.fail("Truncated", `File shrank while ${what} was being read`);
      got += r;
    }
    this.buf = buf;
    this.view = new DataView(buf.buffer);
    this.start = this.pos;
  }

  private at(n: number): number {
    const i = this.pos - this.start;
    this.pos += n;
    return i;
  }

  async u32(what: string): Promise<number> {
    await this.need(4, what);
    return this.view.getUint32(this.at(4), true);
  }

  /** A uint64 that must be a safe integer (a count, a length, a dimension, an offset). */
  async u64(what: string): Promise<number> {
    await this.need(8, what);
    const v = this.view.getBigUint64(this.at(8), true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      this.fail("Corrupt", `${what} ${v} is impossibly large`);
    }
    return Number(v);
  }

  /** A count of items of at least `minBytes` each, checked against the bytes left and a cap. */
  async count(what: string, minBytes: number, cap: number): Promise<number> {
    const n = await this.u64(what);
    if (n > cap) this.fail("TooLarge", `${what} ${n} is over the limit of ${cap}`);
    if (n * minBytes > this.left) {
      this.fail(
        "Corrupt",
        `${what} ${n} cannot fit in the ${this.left} bytes left (at least ${minBytes} bytes each)`,
      );
    }
    return n;
  }

  async string(what: string, cap: number = LIMITS.maxStringBytes): Promise<string> {
    const n = await this.u64(`${what} length`);
    if (n > cap) this.fail("TooLarge", `${what} length ${n} is over the limit of ${cap} bytes`);
    if (n > this.left) {
      this.fail(
        "Truncated",
        `${what} length ${n} runs past the end of the file (${this.left} bytes left)`,
      );
    }
    await this.need(n, what);
    const i = this.at(n);
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(this.buf.subarray(i, i + n));
    } catch {
      return this.fail("Corrupt", `${what} is not valid UTF-8`);
    }
  }

  /** One value of metadata type `type`. */
  async value(type: number, what: string, depth: number): Promise<Value> {
    if (++this.values > LIMITS.maxMetadataValues) {
      this.fail("TooLarge", `Metadata holds over ${LIMITS.maxMetadataValues} values`);
    }
    const size = MIN_BYTES[type];
    if (type === STRING) return await this.string(what);
    if (type === ARRAY) return await this.array(what, depth + 1);
    await this.need(size, what);
    const i = this.at(size), v = this.view;
    switch (type) {
      case 0:
        return v.getUint8(i);
      case 1:
        return v.getInt8(i);
      case 2:
        return v.getUint16(i, true);
      case 3:
        return v.getInt16(i, true);
      case 4:
        return v.getUint32(i, true);
      case 5:
        return v.getInt32(i, true);
      case 6:
        return v.getFloat32(i, true);
      case 7: {
        const b = v.getUint8(i);
        if (b > 1) this.fail("Corrupt", `${what} is a bool of byte ${b}; expected 0 or 1`);
        return b === 1;
      }
      case 10:
        return exact(v.getBigUint64(i, true));
      case 11:
        return exact(v.getBigInt64(i, true));
      default: // 12, the type having been checked by the caller
        return v.getFloat64(i, true);
    }
  }

  async valueType(what: string): Promise<number> {
    const type = await this.u32(`${what} type`);
    if (type >= TYPE_NAMES.length) {
      this.fail(
        "Corrupt",
        `${what} has value type ${type}; expected 0 to 12 (${TYPE_NAMES.join(", ")})`,
      );
    }
    return type;
  }

  async array(what: string, depth: number): Promise<Value[]> {
    if (depth > LIMITS.maxArrayDepth) {
      this.fail("TooLarge", `${what} nests arrays over ${LIMITS.maxArrayDepth} deep`);
    }
    const type = await this.valueType(`${what} element`);
    const n = await this.count(`${what} array length`, MIN_BYTES[type], LIMITS.maxArrayLength);
    const out: Value[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = await this.value(type, what, depth);
    return out;
  }
}

/** A 64-bit integer as a number when exact, else as a bigint. */
function exact(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v;
}

const describe = (v: Value) => typeof v === "string" ? JSON.stringify(v) : String(v);

function alignmentOf(c: Cursor, metadata: ReadonlyMap<string, Value>): number {
  const a = metadata.get("general.alignment");
  if (a === undefined) return 32;
  if (
    typeof a !== "number" || !Number.isInteger(a) || a < 1 || a > LIMITS.maxAlignment ||
    (a & (a - 1)) !== 0
  ) {
    c.fail(
      "Corrupt",
      `general.alignment ${describe(a)} is not a power of two from 1 to ${LIMITS.maxAlignment}`,
    );
  }
  return a;
}

async function tensorInfo(c: Cursor, i: number) {
  const at = `Tensor info ${i}`;
  const name = await c.string(`${at} name`, LIMITS.maxKeyBytes);
  const what = `Tensor ${quoted(name)}`;
  const nDims = await c.u32(`${what} dimension count`);
  if (nDims < 1 || nDims > LIMITS.maxDims) {
    c.fail("Corrupt", `${what} has ${nDims} dimensions; expected 1 to ${LIMITS.maxDims}`);
  }
  const dims: number[] = [];
  let elements = 1;
  for (let d = 0; d < nDims; d++) {
    const n = await c.u64(`${what} dimension ${d}`);
    if (n < 1) c.fail("Corrupt", `${what} has dimension ${d} of size 0; expected at least 1`);
    elements *= n;
    if (elements > Number.MAX_SAFE_INTEGER) {
      c.fail("Corrupt", `${what} has over 2^53 elements (dimensions ${[...dims, n].join(" x ")})`);
    }
    dims.push(n);
  }
  const id = await c.u32(`${what} type`);
  const type = GGML_TYPES.get(id);
  if (type === undefined) c.fail("Unsupported", `${what} has unknown ggml type id ${id}`);
  if (dims[0] % type.blockSize !== 0) {
    c.fail(
      "Corrupt",
      `${what} of type ${type.name} has a first dimension of ${
        dims[0]
      }; expected a multiple of ${type.blockSize}`,
    );
  }
  const offset = await c.u64(`${what} offset`);
  return { name, type, dims, offset, byteLength: (elements / type.blockSize) * type.typeSize };
}

/**
 * Parses the header of an open GGUF file of `size` bytes.
 *
 * @throws {ProblemError} naming the file and the field that is wrong
 */
export async function parseHeader(file: Deno.FsFile, size: number, where: string): Promise<Header> {
  const c: Cursor = new Cursor(file, size, where);
  if (size < 24) c.fail("Truncated", `File is ${size} bytes; a GGUF header takes at least 24`);
  await c.need(4, "the magic");
  const magic = await c.u32("the magic");
  if (magic !== 0x46554747) {
    const text = new TextDecoder().decode(new Uint32Array([magic])).replace(/[^ -~]/g, "?");
    c.fail("Corrupt", `Not a GGUF file: expected the magic "GGUF", got "${text}"`);
  }
  const version = await c.u32("the version");
  if (version === 0x02000000 || version === 0x03000000) {
    c.fail("Unsupported", `Big-endian GGUF files are not supported; expected a little-endian file`);
  }
  if (version !== 2 && version !== 3) {
    c.fail("Unsupported", `GGUF version ${version} is not supported; expected 2 or 3`);
  }
  // A tensor info takes at least 8 (name) + 4 + 8 (one dimension) + 4 + 8 bytes; a key-value
  // pair at least 8 (key) + 4 (type) + 1 bytes.
  const nTensors = await c.count("Tensor count", 32, LIMITS.maxTensorCount);
  const nKv = await c.count("Metadata count", 13, LIMITS.maxMetadataCount);
  const metadata = new Map<string, Value>();
  for (let i = 0; i < nKv; i++) {
    const key = await c.string(`Metadata key ${i}`, LIMITS.maxKeyBytes);
    if (metadata.has(key)) c.fail("Corrupt", `Metadata key ${quoted(key)} is given twice`);
    const what = `Metadata ${quoted(key)}`;
    metadata.set(key, await c.value(await c.valueType(what), what, 0));
  }
  const alignment = alignmentOf(c, metadata);
  const infos = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const info = await tensorInfo(c, i);
    if (names.has(info.name)) c.fail("Corrupt", `Tensor ${quoted(info.name)} is given twice`);
    names.add(info.name);
    infos.push(info);
  }
  const dataStart = Math.ceil(c.pos / alignment) * alignment;
  const tensors: TensorInfo[] = infos.map((t) => {
    const what = `Tensor ${quoted(t.name)}`;
    if (t.offset % alignment !== 0) {
      c.fail(
        "Corrupt",
        `${what} offset ${t.offset} is not a multiple of the alignment ${alignment}`,
      );
    }
    if (dataStart + t.offset + t.byteLength > size) {
      c.fail(
        "Truncated",
        `${what} data (${t.byteLength} bytes at offset ${t.offset} of the data from byte ${dataStart}) runs past the end of the file (${size} bytes)`,
      );
    }
    return { ...t, offset: dataStart + t.offset };
  });
  const sorted = [...tensors].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1], t = sorted[i];
    if (t.offset < prev.offset + prev.byteLength) {
      c.fail("Corrupt", `Tensor ${quoted(t.name)} data overlaps that of ${quoted(prev.name)}`);
    }
  }
  return { version: version as 2 | 3, alignment, metadata, tensors, dataStart };
}
