/**
 * T5X checkpoints, the original implementation's native format: a directory `checkpoint_<step>/`
 * holding a msgpack file `checkpoint` (flax's encoding of the train state) and one zarr array
 * directory per large parameter.
 *
 * The msgpack file holds `{"version": 3, "optimizer": {"target": params, "state": {"step": …,
 * "param_states": …}}}`. Small parameters are stored inline (see `_msgpack.ts`); a large one is
 * replaced by a TensorStore spec, `{"driver": "zarr", "kvstore": {"driver": "file", "path":
 * "target.encoder.layers_0.attention.query.kernel"}, "metadata": {…}}`, whose path is relative to
 * the checkpoint directory. Only the parameters (`target`) are listed and read; the optimizer's
 * state is skipped, but for its step.
 *
 * @module
 */
import { ExtData } from "@msgpack/msgpack";
import * as E from "fp-ts/Either";
import { dirname, join } from "node:path";
import { type Problem, problem, shownValue } from "../../problem.ts";
import { decodeData } from "../../io/bytes.ts";
import { itemSize } from "../../io/dtype.ts";
import { fsProblem, pathText, readFileCapped } from "../../io/files.ts";
import { type HostTensor, hostTensor, sizeOf, type TensorEntry } from "../../io/host_tensor.ts";
import type { TensorSource } from "../../io/tensor_source.ts";
import {
  asExtension,
  CHUNKED_ARRAY_KEY,
  decodeFlaxMsgpack,
  type InlineArray,
  unchunkArray,
} from "./_msgpack.ts";
import { readZarrArray, readZarray, type ZarrLimits, type ZarrMeta } from "./zarr.ts";

/**
 * The largest `checkpoint` msgpack file read unless told otherwise: 1 GiB.
 *
 * @example
 * ```ts
 * import { readT5xCheckpoint, T5X_MAX_CHECKPOINT_BYTES } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * assert(T5X_MAX_CHECKPOINT_BYTES === 1024 ** 3);
 * // A checkpoint with very large inline parameters may need a higher limit.
 * const r = await readT5xCheckpoint("no/such/checkpoint_1", { maxCheckpointBytes: 2 * T5X_MAX_CHECKPOINT_BYTES });
 * assert(r._tag === "Left" && r.left._tag === "NotFound");
 * ```
 */
export const T5X_MAX_CHECKPOINT_BYTES = 2 ** 30;

/**
 * Options for {@link readT5xCheckpoint}: size limits for untrusted files.
 *
 * @example
 * ```ts
 * import { readT5xCheckpoint, type ReadT5xOptions } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/checkpoint`, new Uint8Array(64));
 * const options: ReadT5xOptions = { maxCheckpointBytes: 32, maxArrayBytes: 2 ** 20 };
 * const r = await readT5xCheckpoint(dir, options);
 * assert(r._tag === "Left" && r.left._tag === "TooLarge");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface ReadT5xOptions extends ZarrLimits {
  /** The largest `checkpoint` msgpack file, in bytes (default {@link T5X_MAX_CHECKPOINT_BYTES}). */
  readonly maxCheckpointBytes?: number;
}

/**
 * An opened T5X checkpoint: the parameters' names (the `/`-joined paths of the `target` subtree,
 * such as `encoder/layers_0/attention/query/kernel`), dtypes and shapes, read one at a time.
 *
 * @example
 * ```ts
 * import { readT5xCheckpoint, type T5xCheckpoint } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const dir = new URL("../../tests/data/prompt-tuning/test_data/test_t5_1_1_tiny/checkpoint_3/", import.meta.url);
 * const r = await readT5xCheckpoint(dir);
 * if (r._tag === "Right") {
 *   const ckpt: T5xCheckpoint = r.right;
 *   const query = ckpt.entries.find((e) => e.name === "encoder/layers_0/attention/query/kernel");
 *   assert(ckpt.step === 3 && ckpt.dir.includes("checkpoint_3") && query?.shape.length === 2);
 *   ckpt.close();
 * }
 * ```
 */
export interface T5xCheckpoint extends TensorSource {
  /** The checkpoint directory. */
  readonly dir: string;
  /** The training step saved with it, when the optimizer state records one. */
  readonly step?: number;
  /** The T5X checkpoint format version, when recorded. */
  readonly version?: number;
}

