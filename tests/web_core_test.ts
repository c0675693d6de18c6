/**
 * The Deno-free core (`web.ts`, the entry a browser bundle starts from): no module it imports,
 * however indirectly, uses `Deno.*` or a `node:` built-in; and its loaders (bytes in memory, or
 * `fetch` from a server on 127.0.0.1) give the same tensors and token ids as the Deno loaders
 * (paths on disk) for the same files.
 *
 * @module
 */
import assert from "node:assert/strict";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../backend.ts";
import { loadModel } from "../model/load.ts";
import { loadTokenizer } from "../tokenizer/load.ts";
import { readNpy, writeNpy } from "../io/npy.ts";
import { openSafetensors, openSafetensorsIndex, writeSafetensors } from "../io/safetensors.ts";
import { hostTensor } from "../io/host_tensor.ts";
import { orThrow } from "../problem.ts";
import { disposeTree, flatten, type ParamTree } from "../tree/tree.ts";
import {
  bytesFileSet,
  embeddedModelUrl,
  fetchFileSet,
  type FileSet,
  loadEmbedded,
  loadHuggingFaceFiles,
  openSafetensorsFrom,
  openSafetensorsIndexIn,
  parseNpy,
  tokenizerFromFiles,
} from "../web.ts";

await initBackend("cpu");

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The entry points of the core: what a browser bundle may import. */
const CORE_ENTRIES = ["web.ts"];

/** A module's code without its comments (doc examples may use Deno; the code may not). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

interface InfoModule {
  readonly specifier: string;
  readonly dependencies?: readonly { readonly specifier: string }[];
}

Deno.test("no module the core imports uses Deno.* or a node: built-in", async () => {
  for (const entry of CORE_ENTRIES) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const modules: InfoModule[] = JSON.parse(new TextDecoder().decode(out.stdout)).modules;
    const local = modules.filter((m) => m.specifier.startsWith("file://"));
    // The graph is the whole core, not a stub: models, tokenizer, training, rank scoring, decoding.
    const names = local.map((m) => m.specifier.slice(new URL(ROOT, "file://").href.length));
    for (
      const needed of [
        "backend.ts",
        "model/t5/apply.ts",
        "model/load_files.ts",
        "tokenizer/hf.ts",
        "training/steps.ts",
        "training/optim/adafactor.ts",
        "eval/rank.ts",
        "decode/decode.ts",
        "io/safetensors_read.ts",
      ]
    ) assert.ok(names.includes(needed), `${entry} does not reach ${needed}`);
    const usingDeno: string[] = [];
    for (const m of local) {
      const text = await Deno.readTextFile(new URL(m.specifier));
      if (/\bDeno\./.test(code(text))) usingDeno.push(m.specifier);
    }
    assert.deepEqual(usingDeno, [], `${entry} reaches modules that use Deno.*`);
    const builtins = local.flatMap((m) =>
      (m.dependencies ?? []).filter((d) => d.specifier.startsWith("node:")).map((d) =>
        `${m.specifier} imports ${d.specifier}`
      )
    );
    assert.deepEqual(builtins, [], `${entry} reaches node: built-ins, which browsers lack`);
  }
});

Deno.test("the comment-stripping grep sees Deno.* in code and not in doc comments", () => {
  assert.ok(/\bDeno\./.test(code("const x = 1;\nawait Deno.stat(p);\n")));
  assert.ok(
    !/\bDeno\./.test(code("/**\n * await Deno.stat(p);\n */\n// Deno.exit()\nconst x = 1;")),
  );
});

const TYPES: Readonly<Record<string, string>> = { ".json": "application/json" };

/** Serves a folder read-only on 127.0.0.1 (a free port), answering GET and HEAD. */
function serve(root: string): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    if (path.split("/").includes("..")) return new Response("Bad path", { status: 400 });
    try {
      const bytes = await Deno.readFile(join(root, path));
      const headers = { "content-type": TYPES[extname(path)] ?? "application/octet-stream" };
      return new Response(req.method === "HEAD" ? null : bytes, { headers });
    } catch {
      return new Response("Not found", { status: 404 });
    }
  });
}

