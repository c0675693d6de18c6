/**
 * `convert`: a prompt between `.npy`, `.safetensors` (tensor `prompt`) and a PEFT prompt-tuning
 * adapter directory. A float32 `.npy` → PEFT adapter → `.npy` round trip is bit-identical.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { join } from "node:path";
import type { HostTensor } from "../io/host_tensor.ts";
import { writeNpy } from "../io/npy.ts";
import { writeSafetensors } from "../io/safetensors.ts";
import { type ModelConfig, readJsonFile } from "../model/load.ts";
import { parseGpt2Config } from "../model/gpt2/mod.ts";
import { LLAMA_MODEL_TYPES, parseLlamaConfig } from "../model/llama/mod.ts";
import { parseT5Config } from "../model/t5/mod.ts";
import { readT5xCheckpoint, t5xSizes } from "../model/t5x/mod.ts";
import { problem } from "../problem.ts";
import {
  type PeftAdapterOptions,
  peftOptionsFor,
  type PeftTaskType,
  readPeftAdapter,
  writePeftAdapter,
} from "../training/peft.ts";
import { Failure, one, orFail, parseCommand, positionals, UsageError } from "./args.ts";
import { checkPromptWidth, directoryKind, readPrompt } from "./_prompt.ts";

/**
 * `convert --help`.
 *
 * @example
 * ```ts
 * import { CONVERT_HELP } from "./convert.ts";
 * import assert from "node:assert/strict";
 * assert(CONVERT_HELP.includes("--task-type"));
 * ```
 */
export const CONVERT_HELP =
  `Usage: deno run --allow-read --allow-write=OUT cli.ts convert IN OUT [options]

Converts a prompt [P, H] between .npy, .safetensors (tensor "prompt") and a PEFT prompt-tuning
adapter directory (adapter_config.json + adapter_model.safetensors, as PEFT 0.21 writes them).
IN may also be an .npz, a training checkpoint directory or a run directory (its latest
checkpoint). Values are written as float32; a float32 .npy → adapter → .npy is bit-identical.

Options:
  --to npy|safetensors|peft   The output format (default: from OUT: .npy, .safetensors, else peft)
  --name NAME                 The tensor in an IN file holding several
  --model DIR                 For a PEFT adapter: the model (Hugging Face or T5X directory) whose
                              width, layers and heads the adapter records; the prompt's width is
                              checked against it
  --task-type SEQ_2_SEQ_LM|CAUSAL_LM
  --token-dim N, --num-layers N, --num-heads N
                              Instead of --model, or to override it (an adapter IN gives defaults)
  --peft-layout encoder-only|peft
                              Seq2seq adapters: [P, H] (default) or PEFT's own [2P, H]
  --debug                     Show the stack trace of an error`;

type Sizes = Partial<
  Pick<PeftAdapterOptions, "taskType" | "tokenDim" | "numLayers" | "numAttentionHeads">
>;

/** The adapter sizes of a model directory, from its config.json (or a T5X checkpoint's shapes). */
async function modelSizes(dir: string): Promise<Sizes> {
  const kind = await directoryKind(dir);
  if (kind === "t5x") {
    const ckpt = orFail(await readT5xCheckpoint(dir));
    try {
      const s = orFail(t5xSizes(ckpt.entries, { where: dir, allowUnexpected: true }));
      return {
        taskType: "SEQ_2_SEQ_LM",
        tokenDim: s.dModel,
        numLayers: s.numLayers,
        numAttentionHeads: s.numHeads,
      };
    } finally {
      ckpt.close();
    }
  }
  const path = join(dir, "config.json");
  const json = orFail(await readJsonFile(path));
  const type = (json as { model_type?: unknown } | null)?.model_type;
  // peftOptionsFor reads only the architecture and the configuration.
  let model: ModelConfig;
  if (type === "t5") {
    model = {
      architecture: "t5",
      config: orFail(parseT5Config(json, path)),
    };
  } else if (type === "gpt2") {
    model = {
      architecture: "gpt2",
      config: orFail(parseGpt2Config(json, path)),
    };
  } else if (typeof type === "string" && (LLAMA_MODEL_TYPES as readonly string[]).includes(type)) {
    model = {
      architecture: "llama",
      config: orFail(parseLlamaConfig(json, path)),
    };
  } else {
    throw new Failure([
      problem(
        "Unsupported",
        path,
        `Unknown model_type ${JSON.stringify(type)}; expected t5, gpt2 or a LLaMA family`,
      ),
    ]);
  }
  return peftOptionsFor(model);
}

function positiveInt(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`convert: --${flag} is "${text}"; expected a positive integer`);
  }
  return n;
}

