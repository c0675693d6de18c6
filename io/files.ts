/**
 * The library's file helpers: atomic writes (a synced temporary file in the same directory, then
 * a rename), reads capped at a number of bytes, exact reads at an offset, existence checks, and
 * file-system errors as problems. Every module that writes or reads a file this way calls these.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { errorText, type Problem, problem } from "../problem.ts";

/**
 * A path as text, for messages and extension checks.
 *
 * @param path a path or a `file:` URL
 * @returns the path as a string
 * @example
 * ```ts
 * import { pathText } from "./files.ts";
 * import assert from "node:assert/strict";
 * assert(pathText("a/b.npy") === "a/b.npy");
 * assert(pathText(new URL("file:///tmp/c.npy")) === "/tmp/c.npy");
 * ```
 */
export function pathText(path: string | URL): string {
  return typeof path === "string" ? path : fileURLToPath(path);
}

export { errorText } from "../problem.ts";
export { quoted } from "./_quote.ts";

/**
 * Maps a file-system error to a problem: `NotFound`, or `Io` naming what was being done.
 *
 * @param e the error thrown
 * @param where the path, for the problem
 * @param doing what was being done ("read the file")
 * @returns the problem
 * @example
 * ```ts
 * import { fsProblem } from "./files.ts";
 * import assert from "node:assert/strict";
 * assert(fsProblem(new Deno.errors.NotFound("x"), "a.npy", "read the file")._tag === "NotFound");
 * const p = fsProblem(new Error("disk on fire"), "a.npy", "read the file");
 * assert(p._tag === "Io" && p.message === "Could not read the file: disk on fire");
 * ```
 */
export function fsProblem(e: unknown, where: string, doing: string): Problem {
  if (e instanceof NotRegularFile) return problem("Io", where, e.message);
  if (e instanceof Deno.errors.NotFound) return problem("NotFound", where, "No such file");
  if (e instanceof Deno.errors.PermissionDenied) {
    return problem("Io", where, `Permission denied while ${doing}`);
  }
  if (e instanceof Deno.errors.IsADirectory) {
    return problem("Io", where, `Is a directory; expected a file`);
  }
  return problem("Io", where, `Could not ${doing}: ${errorText(e)}`);
}

/**
 * What a path that is not a regular file is, for messages: `"a directory"`, `"a FIFO (named
 * pipe)"`, `"a character device"` (`/dev/zero`), `"a block device"`, `"a socket"`.
 *
 * @param info what `stat` said (after following symbolic links)
 * @returns the kind, or `undefined` for a regular file
 * @example
 * ```ts
 * import { nonRegularKind } from "./files.ts";
 * import assert from "node:assert/strict";
 * assert.equal(nonRegularKind(await Deno.stat("/dev/null")), "a character device");
 * assert.equal(nonRegularKind(await Deno.stat(".")), "a directory");
 * assert.equal(nonRegularKind(await Deno.stat("deno.json")), undefined);
 * ```
 */
export function nonRegularKind(info: Deno.FileInfo): string | undefined {
  if (info.isFile) return undefined;
  if (info.isDirectory) return "a directory";
  if (info.isFifo) return "a FIFO (named pipe)";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  if (info.isSocket) return "a socket";
  return "not a regular file";
}

/** Thrown by {@link readAtMost} for a path that is not a regular file (see {@link fsProblem}). */
class NotRegularFile extends Error {
  constructor(kind: string, what: string) {
    super(
      kind === "a directory"
        ? `Is a directory; expected ${what}`
        : `Is ${kind}, not a regular file; expected ${what}`,
    );
  }
}

/** Throws {@link NotRegularFile} unless `info` is a regular file's. */
function requireRegular(info: Deno.FileInfo, what: string): void {
  const kind = nonRegularKind(info);
  if (kind !== undefined) throw new NotRegularFile(kind, what);
}

/**
 * Tells whether a path exists (a file, a directory or anything else `stat` finds).
 *
 * @param path the path
 * @returns false when it cannot be found (or stat fails)
 * @example
 * ```ts
 * import { exists } from "./files.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * assert(await exists(dir) && !(await exists(`${dir}/missing.json`)));
 * await Deno.remove(dir);
 * ```
 */
