/**
 * The server's prompt directory: every prompt in it by name (`NAME.npy`, `NAME.npz`,
 * `NAME.safetensors`, or a `NAME/` PEFT adapter, training checkpoint or run directory), each with
 * an optional sidecar `NAME.json` (`labels`, `combine`, `length_normalize`). A scan reads what is
 * new or changed and keeps the rest; a file that cannot be served is a one-line problem, and the
 * other prompts are served.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { join } from "node:path";
import { COMBINE_KINDS, type CombineKind } from "../config/mod.ts";
import { isJsonObject, type JsonValue, parseJson } from "../config/json.ts";
import { readFileCapped } from "../io/files.ts";
import { describeProblem, type Problem, problem } from "../problem.ts";
import { checkPromptWidth, readPrompt } from "./_prompt.ts";
import type { ServedPrompt } from "./_serve_rows.ts";

/** The names a prompt may have (requests name prompts by these; nothing else is looked up). */
export const PROMPT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The extensions of prompt files. */
const EXTENSIONS = [".npy", ".npz", ".safetensors"] as const;

/** The most bytes of a sidecar. */
const SIDECAR_BYTES = 64 * 1024;

/** The most label words in a sidecar, and the most characters of one. */
export const MAX_LABELS = 64;
/** The most characters of one label word. */
export const MAX_LABEL_CHARS = 256;

/**
 * The prompts a scan found, and the entries it could not serve.
 *
 * @example
 * ```ts
 * import type { Catalog } from "./_serve_prompts.ts";
 * import assert from "node:assert/strict";
 * const c: Catalog = { prompts: new Map(), problems: [], stamps: new Map() };
 * assert.equal(c.prompts.size, 0);
 * ```
 */
export interface Catalog {
  /** Name → prompt. */
  readonly prompts: ReadonlyMap<string, ServedPrompt>;
  /** One line per entry that is not served. */
  readonly problems: readonly string[];
  /** Name → what the files were when read (size and modification times), to skip unchanged. */
  readonly stamps: ReadonlyMap<string, string>;
}

/** An empty catalog, before the first scan. */
export const EMPTY_CATALOG: Catalog = { prompts: new Map(), problems: [], stamps: new Map() };

interface Sidecar {
  readonly labels?: readonly string[];
  readonly combine: CombineKind;
  readonly lengthNormalize: boolean;
}

/**
 * Checks a sidecar's JSON: an object with at most `labels` (1 to 64 non-empty strings),
 * `combine` (`prefix`, `prefix_after_bos`, `suffix`) and `length_normalize` (a boolean).
 */
function sidecarOf(v: JsonValue, where: string): E.Either<Problem, Sidecar> {
  const bad = (m: string) => E.left(problem("Invalid", where, m));
  if (!isJsonObject(v)) return bad("Expected an object with labels, combine, length_normalize");
  for (const k of Object.keys(v)) {
    if (!["labels", "combine", "length_normalize"].includes(k)) {
      return bad(`Unknown field "${k}"; expected labels, combine or length_normalize`);
    }
  }
  const { labels, combine, length_normalize: norm } = v;
  if (
    labels !== undefined &&
    (!Array.isArray(labels) || labels.length === 0 || labels.length > MAX_LABELS ||
      !labels.every((l) => typeof l === "string" && l !== "" && l.length <= MAX_LABEL_CHARS))
  ) {
    return bad(
      `"labels" must be 1 to ${MAX_LABELS} non-empty strings of at most ${MAX_LABEL_CHARS} characters`,
    );
  }
  if (combine !== undefined && !(COMBINE_KINDS as readonly JsonValue[]).includes(combine)) {
    return bad(`"combine" must be one of ${COMBINE_KINDS.join(", ")}`);
  }
  if (norm !== undefined && typeof norm !== "boolean") {
    return bad(`"length_normalize" must be a boolean`);
  }
  return E.right({
    ...(labels === undefined ? {} : { labels: labels as string[] }),
    combine: (combine ?? "prefix") as CombineKind,
    lengthNormalize: norm ?? false,
  });
}

