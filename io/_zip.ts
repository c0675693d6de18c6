/**
 * A small, defensive ZIP reader (stored and deflated entries, ZIP64 sizes) for `.npz` files.
 *
 * Every offset and size is bounds-checked; declared uncompressed sizes are capped before any
 * buffer is allocated, inflation stops as soon as an entry yields more than it declared, and
 * each entry's CRC-32 is verified.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { Inflate } from "fflate";
import { type Problem, problem } from "../problem.ts";
import { crc32 } from "./bytes.ts";
import { quoted } from "./_quote.ts";

/** Limits on what an archive may ask for. */
export interface ZipLimits {
  /** Total uncompressed bytes over all entries. */
  readonly maxBytes: number;
  /** Number of entries. */
  readonly maxEntries: number;
}

// DEFLATE cannot expand more than about 1032:1 (a 258-byte match per ~2 bits); a declared size
// beyond that is a lie, refused before allocating it.
const MAX_RATIO = 1032;
// Compressed bytes fed to the inflater per step: bounds the output of one step to ~16 MB.
const CHUNK = 16 * 1024;

const entries = (n: number) => `${n} ${n === 1 ? "entry" : "entries"}`;

class ZipFail extends Error {
  constructor(readonly problem: Problem) {
    super(problem.message);
  }
}

/**
 * Reads every entry of a ZIP archive into memory, in central-directory order.
 *
 * @returns name → uncompressed bytes, or a problem
 */
export function readZip(
  bytes: Uint8Array,
  where: string,
  limits: ZipLimits,
): E.Either<Problem, ReadonlyMap<string, Uint8Array>> {
  try {
    return E.right(readZipOrThrow(bytes, where, limits));
  } catch (e) {
    if (e instanceof ZipFail) return E.left(e.problem);
    throw e;
  }
}

