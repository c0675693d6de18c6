/**
 * A folder of named files to read, wherever it is: in memory ({@link bytesFileSet}), behind a URL
 * ({@link fetchFileSet}: `https:`, `file:` in Deno, a Hugging Face `resolve/main/` folder, a page's
 * own server), or on the local disk (`dirFileSet` in `dir_files.ts`, the Deno wrapper). Loaders
 * of checkpoints and tokenizers read through this interface only, so each parser exists once and
 * runs in a browser as in Deno; a source only supplies bytes.
 *
 * ```ts
 * import { bytesFileSet } from "./file_set.ts";
 * import assert from "node:assert/strict";
 * const files = bytesFileSet({ "a.txt": new TextEncoder().encode("hi") }, "mem");
 * const a = await files.read("a.txt", 10, "a text file");
 * assert(a._tag === "Right" && new TextDecoder().decode(a.right) === "hi");
 * assert.equal((await files.read("b.txt", 10, "a text file"))._tag, "Left");
 * ```
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { type Problem, problem } from "../problem.ts";

/**
 * Random access to one file's bytes: its size, then reads at any position.
 *
 * @example
 * ```ts
 * import { bytesReader, type RandomAccess } from "./file_set.ts";
 * import assert from "node:assert/strict";
 * const r: RandomAccess = bytesReader(new Uint8Array([1, 2, 3]));
 * assert.equal(r.size, 3);
 * assert.deepEqual(await r.read(1, 2), new Uint8Array([2, 3]));
 * assert.equal(await r.read(2, 5), 1); // only one byte is left
 * ```
 */
export interface RandomAccess {
  /** The file's size in bytes. */
  readonly size: number;
  /**
   * Exactly `length` bytes from `position`, or how many bytes there were when the file ends
   * first.
   */
  read(position: number, length: number): Promise<Uint8Array | number>;
  /** Turns an error thrown by {@link RandomAccess.read} into a problem (default: `Io`). */
  readonly problemOf?: (e: unknown, where: string, doing: string) => Problem;
  /** Releases the file; safe to call twice. */
  close(): void;
}

/**
 * A read-only folder of files by name (`config.json`, `model.safetensors`, …).
 *
 * @example
 * ```ts
 * import { bytesFileSet, type FileSet } from "./file_set.ts";
 * import assert from "node:assert/strict";
 * const files: FileSet = bytesFileSet({ "config.json": new TextEncoder().encode("{}") }, "ckpt");
 * assert.equal(files.path("config.json"), "ckpt/config.json");
 * assert(await files.has("config.json") && !(await files.has("model.safetensors")));
 * ```
 */
export interface FileSet {
  /** Where the folder is, for problems: a path or a URL. */
  readonly where: string;
  /** How a file of the folder is named in problems. */
  path(name: string): string;
  /** Whether the folder holds a file of that name. */
  has(name: string): Promise<boolean>;
  // deno-doc-ignore private-type-ref -- fp-ts Either is an npm type (denoland/deno#27364)
  /**
   * A whole file, refused when larger than `maxBytes`.
   *
   * @param name the file's name in the folder
   * @param maxBytes the largest size read
   * @param what what the file is, for problems ("a JSON file")
   * @returns the bytes, or a problem: `NotFound`, `TooLarge`, `Io`
   */
  read(name: string, maxBytes: number, what: string): Promise<E.Either<Problem, Uint8Array>>;
  // deno-doc-ignore private-type-ref -- fp-ts Either is an npm type (denoland/deno#27364)
  /**
   * Random access to a file, for formats read a piece at a time (safetensors).
   *
   * @param name the file's name in the folder
   * @param what what the file is, for problems
   * @returns the reader (the caller closes it), or a problem: `NotFound`, `Io`
   */
  open(name: string, what: string): Promise<E.Either<Problem, RandomAccess>>;
}

/**
 * Random access to bytes already in memory.
 *
 * @param bytes the file's bytes (kept, not copied)
 * @returns a reader whose reads are views of `bytes`
 * @example
 * ```ts
 * import { bytesReader } from "./file_set.ts";
 * import assert from "node:assert/strict";
 * const r = bytesReader(new Uint8Array([5, 6]));
 * assert.deepEqual(await r.read(0, 1), new Uint8Array([5]));
 * ```
 */
export function bytesReader(bytes: Uint8Array): RandomAccess {
  return {
    size: bytes.length,
    read(position, length) {
      const end = position + length;
      return Promise.resolve(
        end > bytes.length ? Math.max(0, bytes.length - position) : bytes.subarray(position, end),
      );
    },
    close() {},
  };
}

const joinName = (where: string, name: string) =>
  where === "" ? name : `${where.replace(/\/+$/, "")}/${name}`;

const tooLarge = (where: string, size: string, maxBytes: number, what: string): Problem =>
  problem(
    "TooLarge",
    where,
    `File is ${size} bytes, over the limit of ${maxBytes} bytes for ${what}; raise maxBytes to read it`,
  );

/**
 * A folder held in memory: file name → bytes (what a browser gets from a file picker or a
 * download).
 *
 * @param files name → the file's bytes
 * @param where the folder's name in problems (default `memory`)
 * @returns the folder
 * @example
 * ```ts
 * import { bytesFileSet } from "./file_set.ts";
 * import assert from "node:assert/strict";
 * const files = bytesFileSet(new Map([["x.bin", new Uint8Array(8)]]));
 * const r = await files.read("x.bin", 4, "a binary file");
 * assert(r._tag === "Left" && r.left._tag === "TooLarge");
 * ```
 */
