/**
 * Every symbol exported from `mod.ts` has a doc comment with an example.
 *
 * @module
 */
import assert from "node:assert/strict";

interface JsDocTag {
  readonly kind: string;
}

interface Declaration {
  readonly kind: string;
  readonly jsDoc?: { readonly doc?: string; readonly tags?: readonly JsDocTag[] };
  readonly location?: { readonly filename?: string; readonly line?: number };
}

interface DocSymbol {
  readonly name: string;
  readonly declarations: readonly Declaration[];
}

interface DocJson {
  readonly version: number;
  readonly nodes: Readonly<Record<string, { readonly symbols: readonly DocSymbol[] }>>;
}

const root = new URL("../", import.meta.url);

async function docJson(): Promise<DocJson> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", "mod.ts"],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, `deno doc failed:\n${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

function hasExample(d: Declaration): boolean {
  const tags = d.jsDoc?.tags ?? [];
  return tags.some((t) => t.kind === "example") || (d.jsDoc?.doc ?? "").includes("```");
}

Deno.test("every export of mod.ts has a doc comment with an example", async () => {
  const json = await docJson();
  const modules = Object.entries(json.nodes).filter(([url]) => url.endsWith("/mod.ts"));
  assert.equal(modules.length, 1, `expected one mod.ts node, got ${Object.keys(json.nodes)}`);
  const symbols = modules[0][1].symbols;
  assert.ok(symbols.length > 0, "mod.ts exports nothing");
  const lacking: string[] = [];
  for (const s of symbols) {
    for (const d of s.declarations) {
      if (d.kind === "reference") continue;
      if (!hasExample(d)) {
        const file = d.location?.filename?.replace(root.href, "") ?? "?";
        const line = d.location?.line === undefined ? "?" : d.location.line + 1; // 0-based in JSON
        lacking.push(`${s.name} (${d.kind}, ${file}:${line})`);
      }
    }
  }
  assert.deepEqual(lacking, [], `Exports without an example:\n  ${lacking.join("\n  ")}`);
});
