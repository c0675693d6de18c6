/**
 * One batch of inputs of one format, in a process of its own, watched by `main.ts`.
 *
 * `deno run -A fuzz/worker.ts <format> <seed> <start> <count> <scratch dir> <settle ms> [verbose]`
 *
 * Writes lines to stdout: `R` when ready; `P i ok clean unclean` after input i, at least every
 * 250 ms and every 1024 inputs (the counts since the last `P`); `F {json}` for a finding (an
 * unclean error, or a rejection or error nobody handled); `E` at the end. With `verbose`, also
 * `S i` before each input, so that the driver can tell which input killed or hung the process
 * (it replays a batch verbosely from its last `P` when one dies). Input i is made from the key
 * (seed, format, i) alone.
 *
 * @module
 */
import { classifyResult, classifyThrown } from "./classify.ts";
import { nameId, rngFrom } from "./rng.ts";
import type { Files, Target } from "./target.ts";
import { TARGETS } from "./targets/mod.ts";

const enc = new TextEncoder();
const say = (line: string) => {
  const b = enc.encode(line + "\n");
  let o = 0;
  while (o < b.length) o += Deno.stdout.writeSync(b.subarray(o));
};

/** Makes input `index` of `target`: the same key always gives the same input. */
export function makeInput(
  target: Target,
  seeds: Parameters<Target["mutate"]>[1],
  seed: number,
  index: number,
) {
  return target.mutate(rngFrom([seed, nameId(target.name), index]), seeds);
}

/** Brings `dir` to hold exactly `files`, writing only what changed since `current`. */
async function materialize(dir: string, files: Files, current: Map<string, Uint8Array>) {
  for (const [name] of current) {
    if (!files.has(name)) {
      await Deno.remove(`${dir}/${name}`, { recursive: true }).catch(() => {});
      current.delete(name);
    }
  }
  for (const [name, bytes] of files) {
    if (current.get(name) === bytes) continue;
    const slash = name.lastIndexOf("/");
    if (slash > 0) await Deno.mkdir(`${dir}/${name.slice(0, slash)}`, { recursive: true });
    await Deno.writeFile(`${dir}/${name}`, bytes);
    current.set(name, bytes);
  }
}

/** Runs each seed unchanged and prints what it gave: every seed should be accepted. */
async function checkSeeds(target: Target, root: string, dir: string): Promise<number> {
  let bad = 0;
  for (const s of await target.seeds(root)) {
    const onDisk = new Map<string, Uint8Array>();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.mkdir(dir, { recursive: true });
    await materialize(dir, s.files, onDisk);
    let r: unknown;
    try {
      r = await target.run({ seed: s.name, files: s.files }, dir);
    } catch (e) {
      r = { _tag: "Threw", left: String(e) };
    }
    const tag = (r as { _tag?: string })._tag;
    if (tag !== "Right") bad++;
    say(
      `${target.name} ${s.name}: ${tag}${
        tag === "Right" ? "" : " " + JSON.stringify((r as { left?: unknown }).left)
      }`,
    );
  }
  return bad;
}

async function main(args: readonly string[]) {
  if (args[1] === "seeds") {
    const target = await TARGETS[args[0]]();
    const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
    Deno.exit(await checkSeeds(target, root, args[2] ?? "/tmp/fuzz-seeds") > 0 ? 1 : 0);
  }
  const [format, seedText, startText, countText, dir, settleText] = args;
  const target = await TARGETS[format]();
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const seeds = await target.seeds(root);
  const seed = Number(seedText), start = Number(startText), count = Number(countText);
  const settleMs = Number(settleText);
  const verbose = args[6] === "verbose";
  let current = -1;
  let previous = -1;
  const stray = (kind: string, reason: unknown) => {
    const message = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
    say("F " + JSON.stringify({ i: current, prev: previous, kind, why: kind, message }));
  };
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    stray("unhandled-rejection", e.reason);
  });
  globalThis.addEventListener("error", (e) => {
    e.preventDefault();
    stray("uncaught-error", e.error);
  });
  await Deno.mkdir(dir, { recursive: true });
  const onDisk = new Map<string, Uint8Array>();
  say("R");
  const counts = { o: 0, c: 0, u: 0 };
  let lastSaid = performance.now();
  for (let i = start; i < start + count; i++) {
    let input;
    try {
      input = makeInput(target, seeds, seed, i);
    } catch (e) {
      // The harness's own fault, not the library's: stop loudly.
      say("X " + JSON.stringify({ i, message: String(e) }));
      Deno.exit(3);
    }
    if (target.usesFiles) await materialize(dir, input.files, onDisk);
    current = i;
    if (verbose) say(`S ${i}`);
    let v;
    try {
      v = classifyResult(await target.run(input, dir));
    } catch (e) {
      v = classifyThrown(e);
    }
    // A short wait after each input that read files, so that a read it left running rejects
    // while the input is still the current one; in-memory parsers get a macrotask now and then.
    if (target.usesFiles) await new Promise((r) => setTimeout(r, settleMs));
    else if (i % 64 === 63) await new Promise((r) => setTimeout(r, 0));
    if (v.kind === "unclean") {
      say("F " + JSON.stringify({ i, kind: "unclean", why: v.why, message: v.message }));
    }
    counts[v.kind === "ok" ? "o" : v.kind === "clean" ? "c" : "u"]++;
    previous = i;
    const now = performance.now();
    if (verbose || now - lastSaid > 250 || (i - start) % 1024 === 1023 || i === start + count - 1) {
      say(`P ${i} ${counts.o} ${counts.c} ${counts.u}`);
      counts.o = counts.c = counts.u = 0;
      lastSaid = now;
    }
  }
  // A last, longer wait: a read left running by the last input rejects now.
  await new Promise((r) => setTimeout(r, 200));
  say("E");
}

if (import.meta.main) await main(Deno.args);