async function adapterOptions(
  p: ReturnType<typeof parseCommand>,
  input: string,
): Promise<PeftAdapterOptions> {
  let sizes: Sizes = {};
  if ((await directoryKind(input)) === "peft") {
    const c = orFail(await readPeftAdapter(input)).config;
    sizes = {
      ...(c.taskType === "SEQ_2_SEQ_LM" || c.taskType === "CAUSAL_LM"
        ? { taskType: c.taskType }
        : {}),
      tokenDim: c.tokenDim,
      ...(c.numLayers === null ? {} : { numLayers: c.numLayers }),
      ...(c.numAttentionHeads === null ? {} : { numAttentionHeads: c.numAttentionHeads }),
    };
  }
  const model = one(p, "model");
  if (model !== undefined) sizes = { ...sizes, ...(await modelSizes(model)) };
  const taskType = one(p, "task-type");
  if (taskType !== undefined && taskType !== "SEQ_2_SEQ_LM" && taskType !== "CAUSAL_LM") {
    throw new UsageError(
      `convert: --task-type is "${taskType}"; expected SEQ_2_SEQ_LM or CAUSAL_LM`,
    );
  }
  const explicit: Sizes = {
    ...(taskType === undefined ? {} : { taskType: taskType as PeftTaskType }),
    ...withValue("tokenDim", positiveInt("token-dim", one(p, "token-dim"))),
    ...withValue("numLayers", positiveInt("num-layers", one(p, "num-layers"))),
    ...withValue("numAttentionHeads", positiveInt("num-heads", one(p, "num-heads"))),
  };
  const all = { ...sizes, ...explicit };
  const missing = [
    ["taskType", "--task-type"],
    ["tokenDim", "--token-dim"],
    ["numLayers", "--num-layers"],
    ["numAttentionHeads", "--num-heads"],
  ].filter(([k]) => all[k as keyof Sizes] === undefined).map(([, flag]) => flag);
  if (missing.length > 0) {
    throw new UsageError(
      `convert to a PEFT adapter needs --model DIR or ${missing.join(", ")} (see convert --help)`,
    );
  }
  const layout = one(p, "peft-layout");
  if (layout !== undefined && layout !== "encoder-only" && layout !== "peft") {
    throw new UsageError(`convert: --peft-layout is "${layout}"; expected encoder-only or peft`);
  }
  return {
    ...(all as Required<Sizes>),
    ...(layout === undefined ? {} : { seq2seqLayout: layout }),
  };
}

function withValue<K extends string>(k: K, v: number | undefined): Partial<Record<K, number>> {
  return v === undefined ? {} : ({ [k]: v } as Record<K, number>);
}

/**
 * Runs `convert` with the arguments after the command's name.
 *
 * @param args the arguments
 * @returns when done; throws `UsageError` or `Failure`
 * @example
 * ```ts
 * import { runConvert } from "./convert.ts";
 * import assert from "node:assert/strict";
 * let failed = false;
 * try {
 *   await runConvert(["no/such/prompt.npy", "out.safetensors"]);
 * } catch {
 *   failed = true;
 * }
 * assert(failed);
 * ```
 */
export async function runConvert(args: readonly string[]): Promise<void> {
  const p = parseCommand("convert", args, {
    to: "string",
    name: "string",
    model: "string",
    "task-type": "string",
    "token-dim": "string",
    "num-layers": "string",
    "num-heads": "string",
    "peft-layout": "string",
  });
  if (p.flags.has("help")) return console.log(CONVERT_HELP);
  const [input, output] = positionals(p, "convert", ["IN", "OUT"]);
  const to = one(p, "to") ??
    (output.toLowerCase().endsWith(".npy")
      ? "npy"
      : output.toLowerCase().endsWith(".safetensors")
      ? "safetensors"
      : "peft");
  if (to !== "npy" && to !== "safetensors" && to !== "peft") {
    throw new UsageError(`convert: --to is "${to}"; expected npy, safetensors or peft`);
  }
  const prompt: HostTensor = orFail(await readPrompt(input, one(p, "name")));
  if (to === "peft") {
    const options = await adapterOptions(p, input);
    orFail(checkPromptWidth(prompt, options.tokenDim, input));
    orFail(await writePeftAdapter(output, prompt, options));
  } else {
    const model = one(p, "model");
    if (model !== undefined) {
      const sizes = await modelSizes(model);
      if (sizes.tokenDim !== undefined) orFail(checkPromptWidth(prompt, sizes.tokenDim, input));
    }
    const written = to === "npy"
      ? await writeNpy(output, prompt)
      : await writeSafetensors(output, { prompt }, { format: "np" });
    if (E.isLeft(written)) throw new Failure([written.left]);
  }
  console.log(`${input} → ${output} (${to}, [${prompt.shape.join(", ")}])`);
}
