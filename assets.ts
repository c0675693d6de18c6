/**
 * The files that ship with the package (the embedded models under `assets/embedded/`, the preset
 * configurations under `configs/`), found next to this module: on the local disk when the package
 * is there (a checkout), fetched over HTTP when it was imported from a URL (JSR serves every
 * published file beside the modules: `https://jsr.io/@prompt-tuning/soft-prompt/<version>/…`).
 *
 * Readers take local paths (they open files and seek in them), so {@link localAsset} gives one
 * either way: the file itself, or a copy fetched once per process into a temporary directory
 * (which needs `--allow-write` and `--allow-read` there, and `--allow-net` for the host).
 *
 * ```ts
 * import { assetLocation, localAsset } from "./assets.ts";
 * import assert from "node:assert/strict";
 * const path = await localAsset("configs/runs/default.json");
 * // This module is on disk here, so the file is read where it is, not copied.
 * assert(path._tag === "Right" && path.right === assetLocation("configs/runs/default.json"));
 * assert.equal(JSON.parse(await Deno.readTextFile(path.right)).model, "embedded:default");
 * ```
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Problem, problem } from "./problem.ts";

/** The package's root folder: where this module is. */
const ROOT = new URL("./", import.meta.url);

/**
 * Whether the package is on the local disk (a `file:` URL), so its files are read where they are.
 *
 * @param root the package's root (default: this module's folder)
 * @returns true for a checkout or a local copy, false when imported over HTTP
 * @example
 * ```ts
 * import { packageOnDisk } from "./assets.ts";
 * import assert from "node:assert/strict";
 * assert(packageOnDisk());
 * assert(!packageOnDisk(new URL("https://jsr.io/@prompt-tuning/soft-prompt/0.1.0/")));
 * ```
 */
export function packageOnDisk(root: URL = ROOT): boolean {
  return root.protocol === "file:";
}

/**
 * Where a bundled file is: its path on the local disk when the package is there, else its URL.
 *
 * @param path the file's path inside the package, e.g. `configs/runs/default.json`
 * @param root the package's root (default: this module's folder)
 * @returns a local path, or an `http(s):` URL
 * @example
 * ```ts
 * import { assetLocation } from "./assets.ts";
 * import assert from "node:assert/strict";
 * assert(assetLocation("configs/runs/default.json").endsWith("/configs/runs/default.json"));
 * const remote = new URL("https://jsr.io/@prompt-tuning/soft-prompt/0.1.0/");
 * assert.equal(
 *   assetLocation("assets/embedded/lm_adapted", remote),
 *   "https://jsr.io/@prompt-tuning/soft-prompt/0.1.0/assets/embedded/lm_adapted",
 * );
 * ```
 */
export function assetLocation(path: string, root: URL = ROOT): string {
  const url = new URL(path, root);
  return packageOnDisk(url) ? fileURLToPath(url) : url.href;
}

/**
 * Options of {@link localAsset}.
 *
 * @example
 * ```ts
 * import type { LocalAssetOptions } from "./assets.ts";
 * import assert from "node:assert/strict";
 * const o: LocalAssetOptions = { files: ["config.json", "model.safetensors"] };
 * assert.equal(o.files?.length, 2);
 * ```
 */
export interface LocalAssetOptions {
  /**
   * When `path` is a folder: the files in it that are needed (a web server lists no folders);
   * each is fetched when the package is remote.
   */
  readonly files?: readonly string[];
  /** The package's root (default: this module's folder). */
  readonly root?: URL;
}

/** Per package root: the temporary folder its fetched files go into. */
const copies = new Map<string, Promise<E.Either<Problem, string>>>();
/** Per fetched URL: its local copy, fetched once. */
const fetched = new Map<string, Promise<E.Either<Problem, string>>>();

function copyRoot(root: URL): Promise<E.Either<Problem, string>> {
  let dir = copies.get(root.href);
  if (dir === undefined) {
    dir = Deno.makeTempDir({ prefix: "soft_prompt_assets_" }).then(
      (d) => {
        globalThis.addEventListener("unload", () => {
          try {
            Deno.removeSync(d, { recursive: true });
          } catch {
            // Already gone, or not ours to remove any more: nothing to clean.
          }
        });
        return E.right(d);
      },
      (e) =>
        E.left(
          problem(
            "Io",
            root.href,
            `Cannot make a folder for the package's files (${
              e instanceof Error ? e.message : String(e)
            }); they need --allow-write and --allow-read in the temporary directory`,
          ),
        ),
    );
    copies.set(root.href, dir);
  }
  return dir;
}

async function download(url: URL, target: string): Promise<E.Either<Problem, string>> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    return E.left(problem("Io", url.href, `Cannot fetch: ${e instanceof Error ? e.message : e}`));
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    return E.left(
      problem(response.status === 404 ? "NotFound" : "Io", url.href, `HTTP ${response.status}`),
    );
  }
  try {
    await Deno.mkdir(dirname(target), { recursive: true });
    const file = await Deno.open(target, { write: true, createNew: true });
    await response.body.pipeTo(file.writable); // closes the file
    return E.right(target);
  } catch (e) {
    return E.left(
      problem("Io", target, `Cannot save ${url.href}: ${e instanceof Error ? e.message : e}`),
    );
  }
}

function fetchOnce(root: URL, dir: string, path: string): Promise<E.Either<Problem, string>> {
  const url = new URL(path, root);
  let copy = fetched.get(url.href);
  if (copy === undefined) {
    copy = download(url, join(dir, ...path.split("/")));
    fetched.set(url.href, copy);
  }
  return copy;
}

/**
 * A local path for a bundled file or folder, for readers that open files: the file itself when
 * the package is on disk; when it was imported from a URL, a copy fetched once per process into a
 * temporary directory (removed when the process ends), with `options.files` for a folder.
 *
 * @param path the file's or folder's path inside the package, with `/` separators
 * @param options the files a folder needs, and the package's root
 * @returns the local path, or the problem that stopped the fetch
 * @example
 * ```ts
 * import { localAsset } from "./assets.ts";
 * import assert from "node:assert/strict";
 * const dir = await localAsset("assets/embedded/lm_adapted", { files: ["config.json"] });
 * assert(dir._tag === "Right");
 * const config = JSON.parse(await Deno.readTextFile(`${dir.right}/config.json`));
 * assert.equal(config.model_type, "t5");
 * assert.equal((await localAsset("../outside.json"))._tag, "Left");
 * ```
 */
export async function localAsset(
  path: string,
  options: LocalAssetOptions = {},
): Promise<E.Either<Problem, string>> {
  const files = options.files ?? [];
  const parts = [path, ...files].flatMap((p) => p.split("/"));
  if (path.startsWith("/") || parts.includes("..") || parts.some((p) => p.includes("\\"))) {
    return E.left(
      problem("Invalid", path, "Expected a path inside the package, with / separators"),
    );
  }
  const root = options.root ?? ROOT;
  if (packageOnDisk(root)) return E.right(assetLocation(path, root));
  const dir = await copyRoot(root);
  if (E.isLeft(dir)) return dir;
  const wanted = files.length === 0 ? [path] : files.map((f) => `${path}/${f}`);
  const copied = await Promise.all(wanted.map((p) => fetchOnce(root, dir.right, p)));
  const failed = copied.find(E.isLeft);
  if (failed !== undefined) return failed;
  return E.right(join(dir.right, ...path.split("/")));
}
