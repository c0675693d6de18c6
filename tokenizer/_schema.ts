/**
 * A small schema checker in the shape of serde's derived readers, used to check a tokenizer.json
 * field by field as the Rust `tokenizers` library reads it: a {@link Spec} checks the value at
 * `holder[key]` and returns what is wrong, naming its JSON path (`model.vocab[12][1]`), or
 * undefined. Unknown keys are ignored, as serde does.
 *
 * @module
 */

/** What a check needs besides the value: whether a number was written as an integer. */
export interface SchemaContext {
  /** Whether `holder[key]` is a number written as an integer literal. */
  readonly isInteger: (holder: object, key: string | number) => boolean;
}

/** A JSON path, built lazily: the root is null. */
export type Path = { readonly parent: Path; readonly key: string | number } | null;

/** A JSON path as text: `model.vocab[12][1]`, `model.vocab["a b"]`. */
export function pathText(p: Path): string {
  if (p === null) return "";
  const head = pathText(p.parent);
  const k = p.key;
  if (typeof k === "number") return `${head}[${k}]`;
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) return head === "" ? k : `${head}.${k}`;
  return `${head}[${JSON.stringify(k)}]`;
}

/** A failed check: the JSON path, what was expected, and whether it is a missing feature. */
export interface SchemaError {
  readonly path: Path;
  readonly message: string;
  /** True when the value is well formed but names something we do not implement. */
  readonly unsupported?: boolean;
}

/** An object or array holding a value. */
export type Holder = Readonly<Record<string | number, unknown>>;

/** Checks `holder[key]`, found at `path`. */
export type Spec = (
  ctx: SchemaContext,
  holder: Holder,
  key: string | number,
  path: Path,
) => SchemaError | undefined;

/** Renders a JSON value briefly, for messages. */
export function brief(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === "object") return "an object";
  const s = typeof v === "string" ? JSON.stringify(v) : String(v);
  return `${typeof v} ${s.length > 40 ? s.slice(0, 40) + "…" : s}`;
}

const err = (path: Path, expected: string, got: unknown): SchemaError => ({
  path,
  message: `Expected ${expected}, got ${brief(got)}`,
});

/** A JSON path one key further. */
export const child = (path: Path, key: string | number): Path => ({ parent: path, key });

/** A string. */
export const str: Spec = (_c, h, k, p) =>
  typeof h[k] === "string" ? undefined : err(p, "a string", h[k]);

/** A string of exactly one Unicode character (Rust `char`). */
export const char: Spec = (_c, h, k, p) => {
  const v = h[k];
  return typeof v === "string" && [...v].length === 1
    ? undefined
    : err(p, "a string of one character", v);
};

/** A boolean. */
export const bool: Spec = (_c, h, k, p) =>
  typeof h[k] === "boolean" ? undefined : err(p, "true or false", h[k]);

/** A finite number (Rust f64; an integer literal is fine). */
export const f64: Spec = (_c, h, k, p) => {
  const v = h[k];
  return typeof v === "number" && Number.isFinite(v) ? undefined : err(p, "a finite number", v);
};

/**
 * A non-negative integer written as one (no `2.0`), at most `max`.
 *
 * @param max the largest value (u32: 2^32 − 1; usize fields: 2^53 − 1, all a JS number holds)
 */
export const uint = (max: number): Spec => (c, h, k, p) => {
  const v = h[k];
  return typeof v === "number" && Number.isInteger(v) && c.isInteger(h, k) && v >= 0 && v <= max
    ? undefined
    : err(p, `an integer in [0, ${max}]`, v);
};

/** Rust u32. */
export const u32: Spec = uint(2 ** 32 - 1);
/** Rust usize (within what a JS number holds exactly). */
export const usize: Spec = uint(Number.MAX_SAFE_INTEGER);

/** One of the given strings (a unit enum). */
export const oneOf = (names: readonly string[]): Spec => (_c, h, k, p) =>
  typeof h[k] === "string" && names.includes(h[k] as string)
    ? undefined
    : err(p, `one of ${names.map((n) => JSON.stringify(n)).join(", ")}`, h[k]);

/** An array whose every element passes `item`. */
export const arrayOf = (item: Spec): Spec => (c, h, k, p) => {
  const v = h[k];
  if (!Array.isArray(v)) return err(p, "an array", v);
  for (let i = 0; i < v.length; i++) {
    const e = item(c, v as unknown as Holder, i, child(p, i));
    if (e !== undefined) return e;
  }
  return undefined;
};

