/**
 * Structure-aware JSON mutations: values of the wrong type, edge numbers, removed and added keys
 * (`__proto__`, `constructor`), duplicated keys, deep nesting, truncated text.
 *
 * @module
 */
import { mutateBytes } from "./bytes.ts";
import type { Rng } from "./rng.ts";

/** A parsed JSON value. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Numbers that break counts, sizes and ids. */
const NUMBERS: readonly number[] = [
  0,
  -0,
  1,
  -1,
  2,
  0.5,
  1.5,
  -2.5,
  1e-300,
  1e308,
  -1e308,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  2 ** 64,
  1e21,
  4.9e-324,
  255,
  256,
  65536,
  100000000,
];

/** Strings that break names, paths and dtypes. */
const STRINGS: readonly string[] = [
  "",
  " ",
  "a",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "prototype",
  "../x",
  "/etc/passwd",
  "..",
  ".",
  "a/../../b",
  "\u0000",
  "\ud800",
  "\uffff",
  "é",
  "▁",
  "<unk>",
  "F32",
  "F16",
  "BF16",
  "I64",
  "U8",
  "float32",
  "<f4",
  "|b1",
  "int32",
  "Unigram",
  "BPE",
  "WordPiece",
  "ByteLevel",
  "Sequence",
  "null",
  "true",
  "1",
  "-1",
  "1e999",
  "NaN",
  "x".repeat(300),
];

function interestingValue(rng: Rng, old: Json): Json {
  switch (rng.int(12)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick(NUMBERS);
    case 3:
      return typeof old === "number"
        ? rng.pick([old + 1, old - 1, old * 2, -old, old + 0.5, old * 1000003, Math.trunc(old / 2)])
        : rng.pick(NUMBERS);
    case 4:
      return rng.pick(STRINGS);
    case 5:
      return typeof old === "string"
        ? rng.pick([old + old, old.slice(1), old.toUpperCase(), old + "\u0000", `${old}x`, ""])
        : JSON.stringify(old) ?? "null";
    case 6:
      return [];
    case 7:
      return {};
    case 8:
      return Array.isArray(old) ? [...old, ...old] : [old];
    case 9:
      return { value: old };
    case 10: { // deep nesting
      let v: Json = old;
      const depth = rng.pick([10, 100, 1000, 2000]);
      for (let i = 0; i < depth; i++) v = rng.chance(0.5) ? [v] : { a: v };
      return v;
    }
    default:
      return typeof old === "number" ? String(old) : typeof old === "string" ? Number(old) || 7 : 7;
  }
}

/** Every container in `v` with the key/index of each child, depth first. */
function containers(v: Json, out: (Json[] | { [k: string]: Json })[] = [], depth = 0): typeof out {
  if (v !== null && typeof v === "object" && depth < 48) {
    out.push(v);
    const kids = Array.isArray(v) ? v : Object.values(v);
    // Very large containers (vocabularies) are sampled, not walked whole.
    const step = Math.max(1, Math.floor(kids.length / 64));
    for (let i = 0; i < kids.length; i += step) containers(kids[i], out, depth + 1);
  }
  return out;
}

function setOwn(o: { [k: string]: Json }, k: string, v: Json): void {
  // defineProperty, so that "__proto__" becomes an own key as JSON.parse would make it.
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** Mutates a (deep-copied) JSON value in place, once. */
function mutateTreeOnce(rng: Rng, root: Json): Json {
  const all = containers(root);
  if (all.length === 0 || rng.chance(0.05)) return interestingValue(rng, root);
  const c = rng.pick(all);
  if (Array.isArray(c)) {
    const i = rng.int(Math.max(1, c.length));
    switch (rng.int(6)) {
      case 0:
        c.splice(i, 1);
        break;
      case 1:
        c.splice(i, 0, c.length > 0 ? structuredClone(c[rng.int(c.length)]) : 0);
        break;
      case 2:
        c.length = rng.int(c.length + 1);
        break;
      case 3:
        c.reverse();
        break;
      default:
        c[i] = interestingValue(rng, c[i] ?? null);
    }
    return root;
  }
  const keys = Object.keys(c);
  const k = keys.length > 0 ? rng.pick(keys) : "x";
  switch (rng.int(8)) {
    case 0:
      delete c[k];
      break;
    case 1:
      setOwn(c, rng.pick(["__proto__", "constructor", "toString", "", "prototype"]), {
        polluted: 1,
      });
      break;
    case 2:
      setOwn(c, rng.pick(keys.length > 0 ? keys : ["x"]) + rng.pick(["_", "s", "X", " "]), c[k]);
      break;
    case 3: { // rename a key
      const v = c[k];
      delete c[k];
      setOwn(c, rng.pick([k.toUpperCase(), k + "_", "__proto__", k.slice(1)]), v ?? null);
      break;
    }
    case 4: { // swap two values
      const k2 = keys.length > 0 ? rng.pick(keys) : k;
      const t = c[k];
      c[k] = c[k2];
      c[k2] = t;
      break;
    }
    default:
      c[k] = interestingValue(rng, c[k] ?? null);
  }
  return root;
}

/** Text-level JSON damage: duplicate keys, truncation, stray bytes. */
function mutateText(rng: Rng, text: string): string {
  switch (rng.int(4)) {
    case 0: { // a duplicate key at the start of some object
      const brace = [...text.matchAll(/\{/g)].map((m) => m.index ?? 0);
      if (brace.length === 0) return text;
      const at = rng.pick(brace);
      const after = text.slice(at + 1);
      const m = after.match(/^\s*("(?:[^"\\]|\\.)*")\s*:/);
      const key = m ? m[1] : '"__proto__"';
      const value = rng.pick(["null", "1", '"x"', "[]", '{"__proto__": {"x": 1}}', "-1"]);
      const sep = /^\s*\}/.test(after) ? "" : ",";
      return text.slice(0, at + 1) + `${key}: ${value}${sep}` + after;
    }
    case 1:
      return text.slice(0, rng.int(text.length + 1));
    case 2:
      return text.replace(/\d+/, () => rng.pick(["1e999", "-0", "0x10", "01", "1.", "NaN"]));
    default:
      return text + rng.pick(["}", "]", ",", " x", "\n{}"]);
  }
}

/**
 * A mutated JSON document: usually one to three tree mutations, sometimes text damage or byte
 * damage on top.
 *
 * @param rng the stream
 * @param seed the parsed seed (not changed)
 * @param seedBytes the seed's bytes (for byte-level mutations)
 * @returns the mutated file
 */
export function mutateJson(rng: Rng, seed: Json, seedBytes: Uint8Array): Uint8Array {
  if (rng.chance(0.08)) return mutateBytes(rng, seedBytes);
  let v = structuredClone(seed);
  const k = 1 + rng.int(3);
  for (let i = 0; i < k; i++) v = mutateTreeOnce(rng, v);
  let text = JSON.stringify(v, null, rng.chance(0.5) ? 2 : undefined) ?? "null";
  if (rng.chance(0.15)) text = mutateText(rng, text);
  return enc.encode(text);
}

/** Parses a seed file as JSON (seeds are trusted). */
export function parseSeed(bytes: Uint8Array): Json {
  return JSON.parse(dec.decode(bytes));
}

/** Encodes a JSON value as a file. */
export function jsonBytes(v: Json): Uint8Array {
  return enc.encode(JSON.stringify(v, null, 2));
}
