/**
 * Private: validation of `optimizer` and its `schedule`.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { emptyObject, type JsonObject } from "./json.ts";
import {
  at,
  bool,
  type Check,
  type Ctx,
  describeValue,
  nullable,
  num,
  oneOf,
  optional,
  positiveInt,
  report,
  required,
  tagged,
} from "./_check.ts";
import type { OptimizerConfig, ScheduleConfig } from "./schema.ts";

const COMMON = ["kind", "learning_rate", "schedule", "clip_norm", "weight_decay"] as const;

const OPTIMIZER_KEYS = {
  adafactor: [
    ...COMMON,
    "decay_rate",
    "decay_offset",
    "clipping_threshold",
    "multiply_by_parameter_scale",
    "momentum",
    "factored",
    "epsilon1",
    "epsilon2",
    "weight_decay_scaling",
  ],
  adam: [...COMMON, "betas", "eps"],
  adamw: [...COMMON, "betas", "eps"],
} as const;

type OptimizerKind = keyof typeof OPTIMIZER_KEYS;
const OPTIMIZER_KINDS = Object.keys(OPTIMIZER_KEYS) as OptimizerKind[];

const SCHEDULE_KEYS = {
  constant: ["kind"],
  linear_warmup: ["kind", "warmup_steps"],
  linear_decay: ["kind", "warmup_steps", "decay_steps", "end_learning_rate"],
  cosine: ["kind", "warmup_steps", "decay_steps", "alpha"],
  rsqrt: ["kind", "warmup_steps"],
} as const;

type ScheduleKind = keyof typeof SCHEDULE_KEYS;
const SCHEDULE_KINDS = Object.keys(SCHEDULE_KEYS) as ScheduleKind[];

const nonNegativeInt = num({ integer: true, min: 0 });
const positive = num({ above: 0 });
const nonNegative = num({ min: 0 });
const unit = num({ min: 0, below: 1 });

const betas: Check<readonly [number, number]> = (v) => {
  if (!Array.isArray(v) || v.length !== 2) {
    return E.left(`Expected [β1, β2], two numbers in [0, 1), got ${describeValue(v)}`);
  }
  const [b1, b2] = [unit(v[0]), unit(v[1])];
  if (E.isLeft(b1)) return E.left(`β1: ${b1.left}`);
  if (E.isLeft(b2)) return E.left(`β2: ${b2.left}`);
  return E.right([b1.right, b2.right]);
};

/** Decay phases default to the steps left after the warm-up; they must leave at least one. */
function decaySteps(
  ctx: Ctx,
  o: JsonObject,
  path: string,
  warmup: number,
  trainSteps: number,
): number {
  const given = optional(ctx, o, path, "decay_steps", positiveInt, undefined);
  if (given !== undefined) return given;
  if (trainSteps - warmup < 1) {
    report(
      ctx,
      at(path, "warmup_steps"),
      `The warm-up (${warmup} steps) leaves no steps to decay over in train.steps (${trainSteps}); give decay_steps`,
    );
    return 1;
  }
  return trainSteps - warmup;
}

function schedule(ctx: Ctx, o: JsonObject, trainSteps: number): ScheduleConfig {
  const path = "optimizer.schedule";
  const v = Object.hasOwn(o, "schedule") ? o["schedule"] : emptyObject();
  const t = tagged(ctx, v, path, SCHEDULE_KEYS, SCHEDULE_KINDS, "constant");
  if (t === undefined) return { kind: "constant" };
  const s = t.o;
  switch (t.kind) {
    case "constant":
      return { kind: "constant" };
    case "linear_warmup":
    case "rsqrt":
      return { kind: t.kind, warmup_steps: required(ctx, s, path, "warmup_steps", positiveInt, 1) };
    case "linear_decay": {
      const warmup_steps = optional(ctx, s, path, "warmup_steps", nonNegativeInt, 0);
      return {
        kind: "linear_decay",
        warmup_steps,
        decay_steps: decaySteps(ctx, s, path, warmup_steps, trainSteps),
        end_learning_rate: optional(ctx, s, path, "end_learning_rate", nonNegative, 0),
      };
    }
    case "cosine": {
      const warmup_steps = optional(ctx, s, path, "warmup_steps", nonNegativeInt, 0);
      return {
        kind: "cosine",
        warmup_steps,
        decay_steps: decaySteps(ctx, s, path, warmup_steps, trainSteps),
        alpha: optional(ctx, s, path, "alpha", num({ min: 0, max: 1 }), 0),
      };
    }
  }
}

const PLACEHOLDER: OptimizerConfig = {
  kind: "adam",
  learning_rate: 1e-3,
  schedule: { kind: "constant" },
  clip_norm: null,
  weight_decay: 0,
  betas: [0.9, 0.999],
  eps: 1e-8,
};

/** Validates `optimizer` (default: Adafactor with the original's settings). */
export function validateOptimizer(ctx: Ctx, root: JsonObject, trainSteps: number): OptimizerConfig {
  const path = "optimizer";
  const v = Object.hasOwn(root, path) ? root[path] : emptyObject();
  const t = tagged(ctx, v, path, OPTIMIZER_KEYS, OPTIMIZER_KINDS, "adafactor");
  if (t === undefined) return PLACEHOLDER;
  const o = t.o;
  const common = {
    learning_rate: optional(
      ctx,
      o,
      path,
      "learning_rate",
      positive,
      t.kind === "adafactor" ? 0.3 : 1e-3,
    ),
    schedule: schedule(ctx, o, trainSteps),
    clip_norm: optional(ctx, o, path, "clip_norm", nullable(positive), null),
    weight_decay: optional(
      ctx,
      o,
      path,
      "weight_decay",
      nonNegative,
      t.kind === "adafactor" ? 1e-5 : t.kind === "adamw" ? 0.01 : 0,
    ),
  };
  if (t.kind === "adafactor") {
    return {
      kind: "adafactor",
      ...common,
      decay_rate: optional(ctx, o, path, "decay_rate", num({ min: 0, max: 1 }), 0.8),
      decay_offset: optional(ctx, o, path, "decay_offset", nonNegativeInt, 0),
      clipping_threshold: optional(ctx, o, path, "clipping_threshold", nullable(positive), 1.0),
      multiply_by_parameter_scale: optional(
        ctx,
        o,
        path,
        "multiply_by_parameter_scale",
        bool,
        false,
      ),
      momentum: optional(ctx, o, path, "momentum", nullable(unit), null),
      factored: optional(ctx, o, path, "factored", bool, false),
      epsilon1: optional(ctx, o, path, "epsilon1", positive, 1e-30),
      epsilon2: optional(ctx, o, path, "epsilon2", positive, 1e-3),
      weight_decay_scaling: optional(
        ctx,
        o,
        path,
        "weight_decay_scaling",
        oneOf(["none", "learning_rate", "step_size"] as const),
        "none",
      ),
    };
  }
  return {
    kind: t.kind,
    ...common,
    betas: optional(ctx, o, path, "betas", betas, [0.9, 0.999]),
    eps: optional(ctx, o, path, "eps", positive, 1e-8),
  };
}
