/**
 * Resolving a run configuration from layered JSON files and `--set` overrides, printing it, and
 * saving it beside the checkpoints.
 *
 * Order: the files in command-line order (later wins; objects merge, arrays are replaced), then
 * the overrides in order, then validation. Every problem found on the way is reported together:
 * unreadable or malformed files (with file, line and column), bad overrides, and all the
 * validation problems, each naming the file or `--set` that gave the offending value.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { join } from "node:path";
import { type Problem, problem } from "../problem.ts";
import { errorText, nonRegularKind, readAtMost, writeAtomic } from "../io/files.ts";
import { isJsonObject, type JsonValue, parseJson } from "./json.ts";
import { type Layer, mergeLayers } from "./merge.ts";
import { applyOverride, parseOverride } from "./overrides.ts";
import type { RunConfig } from "./schema.ts";
import { validateConfig, type ValidateOptions } from "./validate.ts";

/**
 * Largest configuration file read (1 MiB): configurations are a few hundred bytes, so anything
 * near this is a mistake (a data file passed as a config) or hostile.
 *
 * @example
 * ```ts
 * import { MAX_CONFIG_FILE_BYTES } from "./load.ts";
 * import assert from "node:assert/strict";
 * assert(MAX_CONFIG_FILE_BYTES === 1 << 20);
 * ```
 */
export const MAX_CONFIG_FILE_BYTES = 1 << 20;

/**
 * Options of {@link resolveConfig}: the checks of {@link ValidateOptions}, and the size cap.
 *
 * @example
 * ```ts
 * import type { ResolveOptions } from "./load.ts";
 * import assert from "node:assert/strict";
 * const o: ResolveOptions = { knownTasks: ["glue/sst2"], maxBytes: 4096 };
 * assert(o.maxBytes === 4096);
 * ```
 */
export interface ResolveOptions extends ValidateOptions {
  /** Largest file accepted, in bytes (default {@link MAX_CONFIG_FILE_BYTES}). */
  readonly maxBytes?: number;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Reads one configuration file: at most `maxBytes`, UTF-8, strict JSON (see `parseJson`), an
 * object at the top.
 *
 * @param path the file
 * @param maxBytes the size cap (default {@link MAX_CONFIG_FILE_BYTES})
 * @returns the parsed object, or a problem naming the file (and line:column for syntax errors)
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { readConfigFile } from "./load.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.json`, '{"train": {"steps": 5}}');
 * const r = await readConfigFile(`${dir}/a.json`);
 * assert(E.isRight(r));
 * assert(E.isLeft(await readConfigFile(`${dir}/missing.json`)));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readConfigFile(
  path: string,
  maxBytes: number = MAX_CONFIG_FILE_BYTES,
): Promise<E.Either<Problem, JsonValue>> {
  let bytes: Uint8Array | undefined;
  try {
    const info = await Deno.stat(path);
    const kind = nonRegularKind(info);
    if (kind !== undefined) {
      return E.left(
        problem(
          "Invalid",
          path,
          `Is ${kind}, not a regular file; expected a JSON configuration file`,
        ),
      );
    }
    if (info.size > maxBytes) {
      return E.left(
        problem(
          "TooLarge",
          path,
          `Configuration file of ${info.size} bytes; the limit is ${maxBytes}`,
        ),
      );
    }
    bytes = await readAtMost(path, maxBytes, "a JSON configuration file");
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return E.left(problem("NotFound", path, "No such configuration file"));
    }
    return E.left(problem("Io", path, `Cannot read: ${errorText(e)}`));
  }
  if (bytes === undefined) {
    return E.left(problem("TooLarge", path, `Configuration file of over ${maxBytes} bytes`));
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return E.left(problem("Invalid", path, "Not UTF-8 text; expected a JSON configuration file"));
  }
  const parsed = parseJson(text, path);
  if (E.isLeft(parsed)) return parsed;
  if (!isJsonObject(parsed.right)) {
    return E.left(
      problem("Invalid", path, "Expected a JSON object at the top of a configuration file"),
    );
  }
  return parsed;
}

/**
 * A validation problem with the source of its value appended: `(from F)` when F gave the value
 * itself, `(in an object from F)` when F gave the object around it (a missing field).
 */