export function exists(path: string | URL): Promise<boolean> {
  return Deno.stat(path).then(() => true, () => false);
}

/**
 * A short random suffix for temporary names, `tmp-` and 8 hex digits (not a PRNG draw: it never
 * affects results). Leftovers are recognised by the `.tmp-` in their names.
 *
 * @returns the suffix
 * @example
 * ```ts
 * import { tmpSuffix } from "./files.ts";
 * import assert from "node:assert/strict";
 * assert(/^tmp-[0-9a-f]{8}$/.test(tmpSuffix()));
 * ```
 */
export const tmpSuffix = (): string => `tmp-${crypto.randomUUID().slice(0, 8)}`;

/**
 * What a file is written from: text (as UTF-8), bytes, or a function that puts bytes in order
 * (to stream a large file without building it in memory).
 *
 * @example
 * ```ts
 * import { type FileContent, writeFileAtomic } from "./files.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const parts: FileContent = async (put) => {
 *   await put(new Uint8Array([104, 105]));
 *   await put(new Uint8Array([33]));
 * };
 * await writeFileAtomic(`${dir}/a.txt`, parts);
 * assert(await Deno.readTextFile(`${dir}/a.txt`) === "hi!");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export type FileContent =
  | string
  | Uint8Array
  | ((put: (bytes: Uint8Array) => Promise<void>) => Promise<void>);

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await file.write(bytes.subarray(off));
}

/**
 * Writes a new file (failing if it exists) and syncs its data to disk.
 *
 * @param path the file, which must not exist
 * @param content its text, bytes or a writer
 * @throws the file-system error (`AlreadyExists`, `NotFound` for a missing directory, …)
 * @example
 * ```ts
 * import { writeFileSynced } from "./files.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await writeFileSynced(`${dir}/a.json`, "{}");
 * await assert.rejects(() => writeFileSynced(`${dir}/a.json`, "{}"), Deno.errors.AlreadyExists);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileSynced(path: string | URL, content: FileContent): Promise<void> {
  const file = await Deno.open(path, { write: true, createNew: true });
  try {
    const put = (bytes: Uint8Array) => writeAll(file, bytes);
    if (typeof content === "function") await content(put);
    else await put(typeof content === "string" ? new TextEncoder().encode(content) : content);
    await file.syncData();
  } finally {
    file.close();
  }
}

/**
 * Syncs a directory so that the names created or renamed in it survive a crash. Best effort:
 * platforms that cannot open a directory (Windows) skip it.
 *
 * @param path the directory
 * @example
 * ```ts
 * import { syncDir } from "./files.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await syncDir(dir);
 * await syncDir(`${dir}/missing`); // never throws
 * assert((await Deno.stat(dir)).isDirectory);
 * await Deno.remove(dir);
 * ```
 */
export async function syncDir(path: string): Promise<void> {
  let f: Deno.FsFile | undefined;
  try {
    f = await Deno.open(path, { read: true });
    await f.sync();
  } catch {
    // Not supported here; the rename is still atomic, only its durability is weaker.
  } finally {
    f?.close();
  }
}

