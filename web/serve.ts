/**
 * Serves a built page (`web/dist/`, see `build.ts`) read-only on 127.0.0.1, with the content
 * types a browser needs (`application/wasm` for the backend's binaries).
 *
 * ```sh
 * npx -y deno@2.9.6 run --allow-net=127.0.0.1 --allow-read web/serve.ts [DIR] [--port 8000]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { extname, join, resolve } from "node:path";

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
};

/**
 * Serves `root`'s files on 127.0.0.1 (`/` is `index.html`); other paths are 404.
 *
 * @param root the folder
 * @param port the port (0: a free one)
 * @returns the server (shut it down when done)
 * @example
 * ```ts
 * import { serveStatic } from "./serve.ts";
 * import assert from "node:assert/strict";
 * const server = serveStatic("web", 0);
 * const r = await fetch(`http://127.0.0.1:${server.addr.port}/index.html`);
 * assert.equal(r.headers.get("content-type"), "text/html; charset=utf-8");
 * await r.body?.cancel();
 * assert.equal((await fetch(`http://127.0.0.1:${server.addr.port}/../deno.json`)).status, 404);
 * await server.shutdown();
 * ```
 */
export function serveStatic(root: string, port = 8000): Deno.HttpServer<Deno.NetAddr> {
  const base = resolve(root);
  return Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req) => {
    let path = decodeURIComponent(new URL(req.url).pathname);
    if (path.endsWith("/")) path += "index.html";
    const file = resolve(join(base, path));
    if (!file.startsWith(base + "/")) return new Response("Not found", { status: 404 });
    try {
      const f = await Deno.open(file, { read: true });
      const type = TYPES[extname(file)] ?? "application/octet-stream";
      if (req.method === "HEAD") {
        f.close();
        return new Response(null, { headers: { "content-type": type } });
      }
      return new Response(f.readable, { headers: { "content-type": type } });
    } catch {
      return new Response("Not found", { status: 404 });
    }
  });
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { port: { type: "string", default: "8000" } },
    allowPositionals: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`--port is ${values.port}; expected an integer in [0, 65535]`);
    Deno.exit(2);
  }
  const root = positionals[0] ?? new URL("./dist", import.meta.url).pathname;
  const server = serveStatic(root, port);
  console.log(`Serving ${root} at http://127.0.0.1:${server.addr.port}/`);
}
