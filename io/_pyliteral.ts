/**
 * A strict parser for the Python literals an `.npy` header holds: dicts, tuples, lists, strings,
 * integers, `True`, `False` and `None`. Nothing is evaluated; anything else is an error.
 *
 * @module
 */

/** A parsed Python literal. */
export type PyValue =
  | { readonly kind: "str"; readonly value: string }
  | { readonly kind: "int"; readonly value: bigint }
  | { readonly kind: "bool"; readonly value: boolean }
  | { readonly kind: "none" }
  | { readonly kind: "tuple"; readonly items: readonly PyValue[] }
  | { readonly kind: "list"; readonly items: readonly PyValue[] }
  | { readonly kind: "dict"; readonly entries: ReadonlyMap<string, PyValue> };

/** Thrown inside the parser; {@link parsePyLiteral} turns it into a message. */
class SyntaxFail extends Error {}

// Structured dtypes nest; a header is at most a few levels deep, so a small cap keeps a hostile
// header from exhausting the stack.
const MAX_DEPTH = 32;

/**
 * Parses one Python literal filling the whole text (surrounding whitespace allowed).
 *
 * @returns the value, or a message saying what was wrong and at which character
 */
export function parsePyLiteral(
  text: string,
): { ok: true; value: PyValue } | { ok: false; error: string } {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxFail(`${what} at character ${i}`);
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const value = (depth: number): PyValue => {
    if (depth > MAX_DEPTH) fail(`Nesting deeper than ${MAX_DEPTH} levels`);
    ws();
    const c = text[i];
    if (c === undefined) return fail("Unexpected end of text");
    if (c === "{") return dict(depth);
    if (c === "(") return seq(depth, ")", "tuple");
    if (c === "[") return seq(depth, "]", "list");
    if (c === "'" || c === '"') return { kind: "str", value: str() };
    if (c === "-" || (c >= "0" && c <= "9")) return int();
    for (const [word, v] of WORDS) {
      if (text.startsWith(word, i) && !/[A-Za-z0-9_]/.test(text[i + word.length] ?? "")) {
        i += word.length;
        return v;
      }
    }
    return fail(`Unexpected ${JSON.stringify(c)}`);
  };
  const dict = (depth: number): PyValue => {
    i++; // {
    const entries = new Map<string, PyValue>();
    for (;;) {
      ws();
      if (text[i] === "}") {
        i++;
        return { kind: "dict", entries };
      }
      const c = text[i];
      if (c !== "'" && c !== '"') fail("Expected a string key");
      const key = str();
      if (entries.has(key)) fail(`Duplicate key '${key}'`);
      ws();
      if (text[i] !== ":") fail("Expected ':'");
      i++;
      entries.set(key, value(depth + 1));
      ws();
      if (text[i] === ",") i++;
      else if (text[i] !== "}") fail("Expected ',' or '}'");
    }
  };
  const seq = (depth: number, close: string, kind: "tuple" | "list"): PyValue => {
    i++; // ( or [
    const items: PyValue[] = [];
    let comma = false; // a 1-tuple needs its trailing comma: (5,)
    for (;;) {
      ws();
      if (text[i] === close) {
        i++;
        if (kind === "tuple" && items.length === 1 && !comma) {
          // `(5)` is the integer 5 in Python, not a tuple.
          return items[0];
        }
        return { kind, items };
      }
      items.push(value(depth + 1));
      ws();
      comma = false;
      if (text[i] === ",") {
        i++;
        comma = true;
      } else if (text[i] !== close) fail(`Expected ',' or '${close}'`);
    }
  };
  const str = (): string => {
    const q = text[i++];
    let out = "";
    for (;;) {
      const c = text[i++];
      if (c === undefined || c === "\n") fail("Unterminated string");
      if (c === q) return out;
      if (c !== "\\") {
        out += c;
        continue;
      }
      const e = text[i++];
      const simple: Record<string, string> = {
        "\\": "\\",
        "'": "'",
        '"': '"',
        n: "\n",
        t: "\t",
        r: "\r",
        "0": "\0",
      };
      if (e !== undefined && Object.hasOwn(simple, e)) out += simple[e];
      else if (e === "x" || e === "u") {
        const len = e === "x" ? 2 : 4;
        const hex = text.slice(i, i + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) fail(`Bad \\${e} escape`);
        out += String.fromCharCode(parseInt(hex, 16));
        i += len;
      } else fail(`Unsupported escape '\\${e ?? ""}'`);
    }
  };
  const int = (): PyValue => {
    const m = /^-?[0-9]+L?/.exec(text.slice(i, i + 400)); // Python 2 wrote longs as 100L
    if (!m || m[0] === "-") return fail("Expected an integer");
    i += m[0].length;
    if (/[.eEjx_]/.test(text[i] ?? "")) fail("Expected an integer (floats are not allowed)");
    return { kind: "int", value: BigInt(m[0].replace("L", "")) };
  };
  try {
    const v = value(0);
    ws();
    if (i !== text.length) fail("Unexpected text after the literal");
    return { ok: true, value: v };
  } catch (e) {
    if (e instanceof SyntaxFail) return { ok: false, error: e.message };
    throw e;
  }
}

const WORDS: readonly (readonly [string, PyValue])[] = [
  ["True", { kind: "bool", value: true }],
  ["False", { kind: "bool", value: false }],
  ["None", { kind: "none" }],
];
