/**
 * The package's entry points (deno.json `exports`): each documents itself (`deno doc --lint`
 * passes on it alone), and `mod.ts` stays a small front door.
 *
 * @module
 */
import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);
const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
const exportsMap: Record<string, string> = config.exports;

async function deno(args: string[]): Promise<{ code: number; stdout: string; text: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    code: out.code,
    stdout: decode(out.stdout),
    text: decode(out.stdout) + decode(out.stderr),
  };
}

Deno.test("every export path passes deno doc --lint on its own", async () => {
  const failing: string[] = [];
  for (const [name, file] of Object.entries(exportsMap)) {
    const r = await deno(["doc", "--lint", file]);
    if (r.code !== 0) failing.push(`${name} (${file}):\n${r.text.slice(0, 2000)}`);
  }
  assert.deepEqual(failing, []);
});

Deno.test("mod.ts exports at most 85 names (values and the types their signatures name)", async () => {
  const r = await deno(["doc", "--json", "mod.ts"]);
  assert.equal(r.code, 0, r.text);
  const json = JSON.parse(r.stdout);
  const [, node] = Object.entries(json.nodes).find(([url]) => url.endsWith("/mod.ts")) as [
    string,
    { symbols: unknown[] },
  ];
  assert.ok(node.symbols.length <= 85, `mod.ts exports ${node.symbols.length} names`);
});
