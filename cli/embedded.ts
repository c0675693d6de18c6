/**
 * The models shipped with the project (`assets/embedded/`, see its MODEL_CARD.md), by the names a
 * configuration gives them as `model: "embedded:<name>"`.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { assetLocation, localAsset } from "../assets.ts";
import { EMBEDDED_PREFIX } from "../config/schema.ts";
import { Failure } from "./args.ts";
import { EMBEDDED_FILES, EMBEDDED_MODELS } from "../model/embedded.ts";

export { EMBEDDED_FILES, EMBEDDED_MODELS } from "../model/embedded.ts";

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

function embeddedFolder(model: string): string | undefined {
  const name = model.slice(EMBEDDED_PREFIX.length);
  return Object.hasOwn(EMBEDDED_MODELS, name)
    ? `assets/embedded/${EMBEDDED_MODELS[name]}`
    : undefined;
}

/**
 * Where a configuration's `model` is: an embedded model's folder (found next to the package's
 * modules, so it works from any working directory; its URL when the package was imported from
 * one), or the value itself.
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
  const folder = embeddedFolder(model);
  return folder === undefined ? undefined : assetLocation(folder);
}

/**
 * {@link modelDir} on the local disk: when the package was imported from a URL, an embedded
 * model is fetched first (once per process, into a temporary directory).
 *
 * @param model the configuration's `model`
 * @returns a local checkpoint directory, or undefined for an unknown embedded name; throws
 *   {@link Failure} when the fetch fails
 * @example
 * ```ts
 * import { localModelDir, modelDir } from "./embedded.ts";
 * import assert from "node:assert/strict";
 * assert.equal(await localModelDir("embedded:default"), modelDir("embedded:default"));
 * assert.equal(await localModelDir("embedded:nope"), undefined);
 * ```
 */
export async function localModelDir(model: string): Promise<string | undefined> {
  if (!model.startsWith(EMBEDDED_PREFIX)) return model;
  const folder = embeddedFolder(model);
  if (folder === undefined) return undefined;
  const dir = await localAsset(folder, { files: EMBEDDED_FILES });
  if (E.isLeft(dir)) throw new Failure([dir.left]);
  return dir.right;
}