export function bytesFileSet(
  files: ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>,
  where = "memory",
): FileSet {
  const byName = files instanceof Map
    ? files as ReadonlyMap<string, Uint8Array>
    : new Map(Object.entries(files as Record<string, Uint8Array>));
  const path = (name: string) => joinName(where, name);
  const get = (name: string, what: string): E.Either<Problem, Uint8Array> => {
    const b = byName.get(name);
    return b === undefined
      ? E.left(problem("NotFound", path(name), `No such file; expected ${what}`))
      : E.right(b);
  };
  return {
    where,
    path,
    has: (name) => Promise.resolve(byName.has(name)),
    read(name, maxBytes, what) {
      const b = get(name, what);
      if (E.isRight(b) && b.right.length > maxBytes) {
        return Promise.resolve(
          E.left(tooLarge(path(name), String(b.right.length), maxBytes, what)),
        );
      }
      return Promise.resolve(b);
    },
    open: (name, what) => Promise.resolve(E.map(bytesReader)(get(name, what))),
  };
}

/**
 * Options of {@link fetchFileSet}.
 *
 * @example
 * ```ts
 * import type { FetchFileSetOptions } from "./file_set.ts";
 * import assert from "node:assert/strict";
 * const o: FetchFileSetOptions = { maxBytes: 1 << 20 };
 * assert.equal(o.maxBytes, 1048576);
 * ```
 */
export interface FetchFileSetOptions {
  /** The `fetch` to use (default: the global one). */
  readonly fetch?: typeof fetch;
  /** The largest file {@link FileSet.open} downloads (default 4 GiB). */
  readonly maxBytes?: number;
}

const errorText = (e: unknown): string => e instanceof Error ? e.message : String(e);

/** Reads a response's body, refusing more than `maxBytes`. */
async function bodyCapped(
  response: Response,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    return undefined;
  }
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let got = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    got += value.length;
    if (got > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(got);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * A folder behind a URL: each file is `new URL(name, base)`, fetched whole when read or opened
 * (a Hugging Face repository's `https://huggingface.co/<repo>/resolve/main/`, a page's server,
 * JSR's files beside a module, a `file:` folder in Deno).
 *
 * @param base the folder's URL (a trailing `/` is added when missing)
 * @param options the `fetch` to use, and the largest file opened
 * @returns the folder
 * @example
 * ```ts
 * import { fetchFileSet } from "./file_set.ts";
 * import assert from "node:assert/strict";
 * const dir = new URL("../tests/fixtures/tokenizers/t5/", import.meta.url);
 * const files = fetchFileSet(dir);
 * assert(await files.has("tokenizer.json") && !(await files.has("nope.json")));
 * const r = await files.read("tokenizer.json", 10, "a tokenizer file");
 * assert(r._tag === "Left" && r.left._tag === "TooLarge");
 * ```
 */
export function fetchFileSet(base: string | URL, options: FetchFileSetOptions = {}): FileSet {
  const href = String(base);
  const root = new URL(href.endsWith("/") ? href : `${href}/`);
  const get = options.fetch ?? ((input, init) => fetch(input, init));
  const maxOpen = options.maxBytes ?? 2 ** 32;
  const path = (name: string) => new URL(name, root).href;
  const request = async (
    name: string,
    what: string,
    method: "GET" | "HEAD",
  ): Promise<E.Either<Problem, Response>> => {
    let response: Response;
    try {
      response = await get(new URL(name, root), { method });
    } catch (e) {
      const why = errorText(e).split("\n")[0];
      // Deno's fetch of a missing file: URL throws NotFound instead of answering 404.
      return E.left(
        /not ?found|no such file/i.test(why)
          ? problem("NotFound", path(name), `No such file; expected ${what}`)
          : problem("Io", path(name), `Cannot fetch ${what}: ${why}`),
      );
    }
    if (response.ok) return E.right(response);
    await response.body?.cancel();
    return E.left(
      response.status === 404
        ? problem("NotFound", path(name), `No such file (HTTP 404); expected ${what}`)
        : problem("Io", path(name), `Cannot fetch ${what}: HTTP ${response.status}`),
    );
  };
  const read = async (
    name: string,
    maxBytes: number,
    what: string,
  ): Promise<E.Either<Problem, Uint8Array>> => {
    const r = await request(name, what, "GET");
    if (E.isLeft(r)) return r;
    try {
      const bytes = await bodyCapped(r.right, maxBytes);
      return bytes === undefined
        ? E.left(tooLarge(path(name), `more than ${maxBytes}`, maxBytes, what))
        : E.right(bytes);
    } catch (e) {
      return E.left(problem("Io", path(name), `Cannot read ${what}: ${errorText(e)}`));
    }
  };
  return {
    where: root.href,
    path,
    async has(name) {
      // file: URLs answer only GET in Deno; a GET whose body is dropped costs one request too.
      const r = await request(name, "a file", root.protocol === "file:" ? "GET" : "HEAD");
      if (E.isRight(r)) await r.right.body?.cancel();
      return E.isRight(r);
    },
    read,
    open: async (name, what) => E.map(bytesReader)(await read(name, maxOpen, what)),
  };
}
