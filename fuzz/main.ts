/**
 * The fuzz driver: `deno task fuzz [--quick] [--seed N] [--count N] [--formats a,b]
 * [--time-limit S] [--batch N] [--out DIR]`.
 *
 * Spreads `--count` inputs over the formats by their weights and runs them in batches, one
 * worker process at a time (`worker.ts`), each under a V8 heap cap. It watches every worker:
 * a process that dies (a crash, or V8 out of heap), goes silent for longer than an input may
 * take (a hang: over 5 s of CPU time, or 30 s blocked), or grows past the RSS cap (a blow-up) is killed; the batch is then replayed
 * verbosely from its last progress line to find the input that did it, which is saved under
 * `<out>/findings/<format>/` with what happened. Unclean errors (see classify.ts) and rejections
 * nobody handled are saved the same way (the first few of each kind). Exits 1 when there was a
 * crash, a hang or a blow-up (and, with `--strict`, an unclean error).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { signature } from "./classify.ts";
import type { Seed, Target } from "./target.ts";
import { FORMAT_NAMES, TARGETS } from "./targets/mod.ts";
import { makeInput } from "./worker.ts";

interface Tally {
  inputs: number;
  ok: number;
  clean: number;
  unclean: number;
  crashes: number;
  hangs: number;
  blowups: number;
  rejections: number;
}

const blank = (): Tally => ({
  inputs: 0,
  ok: 0,
  clean: 0,
  unclean: 0,
  crashes: 0,
  hangs: 0,
  blowups: 0,
  rejections: 0,
});

interface Options {
  readonly seed: number;
  readonly count: number;
  readonly formats: readonly string[];
  readonly timeLimitS: number;
  readonly batch: number;
  readonly out: string;
  readonly hangMs: number;
  readonly rssMb: number;
  readonly heapMb: number;
  readonly settleMs: number;
  readonly keep: number;
  readonly strict: boolean;
  readonly quick: boolean;
}

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

function parse(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      seed: { type: "string" },
      count: { type: "string" },
      formats: { type: "string" },
      "time-limit": { type: "string" },
      batch: { type: "string" },
      out: { type: "string" },
      "hang-ms": { type: "string" },
      "rss-mb": { type: "string" },
      "settle-ms": { type: "string" },
      keep: { type: "string" },
      strict: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(
      "deno task fuzz [--quick] [--seed N] [--count N] [--formats a,b] [--time-limit S] [--batch N] [--out DIR] [--strict]\n" +
        `formats: ${FORMAT_NAMES.join(", ")}`,
    );
    Deno.exit(0);
  }
  const num = (v: string | undefined, d: number, name: string) => {
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) {
      console.error(`--${name} ${v}: expected a non-negative number`);
      Deno.exit(2);
    }
    return n;
  };
  const formats = values.formats
    ? values.formats.split(",").map((s) => s.trim()).filter((s) => s)
    : FORMAT_NAMES;
  const unknown = formats.filter((f) => !FORMAT_NAMES.includes(f));
  if (unknown.length > 0) {
    console.error(
      `--formats: unknown ${unknown.join(", ")}; expected some of ${FORMAT_NAMES.join(", ")}`,
    );
    Deno.exit(2);
  }
  const quick = values.quick;
  return {
    seed: num(values.seed, quick ? 14 : 1, "seed"),
    count: num(values.count, quick ? 3000 : 10000, "count"),
    formats,
    timeLimitS: num(values["time-limit"], quick ? 170 : Infinity, "time-limit"),
    // Quick: one worker per format (start-up dominates a short run).
    batch: num(values.batch, quick ? 5000 : 5000, "batch"),
    out: values.out ?? `${ROOT}/.fuzz`,
    hangMs: num(values["hang-ms"], 5000, "hang-ms"),
    rssMb: num(values["rss-mb"], 1024, "rss-mb"),
    heapMb: 1024,
    settleMs: num(values["settle-ms"], 1, "settle-ms"),
    keep: num(values.keep, 3, "keep"),
    strict: values.strict,
    quick,
  };
}

/** How many inputs each format gets: `count` spread by weight, at least 1 each. */
export function shares(targets: readonly Target[], count: number, minimum = 1): number[] {
  const total = targets.reduce((a, t) => a + t.weight, 0);
  return targets.map((t) => Math.max(minimum, Math.round((count * t.weight) / total)));
}

