/**
 * What a resumed run may change: the resolved configuration saved in the run directory
 * (`config.json`) against the one a resume resolves, field by field. A resume continues the same
 * run, so only the fields that leave the trained prompt and the evaluations recorded so far as
 * they were may differ ({@link RESUME_MAY_DIFFER}); any other difference is refused, naming the
 * field.
 *
 * @module
 */
import { type Problem, problem } from "../problem.ts";
import { isJsonObject, type JsonValue } from "./json.ts";
import type { RunConfig } from "./schema.ts";

/**
 * The fields a resume may change, and why each leaves the run as it was:
 *
 * - `run_dir`: where the run is, not what it does (a relative and an absolute path name one run).
 * - `train.steps`: how far to go (to extend a finished run). The steps already taken are the same;
 *   a learning-rate schedule that decays over `train.steps` resolves its `decay_steps` from it,
 *   and that field then differs and is refused: give it explicitly to extend such a run.
 * - `train.checkpoint_every`, `train.keep`: when checkpoints are written and how many are kept.
 * - `train.eval_every`: when the prompt is evaluated (the evaluation key is per step, so the steps
 *   and the evaluations' own results do not depend on it).
 * - `train.early_stopping.patience`: how long to wait for an improvement before stopping.
 * - `eval.batch_size`: how many examples are scored at once, not which or how.
 * - `decoding.*` while `eval.method` is `"rank"` in both: training never decodes then.
 *
 * @example
 * ```ts
 * import { RESUME_MAY_DIFFER } from "./resume.ts";
 * import assert from "node:assert/strict";
 * assert(RESUME_MAY_DIFFER.includes("train.steps") && !RESUME_MAY_DIFFER.includes("prompt.length"));
 * ```
 */
export const RESUME_MAY_DIFFER: readonly string[] = [
  "run_dir",
  "train.steps",
  "train.checkpoint_every",
  "train.keep",
  "train.eval_every",
  "train.early_stopping.patience",
  "eval.batch_size",
  "decoding.*",
];

/** Every leaf of a JSON value as `[dot path, value]` (arrays are leaves: compared whole). */
function leaves(v: JsonValue, path: string, out: Map<string, JsonValue>): Map<string, JsonValue> {
  if (isJsonObject(v)) {
    for (const [k, x] of Object.entries(v)) leaves(x, path === "" ? k : `${path}.${k}`, out);
  } else out.set(path, v);
  return out;
}

/** A value for a message: JSON, cut to 60 characters. */
function show(v: JsonValue | undefined): string {
  if (v === undefined) return "absent";
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * The fields in which a resume's configuration differs from the one its run was started with,
 * beyond those a resume may change ({@link RESUME_MAY_DIFFER}): one `Mismatch` problem per field,
 * named by its dot path, with both values.
 *
 * @param saved the run's `config.json`, as read
 * @param now the configuration the resume resolved
 * @param savedPath the path of `config.json`, for the messages
 * @returns the problems (none: the resume may go on)
 * @example
 * ```ts
 * import * as E from "fp-ts/Either";
 * import { resolveLayers } from "./load.ts";
 * import { resumeConflicts } from "./resume.ts";
 * import { describeProblem } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const run = (length: number, steps: number) => {
 *   const r = resolveLayers([{ source: "x", value: {
 *     model: "embedded:default", task: "glue/sst2",
 *     prompt: { length, initializer: { kind: "sampled_vocab" } }, train: { steps },
 *   } }], []);
 *   if (E.isLeft(r)) throw new Error("invalid");
 *   return r.right;
 * };
 * const saved = JSON.parse(JSON.stringify(run(5, 100)));
 * assert.deepEqual(resumeConflicts(saved, run(5, 100), "r/config.json"), []);
 * const [p] = resumeConflicts(saved, run(7, 100), "r/config.json");
 * assert.match(describeProblem(p), /^prompt\.length: Is 7 here but 5 in r\/config\.json/);
 * ```
 */
export function resumeConflicts(
  saved: JsonValue,
  now: RunConfig,
  savedPath: string,
): Problem[] {
  const before = leaves(saved, "", new Map());
  const after = leaves(JSON.parse(JSON.stringify(now)) as JsonValue, "", new Map());
  const ranked = before.get("eval.method") === "rank" && after.get("eval.method") === "rank";
  const mayDiffer = (path: string) =>
    RESUME_MAY_DIFFER.includes(path) || (ranked && path.startsWith("decoding."));
  const paths = [...new Set([...before.keys(), ...after.keys()])];
  const allowed = RESUME_MAY_DIFFER.map((f) =>
    f === "decoding.*" ? 'decoding.* (with eval.method "rank")' : f
  ).join(", ");
  return paths
    .filter((path) =>
      !mayDiffer(path) && JSON.stringify(before.get(path)) !== JSON.stringify(after.get(path))
    )
    .map((path) =>
      problem(
        "Mismatch",
        path,
        `Is ${show(after.get(path))} here but ${
          show(before.get(path))
        } in ${savedPath}, the run being resumed; a resume may change only ${allowed} (set it back, or train in a new run directory)`,
      )
    );
}
