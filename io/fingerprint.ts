/**
 * Fingerprints of the files a model is read from, so that a run resumed later can tell whether
 * its model is still the one it started with (a file replaced, removed or added).
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { type Problem, problem } from "../problem.ts";
import { errorText } from "./files.ts";

/**
 * A model's files by path (relative to the model directory, `/`-separated; the file's own name
 * for a single-file model) → `sha256:<hex>` of its bytes.
 *
 * @example
 * ```ts
 * import type { ModelFingerprint } from "./fingerprint.ts";
 * import assert from "node:assert/strict";
 * const f: ModelFingerprint = { "config.json": "sha256:" + "0".repeat(64) };
 * assert(Object.keys(f).length === 1);
 * ```
 */
export type ModelFingerprint = Readonly<Record<string, string>>;

/** The most files fingerprinted (a T5X checkpoint has one per array chunk). */
export const FINGERPRINT_MAX_FILES = 100_000;
const MAX_DEPTH = 8;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

async function digest(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path, { read: true });
  const buf = new Uint8Array(1 << 20);
  for (;;) {
    const n = await file.read(buf);
    if (n === null) break;
    hash.update(buf.subarray(0, n));
  }
  return `sha256:${hash.digest("hex")}`;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Fingerprints a model: every regular file under a directory (to depth 8), or a single file
 * (a `.gguf`). Reads every byte (about a second per gigabyte).
 *
 * @param path the model directory or file
 * @returns the fingerprint, or a problem: `NotFound`, `TooLarge` (over
 *   {@link FINGERPRINT_MAX_FILES} files), `Io`
 * @example
 * ```ts
 * import { fingerprintModel } from "./fingerprint.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/config.json`, "{}");
 * const f = await fingerprintModel(dir);
 * assert(f._tag === "Right");
 * assert.equal( // sha256 of "{}"
 *   f.right["config.json"],
 *   "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
 * );
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function fingerprintModel(
  path: string,
): Promise<E.Either<Problem, ModelFingerprint>> {
  const files: Record<string, string> = {};
  let count = 0;
  const walk = async (dir: string, rel: string, depth: number): Promise<Problem | undefined> => {
    const names: string[] = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    for (const name of names.sort()) {
      const full = join(dir, name);
      const key = rel === "" ? name : `${rel}/${name}`;
      const st = await Deno.stat(full);
      if (st.isDirectory) {
        if (depth < MAX_DEPTH) {
          const p = await walk(full, key, depth + 1);
          if (p !== undefined) return p;
        }
      } else if (st.isFile) {
        if (++count > FINGERPRINT_MAX_FILES) {
          return problem(
            "TooLarge",
            path,
            `Holds more than ${FINGERPRINT_MAX_FILES} files; expected a model directory`,
          );
        }
        files[key] = await digest(full);
      }
    }
    return undefined;
  };
  try {
    const st = await Deno.stat(path);
    if (!st.isDirectory) {
      files[path.split(/[\\/]/).pop() ?? path] = await digest(path);
      return E.right(files);
    }
    const p = await walk(path, "", 0);
    return p === undefined ? E.right(files) : E.left(p);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return E.left(problem("NotFound", path, "No such file"));
    return E.left(problem("Io", path, `Could not fingerprint the model: ${errorText(e)}`));
  }
}

/**
 * What differs between two fingerprints, one phrase per file: `X changed`, `X removed`,
 * `X added` (in path order).
 *
 * @param before the fingerprint the run started with
 * @param now the fingerprint now
 * @returns the differences (none when the files are the same)
 * @example
 * ```ts
 * import { fingerprintChanges } from "./fingerprint.ts";
 * import assert from "node:assert/strict";
 * const a = "sha256:" + "a".repeat(64), b = "sha256:" + "b".repeat(64);
 * assert.deepEqual(
 *   fingerprintChanges({ "config.json": a, "model.safetensors": a }, { "model.safetensors": b, "x": a }),
 *   ["config.json removed", "model.safetensors changed", "x added"],
 * );
 * assert.deepEqual(fingerprintChanges({ x: a }, { x: a }), []);
 * ```
 */
export function fingerprintChanges(before: ModelFingerprint, now: ModelFingerprint): string[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(now)])].sort();
  return names.flatMap((name) => {
    const was = Object.hasOwn(before, name) ? before[name] : undefined;
    const is = Object.hasOwn(now, name) ? now[name] : undefined;
    if (was === is) return [];
    return [`${name} ${was === undefined ? "added" : is === undefined ? "removed" : "changed"}`];
  });
}

/**
 * Whether a value read from a checkpoint is a fingerprint: a record of at most
 * {@link FINGERPRINT_MAX_FILES} paths to `sha256:<hex>` digests.
 *
 * @param v the value
 * @returns whether it is one
 * @example
 * ```ts
 * import { isModelFingerprint } from "./fingerprint.ts";
 * import assert from "node:assert/strict";
 * assert(isModelFingerprint({ "config.json": "sha256:" + "0".repeat(64) }));
 * assert(!isModelFingerprint({ "config.json": "md5:0" }) && !isModelFingerprint([]));
 * ```
 */
export function isModelFingerprint(v: unknown): v is ModelFingerprint {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const entries = Object.entries(v);
  return entries.length <= FINGERPRINT_MAX_FILES &&
    entries.every(([, d]) => typeof d === "string" && DIGEST.test(d));
}
