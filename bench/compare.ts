/**
 * Runs the t5-small-shaped prompt-tuning step of `bench/step.ts` and the same step with PEFT on
 * PyTorch (`tools/peft_bench.py`), one after the other on this machine, and prints both results
 * and the ratio ours / PEFT as one JSON object.
 *
 * ```text
 * deno run -A bench/compare.ts [--steps 3] [--python /opt/hfvenv/bin/python] [--threads 2]
 * ```
 *
 * The Python side needs torch, transformers and peft (`tools/requirements-hf.txt`); without them
 * only our result is printed, with a line saying how to install them. `--python` defaults to
 * `$PEFT_PYTHON`, then `python3`.
 *
 * @module
 */
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    steps: { type: "string", default: "3" },
    warmup: { type: "string", default: "1" },
    threads: { type: "string", default: "2" },
    python: { type: "string" },
  },
});

const root = new URL("..", import.meta.url).pathname;

async function run(cmd: string, argv: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const r = await new Deno.Command(cmd, { args: argv, cwd: root, stderr: "inherit" }).output();
    return { ok: r.success, out: new TextDecoder().decode(r.stdout) };
  } catch {
    return { ok: false, out: "" };
  }
}

const steps = String(Number(args.steps)), warmup = String(Number(args.warmup));
const ours = await run(Deno.execPath(), [
  "run",
  "-A",
  "bench/step.ts",
  "--only",
  "t5-small",
  "--steps",
  steps,
  "--warmup",
  warmup,
]);
if (!ours.ok) throw new Error("bench/step.ts failed; see its output above");
const mine = JSON.parse(ours.out);
const python = args.python ?? Deno.env.get("PEFT_PYTHON") ?? "python3";
const probe = await run(python, ["-c", "import torch, transformers, peft"]);
let peft: Record<string, unknown> | undefined;
if (probe.ok) {
  const r = await run(python, [
    "tools/peft_bench.py",
    "--steps",
    steps,
    "--warmup",
    warmup,
    "--threads",
    String(Number(args.threads)),
  ]);
  if (!r.ok) throw new Error("tools/peft_bench.py failed; see its output above");
  peft = JSON.parse(r.out);
} else {
  console.error(
    `No torch + transformers + peft for ${python}: python3 -m venv .venv && ` +
      `.venv/bin/pip install -r tools/requirements-hf.txt, then --python .venv/bin/python`,
  );
}
const t5 = mine.results[0];
console.log(JSON.stringify(
  {
    machine: mine.machine,
    backend: mine.backend,
    ours: t5,
    peft: peft ?? null,
    oursOverPeft: peft === undefined ? null : {
      tokensPerSec: Number((t5.tokensPerSec / (peft.tokensPerSec as number)).toFixed(3)),
      peakRss: Number((t5.peakRssMB / (peft.peakRssMB as number)).toFixed(3)),
    },
  },
  null,
  2,
));
