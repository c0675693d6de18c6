/**
 * The embedded checkpoints (assets/embedded/{span_corruption,lm_adapted}) load here unchanged
 * and compute what `transformers` computes: the same token ids from the shipped tokenizer, and
 * the same encoder states and logits (references from tools/make_embedded_refs.py).
 */
import assert from "node:assert/strict";
import { initBackend } from "../backend.ts";
import { loadTokenizer } from "../tokenizer/mod.ts";
import { SPAM_LABEL_WORDS } from "../data/spam.ts";
import { assetDir, checkEmbeddedForward, IDS, NAMES, right } from "./embedded_parity.ts";

await initBackend("wasm");

async function sha256(path: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", await Deno.readFile(path)));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

for (const name of NAMES) {
  Deno.test(`the shipped tokenizer of ${name} gives transformers' ids`, async () => {
    assert.equal(await sha256(`${assetDir(name)}/tokenizer.json`), IDS.tokenizer_sha256);
    const tok = right(await loadTokenizer(assetDir(name)));
    assert.equal(tok.padId, 0);
    assert.equal(tok.eosId, 1);
    assert.equal(tok.unkId, 2);
    assert.equal(tok.sentinelId(0), 8099);
    assert.equal(tok.sentinelId(99), 8000);
    for (const t of IDS.texts) {
      assert.deepEqual(tok.encode(t.text), t.ids, `ids of ${JSON.stringify(t.text)}`);
      assert.deepEqual(tok.encodeWithSpecial(t.text), t.ids_with_special);
    }
    for (const w of SPAM_LABEL_WORDS) {
      assert.deepEqual(tok.encode(w), IDS.label_words[w], `label word ${w}`);
      assert.equal(tok.encode(w).length, 1, `label word ${w} is one token`);
    }
  });

  Deno.test(`the ${name} checkpoint gives transformers' encoder states and logits`, () =>
    checkEmbeddedForward(name));
}

Deno.test("both embedded checkpoints together stay within the 25 MB budget", async () => {
  let total = 0;
  for (const name of NAMES) {
    for await (const e of Deno.readDir(assetDir(name))) {
      total += (await Deno.stat(`${assetDir(name)}/${e.name}`)).size;
    }
  }
  assert.ok(total <= 25 * 1024 * 1024, `${total} bytes`);
});