/** A process's CPU time (user + system) in ms, from /proc (0 where unreadable). */
async function cpuMs(pid: number): Promise<number> {
  try {
    const s = await Deno.readTextFile(`/proc/${pid}/stat`);
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 (utime, stime) in clock ticks, 100 a second on Linux.
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

async function rssMb(pid: number): Promise<number> {
  try {
    const s = await Deno.readTextFile(`/proc/${pid}/status`);
    const m = s.match(/VmRSS:\s+(\d+) kB/);
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

interface WorkerEnd {
  /** How it ended: finished, died, went silent, grew too large, or was stopped by the time limit. */
  readonly how: "done" | "died" | "hang" | "blowup" | "stopped";
  /** The last input it reported done. */
  readonly lastDone: number;
  /** The input it was on (verbose mode only), else -1. */
  readonly current: number;
  readonly detail: string;
}

type OnFinding = (
  f: { i: number; prev?: number; kind: string; why: string; message: string },
) => Promise<void>;

/** Runs one worker over inputs [start, start + n), feeding `tally` as it reports. */
async function runWorker(
  o: Options,
  format: string,
  start: number,
  n: number,
  verbose: boolean,
  tally: Tally,
  onFinding: OnFinding,
  deadline: number,
): Promise<WorkerEnd> {
  const scratch = `${o.out}/scratch/${format}`;
  await Deno.remove(scratch, { recursive: true }).catch(() => {});
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      `--v8-flags=--max-old-space-size=${o.heapMb}`,
      `${ROOT}/fuzz/worker.ts`,
      format,
      String(o.seed),
      String(start),
      String(n),
      scratch,
      String(o.settleMs),
      ...(verbose ? ["verbose"] : []),
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  });
  const child = cmd.spawn();
  let cpuAtLine = 0;
  let lastDone = start - 1,
    current = -1,
    lastLine = performance.now(),
    ready = false,
    ended = false;
  let how: WorkerEnd["how"] | undefined;
  let stderr = "";
  const errDone = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderr = (stderr + chunk).slice(-4000);
    }
  })();
  const watch = setInterval(async () => {
    if (how !== undefined) return;
    const now = performance.now();
    // A hang: an input that has used more than hangMs of CPU, or (blocked, say on a FIFO) has
    // been waiting six times as long. CPU time, so that a starved worker on a loaded machine is
    // not taken for a hung one. Start-up (imports, seeds) gets a longer allowance.
    const cpu = await cpuMs(child.pid) - cpuAtLine;
    if (ready ? cpu > o.hangMs || now - lastLine > 6 * o.hangMs : now - lastLine > 120000) {
      how = "hang";
    } else if (await rssMb(child.pid) > o.rssMb) how = "blowup";
    else if (Date.now() > deadline) how = "stopped";
    if (how !== undefined) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
  }, 200);
  let buf = "";
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      lastLine = performance.now();
      const tag = line[0];
      if (tag === "P" || tag === "S" || tag === "R") cpuAtLine = await cpuMs(child.pid);
      if (tag === "R") ready = true;
      else if (tag === "S") current = Number(line.slice(2));
      else if (tag === "P") {
        const [, i, ok, clean, unclean] = line.split(" ").map(Number);
        tally.inputs += i - lastDone;
        tally.ok += ok;
        tally.clean += clean;
        tally.unclean += unclean;
        lastDone = i;
        current = -1;
      } else if (tag === "F") await onFinding(JSON.parse(line.slice(2)));
      else if (tag === "E") ended = true;
      else if (tag === "X") {
        console.error(`fuzz: the harness itself failed on ${format} input ${line.slice(2)}`);
        Deno.exit(3);
      }
    }
  }
  const status = await child.status;
  clearInterval(watch);
  await errDone;
  if (how === undefined) how = ended && status.success ? "done" : "died";
  const detail = how === "died"
    ? `exit ${status.code}${status.signal ? ` (${status.signal})` : ""}: ${
      stderr.trim().split("\n").slice(-6).join(" | ")
    }`
    : how === "hang"
    ? `one input ran over ${o.hangMs} ms of CPU time (or ${6 * o.hangMs} ms in all)`
    : how === "blowup"
    ? `RSS over ${o.rssMb} MB`
    : "";
  // V8's own heap cap ends the process with this message: a blow-up, not a crash.
  if (how === "died" && /heap out of memory|Reached heap limit|allocation failed/i.test(stderr)) {
    how = "blowup";
  }
  return { how, lastDone, current, detail };
}

