/**
 * Dev-time: our verdict on the fuzz harness's own inputs of one tensor or data format, for
 * tools/reader_agreement.py. Makes inputs `start … start + count - 1` of `format` with `seed`
 * exactly as `fuzz/reproduce.ts` does (`makeInput`, `TARGETS`), writes each one's files to
 * `<dir>/<index>/`, reads it with our reader and prints one JSON line per input:
 *
 *     {"i", "seed", "files": [...], "accept": true, "value": …}
 *     {"i", "seed", "files": [...], "accept": false, "tag", "error"}
 *
 * The readers: npy `parseNpy`, npz `parseNpz`, safetensors `parseSafetensors`, parquet
 * `readRecords` with the input's options.json (as fuzz/targets/*.ts run them). A tensor's value is
 * `{dtype, shape, sha, raw, head}`: `sha` is the SHA-256 of its little-endian bytes in C order
 * with every NaN written as the one quiet NaN of its width (bool as 0/1), `raw` the same without
 * that, `head` its first values as text. An npz's value is `[[key, tensor], …]` in archive order;
 * a safetensors file's `{metadata, tensors: [[name, tensor], …]}`; a Parquet file's
 * `{rows: [fields, …]}` with bytes as `{"$bytes": hex}`, dates as `{"$date": ms}`, non-finite
 * numbers as `{"$f": "NaN"}`, bigints as `{"$int": "…"}` and `undefined` (hyparquet's null list or
 * struct) as null.
 *
 *     deno run -A tools/reader_verdicts.ts <npy|npz|safetensors|parquet> <seed> <count> <dir> [start]
 *
 * @module
 */
import { createHash } from "node:crypto";
import { parseNpz } from "../io/npz.ts";
import { parseNpy } from "../io/npy.ts";
import { parseSafetensors } from "../io/safetensors.ts";
import type { HostTensor } from "../io/host_tensor.ts";
import { readRecords } from "../data/read.ts";
import { describeProblem, type Problem } from "../problem.ts";
import { TARGETS } from "../fuzz/targets/mod.ts";
import { makeInput } from "../fuzz/worker.ts";

const FORMATS = ["npy", "npz", "safetensors", "parquet"] as const;
type Format = typeof FORMATS[number];

/** The tensor's bytes with every NaN made the canonical quiet NaN of its width. */
function canonicalBytes(h: HostTensor): Uint8Array {
  const d = h.data;
  const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
  if (h.dtype === "float32") {
    const u = new Uint32Array(bytes.buffer);
    for (let i = 0; i < u.length; i++) {
      if ((u[i] & 0x7f800000) === 0x7f800000 && (u[i] & 0x7fffff) !== 0) u[i] = 0x7fc00000;
    }
  } else if (h.dtype === "float64") {
    const u = new BigUint64Array(bytes.buffer);
    for (let i = 0; i < u.length; i++) {
      const e = u[i] & 0x7ff0000000000000n, m = u[i] & 0xfffffffffffffn;
      if (e === 0x7ff0000000000000n && m !== 0n) u[i] = 0x7ff8000000000000n;
    }
  } else if (h.dtype === "float16" || h.dtype === "bfloat16") {
    const [exp, man, nan] = h.dtype === "float16" ? [0x7c00, 0x3ff, 0x7e00] : [0x7f80, 0x7f, 0x7fc0];
    const u = new Uint16Array(bytes.buffer);
    for (let i = 0; i < u.length; i++) {
      if ((u[i] & exp) === exp && (u[i] & man) !== 0) u[i] = nan;
    }
  }
  return bytes;
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** A tensor's summary: dtype, shape, hashes of its values (NaN-canonical and raw), first values. */
export function tensorSummary(h: HostTensor): Record<string, unknown> {
  const d = h.data;
  const raw = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  const head = Array.from(d.subarray(0, 6) as ArrayLike<number | bigint>, (v) => String(v));
  return { dtype: h.dtype, shape: h.shape, sha: sha(canonicalBytes(h)), raw: sha(raw), head };
}

/** A Parquet field value as JSON that says what it was. */
function plainJson(_k: string, v: unknown): unknown {
  if (typeof v === "bigint") return { $int: v.toString() };
  if (typeof v === "number" && !Number.isFinite(v)) return { $f: String(v) };
  if (v instanceof Uint8Array) {
    return { $bytes: Array.from(v, (b) => b.toString(16).padStart(2, "0")).join("") };
  }
  return v;
}

/** Dates as `{"$date": ms}` and `undefined` (hyparquet's null list or struct) as null. */
function jsonable(v: unknown): unknown {
  if (v === undefined) return null;
  if (v instanceof Date) return { $date: v.getTime() };
  if (Array.isArray(v)) return v.map(jsonable);
  if (v !== null && typeof v === "object" && !ArrayBuffer.isView(v)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonable(x)]));
  }
  return v;
}

