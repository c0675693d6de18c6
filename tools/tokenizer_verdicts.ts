/**
 * Dev-time: our verdict on mutated tokenizer.json files, for tools/tokenizer_agreement.py. Reads
 * one JSON request a line on stdin, `{"id", "base", "edits", "texts"}` (base: a folder name under
 * tests/fixtures/tokenizers/), and writes one line per request: `{"id", "accept": true, "ids",
 * "special", "decoded"}` or `{"id", "accept": false, "error"}` (`"threw": true` when the tokenizer
 * loaded and then threw while encoding).
 *
 *     deno run -A tools/tokenizer_verdicts.ts < requests.jsonl
 *
 * @module
 */
import { tokenizerFromJsonText } from "../tokenizer/hf.ts";
import { describeProblem } from "../problem.ts";
import { applyEdits, type Edit, writeJson } from "../tests/_tokenizer_edits.ts";

interface Request {
  readonly id: string;
  readonly base: string;
  readonly edits: readonly Edit[];
  readonly texts: readonly string[];
}

const bases = new Map<string, unknown>();
const baseOf = (name: string): unknown => {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`Bad base name ${name}`);
  if (!bases.has(name)) {
    const url = new URL(`../tests/fixtures/tokenizers/${name}/tokenizer.json`, import.meta.url);
    bases.set(name, JSON.parse(Deno.readTextFileSync(url)));
  }
  return bases.get(name);
};

/** Our verdict on one request. */
export function verdict(r: Request): Record<string, unknown> {
  const text = writeJson(applyEdits(baseOf(r.base), r.edits));
  const t = tokenizerFromJsonText(text);
  if (t._tag === "Left") return { id: r.id, accept: false, error: describeProblem(t.left) };
  try {
    const ids = r.texts.map((s) => t.right.encode(s));
    const special = r.texts.map((s) => t.right.encodeWithSpecial(s));
    const decoded = ids.map((x) => t.right.decode(x));
    return { id: r.id, accept: true, ids, special, decoded };
  } catch (e) {
    return { id: r.id, accept: false, threw: true, error: e instanceof Error ? e.message : String(e) };
  }
}

if (import.meta.main) {
  const decoder = new TextDecoder();
  let buffer = "";
  const out = (line: string) => {
    const bytes = new TextEncoder().encode(line + "\n");
    for (let at = 0; at < bytes.length;) at += Deno.stdout.writeSync(bytes.subarray(at));
  };
  for await (const chunk of Deno.stdin.readable) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim() === "") continue;
      const r = JSON.parse(line) as Request;
      let v: Record<string, unknown>;
      try {
        v = verdict(r);
      } catch (e) {
        v = { id: r.id, accept: false, threw: true, error: `crash: ${e instanceof Error ? e.message : e}` };
      }
      out(JSON.stringify(v));
    }
  }
}
