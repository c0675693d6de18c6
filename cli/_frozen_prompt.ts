/**
 * What `eval` and `infer` share: the configuration with the prompt the command line names
 * (`--prompt FILE`, `--no-prompt`, or the configuration's own `from_file` initializer), and the
 * prompt read, checked against the model's width, as a tensor.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs";
import type { Layer, RunConfig } from "../config/mod.ts";
import type { HostTensor } from "../io/host_tensor.ts";
import { toTensor } from "../io/host_tensor.ts";
import { one, orFail, type Parsed, UsageError } from "./args.ts";
import { checkPromptWidth, readPrompt } from "./_prompt.ts";
import type { Frozen } from "./_model.ts";
import { resolveRun } from "./_run_config.ts";

/**
 * The options `eval` and `infer` take for the configuration and the prompt.
 *
 * @example
 * ```ts
 * import { PROMPT_OPTIONS } from "./_frozen_prompt.ts";
 * import assert from "node:assert/strict";
 * assert(PROMPT_OPTIONS.prompt === "string");
 * ```
 */
export const PROMPT_OPTIONS = {
  config: "strings",
  set: "strings",
  prompt: "string",
  name: "string",
  "no-prompt": "boolean",
} as const;

/**
 * A resolved configuration and where its prompt comes from.
 *
 * @example
 * ```ts
 * import { parseCommand } from "./args.ts";
 * import { PROMPT_OPTIONS, type PromptedConfig, resolvePrompted } from "./_frozen_prompt.ts";
 * import assert from "node:assert/strict";
 * const sst2 = "tests/data/prompt-tuning/pretrained_prompts/t5_1_1_lm100k_base/sst2.npy";
 * const args = ["--set", "model=m", "--set", "task=glue/sst2", "--prompt", sst2];
 * const c: PromptedConfig = await resolvePrompted("eval", parseCommand("eval", args, PROMPT_OPTIONS));
 * assert.equal(c.promptPath, sst2);
 * assert.deepEqual(c.prompt?.shape, [100, 768]); // read before any model is loaded
 * ```
 */
export interface PromptedConfig {
  /** The configuration. */
  readonly config: RunConfig;
  /** The prompt file or directory, or undefined for the model alone. */
  readonly promptPath: string | undefined;
  /** The tensor's name in a file holding several. */
  readonly promptName: string | undefined;
  /** The prompt, read (before the model is loaded, so that a bad file fails fast). */
  readonly prompt: HostTensor | undefined;
}

/**
 * Resolves the configuration of `eval` or `infer`. The prompt's length in the configuration does
 * not matter (the file decides), so a default fills it when no file gives one.
 *
 * @param command `eval` or `infer`, for messages
 * @param p the parsed arguments (see {@link PROMPT_OPTIONS})
 * @returns the configuration and the prompt; throws `UsageError` or `Failure`
 * @example
 * ```ts
 * import { parseCommand } from "./args.ts";
 * import { PROMPT_OPTIONS, resolvePrompted } from "./_frozen_prompt.ts";
 * import assert from "node:assert/strict";
 * const p = parseCommand("eval", ["--set", "model=m", "--set", "task=glue/sst2", "--no-prompt"], PROMPT_OPTIONS);
 * const r = await resolvePrompted("eval", p);
 * assert(r.prompt === undefined);
 * ```
 */
export async function resolvePrompted(command: string, p: Parsed): Promise<PromptedConfig> {
  const files = p.values.get("config") ?? [];
  const sets = p.values.get("set") ?? [];
  if (files.length === 0 && sets.length === 0) {
    throw new UsageError(`${command} needs --config FILE (see ${command} --help)`);
  }
  const given = one(p, "prompt");
  const none = p.flags.has("no-prompt");
  if (given !== undefined && none) {
    throw new UsageError(`${command}: give --prompt FILE or --no-prompt, not both`);
  }
  const name = one(p, "name");
  const before: Layer[] = [{
    source: `${command} defaults`,
    value: { prompt: { length: 1, initializer: { kind: "random_uniform" } } },
  }];
  const after: Layer[] = [];
  if (given !== undefined) {
    const init = { kind: "from_file", path: given, ...(name === undefined ? {} : { name }) };
    after.push({ source: "--prompt", value: { prompt: { initializer: init } } });
  } else if (none) {
    after.push({
      source: "--no-prompt",
      value: { prompt: { initializer: { kind: "random_uniform" } } },
    });
  }
  const config = await resolveRun(files, sets, { before, after });
  const init = config.prompt.initializer;
  if (none) return { config, promptPath: undefined, promptName: undefined, prompt: undefined };
  if (init.kind !== "from_file") {
    throw new UsageError(
      `${command} needs --prompt FILE, --no-prompt, or a from_file prompt initializer in the configuration`,
    );
  }
  const promptName = init.name ?? undefined;
  const prompt = orFail(await readPrompt(init.path, promptName));
  return { config, promptPath: init.path, promptName, prompt };
}

/**
 * The prompt as a `[P, H]` tensor after checking its width against the model's, or undefined.
 *
 * @param prompted the resolved configuration and prompt
 * @param frozen the loaded model
 * @returns the tensor (the caller disposes it); throws `Failure` on a width mismatch
 * @example
 * ```ts
 * import { hostTensor } from "../io/host_tensor.ts";
 * import { parseCommand } from "./args.ts";
 * import { PROMPT_OPTIONS, promptTensor, resolvePrompted } from "./_frozen_prompt.ts";
 * import { disposeFrozen, loadFrozen } from "./_model.ts";
 * import assert from "node:assert/strict";
 * const args = ["--set", "model=m", "--set", "task=glue/sst2", "--no-prompt"];
 * const none = await resolvePrompted("eval", parseCommand("eval", args, PROMPT_OPTIONS));
 * const frozen = await loadFrozen("tests/fixtures/cli/model"); // width 8
 * assert.equal(promptTensor(none, frozen), undefined);
 * const two = { ...none, prompt: hostTensor("float32", [2, 8], new Float32Array(16).fill(1)) };
 * const p = promptTensor(two, frozen)!; // [P, H]
 * assert.deepEqual(p.shape, [2, 8]);
 * p.dispose();
 * const wide = { ...none, prompt: hostTensor("float32", [2, 5], new Float32Array(10)) };
 * assert.throws(() => promptTensor(wide, frozen), /width|wide|5/);
 * disposeFrozen(frozen);
 * ```
 */
export function promptTensor(prompted: PromptedConfig, frozen: Frozen): tf.Tensor | undefined {
  const h = prompted.prompt;
  if (h === undefined) return undefined;
  orFail(checkPromptWidth(h, frozen.width, prompted.promptPath ?? "prompt"));
  return orFail(toTensor(h, prompted.promptPath));
}