/**
 * Replaces a file atomically: `content` fills `name.tmp-<random>` in the same directory, which is
 * synced and then renamed over `path`. Readers see the old file or the new one, never a part. On
 * failure the temporary file is removed and `path` is left as it was.
 *
 * @param path the file
 * @param content its text, bytes or a writer
 * @throws the file-system error (see {@link writeAtomic} for the same as a problem)
 * @example
 * ```ts
 * import { writeFileAtomic } from "./files.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/a.txt`, "old");
 * await writeFileAtomic(`${dir}/a.txt`, new TextEncoder().encode("new"));
 * assert(await Deno.readTextFile(`${dir}/a.txt`) === "new");
 * assert([...Deno.readDirSync(dir)].length === 1); // no temporary file left
 * await assert.rejects(() => writeFileAtomic(`${dir}/no/such/dir/a.txt`, "x"));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(path: string | URL, content: FileContent): Promise<void> {
  const target = pathText(path);
  const tmp = join(dirname(target), `${basename(target)}.${tmpSuffix()}`);
  try {
    await writeFileSynced(tmp, content);
    await Deno.rename(tmp, target);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {}); // never created, or already gone
    throw e;
  }
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * {@link writeFileAtomic} with its failure as a problem.
 *
 * @param path the file
 * @param content its text, bytes or a writer
 * @returns nothing, or a problem: `NotFound` for a missing directory, `Io` otherwise
 * @example
 * ```ts
 * import { writeAtomic } from "./files.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const r = await writeAtomic(`${dir}/a.txt`, "hi");
 * assert(r._tag === "Right" && await Deno.readTextFile(`${dir}/a.txt`) === "hi");
 * const bad = await writeAtomic(`${dir}/missing/a.txt`, "hi");
 * assert(bad._tag === "Left" && bad.left._tag === "NotFound");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeAtomic(
  path: string | URL,
  content: FileContent,
): Promise<E.Either<Problem, void>> {
  const target = pathText(path);
  try {
    await writeFileAtomic(target, content);
    return E.right(undefined);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return E.left(
        problem(
          "NotFound",
          target,
          `Cannot write: the directory ${dirname(target)} does not exist`,
        ),
      );
    }
    return E.left(fsProblem(e, target, "write the file"));
  }
}

/**
 * Reads a whole regular file, but never more than `maxBytes` of it. Anything else (a directory,
 * a FIFO, a device such as `/dev/zero`, or a symbolic link to one) is refused before it is opened,
 * since opening a FIFO waits for a writer and a device never ends. The cap is on the bytes
 * actually read, not on what `stat` says: a file of `/proc` reports size 0 and a growing file
 * more than its size.
 *
 * @param path the file
 * @param maxBytes the most bytes accepted
 * @param what what the file should be, for the message of a path that is not a regular file
 * @returns the bytes, or `undefined` when the file holds more than `maxBytes`
 * @throws the file-system error (`NotFound`, `PermissionDenied`, …), or an error whose message
 *   says what the path is instead of a regular file ({@link fsProblem} makes it a problem)
 * @example
 * ```ts
 * import { readAtMost } from "./files.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "hello");
 * assert.deepEqual(await readAtMost(`${dir}/a.txt`, 5), new TextEncoder().encode("hello"));
 * assert.equal(await readAtMost(`${dir}/a.txt`, 4), undefined);
 * await assert.rejects(readAtMost("/dev/zero", 4), /^Error: Is a character device, not a regular file; expected a file$/);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readAtMost(
  path: string | URL,
  maxBytes: number,
  what = "a file",
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  // Before opening: opening a FIFO blocks until something writes to it.
  requireRegular(await Deno.stat(path), what);
  const file = await Deno.open(path, { read: true });
  try {
    // Again on the open file, in case the path was replaced in between.
    const info = await file.stat();
    requireRegular(info, what);
    // Sized by stat when it can be trusted; grown (and the cap enforced) when more bytes come.
    let buf = new Uint8Array(Math.min(info.size, maxBytes));
    let got = 0;
    for (;;) {
      if (got === buf.length) {
        // Full: the end of the file, or more than stat said (a pipe, a device, a growing file).
        const probe = new Uint8Array(Math.min(1 << 16, maxBytes - got + 1));
        const r = await file.read(probe);
        if (r === null) return buf;
        if (got + r > maxBytes) return undefined;
        const grown = new Uint8Array(Math.min(Math.max(2 * (got + r), 1 << 16), maxBytes));
        grown.set(buf);
        grown.set(probe.subarray(0, r), got);
        buf = grown;
        got += r;
        continue;
      }
      const r = await file.read(buf.subarray(got));
      if (r === null) return buf.slice(0, got);
      got += r;
    }
  } finally {
    file.close();
  }
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Reads a whole file, refusing a file larger than `maxBytes`: by its size before reading it, and
 * by the bytes read for files whose size `stat` does not know (see {@link readAtMost}).
 *
 * @param path the file
 * @param maxBytes the most bytes accepted
 * @param what what the file should be, for messages ("an .npy file")
 * @returns the bytes, or a problem: `NotFound`, `TooLarge`, `Io` (a directory, a FIFO, a device,
 *   no permission)
 * @example
 * ```ts
 * import { readFileCapped } from "./files.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.json`, "[1, 2]");
 * const r = await readFileCapped(`${dir}/a.json`, 100, "a JSON file");
 * assert(r._tag === "Right" && r.right.length === 6);
 * const big = await readFileCapped(`${dir}/a.json`, 5, "a JSON file");
 * assert(big._tag === "Left" && big.left._tag === "TooLarge");
 * const gone = await readFileCapped(`${dir}/b.json`, 100, "a JSON file");
 * assert(gone._tag === "Left" && gone.left._tag === "NotFound");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readFileCapped(
  path: string | URL,
  maxBytes: number,
  what: string,
): Promise<E.Either<Problem, Uint8Array<ArrayBuffer>>> {
  const where = pathText(path);
  const tooLarge = (size: string) =>
    E.left(
      problem(
        "TooLarge",
        where,
        `File is ${size} bytes, over the limit of ${maxBytes} bytes for ${what}; raise maxBytes to read it`,
      ),
    );
  try {
    const st = await Deno.stat(path);
    requireRegular(st, what);
    if (st.size > maxBytes) return tooLarge(String(st.size));
    const bytes = await readAtMost(path, maxBytes, what);
    return bytes === undefined ? tooLarge(`more than ${maxBytes}`) : E.right(bytes);
  } catch (e) {
    return E.left(fsProblem(e, where, "read the file"));
  }
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Opens a regular file for reading, for a reader that seeks in it (a directory, a FIFO or a
 * device is refused before it is opened).
 *
 * @param path the file
 * @param what what the file should be, for messages ("a .gguf file")
 * @returns the open file (the caller closes it) and its size, or a problem: `NotFound`, `Io`
 * @example
 * ```ts
 * import { openRegularFile } from "./files.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.bin`, "abc");
 * const r = await openRegularFile(`${dir}/a.bin`, "a binary file");
 * assert(r._tag === "Right" && r.right.size === 3);
 * if (r._tag === "Right") r.right.file.close();
 * const d = await openRegularFile(dir, "a binary file");
 * assert(d._tag === "Left" && d.left.message === "Is a directory; expected a binary file");
 * const z = await openRegularFile("/dev/zero", "a binary file");
 * assert(z._tag === "Left" && /^Is a character device, not a regular file/.test(z.left.message));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function openRegularFile(
  path: string | URL,
  what: string,
): Promise<E.Either<Problem, { readonly file: Deno.FsFile; readonly size: number }>> {
  const where = pathText(path);
  let file: Deno.FsFile;
  try {
    // Before opening: opening a FIFO blocks until something writes to it.
    requireRegular(await Deno.stat(path), what);
    file = await Deno.open(path, { read: true });
  } catch (e) {
    return E.left(fsProblem(e, where, "open the file"));
  }
  try {
    const st = await file.stat();
    requireRegular(st, what); // again, in case the path was replaced in between
    return E.right({ file, size: st.size });
  } catch (e) {
    file.close();
    return E.left(fsProblem(e, where, "read the file"));
  }
}

/**
 * Reads exactly `n` bytes at `position` of an open file, or reports how many were there.
 *
 * @param file the open file
 * @param position the byte offset to read from
 * @param n how many bytes
 * @returns the bytes, or the number read before the file ended
 * @example
 * ```ts
 * import { readExactly } from "./files.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "hello");
 * using f = await Deno.open(`${dir}/a.txt`);
 * assert.deepEqual(await readExactly(f, 1, 3), new TextEncoder().encode("ell"));
 * assert.equal(await readExactly(f, 3, 4), 2); // only "lo" is left
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readExactly(
  file: Deno.FsFile,
  position: number,
  n: number,
): Promise<Uint8Array<ArrayBuffer> | number> {
  const buf = new Uint8Array(n);
  await file.seek(position, Deno.SeekMode.Start);
  let got = 0;
  while (got < n) {
    const r = await file.read(buf.subarray(got));
    if (r === null) return got;
    got += r;
  }
  return buf;
}