type Verdict = { accept: true; value: unknown } | { accept: false; tag: string; error: string };

const refuse = (p: Problem): Verdict => ({ accept: false, tag: p._tag, error: describeProblem(p) });

/** Our verdict on one input, whose files lie in `dir`. */
export async function verdict(
  format: Format,
  files: ReadonlyMap<string, Uint8Array>,
  dir: string,
): Promise<Verdict> {
  switch (format) {
    case "npy": {
      const r = parseNpy(files.get("x.npy")!, "x.npy");
      return r._tag === "Left" ? refuse(r.left) : { accept: true, value: tensorSummary(r.right) };
    }
    case "npz": {
      const r = parseNpz(files.get("x.npz")!, "x.npz");
      if (r._tag === "Left") return refuse(r.left);
      return { accept: true, value: [...r.right].map(([k, t]) => [k, tensorSummary(t)]) };
    }
    case "safetensors": {
      const r = parseSafetensors(files.get("x.safetensors")!, "x.safetensors");
      if (r._tag === "Left") return refuse(r.left);
      return {
        accept: true,
        value: {
          metadata: r.right.metadata,
          tensors: [...r.right.tensors].map(([k, t]) => [k, tensorSummary(t)]),
        },
      };
    }
    case "parquet": {
      const o = JSON.parse(new TextDecoder().decode(files.get("options.json") ?? new Uint8Array()));
      const r = await readRecords(`${dir}/x.parquet`, o);
      if (r._tag === "Left") return refuse(r.left);
      return { accept: true, value: { rows: r.right.map((rec) => jsonable(rec.fields)) } };
    }
  }
}

const enc = new TextEncoder();
const say = (line: string) => {
  const b = enc.encode(line + "\n");
  for (let at = 0; at < b.length;) at += Deno.stdout.writeSync(b.subarray(at));
};

if (import.meta.main) {
  const [format, seedText, countText, dir, startText] = Deno.args;
  if (!(FORMATS as readonly string[]).includes(format) || dir === undefined) {
    console.error(`usage: reader_verdicts.ts <${FORMATS.join("|")}> <seed> <count> <dir> [start]`);
    Deno.exit(2);
  }
  const target = await TARGETS[format]();
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const seeds = await target.seeds(root);
  const seed = Number(seedText), count = Number(countText), start = Number(startText ?? 0);
  for (let i = start; i < start + count; i++) {
    const input = makeInput(target, seeds, seed, i);
    const at = `${dir}/${i}`;
    await Deno.mkdir(at, { recursive: true });
    for (const [name, bytes] of input.files) await Deno.writeFile(`${at}/${name}`, bytes);
    let v: Verdict;
    try {
      v = await verdict(format as Format, input.files, at);
    } catch (e) {
      v = { accept: false, tag: "Threw", error: `threw: ${e instanceof Error ? e.message : e}` };
    }
    say(JSON.stringify({ i, seed: input.seed, files: [...input.files.keys()], ...v }, plainJson));
  }
}