async function readSidecar(path: string): Promise<E.Either<Problem, Sidecar>> {
  const bytes = await readFileCapped(path, SIDECAR_BYTES, "a prompt's sidecar");
  if (E.isLeft(bytes)) return bytes;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.right);
  } catch {
    return E.left(problem("Corrupt", path, "Not UTF-8 text; expected JSON"));
  }
  const json = parseJson(text, path);
  return E.isLeft(json) ? json : sidecarOf(json.right, path);
}

/** What an entry's files are now: sizes and modification times, or undefined when missing. */
async function stamp(paths: readonly string[]): Promise<string> {
  const parts = await Promise.all(paths.map(async (p) => {
    try {
      const s = await Deno.stat(p);
      return `${s.size}@${s.mtime?.getTime() ?? 0}`;
    } catch {
      return "-";
    }
  }));
  return parts.join("|");
}

/** A prompt's name and its path, for every entry of the directory that is one. */
async function entries(dir: string): Promise<{ name: string; path: string }[]> {
  const found: { name: string; path: string }[] = [];
  for await (const e of Deno.readDir(dir)) {
    const ext = EXTENSIONS.find((x) => e.name.endsWith(x));
    if (e.isDirectory && !e.name.startsWith(".")) found.push({ name: e.name, path: e.name });
    else if (e.isFile && ext !== undefined) {
      found.push({ name: e.name.slice(0, -ext.length), path: e.name });
    }
  }
  return found.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

async function load(
  dir: string,
  name: string,
  path: string,
  width: number,
): Promise<E.Either<Problem, ServedPrompt>> {
  const full = join(dir, path);
  const read = await readPrompt(full);
  if (E.isLeft(read)) return read;
  const wide = checkPromptWidth(read.right, width, full);
  if (E.isLeft(wide)) return wide;
  const sidecarPath = join(dir, `${name}.json`);
  let sidecar: Sidecar = { combine: "prefix", lengthNormalize: false };
  try {
    await Deno.stat(sidecarPath);
    const s = await readSidecar(sidecarPath);
    if (E.isLeft(s)) return s;
    sidecar = s.right;
  } catch {
    // No sidecar: the defaults.
  }
  return E.right({
    name,
    values: read.right,
    combine: sidecar.combine,
    ...(sidecar.labels === undefined ? {} : { labels: sidecar.labels }),
    lengthNormalize: sidecar.lengthNormalize,
  });
}

/**
 * Scans the prompt directory: reads the prompts that are new or whose files changed since the
 * previous catalog, keeps the others, drops those gone. A name given twice (`a.npy` and
 * `a.safetensors`), a prompt of the wrong width or a bad sidecar is a problem, not served.
 *
 * @param dir the prompt directory
 * @param width the model's width H
 * @param previous the catalog of the previous scan ({@link EMPTY_CATALOG} at first)
 * @returns the new catalog, or a problem when the directory cannot be read
 * @example
 * ```ts
 * import { join } from "node:path";
 * import { writeNpy } from "../io/npy.ts";
 * import { hostTensor } from "../io/host_tensor.ts";
 * import { EMPTY_CATALOG, scanPrompts } from "./_serve_prompts.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await writeNpy(join(dir, "a.npy"), hostTensor("float32", [2, 8], new Float32Array(16)));
 * await Deno.writeTextFile(join(dir, "a.json"), '{"labels": ["yes", "no"]}');
 * const c = await scanPrompts(dir, 8, EMPTY_CATALOG);
 * assert(c._tag === "Right" && c.right.prompts.get("a")?.labels?.join() === "yes,no");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function scanPrompts(
  dir: string,
  width: number,
  previous: Catalog,
): Promise<E.Either<Problem, Catalog>> {
  let found: { name: string; path: string }[];
  try {
    found = await entries(dir);
  } catch (e) {
    return E.left(
      problem("Io", dir, `Cannot read the prompt directory: ${e instanceof Error ? e.message : e}`),
    );
  }
  const prompts = new Map<string, ServedPrompt>();
  const stamps = new Map<string, string>();
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const { name, path } of found) {
    const where = join(dir, path);
    if (!PROMPT_NAME.test(name)) {
      problems.push(
        `${where}: The name is not one requests can give; expected ${PROMPT_NAME.source}`,
      );
      continue;
    }
    const other = seen.get(name);
    if (other !== undefined) {
      problems.push(`${where}: Prompt "${name}" is also ${other}; expected one file per name`);
      prompts.delete(name);
      continue;
    }
    seen.set(name, where);
    // A directory's files change without its own time changing: directories are read each scan.
    const now = await stamp([where, join(dir, `${name}.json`)]);
    const kept = previous.prompts.get(name);
    const same = previous.stamps.get(name) === `${path}#${now}`;
    if (kept !== undefined && same && !(await isDir(where))) {
      prompts.set(name, kept);
      stamps.set(name, `${path}#${now}`);
      continue;
    }
    const loaded = await load(dir, name, path, width);
    if (E.isLeft(loaded)) problems.push(describeProblem(loaded.left));
    else {
      prompts.set(name, loaded.right);
      stamps.set(name, `${path}#${now}`);
    }
  }
  return E.right({ prompts, problems, stamps });
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/**
 * Where the handler finds prompts: the catalog now, a lookup that scans the directory again
 * when a name is not in it, and a scan on demand.
 *
 * @example
 * ```ts
 * import { EMPTY_CATALOG, type PromptSource } from "./_serve_prompts.ts";
 * import assert from "node:assert/strict";
 * const none: PromptSource = { current: () => EMPTY_CATALOG, find: () => Promise.resolve(undefined), reload: () => Promise.resolve(EMPTY_CATALOG) };
 * assert.equal(await none.find("x"), undefined);
 * ```
 */
export interface PromptSource {
  /** The catalog of the last scan. */
  current(): Catalog;
  /** The prompt of a name, scanning again when the name is unknown. */
  find(name: string): Promise<ServedPrompt | undefined>;
  /** Scans now. */
  reload(): Promise<Catalog>;
}

/**
 * The prompt directory as a {@link PromptSource}: an unknown name scans again (at most once per
 * `minRescanMs`, so that requests for names that do not exist cost a lookup, not a scan), and
 * `reload` always scans; concurrent scans are one.
 *
 * @param dir the prompt directory
 * @param width the model's width H
 * @param first the catalog of the first scan
 * @param options the least time between scans an unknown name starts, and what to do with each
 *   new catalog (print its problems)
 * @returns the source
 * @example
 * ```ts
 * import { join } from "node:path";
 * import { writeNpy } from "../io/npy.ts";
 * import { hostTensor } from "../io/host_tensor.ts";
 * import { EMPTY_CATALOG, promptSource } from "./_serve_prompts.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const source = promptSource(dir, 8, EMPTY_CATALOG, { minRescanMs: 0 });
 * assert.equal(await source.find("b"), undefined);
 * await writeNpy(join(dir, "b.npy"), hostTensor("float32", [1, 8], new Float32Array(8)));
 * assert.equal((await source.find("b"))?.name, "b"); // picked up without a restart
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function promptSource(
  dir: string,
  width: number,
  first: Catalog,
  options: { readonly minRescanMs?: number; readonly onScan?: (c: Catalog) => void } = {},
): PromptSource {
  let catalog = first;
  let lastScan = -Infinity;
  let scanning: Promise<Catalog> | undefined;
  const minRescanMs = options.minRescanMs ?? 1000;
  const scan = (): Promise<Catalog> => {
    if (scanning !== undefined) return scanning;
    lastScan = performance.now();
    scanning = scanPrompts(dir, width, catalog).then((r) => {
      // An unreadable directory keeps the prompts already read, with the problem said.
      catalog = E.isRight(r)
        ? r.right
        : { ...catalog, problems: [...catalog.problems, describeProblem(r.left)] };
      options.onScan?.(catalog);
      return catalog;
    }).finally(() => scanning = undefined);
    return scanning;
  };
  return {
    current: () => catalog,
    async find(name) {
      const known = catalog.prompts.get(name);
      if (known !== undefined) return known;
      if (performance.now() - lastScan < minRescanMs) return undefined;
      return (await scan()).prompts.get(name);
    },
    reload: scan,
  };
}
