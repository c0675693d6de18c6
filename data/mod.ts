/**
 * Data: reading JSONL, CSV/TSV and Parquet files; templates and label maps that turn records
 * into text-to-text examples; the GLUE and SuperGLUE tasks in T5's formats; loading a task's
 * split with bad records reported by `file:line`.
 *
 * ```ts
 * import { getTask, loadTaskSplit } from "./mod.ts";
 * import { orThrow } from "../problem.ts";
 * import assert from "node:assert/strict";
 * const sst2 = orThrow(getTask("glue_sst2"));
 * const r = await loadTaskSplit(sst2, "/no/such/dir", "validation");
 * assert(r._tag === "Left" && r.left._tag === "NotFound");
 * ```
 *
 * @module
 */
export * from "./read.ts";
export * from "./batch.ts";
export * from "./template.ts";
export * from "./labels.ts";
export * from "./task.ts";
export * from "./load.ts";
export * from "./glue.ts";
export * from "./superglue.ts";
export * from "./tasks.ts";
export * from "./spam.ts";