function withSource(p: Problem, sources: ReadonlyMap<string, string>): Problem {
  const exact = sources.get(p.where);
  if (exact !== undefined) return { ...p, message: `${p.message} (from ${exact})` };
  let path = p.where;
  for (;;) {
    const cut = Math.max(path.lastIndexOf("."), path.lastIndexOf("["));
    if (cut <= 0) return p;
    path = path.slice(0, cut);
    const s = sources.get(path);
    if (s !== undefined) return { ...p, message: `${p.message} (in an object from ${s})` };
  }
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Merges layers already in memory, applies `--set` overrides and validates: the pure core of
 * {@link resolveConfig}, for defaults built in code and for tests.
 *
 * @param layers the configuration layers, earliest first
 * @param sets the `--set` arguments (`a.b.c=value`), applied in order after the layers
 * @param options known names, for stricter validation
 * @returns the complete configuration, or every problem found
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { resolveLayers } from "./load.ts";
 * import assert from "node:assert/strict";
 * const r = resolveLayers(
 *   [{ source: "base", value: { model: "embedded:default", task: "glue/sst2", prompt: { length: 5 } } }],
 *   ['prompt.initializer={"kind": "random_uniform"}', "train.steps=10"],
 * );
 * assert(E.isRight(r) && r.right.train.steps === 10);
 * ```
 */
export function resolveLayers(
  layers: readonly Layer[],
  sets: readonly string[],
  options: ValidateOptions = {},
): E.Either<readonly Problem[], RunConfig> {
  const problems: Problem[] = [];
  const merged = mergeLayers(layers);
  let value = merged.value;
  const sources = new Map(merged.sources);
  for (const text of sets) {
    const o = parseOverride(text);
    if (E.isLeft(o)) {
      problems.push(o.left);
      continue;
    }
    const next = applyOverride(value, o.right);
    if (E.isLeft(next)) {
      problems.push(next.left);
      continue;
    }
    value = next.right;
    const path = o.right.path.join(".");
    for (const p of [...sources.keys()]) if (p.startsWith(`${path}.`)) sources.delete(p);
    sources.set(path, `--set ${text}`);
  }
  // Validation runs even when some overrides failed, so that every problem is reported at once.
  const validated = validateConfig(value, options);
  const found = E.isLeft(validated) ? validated.left.map((p) => withSource(p, sources)) : [];
  if (problems.length + found.length > 0) return E.left([...problems, ...found]);
  return validated;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Resolves the run configuration from files and overrides, as the command line does:
 * `--config a.json --config b.json --set train.steps=100`.
 *
 * @param files configuration files, merged in order (later wins)
 * @param sets `--set` overrides (`a.b.c=value`), applied after the files
 * @param options known names, for stricter validation, and the file size cap
 * @returns the complete configuration, or every problem found: all unreadable files, or else
 *   every bad override and validation problem
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { resolveConfig } from "./load.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/base.json`, JSON.stringify({
 *   model: "embedded:default",
 *   task: "glue/sst2",
 *   prompt: { length: 100, initializer: { kind: "class_labels" } },
 * }));
 * const r = await resolveConfig([`${dir}/base.json`], ["train.batch_size=8"]);
 * assert(E.isRight(r) && r.right.train.batch_size === 8 && r.right.train.steps === 30000);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function resolveConfig(
  files: readonly string[],
  sets: readonly string[],
  options: ResolveOptions = {},
): Promise<E.Either<readonly Problem[], RunConfig>> {
  const read = await Promise.all(files.map((f) => readConfigFile(f, options.maxBytes)));
  const problems = read.flatMap((r) => E.isLeft(r) ? [r.left] : []);
  if (problems.length > 0) return E.left(problems);
  const layers = read.flatMap((r, i) => E.isRight(r) ? [{ source: files[i], value: r.right }] : []);
  return resolveLayers(layers, sets, options);
}

/**
 * The configuration as pretty JSON (two-space indent, fields in schema order, a final newline),
 * for printing at the start of a run and for `config.json`.
 *
 * @param config the resolved configuration
 * @returns the text
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { formatConfig, resolveLayers } from "./load.ts";
 * import assert from "node:assert/strict";
 * const r = resolveLayers([{ source: "x", value: {
 *   model: "embedded:default", task: "glue/sst2", prompt: { length: 5, initializer: { kind: "sampled_vocab" } },
 * } }], []);
 * assert(E.isRight(r) && formatConfig(r.right).startsWith('{\n  "model": "embedded:default"'));
 * ```
 */
export function formatConfig(config: RunConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

/**
 * The name of the resolved configuration inside a run directory.
 *
 * @example
 * ```ts
 * import { RESOLVED_CONFIG_NAME } from "./load.ts";
 * import assert from "node:assert/strict";
 * assert(RESOLVED_CONFIG_NAME === "config.json");
 * ```
 */
export const RESOLVED_CONFIG_NAME = "config.json";

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Saves the resolved configuration as `runDir/config.json`, atomically (a synced temporary file
 * renamed over it), creating `runDir` if needed. Reading it back with {@link resolveConfig} gives
 * the same configuration.
 *
 * @param runDir the run directory
 * @param config the resolved configuration
 * @returns the path written, or a problem
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { resolveConfig, resolveLayers, writeResolvedConfig } from "./load.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const c = resolveLayers([{ source: "x", value: {
 *   model: "embedded:default", task: "glue/sst2", prompt: { length: 5, initializer: { kind: "sampled_vocab" } },
 * } }], []);
 * if (E.isLeft(c)) throw new Error("invalid");
 * const path = orThrow(await writeResolvedConfig(`${dir}/run`, c.right));
 * const back = await resolveConfig([path], []);
 * assert(E.isRight(back) && JSON.stringify(back.right) === JSON.stringify(c.right));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeResolvedConfig(
  runDir: string,
  config: RunConfig,
): Promise<E.Either<Problem, string>> {
  try {
    await Deno.mkdir(runDir, { recursive: true });
  } catch (e) {
    return E.left(
      problem(
        "Io",
        runDir,
        `Cannot create the run directory: ${errorText(e)}`,
      ),
    );
  }
  const path = join(runDir, RESOLVED_CONFIG_NAME);
  const r = await writeAtomic(path, formatConfig(config));
  return E.isLeft(r) ? r : E.right(path);
}
