import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SKIP = new Set(["node_modules", ".git", "tools", "runs", ".cache", ".scratch", ".pretrain"]);

/** Every TypeScript file of the repository, as a path relative to its root. */
function sourceFiles(dir = ROOT): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    if (SKIP.has(entry.name) || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...sourceFiles(path));
    else if (entry.name.endsWith(".ts")) out.push(relative(ROOT, path));
  }
  return out.sort();
}

/** The relative imports of a file (type-only ones too), comments and doc examples left out. */
function relativeImports(file: string): string[] {
  const code = Deno.readTextFileSync(join(ROOT, file))
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
  const specifiers = [
    ...code.matchAll(/\b(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/g),
    ...code.matchAll(/\bimport\s*["']([^"']+)["']/g),
    ...code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => m[1]);
  return specifiers
    .filter((s) => s.startsWith("./") || s.startsWith("../"))
    .map((s) => join(dirname(file), s));
}

const FILES = sourceFiles();
const GRAPH = new Map(FILES.map((f) => [f, relativeImports(f)]));

Deno.test("every relative import names a file that exists", () => {
  const missing = [...GRAPH].flatMap(([f, deps]) =>
    deps.filter((d) => !GRAPH.has(d)).map((d) => `${f} → ${d}`)
  );
  assert.deepEqual(missing, []);
});

Deno.test("no module imports itself through a cycle", () => {
  // Tarjan's strongly connected components: any component of two or more files is a cycle.
  let next = 0;
  const index = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], onStack = new Set<string>(), cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of GRAPH.get(v) ?? []) {
      if (!GRAPH.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const f of FILES) if (!index.has(f)) visit(f);
  assert.deepEqual(cycles, []);
});

Deno.test("a file whose name starts with _ is imported only from inside its own folder", () => {
  // Inside: the private file's folder or one below it (model/gpt2/ may use model/_decoder.ts).
  const inside = (file: string, folder: string) =>
    folder === "." || dirname(file) === folder || dirname(file).startsWith(`${folder}/`);
  const outside = [...GRAPH].flatMap(([f, deps]) =>
    deps
      .filter((d) => d.split("/").pop()!.startsWith("_") && !inside(f, dirname(d)))
      .map((d) => `${f} → ${d}`)
  );
  assert.deepEqual(outside, []);
});
