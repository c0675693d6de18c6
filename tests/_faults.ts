/**
 * Test helper shared by the fault tests (tests/faults_*_test.ts): the command line run under a
 * real fault (a full disk, a read-only directory) in a private mount namespace, the one-line
 * error check, seeded kill moments, and the check that every file a run leaves under its final
 * name is complete and valid.
 *
 * A fault is real, not injected: `unshare --user --map-root-user --mount` gives the child its own
 * mount namespace (unprivileged where user namespaces are allowed, and as root), in which a small
 * tmpfs is mounted over a directory, filled to leave a given number of free pages, or remounted
 * read-only (which fails writes even for root, who ignores file permissions). When the command is
 * done, what it left is copied out and put in the directory's place, so the test reads the same
 * paths the command's messages name.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readNpy } from "../io/npy.ts";
import { readCheckpoint } from "../training/checkpoint.ts";
import { readPeftAdapter } from "../training/peft.ts";
import { bits, foldIn, key } from "../random/key.ts";
import { type Run, showRun } from "./_cli.ts";

/** The repository root, where the command line runs. */
export const ROOT: string = fileURLToPath(new URL("../", import.meta.url));

/** The tiny run (tests/fixtures/cli: a random T5 1.1 of width 8, four SST-2 rows per split). */
export const TINY = "tests/fixtures/cli/sst2_tiny.json";

/** tmpfs's page: what a file's first byte takes from a full disk. */
export const PAGE = 4096;

/** How a directory is made to fail writes: `freePages` left on a tmpfs, or read-only. */
export interface Fault {
  /** This many pages left free on the tmpfs (after what `keep` copied in). */
  readonly freePages?: number;
  /** Subdirectories (relative to the mount; "" for the mount itself) made read-only. */
  readonly readOnly?: readonly string[];
  /** Start the tmpfs with a copy of what the directory holds (default: empty). */
  readonly keep?: boolean;
}

/**
 * Stderr without Deno's own notice that it waits for the lock on `node_modules` (several
 * processes starting at once print it; it is not the command's output).
 *
 * @param stderr what the process printed
 * @returns the rest
 */
