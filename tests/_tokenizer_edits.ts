/**
 * Mutations of a tokenizer.json as edits (the form tools/mutate_tokenizer_json.py writes and
 * tests/fixtures/tokenizers/mutations.json keeps), applied to a parsed base and written back as
 * JSON text. Values are raw JSON text, so that `2.0`, `-0`, `1e2` or a lone `\ud800` reach the
 * reader as written; `dup` writes a key twice in one object. tools/tokenizer_oracle.py applies the
 * same edits on the Python side.
 *
 * @module
 */

/** A key or an index along a JSON path. */
export type PathStep = string | number;

/** One edit of a JSON document. */
export type Edit =
  | { readonly op: "set"; readonly path: readonly PathStep[]; readonly raw: string }
  | { readonly op: "delete"; readonly path: readonly PathStep[] }
  | { readonly op: "insert"; readonly path: readonly PathStep[]; readonly raw: string }
  | { readonly op: "dup"; readonly path: readonly PathStep[]; readonly raw: string };

class Raw {
  constructor(readonly text: string) {}
}

const DUPS = Symbol("dups");

type Node = unknown;
type Obj = Record<string, Node> & { [DUPS]?: [string, Raw][] };

function put(obj: Obj, key: string, v: Node): void {
  if (key === "__proto__") {
    Object.defineProperty(obj, key, {
      value: v,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else obj[key] = v;
}

// Containers copied by applyEdits; writeJson hands everything else to JSON.stringify whole.
const COPIED = new WeakSet<object>();

function copy(node: Node): Node {
  if (Array.isArray(node)) {
    const out = [...node];
    COPIED.add(out);
    return out;
  }
  if (typeof node === "object" && node !== null && !(node instanceof Raw)) {
    const out: Obj = {};
    for (const k of Object.keys(node)) put(out, k, (node as Obj)[k]);
    const d = (node as Obj)[DUPS];
    if (d !== undefined) out[DUPS] = [...d];
    COPIED.add(out);
    return out;
  }
  return node;
}

/**
 * Applies `edits` to `base` (not changed: containers on each edited path are copied).
 *
 * @param base a parsed JSON value
 * @param edits the edits, in order; a path that does not exist leaves the document as it was
 * @returns the edited document, for {@link writeJson}
 */
export function applyEdits(base: unknown, edits: readonly Edit[]): unknown {
  const root: Obj = { "": base };
  for (const e of edits) {
    let holder: Node = root;
    const path: PathStep[] = ["", ...e.path];
    let ok = true;
    for (let i = 0; i < path.length - 1; i++) {
      const h = holder as Obj;
      const k = path[i] as string;
      const next = h[k];
      if (typeof next !== "object" || next === null || next instanceof Raw) {
        ok = false;
        break;
      }
      const c = copy(next);
      if (Array.isArray(h)) (h as unknown[])[k as unknown as number] = c;
      else put(h, k, c);
      holder = c;
    }
    if (!ok) continue;
    const last = path[path.length - 1];
    if (Array.isArray(holder)) {
      const arr = holder as Node[];
      const i = last as number;
      if (e.op === "insert") arr.splice(i, 0, new Raw(e.raw));
      else if (i < 0 || i >= arr.length) continue;
      else if (e.op === "set") arr[i] = new Raw(e.raw);
      else if (e.op === "delete") arr.splice(i, 1);
    } else if (typeof holder === "object" && holder !== null) {
      const obj = holder as Obj;
      const k = String(last);
      if (e.op === "set" || e.op === "insert") put(obj, k, new Raw(e.raw));
      else if (e.op === "delete") delete obj[k];
      else if (e.op === "dup") obj[DUPS] = [...(obj[DUPS] ?? []), [k, new Raw(e.raw)]];
    }
  }
  return root[""];
}

/**
 * Writes a document from {@link applyEdits} as JSON text: raw values as written, a duplicated key
 * once with its extra value and once with its own.
 *
 * @param doc the document
 * @returns JSON text
 */
export function writeJson(doc: unknown): string {
  const parts: string[] = [];
  const walk = (n: Node): void => {
    if (n instanceof Raw) parts.push(n.text);
    else if (typeof n === "object" && n !== null && !COPIED.has(n)) parts.push(JSON.stringify(n));
    else if (Array.isArray(n)) {
      parts.push("[");
      n.forEach((x, i) => {
        if (i > 0) parts.push(",");
        walk(x);
      });
      parts.push("]");
    } else if (typeof n === "object" && n !== null) {
      parts.push("{");
      let first = true;
      const entry = (k: string, v: Node) => {
        if (!first) parts.push(",");
        first = false;
        parts.push(JSON.stringify(k), ":");
        walk(v);
      };
      for (const [k, v] of (n as Obj)[DUPS] ?? []) entry(k, v);
      for (const k of Object.keys(n)) entry(k, (n as Obj)[k]);
      parts.push("}");
    } else parts.push(JSON.stringify(n));
  };
  walk(doc);
  return parts.join("");
}
