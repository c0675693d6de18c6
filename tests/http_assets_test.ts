/**
 * The package imported over HTTP (as from JSR): the command line runs from a URL and finds the
 * embedded model by fetching it, with no read permission for the repository.
 *
 * @module
 */
import assert from "node:assert/strict";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";

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

Deno.test("cli.ts imported over HTTP inspects embedded:default, fetching the model", async () => {
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
        `${base}/cli.ts`,
        "inspect",
        "embedded:default",
      ],
      cwd: work,
      env: { TMPDIR: work, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(120_000),
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `stdout: ${stdout.slice(-2000)}\nstderr: ${stderr}`);
    assert.match(stdout, /^architecture: t5 \(huggingface checkpoint\)$/m);
    assert.match(stdout, /^token_embedder\/embedding\s+float32\s+\[\d+, \d+\]/m);
    assert.ok(asked.includes("/assets/embedded/lm_adapted/model.safetensors"), asked.join("\n"));
    // The fetched copy went into the temporary directory and was removed at exit.
    const left = await Array.fromAsync(Deno.readDir(work), (e) => e.name);
    assert.deepEqual(left.filter((n) => n.startsWith("soft_prompt_assets_")), []);
  } finally {
    await server.shutdown();
    await Deno.remove(work, { recursive: true });
  }
});
