/**
 * `train`'s checks of its run directory before anything is printed or written: that it is a
 * directory (or missing), and that a `--resume` continues the run its `config.json` describes.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { join } from "node:path";
import {
  readConfigFile,
  RESOLVED_CONFIG_NAME,
  resumeConflicts,
  type RunConfig,
} from "../config/mod.ts";
import { nonRegularKind } from "../io/files.ts";
import { problem } from "../problem.ts";
import { Failure } from "./args.ts";

/**
 * Refuses a run directory that exists and is not a directory, in one line naming where the path
 * came from (`--run-dir` or the configuration's `run_dir`).
 *
 * @param runDir the run directory
 * @param source `"--run-dir"` or `"run_dir"`
 * @returns when it is a directory or missing; throws {@link Failure}
 * @example
 * ```ts
 * import { checkRunDirPath } from "./_run_dir.ts";
 * import assert from "node:assert/strict";
 * await checkRunDirPath("no/such/dir", "--run-dir"); // missing: created later
 * await assert.rejects(checkRunDirPath("deno.json", "--run-dir"), /--run-dir deno\.json is a file, expected a directory/);
 * ```
 */
export async function checkRunDirPath(runDir: string, source: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(runDir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw new Failure([
      problem(
        "Io",
        runDir,
        `Cannot use ${source} ${runDir}: ${e instanceof Error ? e.message : e}`,
      ),
    ]);
  }
  if (info.isDirectory) return;
  const kind = nonRegularKind(info);
  throw new Failure([
    problem(
      "Invalid",
      "",
      `${source} ${runDir} is ${kind === undefined ? "a file" : kind}, expected a directory`,
    ),
  ]);
}

/**
 * Refuses a `--resume` whose configuration differs from the run's `RUN_DIR/config.json` in a field
 * that changes the run (see `RESUME_MAY_DIFFER`): one line per field. A run directory without
 * `config.json` (a run started from the library, or never started) has nothing to compare.
 *
 * @param runDir the run directory
 * @param config the configuration the resume resolved
 * @returns when the resume may go on; throws {@link Failure}
 * @example
 * ```ts
 * import { checkResumeConfig } from "./_run_dir.ts";
 * import { resolveRun } from "./_run_config.ts";
 * const c = await resolveRun([], ["model=m", "task=glue/sst2", "prompt.length=4", "prompt.initializer.kind=sampled_vocab"]);
 * await checkResumeConfig("no/such/run", c); // nothing saved: nothing to compare
 * ```
 */
export async function checkResumeConfig(runDir: string, config: RunConfig): Promise<void> {
  const path = join(runDir, RESOLVED_CONFIG_NAME);
  try {
    await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
  }
  const saved = await readConfigFile(path);
  if (E.isLeft(saved)) {
    throw new Failure([
      {
        ...saved.left,
        message: `${saved.left.message}; --resume compares the run's configuration with it`,
      },
    ]);
  }
  const conflicts = resumeConflicts(saved.right, config, path);
  if (conflicts.length > 0) throw new Failure(conflicts);
}
