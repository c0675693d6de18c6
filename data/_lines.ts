/**
 * Reads a UTF-8 text file line by line, without holding the whole file in memory.
 *
 * @module
 */
import { problem } from "../problem.ts";
import { ProblemError } from "../problem.ts";

/** One line of a text file, without its line terminator. */
export interface Line {
  /** The text of the line, without `\n` or `\r\n`. */
  readonly text: string;
  /** The terminator that ended it: `"\n"`, `"\r\n"` or `""` for a last line without one. */
  readonly end: string;
  /** The 1-based line number. */
  readonly number: number;
}

const CHUNK_BYTES = 1 << 20;

/** The index of the first byte that starts an invalid UTF-8 sequence, or `bytes.length`. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b < 0x80) n = 0;
    else if (b >= 0xc2 && b <= 0xdf) n = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      n = 2;
      if (b === 0xe0) lo = 0xa0; // no overlongs
      if (b === 0xed) hi = 0x9f; // no surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f; // nothing past U+10FFFF
    } else return i;
    if (i + n >= bytes.length) return n === 0 ? i + 1 : i; // a sequence cut off at the end
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return i;
}

/** How many bytes at the end of `bytes` begin a character that is not complete yet. */
function incompleteTail(bytes: Uint8Array): number {
  for (let k = 1; k <= Math.min(3, bytes.length); k++) {
    const b = bytes[bytes.length - k];
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > k ? k : 0;
  }
  return 0;
}

/**
 * The lines of an open file, decoded as UTF-8 (invalid bytes are a `Corrupt` problem), each at
 * most `maxLineChars` long, and never more than `maxBytes` read in all (a file that grows while it
 * is read is `TooLarge`, whatever its size said). Problems are thrown as `ProblemError`; the file
 * is closed when the lines end or the caller stops.
 */
export async function* readLines(
  file: Deno.FsFile,
  where: string,
  maxLineChars: number,
  maxBytes: number = Infinity,
): AsyncGenerator<Line> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const chunk = new Uint8Array(CHUNK_BYTES);
  let pending = "";
  let number = 0;
  let carry = new Uint8Array(0); // the start of a character split across chunks
  const decode = (bytes: Uint8Array | undefined): string => {
    try {
      const text = bytes === undefined ? decoder.decode() : decoder.decode(bytes, { stream: true });
      if (bytes !== undefined) {
        const joined = new Uint8Array([...carry, ...bytes.subarray(Math.max(0, bytes.length - 3))]);
        carry = joined.slice(joined.length - incompleteTail(joined));
      }
      return text;
    } catch {
      // Count the line breaks before the first bad byte to say which line holds it.
      let line = number + 1;
      if (bytes !== undefined) {
        const joined = new Uint8Array([...carry, ...bytes]);
        const bad = firstInvalidUtf8(joined);
        for (let i = 0; i < bad; i++) if (joined[i] === 10) line++;
      }
      throw new ProblemError(
        problem("Corrupt", `${where}:${line}`, "Invalid UTF-8; expected a UTF-8 text file"),
      );
    }
  };
  const tooLong = (line: number) =>
    new ProblemError(
      problem(
        "TooLarge",
        `${where}:${line}`,
        `Line is longer than ${maxLineChars} characters; raise maxLineChars to read it`,
      ),
    );
  let read = 0;
  try {
    for (;;) {
      const n = await file.read(chunk);
      const last = n === null;
      read += n ?? 0;
      if (read > maxBytes) {
        throw new ProblemError(
          problem(
            "TooLarge",
            where,
            `File holds more than ${maxBytes} bytes (it grew while read, or its size was unknown); raise maxBytes to read it`,
          ),
        );
      }
      pending += decode(last ? undefined : chunk.subarray(0, n));
      let start = 0;
      for (;;) {
        const nl = pending.indexOf("\n", start);
        if (nl === -1) break;
        const crlf = nl > start && pending.charCodeAt(nl - 1) === 13;
        number++;
        if (nl - start > maxLineChars) throw tooLong(number);
        yield { text: pending.slice(start, crlf ? nl - 1 : nl), end: crlf ? "\r\n" : "\n", number };
        start = nl + 1;
      }
      pending = pending.slice(start);
      if (pending.length > maxLineChars) throw tooLong(number + 1);
      if (last) break;
    }
    if (pending.length > 0) {
      const cr = pending.endsWith("\r");
      yield { text: cr ? pending.slice(0, -1) : pending, end: cr ? "\r" : "", number: number + 1 };
    }
  } finally {
    try {
      file.close();
    } catch {
      // already closed
    }
  }
}