/** An array of exactly `items.length` elements, each passing its spec (a Rust tuple). */
export const tuple = (...items: readonly Spec[]): Spec => (c, h, k, p) => {
  const v = h[k];
  if (!Array.isArray(v) || v.length !== items.length) {
    return err(p, `an array of ${items.length}`, v);
  }
  for (let i = 0; i < items.length; i++) {
    const e = items[i](c, v as unknown as Holder, i, child(p, i));
    if (e !== undefined) return e;
  }
  return undefined;
};

/** An object whose every value passes `value` (a Rust map with string keys). */
export const mapOf = (value: Spec): Spec => (c, h, k, p) => {
  const v = h[k];
  if (!isObject(v)) return err(p, "an object", v);
  for (const key of Object.keys(v)) {
    const e = value(c, v, key, child(p, key));
    if (e !== undefined) return e;
  }
  return undefined;
};

/** How a struct field may be absent. */
export type Field =
  | { readonly need: "required"; readonly spec: Spec }
  | { readonly need: "optional"; readonly spec: Spec } // Option<T>: absent or null
  | { readonly need: "default"; readonly spec: Spec }; // #[serde(default)]: absent, not null

/** A field that must be present (not null). */
export const req = (spec: Spec): Field => ({ need: "required", spec });
/** An `Option<T>` field: absent or null, or a T. */
export const opt = (spec: Spec): Field => ({ need: "optional", spec });
/** A `#[serde(default)]` field: absent, or a T (null is refused). */
export const dflt = (spec: Spec): Field => ({ need: "default", spec });

/** A JSON object (not an array, not null). */
export function isObject(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** An object with the given fields (others are ignored), then `extra` on the whole. */
export const struct = (
  fields: Readonly<Record<string, Field>>,
  extra?: Spec,
): Spec =>
(c, h, k, p) => {
  const v = h[k];
  if (!isObject(v)) return err(p, "an object", v);
  for (const [name, f] of Object.entries(fields)) {
    const present = Object.hasOwn(v, name);
    if (!present) {
      if (f.need === "required") {
        return { path: child(p, name), message: `Missing field "${name}"` };
      }
      continue;
    }
    if (f.need === "optional" && v[name] === null) continue;
    const e = f.spec(c, v, name, child(p, name));
    if (e !== undefined) return e;
  }
  return extra === undefined ? undefined : extra(c, h, k, p);
};

/** A variant we know but do not implement. */
export const unsupportedVariant = (what: string): Spec => (_c, _h, _k, p) => ({
  path: p,
  message: `${what} is not supported`,
  unsupported: true,
});

/**
 * An object tagged by its `"type"`: the spec of that variant checks it.
 *
 * @param what what the object is, for messages ("normalizer")
 * @param variants the spec of each type we read
 */
export const tagged =
  (what: string, variants: Readonly<Record<string, Spec>>): Spec => (c, h, k, p) => {
    const v = h[k];
    if (!isObject(v)) return err(p, `a ${what} object`, v);
    const type = v.type;
    const names = Object.keys(variants);
    if (typeof type !== "string") {
      return {
        path: child(p, "type"),
        message: `Expected the ${what}'s "type" (a string), got ${brief(type)}`,
      };
    }
    if (!Object.hasOwn(variants, type)) {
      return {
        path: child(p, "type"),
        message: `Unknown ${what} type ${JSON.stringify(type)}; expected one of ${
          names.join(", ")
        }`,
      };
    }
    return variants[type](c, h, k, p);
  };

/** An externally tagged enum with one newtype variant of each name: `{"String": "x"}`. */
export const externallyTagged =
  (variants: Readonly<Record<string, Spec>>): Spec => (c, h, k, p) => {
    const v = h[k];
    const keys = isObject(v) ? Object.keys(v) : [];
    if (!isObject(v) || keys.length !== 1 || !Object.hasOwn(variants, keys[0])) {
      return err(
        p,
        `an object with one key, one of ${Object.keys(variants).join(", ")}`,
        v,
      );
    }
    return variants[keys[0]](c, v, keys[0], child(p, keys[0]));
  };

/** Both specs, in order. */
export const both = (a: Spec, b: Spec): Spec => (c, h, k, p) => a(c, h, k, p) ?? b(c, h, k, p);

/** Runs `spec` on a whole document. */
export function checkRoot(spec: Spec, ctx: SchemaContext, value: unknown): SchemaError | undefined {
  return spec(ctx, { "": value }, "", null);
}