async function saveInput(
  dir: string,
  target: Target,
  seeds: readonly Seed[],
  seed: number,
  index: number,
  report: Record<string, unknown>,
) {
  const input = makeInput(target, seeds, seed, index);
  await Deno.mkdir(dir, { recursive: true });
  for (const [name, bytes] of input.files) {
    const slash = name.lastIndexOf("/");
    if (slash > 0) await Deno.mkdir(`${dir}/${name.slice(0, slash)}`, { recursive: true });
    await Deno.writeFile(`${dir}/${name}`, bytes);
  }
  await Deno.writeTextFile(
    `${dir}/finding.json`,
    JSON.stringify({ format: target.name, seed, index, fromSeed: input.seed, ...report }, null, 2) +
      "\n",
  );
}

async function main() {
  const o = parse(Deno.args);
  const t0 = Date.now();
  const deadline = t0 + o.timeLimitS * 1000;
  const targets = await Promise.all(o.formats.map((f) => TARGETS[f]()));
  // The quick pass gives every format at least 40 inputs, the slow ones included.
  const counts = shares(targets, o.count, o.quick ? 40 : 1);
  const tallies = new Map<string, Tally>(o.formats.map((f) => [f, blank()]));
  const signatures = new Map<
    string,
    { format: string; why: string; count: number; example: string; saved: string[] }
  >();
  const seedCache = new Map<string, readonly Seed[]>();
  const seedsOf = async (t: Target) => {
    if (!seedCache.has(t.name)) seedCache.set(t.name, await t.seeds(ROOT));
    return seedCache.get(t.name)!;
  };
  let stoppedEarly = false;
  console.log(
    `fuzz: seed ${o.seed}, ${
      counts.reduce((a, b) => a + b, 0)
    } inputs over ${o.formats.length} formats, batches of ${o.batch}`,
  );
  for (let t = 0; t < targets.length; t++) {
    const target = targets[t], tally = tallies.get(target.name)!;
    const record = async (
      kind: string,
      why: string,
      message: string,
      index: number,
      extra: Record<string, unknown> = {},
    ) => {
      const sig = `${target.name} ${kind} ${signature(why, message)}`;
      const s = signatures.get(sig) ??
        { format: target.name, why: `${kind}: ${why}`, count: 0, example: message, saved: [] };
      s.count++;
      signatures.set(sig, s);
      if (s.saved.length < o.keep) {
        const dir = `${o.out}/findings/${target.name}/${kind}-s${o.seed}-i${index}`;
        await saveInput(dir, target, await seedsOf(target), o.seed, index, {
          kind,
          why,
          message,
          ...extra,
        });
        s.saved.push(dir);
      }
    };
    const onFinding: OnFinding = async (f) => {
      if (f.kind === "unclean") return await record("unclean", f.why, f.message, f.i);
      tally.rejections++;
      // A stray rejection may belong to the input before the one it arrived during.
      await record(f.kind, f.why, f.message, f.i, { previousInput: f.prev });
    };
    let next = 0;
    const end = counts[t];
    const began = Date.now();
    // Under a time limit each format gets a fair share of what is left, so that all are run.
    // (At least 30 s: a worker's start-up alone takes seconds on a loaded machine.)
    const formatDeadline = Number.isFinite(deadline)
      ? Math.min(deadline, began + Math.max(30000, (deadline - began) / (targets.length - t)))
      : deadline;
    while (next < end) {
      if (Date.now() > formatDeadline) {
        stoppedEarly = true;
        break;
      }
      const n = Math.min(o.batch, end - next);
      const r = await runWorker(o, target.name, next, n, false, tally, onFinding, formatDeadline);
      if (r.how === "done") {
        next += n;
        continue;
      }
      if (r.how === "stopped") {
        stoppedEarly = true;
        break;
      }
      if (r.how === "died" && r.detail.startsWith("exit 3")) {
        console.error(`fuzz: the harness failed on ${target.name}: ${r.detail}`);
        Deno.exit(3);
      }
      // Replay verbosely from the last input reported done, to find the one that did it.
      const from = r.lastDone + 1;
      const replay = blank();
      const v = await runWorker(
        o,
        target.name,
        from,
        next + n - from,
        true,
        replay,
        async () => {},
        formatDeadline,
      );
      const culprit = v.how === "done" ? -1 : v.current >= 0 ? v.current : v.lastDone + 1;
      tally.inputs += replay.inputs;
      tally.ok += replay.ok;
      tally.clean += replay.clean;
      tally.unclean += replay.unclean;
      if (v.how === "stopped") {
        stoppedEarly = true;
        break;
      }
      if (culprit < 0) {
        // Not reproduced alone: count the first run's failure against the input after its last report.
        console.error(
          `fuzz: ${target.name}: the worker ${r.how} (${r.detail}) but the replay from ${from} did not`,
        );
        next += n;
        continue;
      }
      const kind = v.how === "hang" ? "hang" : v.how === "blowup" ? "blowup" : "crash";
      tally.inputs++;
      if (kind === "hang") tally.hangs++;
      else if (kind === "blowup") tally.blowups++;
      else tally.crashes++;
      await record(kind, kind, v.detail, culprit);
      console.error(`fuzz: ${target.name} input ${culprit}: ${kind} (${v.detail})`);
      next = culprit + 1;
    }
    const x = tally;
    console.log(
      `${target.name.padEnd(18)} ${
        String(x.inputs).padStart(8)
      } inputs: ${x.ok} accepted, ${x.clean} clean errors, ${x.unclean} unclean, ${x.crashes} crashes, ${x.hangs} hangs, ${x.blowups} blow-ups, ${x.rejections} stray rejections (${
        ((Date.now() - began) / 1000).toFixed(0)
      } s)`,
    );
  }
  const all = [...tallies.values()].reduce((a, x) => {
    for (const k of Object.keys(a) as (keyof Tally)[]) a[k] += x[k];
    return a;
  }, blank());
  const seconds = (Date.now() - t0) / 1000;
  console.log(
    `all                ${String(all.inputs).padStart(8)} inputs in ${
      seconds.toFixed(0)
    } s: ${all.ok} accepted, ${all.clean} clean errors, ${all.unclean} unclean, ${all.crashes} crashes, ${all.hangs} hangs, ${all.blowups} blow-ups, ${all.rejections} stray rejections${
      stoppedEarly ? " (stopped at the time limit)" : ""
    }`,
  );
  const sorted = [...signatures.values()].sort((a, b) => b.count - a.count);
  if (sorted.length > 0) {
    console.log(`findings (${sorted.length} kinds; inputs under ${o.out}/findings/):`);
  }
  for (const s of sorted.slice(0, 40)) {
    console.log(
      `  ${String(s.count).padStart(6)}  ${s.format}  ${s.why}: ${s.example.slice(0, 200)}`,
    );
  }
  await Deno.mkdir(o.out, { recursive: true });
  await Deno.writeTextFile(
    `${o.out}/summary-s${o.seed}.json`,
    JSON.stringify(
      {
        options: { ...o, timeLimitS: Number.isFinite(o.timeLimitS) ? o.timeLimitS : null },
        seconds,
        stoppedEarly,
        formats: Object.fromEntries(tallies),
        all,
        findings: sorted,
      },
      null,
      2,
    ) + "\n",
  );
  const fatal = all.crashes + all.hangs + all.blowups + all.rejections +
    (o.strict ? all.unclean : 0);
  Deno.exit(fatal > 0 ? 1 : 0);
}

if (import.meta.main) await main();
