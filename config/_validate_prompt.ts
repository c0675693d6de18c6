/**
 * Private: validation of `prompt`.
 *
 * @module
 */
import type { JsonObject, JsonValue } from "./json.ts";
import {
  at,
  type Ctx,
  list,
  nullable,
  num,
  oneOf,
  optional,
  positiveInt,
  report,
  required,
  section,
  str,
  tagged,
} from "./_check.ts";
import {
  AGGREGATES,
  COMBINE_KINDS,
  type FallbackInit,
  type InitializerConfig,
  type PromptConfig,
} from "./schema.ts";

const INIT_KEYS = {
  random_uniform: ["kind", "scale", "range"],
  sampled_vocab: ["kind", "population"],
  class_labels: ["kind", "texts", "aggregate", "fallback"],
  from_string: ["kind", "text", "fallback"],
  from_file: ["kind", "path", "name"],
} as const;

type InitKind = keyof typeof INIT_KEYS;
const INIT_KINDS = Object.keys(INIT_KEYS) as InitKind[];

/** The paper's fallback for class labels: sampled vocabulary from the 5000 most common tokens. */
const DEFAULT_FALLBACK: FallbackInit = { kind: "sampled_vocab", population: 5000 };

/** Largest prompt length accepted (the paper's longest is 150; this only catches typos). */
const MAX_PROMPT_LENGTH = 65536;

function initializer(
  ctx: Ctx,
  v: JsonValue,
  path: string,
  allowed: readonly InitKind[],
): InitializerConfig | undefined {
  const t = tagged(ctx, v, path, INIT_KEYS, allowed, undefined);
  return t === undefined ? undefined : read(ctx, t.o, path, t.kind);
}

function fallback(ctx: Ctx, o: JsonObject, path: string): FallbackInit {
  if (!Object.hasOwn(o, "fallback")) return DEFAULT_FALLBACK;
  const f = initializer(ctx, o["fallback"], at(path, "fallback"), [
    "random_uniform",
    "sampled_vocab",
  ]);
  return f !== undefined && (f.kind === "random_uniform" || f.kind === "sampled_vocab")
    ? f
    : DEFAULT_FALLBACK;
}

function read(ctx: Ctx, o: JsonObject, path: string, kind: InitKind): InitializerConfig {
  switch (kind) {
    case "random_uniform":
      return {
        kind,
        scale: optional(ctx, o, path, "scale", num({ above: 0 }), 0.5),
        range: optional(ctx, o, path, "range", oneOf(["symmetric", "flax"] as const), "symmetric"),
      };
    case "sampled_vocab":
      return { kind, population: optional(ctx, o, path, "population", positiveInt, 5000) };
    case "class_labels":
      return {
        kind,
        texts: optional(ctx, o, path, "texts", nullable(list(str())), null),
        aggregate: optional(ctx, o, path, "aggregate", oneOf(AGGREGATES), "mean"),
        fallback: fallback(ctx, o, path),
      };
    case "from_string":
      return {
        kind,
        text: required(ctx, o, path, "text", str(), ""),
        fallback: fallback(ctx, o, path),
      };
    case "from_file":
      return {
        kind,
        path: required(ctx, o, path, "path", str(), ""),
        name: optional(ctx, o, path, "name", nullable(str()), null),
      };
  }
}

const PLACEHOLDER_INIT: InitializerConfig = DEFAULT_FALLBACK;

/**
 * Validates `prompt`. `labelWords`: the task's label words when the configuration knows them
 * (custom tasks; `null` when it has none), to check that class-label initialization has texts.
 */
export function validatePrompt(
  ctx: Ctx,
  root: JsonObject,
  labelWords: readonly string[] | null | undefined,
): PromptConfig {
  const o = section(ctx, root, "", "prompt", ["length", "initializer", "combine"]);
  const length = required(
    ctx,
    o,
    "prompt",
    "length",
    num({ integer: true, min: 1, max: MAX_PROMPT_LENGTH }),
    1,
  );
  let init: InitializerConfig = PLACEHOLDER_INIT;
  if (o !== undefined) {
    if (!Object.hasOwn(o, "initializer")) {
      report(
        ctx,
        "prompt.initializer",
        `Required: an object with a kind, one of ${INIT_KINDS.join(", ")}`,
      );
    } else {
      init = initializer(ctx, o["initializer"], "prompt.initializer", INIT_KINDS) ??
        PLACEHOLDER_INIT;
    }
  }
  if (init.kind === "class_labels" && init.texts === null && labelWords === null) {
    report(
      ctx,
      "prompt.initializer.texts",
      "Required: the task has no label words to initialize from (set texts, or the task's label_words)",
    );
  }
  return {
    length,
    initializer: init,
    combine: optional(ctx, o, "prompt", "combine", oneOf(COMBINE_KINDS), "prefix"),
  };
}