/** Runs `f` with a server on `root` and the base URL it answers at. */
async function served(root: string, f: (base: string) => Promise<void>): Promise<void> {
  const server = serve(root);
  try {
    await f(`http://127.0.0.1:${server.addr.port}/`);
  } finally {
    await server.shutdown();
  }
}

/** A folder's files read into memory, as a page gets them from a file picker. */
async function inMemory(dir: string): Promise<FileSet> {
  const files = new Map<string, Uint8Array>();
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile) files.set(e.name, await Deno.readFile(join(dir, e.name)));
  }
  return bytesFileSet(files, dir);
}

/** Every leaf's path, dtype, shape and values. */
function leaves(tree: ParamTree): [string, string, number[], number[]][] {
  return flatten(tree).map(([path, t]) => [path, t.dtype, t.shape, Array.from(t.dataSync())]);
}

const MODELS = ["t5_v1_1", "gpt2_tiny", "llama_gqa", "qwen2_gqa"];

Deno.test("Hugging Face checkpoints load to the same tensors from disk, from bytes and by fetch", async () => {
  const before = tf.memory().numTensors;
  await served(ROOT, async (base) => {
    for (const name of MODELS) {
      const dir = join(ROOT, "tests/fixtures/models", name);
      const fromDisk = orThrow(await loadModel(dir));
      const fromBytes = orThrow(await loadHuggingFaceFiles(await inMemory(dir)));
      const url = new URL(`tests/fixtures/models/${name}/`, base);
      const fromFetch = orThrow(await loadHuggingFaceFiles(fetchFileSet(url)));
      try {
        const expected = leaves(fromDisk.params);
        assert.ok(expected.length > 5, name);
        assert.deepEqual(leaves(fromBytes.params), expected, `${name} from bytes`);
        assert.deepEqual(leaves(fromFetch.params), expected, `${name} by fetch`);
        assert.deepEqual(fromFetch.config, fromDisk.config, name);
        assert.deepEqual(fromFetch.generation, fromDisk.generation, name);
        assert.equal(fromFetch.architecture, fromDisk.architecture);
      } finally {
        [fromDisk, fromBytes, fromFetch].forEach((m) => disposeTree(m.params));
      }
    }
  });
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("the embedded model loads the same by fetch (file: and http:) as from its folder", async () => {
  const before = tf.memory().numTensors;
  const dir = fileURLToPath(embeddedModelUrl("default")!);
  const fromDisk = orThrow(await loadModel(dir));
  const tokenizer = orThrow(await loadTokenizer(dir));
  const expected = leaves(fromDisk.params);
  disposeTree(fromDisk.params);
  const text = "Subject: cheap meds, order today! Reply to unsubscribe.";
  const check = (loaded: Awaited<ReturnType<typeof loadEmbedded>>, how: string) => {
    const { model, tokenizer: t } = orThrow(loaded);
    try {
      assert.deepEqual(leaves(model.params), expected, how);
      assert.deepEqual(t.encodeWithSpecial(text), tokenizer.encodeWithSpecial(text), how);
      assert.equal(t.vocabSize, tokenizer.vocabSize);
    } finally {
      disposeTree(model.params);
    }
  };
  check(await loadEmbedded("default"), "file: URL beside the module");
  await served(ROOT, async (base) => {
    check(await loadEmbedded("lm_adapted", { root: new URL(base) }), "http: root");
  });
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("tokenizers read the same ids from disk, from bytes and by fetch", async () => {
  const texts = ["Hello world", "  spaced\tout  ", "naïve café ½ — ok", "<extra_id_0> x"];
  await served(ROOT, async (base) => {
    for (const name of ["t5", "llama"]) {
      const dir = join(ROOT, "tests/fixtures/tokenizers", name);
      const disk = orThrow(await loadTokenizer(dir));
      const bytes = orThrow(await tokenizerFromFiles(await inMemory(dir)));
      const url = new URL(`tests/fixtures/tokenizers/${name}/`, base);
      const fetched = orThrow(await tokenizerFromFiles(fetchFileSet(url)));
      for (const t of [bytes, fetched]) {
        assert.equal(t.vocabSize, disk.vocabSize);
        assert.deepEqual([t.padId, t.eosId, t.bosId, t.unkId], [
          disk.padId,
          disk.eosId,
          disk.bosId,
          disk.unkId,
        ]);
        for (const s of texts) assert.deepEqual(t.encodeWithSpecial(s), disk.encodeWithSpecial(s));
      }
    }
  });
});

Deno.test("safetensors (one file and sharded) and npy read the same from disk and by fetch", async () => {
  const dir = await Deno.makeTempDir({ prefix: "web_core_" });
  try {
    const a = hostTensor("float32", [2, 3], new Float32Array([1, -2, 3.5, 4, 5, 6]));
    const b = hostTensor("bfloat16", [2], new Uint16Array([0x3f80, 0xc000]));
    const c = hostTensor("int64", [1], new BigInt64Array([7n]));
    orThrow(await writeSafetensors(join(dir, "one.safetensors"), { a, b }, { k: "v" }));
    orThrow(await writeSafetensors(join(dir, "s1.safetensors"), { a }));
    orThrow(await writeSafetensors(join(dir, "s2.safetensors"), { b, c }));
    const index = { weight_map: { a: "s1.safetensors", b: "s2.safetensors", c: "s2.safetensors" } };
    await Deno.writeTextFile(join(dir, "model.safetensors.index.json"), JSON.stringify(index));
    orThrow(await writeNpy(join(dir, "p.npy"), a));
    await served(dir, async (base) => {
      const files = fetchFileSet(base);
      const one = orThrow(await openSafetensors(join(dir, "one.safetensors")));
      const opened = orThrow(await files.open("one.safetensors", "a .safetensors file"));
      const oneFetched = orThrow(await openSafetensorsFrom(opened, files.path("one.safetensors")));
      const sharded = orThrow(
        await openSafetensorsIndex(join(dir, "model.safetensors.index.json")),
      );
      const shardedFetched = orThrow(await openSafetensorsIndexIn(files));
      try {
        assert.deepEqual(oneFetched.metadata, one.metadata);
        assert.deepEqual(oneFetched.entries, one.entries);
        for (const n of ["a", "b"]) {
          assert.deepEqual(orThrow(await oneFetched.read(n)), orThrow(await one.read(n)));
        }
        assert.deepEqual(shardedFetched.entries, sharded.entries);
        for (const n of ["a", "b", "c"]) {
          assert.deepEqual(orThrow(await shardedFetched.read(n)), orThrow(await sharded.read(n)));
        }
      } finally {
        [one, oneFetched, sharded, shardedFetched].forEach((f) => f.close());
      }
      const npy = orThrow(await files.read("p.npy", 1 << 20, "a .npy file"));
      assert.deepEqual(
        orThrow(parseNpy(npy, files.path("p.npy"))),
        orThrow(await readNpy(join(dir, "p.npy"))),
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a missing file is NotFound by fetch as on disk, and a cap is TooLarge", async () => {
  await served(ROOT, async (base) => {
    const url = new URL("tests/fixtures/models/gpt2_tiny/", base);
    const files = fetchFileSet(url);
    const missing = await files.read("nope.json", 100, "a JSON file");
    assert.ok(missing._tag === "Left" && missing.left._tag === "NotFound", JSON.stringify(missing));
    assert.equal(missing.left.where, `${url.href}nope.json`);
    const capped = await files.read("config.json", 10, "a JSON file");
    assert.ok(capped._tag === "Left" && capped.left._tag === "TooLarge");
    const noModel = await loadHuggingFaceFiles(fetchFileSet(new URL("tests/fixtures/", base)));
    const onDisk = await loadModel(join(ROOT, "tests/fixtures"));
    assert.ok(noModel._tag === "Left" && onDisk._tag === "Left");
    assert.equal(noModel.left._tag, "NotFound");
  });
});