type Stored =
  | { readonly kind: "inline"; readonly array: InlineArray }
  | { readonly kind: "zarr"; readonly dir: string; readonly meta: ZarrMeta };

interface SpecRef {
  readonly name: string;
  readonly path: string;
  readonly dtype?: unknown;
  readonly shape?: unknown;
}

type Map_ = Readonly<Record<string, unknown>>;

/** A msgpack map, decoded as a plain object (not a list, bytes, extension or timestamp). */
const isMap = (x: unknown): x is Map_ =>
  typeof x === "object" && x !== null && Object.getPrototypeOf(x) === Object.prototype &&
  asExtension(x) === undefined;

function describe(x: unknown): string {
  if (Array.isArray(x)) return "a list";
  if (x instanceof Uint8Array) return "a byte string";
  if (x instanceof ExtData) return `msgpack extension type ${x.type}`;
  if (x instanceof Date) return "a timestamp";
  return `a ${typeof x}`;
}

/** A key that can be one step of a `/`-joined name (and never walks out of a directory). */
function badKey(key: string): boolean {
  return key === "" || key === "." || key === ".." || /[/\\\0]/.test(key);
}

/** The relative path of a TensorStore spec, checked: no absolute path, no `..`, no `\`. */
function specPath(spec: Map_): E.Either<string, string> {
  const kv = spec.kvstore;
  const raw = isMap(kv) && typeof kv.path === "string"
    ? kv.path
    : typeof spec.path === "string"
    ? spec.path
    : undefined;
  if (raw === undefined) return E.left("TensorStore spec has no kvstore path");
  // TensorStore may normalize a directory path to end in "/".
  const rel = raw.endsWith("/") ? raw.slice(0, -1) : raw;
  if (rel === "" || rel.split("/").some(badKey)) {
    return E.left(
      `TensorStore path ${
        shownValue(raw)
      } is refused; expected a relative path inside the checkpoint directory, without '..'`,
    );
  }
  return E.right(rel);
}

interface Found {
  readonly inline: [string, InlineArray][];
  readonly specs: SpecRef[];
}

/** Walks the `target` subtree, collecting its leaves; stops at the first malformed one. */
function collect(node: Map_, prefix: string, where: string, found: Found): Problem | undefined {
  for (const key of Object.keys(node).sort()) {
    const name = prefix === "" ? key : `${prefix}/${key}`;
    if (badKey(key)) {
      return problem(
        "Corrupt",
        where,
        `Parameter name ${
          shownValue(name)
        } is refused; names must be non-empty, contain no '/', '\\' or NUL and not be '.' or '..'`,
      );
    }
    const v = node[key];
    const ext = asExtension(v);
    if (ext?.kind === "inline") {
      found.inline.push([name, ext]);
    } else if (ext) {
      return problem(ext.tag, where, `Parameter '${name}': ${ext.reason}`);
    } else if (isMap(v) && Object.hasOwn(v, CHUNKED_ARRAY_KEY)) {
      const joined = unchunkArray(v);
      if (E.isLeft(joined)) return problem("Corrupt", where, `Parameter '${name}': ${joined.left}`);
      found.inline.push([name, joined.right]);
    } else if (isMap(v) && Object.hasOwn(v, "driver") && Object.hasOwn(v, "kvstore")) {
      if (v.driver !== "zarr") {
        return problem(
          "Unsupported",
          where,
          `Parameter '${name}' is stored with TensorStore driver ${
            shownValue(v.driver)
          }; expected zarr`,
        );
      }
      const path = specPath(v);
      if (E.isLeft(path)) return problem("Corrupt", where, `Parameter '${name}': ${path.left}`);
      const meta = isMap(v.metadata) ? v.metadata : {};
      found.specs.push({ name, path: path.right, dtype: v.dtype, shape: meta.shape });
    } else if (isMap(v)) {
      const p = collect(v, name, where, found);
      if (p) return p;
    } else if (v !== null) {
      return problem(
        "Corrupt",
        where,
        `Parameter '${name}' is ${describe(v)}; expected an array, a TensorStore spec or a map`,
      );
    }
  }
  return undefined;
}

