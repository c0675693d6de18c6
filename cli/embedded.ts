/**
 * The models shipped with the project (`assets/embedded/`, see its MODEL_CARD.md), by the names a
 * configuration gives them as `model: "embedded:<name>"`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { EMBEDDED_PREFIX } from "../config/mod.ts";

/**
 * Embedded model name → its directory under `assets/embedded/`. `default` is the LM-adapted
 * checkpoint, the one the paper tunes prompts on.
 *
 * @example
 * ```ts
 * import { EMBEDDED_MODELS } from "./embedded.ts";
 * import assert from "node:assert/strict";
 * assert(EMBEDDED_MODELS.default === EMBEDDED_MODELS.lm_adapted);
 * ```
 */
export const EMBEDDED_MODELS: Readonly<Record<string, string>> = {
  default: "lm_adapted",
  lm_adapted: "lm_adapted",
  span_corruption: "span_corruption",
};

/**
 * The names `embedded:<name>` accepts.
 *
 * @returns `default`, `lm_adapted`, `span_corruption`
 * @example
 * ```ts
 * import { embeddedModelNames } from "./embedded.ts";
 * import assert from "node:assert/strict";
 * assert(embeddedModelNames().includes("default"));
 * ```
 */
export function embeddedModelNames(): string[] {
  return Object.keys(EMBEDDED_MODELS);
}

/**
 * The directory a configuration's `model` names: an embedded model's folder (found next to this
 * module, so it works from any working directory), or the value itself.
 *
 * @param model the configuration's `model`
 * @returns a checkpoint directory, or undefined for an unknown embedded name
 * @example
 * ```ts
 * import { modelDir } from "./embedded.ts";
 * import assert from "node:assert/strict";
 * assert(modelDir("embedded:default")?.endsWith("lm_adapted") === true);
 * assert(modelDir("some/dir") === "some/dir" && modelDir("embedded:nope") === undefined);
 * ```
 */
export function modelDir(model: string): string | undefined {
  if (!model.startsWith(EMBEDDED_PREFIX)) return model;
  const name = model.slice(EMBEDDED_PREFIX.length);
  if (!Object.hasOwn(EMBEDDED_MODELS, name)) return undefined;
  return fileURLToPath(new URL(`../assets/embedded/${EMBEDDED_MODELS[name]}`, import.meta.url));
}
