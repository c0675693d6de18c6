/**
 * A JSON reader that keeps what `JSON.parse` forgets and the Rust `tokenizers` library (serde_json)
 * minds: whether a number was written as an integer (`2`, not `2.0`, `2e0` or `-0`), numbers beyond
 * a float64 (`1e400`), keys written twice in one object, and lone UTF-16 surrogates in `\u`
 * escapes. Input is untrusted: nesting is
 * capped, and `__proto__` is an ordinary key (an own property, never the prototype).
 *
 * @module
 */
import * as E from "fp-ts/Either";

/** A parsed JSON value, with what the reader noticed on the way. */
export interface StrictJson {
  /** The value, as `JSON.parse` would give it (`__proto__` an own property). */
  readonly value: unknown;
  /** Whether `holder[key]` is a number written as an integer literal. */
  readonly isIntegerLiteral: (holder: object, key: string | number) => boolean;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/** The deepest nesting read; real tokenizer.json files nest about 6 deep. */
export const MAX_JSON_DEPTH = 128;

/**
 * Whether a number taken from a plain JS value (no literal known) counts as an integer.
 *
 * @param holder the object or array holding the number
 * @param key its key or index
 * @returns true when the value is an integral number
 */
export const integerValued = (holder: object, key: string | number): boolean =>
  Number.isInteger((holder as Record<string | number, unknown>)[key]);

/**
 * Parses `text` strictly.
 *
 * @param text the JSON text
 * @returns the value and what was noticed, or a message saying what is wrong and where (a
 *   character offset, or the path of a duplicated key)
 */
export function parseStrictJson(text: string): E.Either<string, StrictJson> {
  const floats = new WeakMap<object, Set<string | number>>();
  let at = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at character ${at}`);
  };
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(at);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) at++;
      else return;
    }
  };
  const markFloat = (holder: object, key: string | number) => {
    const s = floats.get(holder);
    if (s === undefined) floats.set(holder, new Set([key]));
    else s.add(key);
  };
  const str = (): string => {
    at++; // opening quote
    let out = "";
    let start = at;
    for (;;) {
      const c = text.charCodeAt(at);
      if (Number.isNaN(c)) fail("Unterminated string");
      if (c === 0x22) {
        out += text.slice(start, at);
        at++;
        return out;
      }
      if (c < 0x20) fail("Control character in a string");
      if (c === 0x5c) {
        out += text.slice(start, at);
        const e = text[at + 1];
        at += 2;
        if (e === "u") {
          const unit = hex4();
          if (unit >= 0xd800 && unit <= 0xdbff) {
            if (text[at] !== "\\" || text[at + 1] !== "u") fail("Lone surrogate in a \\u escape");
            at += 2;
            const low = hex4();
            if (low < 0xdc00 || low > 0xdfff) fail("Lone surrogate in a \\u escape");
            out += String.fromCharCode(unit, low);
          } else if (unit >= 0xdc00 && unit <= 0xdfff) {
            fail("Lone surrogate in a \\u escape");
          } else out += String.fromCharCode(unit);
        } else if (e !== undefined && Object.hasOwn(ESCAPES, e)) out += ESCAPES[e];
        else fail("Bad escape in a string");
        start = at;
      } else if (c >= 0xd800 && c <= 0xdfff) {
        // Raw surrogates come from the decoder only in pairs (it replaces lone ones).
        at++;
      } else at++;
    }
  };
  const hex4 = (): number => {
    const h = text.slice(at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) fail("Bad \\u escape");
    at += 4;
    return parseInt(h, 16);
  };
  const num = (holder: object, key: string | number): number => {
    NUMBER.lastIndex = at;
    const r = NUMBER.exec(text);
    if (r === null) fail("Unexpected character");
    const lit = r![0];
    at += lit.length;
    if (r![1] !== undefined || r![2] !== undefined || lit === "-0") markFloat(holder, key);
    const n = Number(lit);
    // serde_json refuses a number beyond f64 wherever it is, even in a field it ignores.
    if (!Number.isFinite(n)) fail("Number out of range");
    return n;
  };
  const word = (w: string, v: unknown): unknown => {
    if (text.startsWith(w, at)) {
      at += w.length;
      return v;
    }
    return fail("Unexpected character");
  };
  const value = (holder: object, key: string | number, depth: number): unknown => {
    ws();
    const c = text[at];
    if (c === "{") {
      if (depth >= MAX_JSON_DEPTH) fail(`Nesting deeper than ${MAX_JSON_DEPTH}`);
      at++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text[at] === "}") {
        at++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[at] !== '"') fail("Expected a string key");
        const k = str();
        if (Object.hasOwn(obj, k)) fail(`Key ${JSON.stringify(k)} written twice in one object`);
        ws();
        if (text[at] !== ":") fail("Expected ':'");
        at++;
        const v = value(obj, k, depth + 1);
        // As JSON.parse does: "__proto__" becomes an own property, never the prototype.
        if (k === "__proto__") {
          Object.defineProperty(obj, k, {
            value: v,
            writable: true,
            enumerable: true,
            configurable: true,
          });
        } else obj[k] = v;
        ws();
        if (text[at] === ",") at++;
        else if (text[at] === "}") {
          at++;
          return obj;
        } else fail("Expected ',' or '}'");
      }
    }
    if (c === "[") {
      if (depth >= MAX_JSON_DEPTH) fail(`Nesting deeper than ${MAX_JSON_DEPTH}`);
      at++;
      const arr: unknown[] = [];
      ws();
      if (text[at] === "]") {
        at++;
        return arr;
      }
      for (;;) {
        arr.push(value(arr, arr.length, depth + 1));
        ws();
        if (text[at] === ",") at++;
        else if (text[at] === "]") {
          at++;
          return arr;
        } else fail("Expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (c === "t") return word("true", true);
    if (c === "f") return word("false", false);
    if (c === "n") return word("null", null);
    return num(holder, key);
  };
  try {
    const root = { "": undefined as unknown };
    const v = value(root, "", 0);
    ws();
    if (at !== text.length) fail("Unexpected text after the value");
    return E.right({
      value: v,
      isIntegerLiteral: (holder, key) =>
        typeof (holder as Record<string | number, unknown>)[key] === "number" &&
        !(floats.get(holder)?.has(key) ?? false),
    });
  } catch (e) {
    return E.left(e instanceof Error ? e.message : String(e));
  }
}
