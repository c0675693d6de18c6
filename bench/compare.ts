/**
 * Our prompt-tuning step (`bench/compare_step.ts`) against the same step with PEFT on PyTorch
 * (`tools/peft_bench.py`), one side after the other on this machine, for each model and
 * objective asked: every step's seconds on both sides (warm-up marked), the medians, tokens/s,
 * examples/s, peak RSS, the ratio ours / PEFT, and both sides' environment (Deno, V8, tfjs,
 * backend, WASM threads, SIMD and relaxed SIMD; torch with its BLAS and CPU capability lines and
 * `torch.__config__.show()`, threads, transformers and peft), with the load average before and
 * after each side. Prints one JSON object on stdout and a table on stderr.
 *
 * ```text
 * deno run -A bench/compare.ts [--models t5-small,gpt2,smollm2] [--objectives token,rank]
 *     [--steps 6] [--warmup 2] [--threads 2] [--python .venv/bin/python] [--backend wasm]
 *     [--gguf .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf]
 * ```
 *
 * `rank` runs on the decoder-only models only (gpt2, smollm2). `--threads` is both sides' thread
 * count (`SOFT_PROMPT_THREADS` for ours, `torch.set_num_threads` for PEFT). The Python side needs
 * torch, transformers, peft and gguf (`tools/requirements-hf.txt`); without them only our side is
 * run, with a line saying how to install them. `--python` defaults to `$PEFT_PYTHON`, then
 * `python3`. SmolLM2's GGUF comes from `deno run -A tools/fetch_models.ts`.
 *
 * @module
 */
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    models: { type: "string", default: "t5-small,gpt2,smollm2" },
    objectives: { type: "string", default: "token,rank" },
    steps: { type: "string", default: "6" },
    warmup: { type: "string", default: "2" },
    threads: { type: "string", default: "2" },
    backend: { type: "string", default: "wasm" },
    python: { type: "string" },
    gguf: {
      type: "string",
      default: new URL("../.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf", import.meta.url)
        .pathname,
    },
  },
});

const root = new URL("..", import.meta.url).pathname;
const MODELS = ["t5-small", "gpt2", "smollm2"], OBJECTIVES = ["token", "rank"];

/** A side's JSON (`bench/compare_step.ts` and `tools/peft_bench.py` print the same fields). */
interface Side {
  readonly secPerStep: number;
  readonly tokensPerSec: number;
  readonly examplesPerSec: number;
  readonly peakRssMB: number;
  readonly recompute: string;
  readonly steps: readonly { sec: number; warmup: boolean }[];
  readonly env: Record<string, unknown>;
}

function list(text: string, allowed: readonly string[], flag: string): string[] {
  const xs = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const bad = xs.filter((x) => !allowed.includes(x));
  if (bad.length > 0 || xs.length === 0) {
    throw new RangeError(`${flag} is "${text}"; expected a comma list of ${allowed.join(", ")}`);
  }
  return xs;
}

function loadAverage(): number[] | null {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).map(Number);
  } catch {
    return null;
  }
}

async function run(
  cmd: string,
  argv: string[],
  env: Record<string, string> = {},
): Promise<{ ok: boolean; out: string }> {
  try {
    const r = await new Deno.Command(cmd, { args: argv, cwd: root, env, stderr: "inherit" })
      .output();
    return { ok: r.success, out: new TextDecoder().decode(r.stdout) };
  } catch {
    return { ok: false, out: "" };
  }
}

/** Runs one side, with the load average before and after; throws when it fails. */
async function side(
  what: string,
  cmd: string,
  argv: string[],
  env: Record<string, string> = {},
): Promise<Side & { loadBefore: number[] | null; loadAfter: number[] | null }> {
  const loadBefore = loadAverage();
  const r = await run(cmd, argv, env);
  const loadAfter = loadAverage();
  if (!r.ok) throw new Error(`${what} failed; see its output above`);
  return { ...JSON.parse(r.out) as Side, loadBefore, loadAfter };
}

const models = list(args.models, MODELS, "--models");
const objectives = list(args.objectives, OBJECTIVES, "--objectives");
const [steps, warmup, threads] = [args.steps, args.warmup, args.threads].map((s) =>
  String(Number(s))
);
const python = args.python ?? Deno.env.get("PEFT_PYTHON") ?? "python3";
const probe = await run(python, ["-c", "import torch, transformers, peft, gguf"]);
if (!probe.ok) {
  console.error(
    `No torch + transformers + peft + gguf for ${python}: python3 -m venv .venv && ` +
      `.venv/bin/pip install -r tools/requirements-hf.txt, then --python .venv/bin/python`,
  );
}
const common = ["--steps", steps, "--warmup", warmup, "--gguf", args.gguf];
const cases = [];
for (const model of models) {
  for (const objective of objectives) {
    if (objective === "rank" && model === "t5-small") continue; // decoder-only
    const which = ["--model", model, "--objective", objective, ...common];
    const ours = await side(
      `bench/compare_step.ts ${model} ${objective}`,
      Deno.execPath(),
      ["run", "-A", "bench/compare_step.ts", ...which, "--backend", args.backend],
      { SOFT_PROMPT_THREADS: threads },
    );
    const peft = probe.ok
      ? await side(`tools/peft_bench.py ${model} ${objective}`, python, [
        "tools/peft_bench.py",
        ...which,
        "--threads",
        threads,
      ])
      : null;
    cases.push({
      model,
      objective,
      ours,
      peft,
      oursOverPeft: peft === null ? null : {
        throughput: Number((peft.secPerStep / ours.secPerStep).toFixed(3)),
        peakRss: Number((ours.peakRssMB / peft.peakRssMB).toFixed(3)),
      },
    });
  }
}

const secs = (s: Side) =>
  s.steps.map((x) => `${x.warmup ? "(" : ""}${x.sec.toFixed(2)}${x.warmup ? ")" : ""}`).join(" ");
const rows = cases.flatMap((c) => [
  `${c.model} ${c.objective}`.padEnd(16) +
  `ours ${c.ours.secPerStep.toFixed(2)} s/step, ${c.ours.tokensPerSec.toFixed(1)} tok/s, ` +
  `${c.ours.examplesPerSec.toFixed(3)} ex/s, ${c.ours.peakRssMB} MB, recompute ` +
  `${c.ours.recompute}; steps ${secs(c.ours)}`,
  c.peft === null ? "".padEnd(16) + "PEFT not run" : "".padEnd(16) +
    `PEFT ${c.peft.secPerStep.toFixed(2)} s/step, ${c.peft.tokensPerSec.toFixed(1)} tok/s, ` +
    `${c.peft.examplesPerSec.toFixed(3)} ex/s, ${c.peft.peakRssMB} MB; steps ${secs(c.peft)}` +
    `\n${"".padEnd(16)}ours/PEFT throughput ${c.oursOverPeft?.throughput}, ` +
    `peak RSS ${c.oursOverPeft?.peakRss}`,
]);
console.error(
  `\nmedian of ${steps} timed steps after ${warmup} warm-up (in parentheses); ${threads} threads\n` +
    rows.join("\n"),
);
console.log(
  JSON.stringify(
    { steps: Number(steps), warmup: Number(warmup), threads: Number(threads), cases },
    null,
    2,
  ),
);