/** Opens one spec's zarr array and checks it against what the msgpack file says of it. */
async function openSpec(
  dir: string,
  spec: SpecRef,
  limits: ZarrLimits,
): Promise<E.Either<Problem, Stored>> {
  const arrayDir = join(dir, spec.path);
  const meta = await readZarray(arrayDir, limits);
  if (E.isLeft(meta)) {
    if (meta.left._tag !== "NotFound") return meta;
    return E.left(
      problem(
        "NotFound",
        arrayDir,
        `No zarr array (.zarray) for parameter '${spec.name}'; the checkpoint is incomplete`,
      ),
    );
  }
  const m = meta.right;
  const shapeOk = spec.shape === undefined ||
    (Array.isArray(spec.shape) && spec.shape.length === m.shape.length &&
      spec.shape.every((d, k) => d === m.shape[k]));
  const dtypeOk = spec.dtype === undefined || spec.dtype === m.dtype;
  if (!shapeOk || !dtypeOk) {
    const said = `${shownValue(spec.dtype ?? m.dtype)} ${shownValue(spec.shape ?? m.shape)}`;
    return E.left(
      problem(
        "Mismatch",
        arrayDir,
        `Zarr array is ${m.dtype} [${m.shape}] but the checkpoint file says ${said} for '${spec.name}'`,
      ),
    );
  }
  return E.right({ kind: "zarr", dir: arrayDir, meta: m });
}

/** A whole number from a scalar array or a plain number, if it is one. */
/**
 * The zarr arrays of parameters (`target.*` directories holding a `.zarray`) in `root` that no
 * spec of the checkpoint file names: a layer or head dropped from the file, which would otherwise
 * load as a smaller model.
 */
async function unlistedArrays(
  root: string,
  specs: readonly SpecRef[],
): Promise<E.Either<Problem, readonly string[]>> {
  const listed = new Set(specs.map((s) => s.path.replace(/\/+$/, "")));
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(root)) {
      if (!e.isDirectory || !e.name.startsWith("target.") || listed.has(e.name)) continue;
      try {
        if ((await Deno.stat(join(root, e.name, ".zarray"))).isFile) out.push(e.name);
      } catch {
        // not a zarr array: not a parameter
      }
    }
  } catch (e) {
    return E.left(fsProblem(e, root, "list the checkpoint directory"));
  }
  return E.right(out.sort());
}