function readZipOrThrow(
  bytes: Uint8Array,
  where: string,
  limits: ZipLimits,
): Map<string, Uint8Array> {
  const fail = (tag: Problem["_tag"], message: string): never => {
    throw new ZipFail(problem(tag, where, message));
  };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.length;
  const u16 = (o: number) => dv.getUint16(o, true);
  const u32 = (o: number) => dv.getUint32(o, true);
  const u64 = (o: number) => {
    const v = dv.getBigUint64(o, true);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v);
  };
  const isZip = len >= 4 && u32(0) === 0x04034b50 || len >= 4 && u32(0) === 0x06054b50;
  if (!isZip) {
    fail("Corrupt", "Not a zip archive (no PK signature at the start); expected an .npz file");
  }
  // End of central directory: 22 bytes, followed by a comment of up to 65,535 bytes.
  let eocd = -1;
  for (let o = len - 22; o >= Math.max(0, len - 22 - 0xffff); o--) {
    if (u32(o) === 0x06054b50 && o + 22 + u16(o + 20) === len) {
      eocd = o;
      break;
    }
  }
  if (eocd < 0) {
    fail(
      "Corrupt",
      "Zip archive has no end-of-central-directory record; the file is truncated or not a zip",
    );
  }
  let diskCount = u16(eocd + 8);
  let count = u16(eocd + 10);
  let cdSize = u32(eocd + 12);
  let cdOffset = u32(eocd + 16);
  if (u16(eocd + 4) !== 0 || u16(eocd + 6) !== 0) {
    fail("Unsupported", "Multi-part zip archives are not supported");
  }
  let record = "End-of-central-directory record";
  if (
    diskCount === 0xffff || count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff
  ) {
    // ZIP64: a locator just before the record points at the ZIP64 end record.
    const loc = eocd - 20;
    if (loc < 0 || u32(loc) !== 0x07064b50) {
      fail("Corrupt", "ZIP64 sizes are announced but the ZIP64 locator is missing");
    }
    const z = u64(loc + 8);
    if (z + 56 > loc || u32(z) !== 0x06064b50) {
      fail("Corrupt", "ZIP64 end-of-central-directory record is missing or out of range");
    }
    diskCount = u64(z + 24);
    count = u64(z + 32);
    cdSize = u64(z + 40);
    cdOffset = u64(z + 48);
    record = "ZIP64 end-of-central-directory record";
  }
  if (diskCount !== count) {
    fail(
      "Corrupt",
      `${record} declares ${
        entries(diskCount)
      } on this disk but ${count} in all; expected the same count in a single-part archive`,
    );
  }
  if (count > limits.maxEntries) {
    fail("TooLarge", `Zip archive has ${count} entries, over the limit of ${limits.maxEntries}`);
  }
  if (cdOffset + cdSize > eocd) {
    fail(
      "Corrupt",
      `Central directory (offset ${cdOffset}, ${cdSize} bytes) runs past its end record at byte ${eocd}`,
    );
  }
  const out = new Map<string, Uint8Array>();
  let total = 0;
  let p = cdOffset;
  for (let k = 0; k < count; k++) {
    if (p + 46 > cdOffset + cdSize || u32(p) !== 0x02014b50) {
      fail("Corrupt", `Central directory entry ${k} is missing or malformed at byte ${p}`);
    }
    const flags = u16(p + 8);
    const method = u16(p + 10);
    const crc = u32(p + 16);
    let csize = u32(p + 20);
    let usize = u32(p + 24);
    const nameLen = u16(p + 28);
    const extraLen = u16(p + 30);
    const commentLen = u16(p + 32);
    let local = u32(p + 42);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > cdOffset + cdSize) {
      fail("Corrupt", `Central directory entry ${k} runs past the directory`);
    }
    const nameBytes = bytes.subarray(p + 46, p + 46 + nameLen);
    // Bit 11: the name is UTF-8; otherwise CP437, read here as latin-1 (npz names are ASCII).
    const name = new TextDecoder(flags & 0x800 ? "utf-8" : "latin1").decode(nameBytes);
    // ZIP64 extra field: the 64-bit values, in this order, for those whose 32-bit slot is full.
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen;) {
      const id = u16(e);
      const size = u16(e + 2);
      if (e + 4 + size > p + 46 + nameLen + extraLen) {
        fail("Corrupt", `Entry ${quoted(name)} has a malformed extra field`);
      }
      if (id === 0x0001) {
        let q = e + 4;
        const take = () => {
          if (q + 8 > e + 4 + size) {
            fail("Corrupt", `Entry ${quoted(name)} has a short ZIP64 extra field`);
          }
          const v = u64(q);
          q += 8;
          return v;
        };
        if (usize === 0xffffffff) usize = take();
        if (csize === 0xffffffff) csize = take();
        if (local === 0xffffffff) local = take();
      }
      e += 4 + size;
    }
    p = next;
    if (name.endsWith("/")) continue; // a directory
    if (flags & 0x1) fail("Unsupported", `Entry ${quoted(name)} is encrypted`);
    if (flags & 0x20) fail("Unsupported", `Entry ${quoted(name)} holds patched data (flag bit 5)`);
    if (method !== 0 && method !== 8) {
      fail(
        "Unsupported",
        `Entry ${
          quoted(name)
        } uses compression method ${method}; expected 0 (stored) or 8 (deflate)`,
      );
    }
    if (out.has(name)) fail("Corrupt", `Entry ${quoted(name)} appears twice`);
    if (method === 0 && csize !== usize) {
      fail(
        "Corrupt",
        `Stored entry ${quoted(name)} declares ${csize} compressed but ${usize} uncompressed bytes`,
      );
    }
    if (method === 8 && usize > csize * MAX_RATIO + 1024) {
      fail(
        "Corrupt",
        `Entry ${
          quoted(name)
        } declares ${usize} uncompressed bytes from only ${csize} compressed; deflate cannot expand that much`,
      );
    }
    total += usize;
    if (total > limits.maxBytes) {
      fail(
        "TooLarge",
        `Entries expand to more than ${limits.maxBytes} bytes (at ${
          quoted(name)
        }); raise maxBytes to read it`,
      );
    }
    if (local + 30 > len || u32(local) !== 0x04034b50) {
      fail("Corrupt", `Local header of entry ${quoted(name)} is missing at byte ${local}`);
    }
    const localNameLen = u16(local + 26);
    const localName = bytes.subarray(local + 30, Math.min(len, local + 30 + localNameLen));
    if (localNameLen !== nameLen || localName.some((b, i) => b !== nameBytes[i])) {
      fail(
        "Corrupt",
        `Local header of entry ${quoted(name)} names it ${
          quoted(new TextDecoder("latin1").decode(localName))
        }; the central directory and the local header must name it alike`,
      );
    }
    const dataStart = local + 30 + localNameLen + u16(local + 28);
    if (dataStart + csize > len) {
      fail(
        "Truncated",
        `Data of entry ${
          quoted(name)
        } (${csize} bytes at byte ${dataStart}) runs past the end of the file (${len} bytes)`,
      );
    }
    const comp = bytes.subarray(dataStart, dataStart + csize);
    const data = method === 0 ? comp.slice() : inflateCapped(comp, usize, name, fail);
    if (crc32(data) !== crc) fail("Corrupt", `Entry ${quoted(name)} fails its CRC-32 check`);
    out.set(name, data);
  }
  if (p !== cdOffset + cdSize) {
    // Count what follows the declared entries, to say how many the directory really holds.
    let more = 0;
    for (let q = p; q + 46 <= cdOffset + cdSize && u32(q) === 0x02014b50; more++) {
      q += 46 + u16(q + 28) + u16(q + 30) + u16(q + 32);
    }
    fail(
      "Corrupt",
      more > 0
        ? `${record} declares ${entries(count)}, but the central directory holds at least ${
          count + more
        }; expected the counts to agree`
        : `${record} declares ${entries(count)}, but ${
          cdOffset + cdSize - p
        } more bytes of the central directory follow; expected it to end there`,
    );
  }
  return out;
}

function inflateCapped(
  comp: Uint8Array,
  usize: number,
  name: string,
  fail: (tag: Problem["_tag"], message: string) => never,
): Uint8Array {
  const out = new Uint8Array(usize);
  let pos = 0;
  let over = false;
  const inf = new Inflate((chunk) => {
    if (pos + chunk.length > usize) over = true;
    else {
      out.set(chunk, pos);
      pos += chunk.length;
    }
  });
  try {
    if (comp.length === 0) inf.push(comp, true);
    for (let i = 0; i < comp.length && !over; i += CHUNK) {
      const end = Math.min(i + CHUNK, comp.length);
      inf.push(comp.subarray(i, end), end === comp.length);
    }
  } catch (e) {
    fail(
      "Corrupt",
      `Entry ${quoted(name)} is not valid deflate data: ${e instanceof Error ? e.message : e}`,
    );
  }
  if (over) {
    fail("Corrupt", `Entry ${quoted(name)} inflates to more than its declared ${usize} bytes`);
  }
  if (pos !== usize) {
    fail("Truncated", `Entry ${quoted(name)} inflates to ${pos} bytes; it declares ${usize}`);
  }
  return out;
}
