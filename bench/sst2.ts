/**
 * Prompt tuning a real model, measured: SmolLM2-135M-Instruct from its GGUF file on GLUE SST-2,
 * with the CLI as a user runs it (`bench/sst2/smollm2.json`: a 20-token class-label prompt, the
 * rank loss, Adafactor 0.03 scaled by the prompt's RMS, batch 8, inputs of at most 64 tokens, `recompute: "layer"`). It
 * evaluates the frozen model without a prompt, then for each seed trains (`cli.ts train`) and
 * evaluates the prompt (`cli.ts eval`) on the whole validation split by rank classification.
 * Each run's seconds per step come from its `metrics.jsonl`, its peak RSS from the process's
 * `VmHWM` (Linux), polled. PEFT's side is `tools/peft_sst2.py` (same model, data, template,
 * prompt length, steps and batch).
 *
 *     deno task test:real   # fetches the GGUF into .cache/models/ (once)
 *     npx -y deno@2.9.6 run -A bench/sst2.ts [--seeds 0,1,2] [--steps 60] [--out runs/sst2]
 *       [--skip-baseline] [--eval-examples N]
 *
 * Prints one JSON line per run and, at the end, the markdown table the README shows; writes
 * `OUT/results.jsonl` as it goes.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { writeFileAtomic } from "../io/files.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    seeds: { type: "string", default: "0,1,2" },
    steps: { type: "string", default: "60" },
    config: { type: "string", default: "bench/sst2/smollm2.json" },
    out: { type: "string", default: "runs/sst2" },
    "eval-examples": { type: "string" },
    "skip-baseline": { type: "boolean", default: false },
  },
});
const SEEDS = args.seeds.split(",").map(Number);
const STEPS = Number(args.steps);
if (SEEDS.some((s) => !Number.isInteger(s)) || !(STEPS > 0)) {
  console.error(`--seeds "${args.seeds}" / --steps "${args.steps}": expected integers`);
  Deno.exit(2);
}
const cut = args["eval-examples"] === undefined
  ? []
  : ["--set", `eval.max_examples=${Number(args["eval-examples"])}`];

/** The peak RSS of a process so far, in bytes (Linux `VmHWM`), or 0 when unreadable. */
function peakRss(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
}

/** Runs `cli.ts` with these arguments; its output goes to `log`. Returns seconds and peak RSS. */
async function cli(argv: string[], log: string): Promise<{ seconds: number; peak: number }> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "cli.ts", ...argv],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let peak = 0;
  const poll = setInterval(() => peak = Math.max(peak, peakRss(child.pid)), 250);
  const out = await child.output();
  clearInterval(poll);
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  await Deno.writeTextFile(log, text);
  if (!out.success) throw new Error(`cli.ts ${argv[0]} failed (see ${log}): ${text.slice(-400)}`);
  return { seconds: (performance.now() - started) / 1000, peak };
}

async function accuracy(dir: string): Promise<number> {
  const report = JSON.parse(await Deno.readTextFile(join(dir, "report.json")));
  return report.metrics.accuracy;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const std = (xs: number[]) =>
  xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));

await Deno.mkdir(args.out, { recursive: true });
const results: Record<string, unknown>[] = [];
const record = async (row: Record<string, unknown>) => {
  results.push(row);
  console.log(JSON.stringify(row));
  const lines = results.map((r) => JSON.stringify(r) + "\n").join("");
  await writeFileAtomic(join(args.out, "results.jsonl"), new TextEncoder().encode(lines));
};

if (!args["skip-baseline"]) {
  const none = join(args.out, "no_prompt");
  const base = await cli(
    ["eval", "--config", args.config, "--no-prompt", "--out", none, ...cut],
    `${none}.log`,
  );
  await record({ run: "no_prompt", accuracy: await accuracy(none), evalSeconds: base.seconds });
}

for (const seed of SEEDS) {
  const run = join(args.out, `seed_${seed}`);
  await Deno.remove(run, { recursive: true }).catch(() => {});
  const train = await cli([
    "train",
    "--config",
    args.config,
    "--run-dir",
    run,
    "--set",
    `train.seed=${seed}`,
    "--set",
    `train.steps=${STEPS}`,
    "--set",
    `train.checkpoint_every=${STEPS}`,
  ], `${run}.train.log`);
  const steps = (await Deno.readTextFile(join(run, "metrics.jsonl"))).trim().split("\n")
    .map((l) => JSON.parse(l)).filter((m) => typeof m.stepsPerSec === "number");
  const seconds = steps.map((m) => 1 / m.stepsPerSec);
  const evalDir = join(run, "eval");
  const evaluated = await cli(
    ["eval", "--config", join(run, "config.json"), "--prompt", run, "--out", evalDir, ...cut],
    `${run}.eval.log`,
  );
  await record({
    run: `seed_${seed}`,
    accuracy: await accuracy(evalDir),
    firstLoss: steps[0]?.loss,
    lastLoss: mean(steps.slice(-5).map((m) => m.loss)),
    stepSeconds: seconds.map((s) => Number(s.toFixed(2))),
    medianStepSeconds: median(seconds.slice(2)),
    trainPeakRssBytes: train.peak,
    evalPeakRssBytes: evaluated.peak,
    evalSeconds: evaluated.seconds,
  });
}

const tuned = results.filter((r) => r.run !== "no_prompt");
const baseline = results.find((r) => r.run === "no_prompt");
const accs = tuned.map((r) => r.accuracy as number);
const pct = (x: number) => (100 * x).toFixed(1);
const gb = (x: number) => (x / 1e9).toFixed(2);
console.log(`
| SmolLM2-135M-Instruct (GGUF), SST-2 validation (872) | accuracy | s/step (median) | peak RSS |
| --- | --- | --- | --- |
| no prompt | ${
  baseline === undefined ? "(skipped)" : `${pct(baseline.accuracy as number)}%`
} | — | — |
| ours, ${STEPS} steps, seeds ${SEEDS.join(", ")} | ${pct(mean(accs))} ± ${pct(std(accs))}% | ${
  median(tuned.map((r) => r.medianStepSeconds as number)).toFixed(2)
} | ${gb(Math.max(...tuned.map((r) => r.trainPeakRssBytes as number)))} GB |`);
