/**
 * The Deno side of {@link FileSet}: a folder on the local disk. It only supplies bytes; the
 * parsers that read them are the same ones a browser runs.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { join } from "node:path";
import type { Problem } from "../problem.ts";
import type { FileSet, RandomAccess } from "./file_set.ts";
import {
  exists,
  fsProblem,
  openRegularFile,
  pathText,
  readExactly,
  readFileCapped,
} from "./files.ts";

/**
 * A folder on the local disk as a {@link FileSet}: `read` is `readFileCapped`, `open` a file
 * handle read with a seek per piece, so a large file is never held whole.
 *
 * @param dir the folder
 * @returns the folder's files
 * @example
 * ```ts
 * import { dirFileSet } from "./dir_files.ts";
 * import assert from "node:assert/strict";
 * const files = dirFileSet("tests/fixtures/tokenizers/t5");
 * assert(await files.has("tokenizer.json"));
 * const r = await files.open("tokenizer.json", "a tokenizer file");
 * assert(r._tag === "Right" && r.right.size > 0);
 * if (r._tag === "Right") r.right.close();
 * ```
 */
export function dirFileSet(dir: string | URL): FileSet {
  const where = pathText(dir);
  const path = (name: string) => join(where, name);
  return {
    where,
    path,
    has: (name) => exists(path(name)),
    read: (name, maxBytes, what) => readFileCapped(path(name), maxBytes, what),
    open: (name, what) => openFileReader(path(name), what),
  };
}

// deno-doc-ignore private-type-ref -- fp-ts Either is an npm type (denoland/deno#27364)
/**
 * Random access to a regular file on the local disk (a seek and a read per piece).
 *
 * @param path the file
 * @param what what the file is, for problems
 * @returns the reader (the caller closes it), or `NotFound` / `Io`
 * @example
 * ```ts
 * import { openFileReader } from "./dir_files.ts";
 * import assert from "node:assert/strict";
 * const r = await openFileReader("deno.json", "a JSON file");
 * assert(r._tag === "Right");
 * const start = await r.right.read(0, 1);
 * assert(start instanceof Uint8Array && start[0] === "{".charCodeAt(0));
 * r.right.close();
 * ```
 */
export async function openFileReader(
  path: string | URL,
  what: string,
): Promise<E.Either<Problem, RandomAccess>> {
  const opened = await openRegularFile(path, what);
  if (E.isLeft(opened)) return opened;
  const { file, size } = opened.right;
  let closed = false;
  return E.right({
    size,
    read: (position: number, length: number) => readExactly(file, position, length),
    problemOf: fsProblem,
    close() {
      if (closed) return;
      closed = true;
      file.close();
    },
  });
}