function scalarNumber(x: unknown): number | undefined {
  if (typeof x === "number" && Number.isSafeInteger(x)) return x;
  const a = asExtension(x);
  if (a?.kind !== "inline" || sizeOf(a.shape) !== 1) return undefined;
  const data = decodeData(a.dtype, a.bytes, 1, itemSize(a.dtype), true);
  const v = Number(data[0]);
  return Number.isSafeInteger(v) ? v : undefined;
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Opens a T5X checkpoint directory: decodes its `checkpoint` msgpack file, finds the parameters
 * (`optimizer/target`), and checks every zarr array's `.zarray` against the file. Data is read
 * later, one parameter at a time, by `read(name)`.
 *
 * Untrusted input: the msgpack file, each `.zarray` and each chunk are size-limited, names and
 * paths that could leave the directory are refused, every chunk must decompress to exactly its
 * size and pass its checksum.
 *
 * @param dir the checkpoint directory (`…/checkpoint_<step>/`), or its `checkpoint` file
 * @param options size limits (see {@link ReadT5xOptions})
 * @returns the checkpoint, or a one-line problem: `NotFound` (no such directory, no `checkpoint`
 * file, a missing zarr array), `Corrupt` (bad msgpack, bad `.zarray`, a refused name), `Unsupported`,
 * `Mismatch`, `TooLarge`
 * @example
 * ```ts
 * import { readT5xCheckpoint } from "./checkpoint.ts";
 * import assert from "node:assert/strict";
 * const dir = new URL("../../tests/data/prompt-tuning/test_data/test_t5_1_1_tiny/checkpoint_3/", import.meta.url);
 * const ckpt = await readT5xCheckpoint(dir);
 * if (ckpt._tag === "Right") {
 *   assert(ckpt.right.step === 3);
 *   const emb = await ckpt.right.read("token_embedder/embedding");
 *   assert(emb._tag === "Right" && emb.right.shape[0] === 32128);
 * }
 * const empty = await Deno.makeTempDir();
 * assert((await readT5xCheckpoint(empty))._tag === "Left");
 * await Deno.remove(empty);
 * ```
 */
export async function readT5xCheckpoint(
  dir: string | URL,
  options: ReadT5xOptions = {},
): Promise<E.Either<Problem, T5xCheckpoint>> {
  let root = pathText(dir);
  try {
    // The `checkpoint` file itself may be given in place of its directory, as T5X allows.
    if ((await Deno.stat(root)).isFile) root = dirname(root);
  } catch (e) {
    const p = fsProblem(e, root, "open the checkpoint directory");
    return E.left(p._tag === "NotFound" ? problem("NotFound", root, "No such directory") : p);
  }
  const file = join(root, "checkpoint");
  const bytes = await readFileCapped(
    file,
    options.maxCheckpointBytes ?? T5X_MAX_CHECKPOINT_BYTES,
    "a T5X checkpoint file",
  );
  if (E.isLeft(bytes)) {
    if (bytes.left._tag !== "NotFound") return bytes;
    return E.left(
      problem(
        "NotFound",
        root,
        "No 'checkpoint' file; expected a T5X checkpoint directory holding the msgpack file 'checkpoint' and its zarr arrays",
      ),
    );
  }
  const decoded = decodeFlaxMsgpack(bytes.right, file);
  if (E.isLeft(decoded)) return decoded;
  const top = decoded.right;
  const optimizer = isMap(top) ? top.optimizer : undefined;
  const target = isMap(optimizer) ? optimizer.target : isMap(top) ? top.target : undefined;
  if (!isMap(target)) {
    return E.left(
      problem(
        "Corrupt",
        file,
        "No 'optimizer/target' map of parameters; expected a T5X train-state checkpoint",
      ),
    );
  }
  const found: Found = { inline: [], specs: [] };
  const bad = collect(target, "", file, found);
  if (bad) return E.left(bad);
  const stored = new Map<string, Stored>();
  for (const [name, array] of found.inline) {
    // Copy out of the file's buffer, so the rest of it (the optimizer state) can be freed.
    stored.set(name, { kind: "inline", array: { ...array, bytes: array.bytes.slice() } });
  }
  const opened = await Promise.all(found.specs.map((s) => openSpec(root, s, options)));
  for (let i = 0; i < opened.length; i++) {
    const o = opened[i];
    if (E.isLeft(o)) return o;
    stored.set(found.specs[i].name, o.right);
  }
  const unlisted = await unlistedArrays(root, found.specs);
  if (E.isLeft(unlisted)) return unlisted;
  if (unlisted.right.length > 0) {
    const n = unlisted.right.length;
    return E.left(
      problem(
        "Mismatch",
        file,
        `The directory holds parameter arrays the checkpoint file does not list: ${
          unlisted.right.slice(0, 4).join(", ")
        }${n > 4 ? `, … (${n} in all)` : ""}; expected the file to list every target.* array`,
      ),
    );
  }
  const names = [...stored.keys()].sort();
  const entries: TensorEntry[] = names.map((name) => {
    const s = stored.get(name)!;
    const { dtype, shape } = s.kind === "inline" ? s.array : s.meta;
    return Object.freeze({ name, dtype, shape });
  });
  const state = isMap(optimizer) && isMap(optimizer.state) ? optimizer.state : undefined;
  const step = scalarNumber(state?.step);
  const version = isMap(top) ? scalarNumber(top.version) : undefined;
  return E.right(Object.freeze({
    dir: root,
    entries: Object.freeze(entries),
    ...(step === undefined ? {} : { step }),
    ...(version === undefined ? {} : { version }),
    read(name: string): Promise<E.Either<Problem, HostTensor>> {
      const s = stored.get(name);
      if (!s) {
        return Promise.resolve(
          E.left(problem("NotFound", root, `No parameter named '${name}' in the T5X checkpoint`)),
        );
      }
      if (s.kind === "zarr") return readZarrArray(s.dir, s.meta, options);
      const { dtype, shape, bytes } = s.array;
      const n = sizeOf(shape);
      return Promise.resolve(
        E.right(hostTensor(dtype, shape, decodeData(dtype, bytes, n, itemSize(dtype), true))),
      );
    },
    close() {},
  }));
}
