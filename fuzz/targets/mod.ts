/**
 * The formats under fuzz, by name, loaded on demand (a worker imports only its own).
 *
 * @module
 */
import type { Target } from "../target.ts";

/**
 * Every format's loader, in the order the driver runs them: the slow ones first, so that under a
 * time limit (each format gets a fair share of the time left) the fast ones take what is left.
 */
export const TARGETS: Readonly<Record<string, () => Promise<Target>>> = {
  t5x: async () => (await import("./t5x.ts")).t5x,
  tokenizer: async () => (await import("./tokenizer.ts")).tokenizer,
  tokenizer_config: async () => (await import("./tokenizer.ts")).tokenizerConfig,
  parquet: async () => (await import("./data.ts")).parquet,
  jsonl: async () => (await import("./data.ts")).jsonl,
  csv: async () => (await import("./data.ts")).csv,
  tsv: async () => (await import("./data.ts")).tsv,
  safetensors_index: async () => (await import("./dirs.ts")).safetensorsIndex,
  peft: async () => (await import("./dirs.ts")).peft,
  checkpoint: async () => (await import("./dirs.ts")).checkpoint,
  gguf: async () => (await import("./gguf.ts")).gguf,
  model_config: async () => (await import("./configs.ts")).modelConfig,
  run_config: async () => (await import("./configs.ts")).runConfig,
  npz: async () => (await import("./npz.ts")).npz,
  safetensors: async () => (await import("./safetensors.ts")).safetensors,
  npy: async () => (await import("./npy.ts")).npy,
};

/** The names `--formats` takes. */
export const FORMAT_NAMES: readonly string[] = Object.keys(TARGETS);