export function withoutDenoNotices(stderr: string): string {
  const notice = /^Blocking waiting for file lock/;
  const escape = String.fromCharCode(27);
  const plain = (line: string) =>
    line.split(escape).map((p) => p.replace(/^\[[0-9;]*m/, "")).join("");
  return stderr.split("\n").filter((line) => !notice.test(plain(line))).join("\n");
}

/**
 * Runs `deno run --allow-read --allow-env --allow-write=DIR cli.ts ARGS` with `dir` a tmpfs in a
 * mount namespace of its own, under `fault`; afterwards `dir` holds what the command left there.
 *
 * @param dir a directory (the mount point; what it holds is hidden, or copied in with `keep`)
 * @param args the command line after `cli.ts`
 * @param fault how writes fail
 * @returns the run's exit code and output
 */
export async function cliUnderFault(
  dir: string,
  args: readonly string[],
  fault: Fault,
): Promise<Run> {
  const stage = await Deno.makeTempDir({ prefix: "fault_stage_" });
  // $1 the mount point, $2 "keep" or "", $3 free pages or "", $4 the read-only paths (one per
  // line), $5 where to copy the result, $6 the deno binary; the command line after.
  const script = `
set -eu
mnt=$1 keep=$2 free=$3 ro=$4 stage=$5 deno=$6
shift 6
if [ -n "$keep" ]; then cp -a "$mnt"/. "$stage"/; fi
mount -t tmpfs -o size=16m,nr_inodes=4096 tmpfs "$mnt"
if [ -n "$keep" ]; then cp -a "$stage"/. "$mnt"/ && find "$stage" -mindepth 1 -delete; fi
if [ -n "$free" ]; then
  avail=$(stat -f -c %a "$mnt")
  head -c $(( (avail - free) * ${PAGE} )) /dev/zero > "$mnt/.filler"
  [ "$(stat -f -c %a "$mnt")" -eq "$free" ]
fi
printf '%s\\n' "$ro" | while IFS= read -r p; do
  [ -n "$p" ] || continue
  if [ "$p" = . ]; then mount -o remount,ro "$mnt"
  else mount --bind "$mnt/$p" "$mnt/$p" && mount -o remount,bind,ro "$mnt/$p"; fi
done
set +e
"$deno" run --allow-read --allow-env --allow-write="$mnt" cli.ts "$@" > "$stage/.stdout" 2> "$stage/.stderr"
echo $? > "$stage/.code"
rm -f "$mnt/.filler"
cp -a "$mnt"/. "$stage"/
`;
  const ro = (fault.readOnly ?? []).map((p) => p === "" ? "." : p).join("\n");
  const out = await new Deno.Command("unshare", {
    args: [
      "--user",
      "--map-root-user",
      "--mount",
      "sh",
      "-c",
      script,
      "sh",
      dir,
      fault.keep ? "keep" : "",
      fault.freePages === undefined ? "" : String(fault.freePages),
      ro,
      stage,
      Deno.execPath(),
      ...args,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  assert.equal(out.code, 0, `the namespace's setup failed: ${text(out.stderr)}`);
  const run: Run = {
    code: Number(await Deno.readTextFile(join(stage, ".code"))),
    stdout: await Deno.readTextFile(join(stage, ".stdout")),
    stderr: withoutDenoNotices(await Deno.readTextFile(join(stage, ".stderr"))),
  };
  for (const f of [".code", ".stdout", ".stderr"]) await Deno.remove(join(stage, f));
  await Deno.remove(dir, { recursive: true });
  await Deno.rename(stage, dir);
  return run;
}

/**
 * Asserts a failure: exit `code`, one line on stderr matching `pattern`, no stack trace.
 *
 * @param r the run
 * @param pattern what the line says
 * @param code the exit code (default 1)
 */
export function oneLineError(r: Run, pattern: RegExp, code = 1): void {
  const show = showRun(r, 1500);
  assert.equal(r.code, code, show);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, show);
  assert.match(lines[0], /^Error: /, show);
  assert.match(lines[0], pattern, show);
  assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/, show);
}

/**
 * Moments in [0, span) milliseconds drawn from a seeded key (one draw per index), for kills.
 *
 * @param seed the key's seed
 * @param n how many
 * @param span the range in milliseconds
 * @returns the moments, in draw order
 */
export function moments(seed: number, n: number, span: number): number[] {
  return Array.from({ length: n }, (_, i) => bits(foldIn(key(seed), i), [1])[0] / 2 ** 32 * span);
}

async function entries(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) names.push(e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return names.sort();
}

const isFile = (path: string) => Deno.stat(path).then((s) => s.isFile, () => false);

/**
 * Asserts that every file a `train` run keeps under its final name in `runDir` is complete and
 * valid (temporary names, containing `.tmp-`, are ignored): `config.json` and `best.json` parse,
 * each `.npy` reads as a `[P, H]` float32 prompt, each `checkpoints/step_N` reads back, an
 * `adapter/` holds a readable adapter, and every whole line of `metrics.jsonl` parses (an append
 * log: only a last line without its newline may be torn).
 *
 * @param runDir the run directory
 * @param shape the prompt's `[P, H]`
 * @returns the names found under their final names, relative to `runDir`
 */
export async function assertRunFilesValid(
  runDir: string,
  shape: readonly number[],
): Promise<string[]> {
  const found: string[] = [];
  const final = (name: string) => !name.includes(".tmp-");
  for (const name of ["config.json", "best.json"]) {
    const path = join(runDir, name);
    if (!(await isFile(path))) continue;
    JSON.parse(await Deno.readTextFile(path));
    found.push(name);
  }
  const npys = [
    ...["prompt.npy", "best.npy"],
    ...(await entries(join(runDir, "prompts"))).filter(final).map((n) => `prompts/${n}`),
  ];
  for (const name of npys) {
    const path = join(runDir, name);
    if (!(await isFile(path))) continue;
    const r = await readNpy(path);
    assert.ok(r._tag === "Right", `${path}: ${r._tag === "Left" ? r.left.message : ""}`);
    assert.deepEqual([r.right.dtype, ...r.right.shape], ["float32", ...shape], path);
    found.push(name);
  }
  for (const name of (await entries(join(runDir, "checkpoints"))).filter(final)) {
    const c = await readCheckpoint(join(runDir, "checkpoints", name));
    assert.ok(c._tag === "Right", `${name}: ${c._tag === "Left" ? c.left.message : ""}`);
    assert.equal(`step_${c.right.meta.step}`, name);
    found.push(`checkpoints/${name}`);
  }
  if ((await entries(join(runDir, "adapter"))).length > 0) {
    const a = await readPeftAdapter(join(runDir, "adapter"));
    assert.ok(a._tag === "Right", `adapter: ${a._tag === "Left" ? a.left.message : ""}`);
    found.push("adapter");
  }
  const metrics = join(runDir, "metrics.jsonl");
  if (await isFile(metrics)) {
    const text = await Deno.readTextFile(metrics);
    const whole = text.slice(0, text.lastIndexOf("\n") + 1);
    for (const line of whole.split("\n").filter((l) => l !== "")) {
      assert.equal(typeof JSON.parse(line).step, "number", line);
    }
    found.push("metrics.jsonl");
  }
  return found;
}

/**
 * Every path under `dir` whose name marks it temporary (`.tmp-`), relative to `dir`.
 *
 * @param dir the directory
 * @returns the paths, sorted
 */
export async function temporaryLeft(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of await entries(join(dir, rel))) {
      const path = rel === "" ? name : `${rel}/${name}`;
      if (name.includes(".tmp-")) found.push(path);
      else if ((await Deno.stat(join(dir, path))).isDirectory) await walk(path);
    }
  };
  await walk("");
  return found.sort();
}

/**
 * Runs jobs at most `width` at a time (the fault runs are subprocesses: a few at once use two
 * cores better than one after another), keeping their order.
 *
 * @param jobs what to run
 * @param width how many at once
 * @returns the results, in the jobs' order
 */
export async function pooled<T>(jobs: readonly (() => Promise<T>)[], width = 3): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
  return results;
}

/**
 * Starts `deno run --allow-read --allow-env --allow-write=WRITE cli.ts ARGS` from the repository
 * root, for a test that signals it.
 *
 * @param args the command line after `cli.ts`
 * @param write the directory it may write
 * @returns the child (stdout and stderr piped)
 */
export function spawnCli(args: readonly string[], write: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", `--allow-write=${write}`, "cli.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/**
 * Whether a process has a SIGINT handler installed (Linux: bit 2 of `SigCgt` in
 * `/proc/PID/status`), i.e. whether a Ctrl-C now reaches its listener rather than killing it.
 *
 * @param pid the process
 * @returns false when it has none or is gone
 */
export async function catchesSigint(pid: number): Promise<boolean> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const line = status.split("\n").find((l) => l.startsWith("SigCgt:"));
    return line !== undefined && (BigInt(`0x${line.slice(7).trim()}`) & 2n) !== 0n;
  } catch {
    return false;
  }
}

/**
 * Polls `ready` every 20 ms until it holds, for at most `ms` milliseconds.
 *
 * @param ready the condition
 * @param ms the limit
 * @returns whether it came to hold
 */
export async function waitFor(ready: () => Promise<boolean>, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    if (await ready()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}
