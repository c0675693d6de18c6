import assert from "node:assert/strict";
import * as E from "fp-ts/Either";
import { loadTokenizer, tokenizerFromJson, tokenizerFromJsonText } from "../tokenizer/mod.ts";
import { describeProblem } from "../problem.ts";
import { applyEdits, type Edit, writeJson } from "./_tokenizer_edits.ts";

const FIXTURES = new URL("./fixtures/tokenizers/", import.meta.url);
const FINDING = new URL("./data/fuzz-findings/tokenizer_nonint_ids/", import.meta.url);

interface Case {
  readonly id: string;
  readonly base: string;
  readonly edits: readonly Edit[];
  readonly category: string;
  readonly rust_accepts: boolean;
  readonly ids?: readonly (readonly number[])[];
  readonly special?: readonly (readonly number[])[];
  readonly rust_error?: string;
}

const MUTATIONS: { texts: string[]; tokenizers_version: string; cases: Case[] } = JSON.parse(
  await Deno.readTextFile(new URL("mutations.json", FIXTURES)),
);

/** A one-piece-per-character Unigram tokenizer.json, its unk_id written as `unkId`. */
const unigram = (unkId: string) =>
  `{"model": {"type": "Unigram", "vocab": [["<unk>", 0], ["a", -1], ["b", -2]], "unk_id": ${unkId}}}`;

Deno.test("loadTokenizer() refuses the fuzzed tokenizer.json whose unk_id is -8.19, as the Rust library does", async () => {
  const r = await loadTokenizer(FINDING);
  assert.ok(E.isLeft(r));
  assert.equal(r.left._tag, "Invalid");
  assert.ok(r.left.where.endsWith("tokenizer_nonint_ids/tokenizer.json"), r.left.where);
  assert.equal(
    r.left.message,
    "model.unk_id: Expected an integer in [0, 9007199254740991], got number -8.199501037597656",
  );
  assert.ok(!describeProblem(r.left).includes("\n"));
});

Deno.test("tokenizerFromJsonText() refuses an integer written as a float, twice-written keys and lone surrogates", () => {
  const ok = tokenizerFromJsonText(unigram("0"));
  assert.ok(E.isRight(ok) && ok.right.encode("abz").join() === "1,2,0");
  const cases: [string, RegExp][] = [
    [unigram("0.0"), /^model\.unk_id: Expected an integer in \[0, \d+\], got number 0$/],
    [unigram("-0"), /^model\.unk_id: Expected an integer/],
    [unigram("1e0"), /^model\.unk_id: Expected an integer/],
    [unigram("-8.19"), /^model\.unk_id: Expected an integer/],
    [unigram("3"), /^model\.unk_id: Expected an index into the vocabulary \(< 3\), got 3$/],
    [unigram('"0"'), /^model\.unk_id: Expected an integer.*got string "0"$/],
    [
      unigram("0").replace('"a", -1', '"a", "-1"'),
      /^model\.vocab\[1\]\[1\]: Expected a finite number, got string "-1"$/,
    ],
    [
      unigram("0").replace('["b", -2]', '["b"]'),
      /^model\.vocab\[2\]: Expected an array of 2, got an array of 1$/,
    ],
    [
      unigram("0").replace('"type"', '"type": "BPE", "type"'),
      /Key "type" written twice in one object/,
    ],
    [unigram("0").replace('"a"', '"\\ud800"'), /Lone surrogate/],
    [unigram("0").replace('"type"', '"extra": 1e400, "type"'), /Number out of range/],
  ];
  for (const [text, pattern] of cases) {
    const r = tokenizerFromJsonText(text);
    assert.ok(E.isLeft(r), text);
    assert.match(r.left.message, pattern, text);
    assert.ok(!describeProblem(r.left).includes("\n"));
  }
  // From a JS value, 0 and 0.0 are one number: tokenizerFromJson cannot tell them apart.
  assert.ok(E.isRight(tokenizerFromJson(JSON.parse(unigram("0.0")))));
});

Deno.test("tokenizerFromJson() checks merges, added tokens and component variants as the Rust library does", () => {
  const bpe = (merges: unknown, extra: Record<string, unknown> = {}) => ({
    model: { type: "BPE", vocab: { "<unk>": 0, a: 1, b: 2, ab: 3 }, merges, unk_token: "<unk>" },
    ...extra,
  });
  const added = (id: number, content = "<x>") => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const good = [
    bpe(["a b"]),
    bpe([["a", "b"]]),
    bpe(["#version: 0.2", "a b"]),
    bpe([], { added_tokens: [added(4)] }),
  ];
  for (const json of good) {
    const r = tokenizerFromJson(json);
    assert.ok(E.isRight(r), JSON.stringify(E.isLeft(r) && r.left));
  }
  const versioned = tokenizerFromJson(good[2]);
  assert.ok(
    E.isRight(versioned) && versioned.right.encode("abba").join() === "3,2,1",
    "#version is skipped",
  );
  const cases: [unknown, string][] = [
    [
      bpe(["a b c"]),
      'model.merges[0]: Expected "a b" (two tokens, one space), got string "a b c" (merge 1)',
    ],
    [
      bpe(["a b", ["a", "b"]]),
      'model.merges[0]: Expected an array of 2, got string "a b"; merges are all "a b" strings or all ["a", "b"] pairs',
    ],
    [bpe(["a z"]), 'model.merges[0]: Merge "a z" needs "z", which is not in the vocabulary'],
    [bpe(["b a"]), 'model.merges[0]: Merge "b a" needs "ba", which is not in the vocabulary'],
    [
      bpe([], { added_tokens: [added(9)] }),
      'added_tokens[0].id: Expected 4 for "<x>" (the next id after the vocabulary), got 9',
    ],
    [
      bpe([], { added_tokens: [added(2, "a")] }),
      'added_tokens[0].id: Expected 1 for "a" (its id in the model\'s vocabulary), got 2',
    ],
    [
      bpe([], { added_tokens: [{ ...added(4), lstrip: "no" }] }),
      'added_tokens[0].lstrip: Expected true or false, got string "no"',
    ],
    [
      bpe([], { normalizer: { type: "Fancy" } }),
      'normalizer.type: Unknown normalizer type "Fancy"; expected one of BertNormalizer, Strip, StripAccents, NFC, NFD, NFKC, NFKD, Lowercase, Sequence, Precompiled, Replace, Prepend, Nmt, ByteLevel',
    ],
    [
      bpe([], {
        pre_tokenizer: {
          type: "Sequence",
          pretokenizers: [{ type: "Split", pattern: { String: " " }, behavior: "Removed" }],
        },
      }),
      'pre_tokenizer.pretokenizers[0].invert: Missing field "invert"',
    ],
    [
      bpe([], { decoder: { type: "Strip", content: "ab", start: 1, stop: 0 } }),
      'decoder.content: Expected a string of one character, got string "ab"',
    ],
    [
      bpe([], { pre_tokenizer: { type: "Metaspace", replacement: "_", add_prefix_space: false } }),
      'pre_tokenizer: add_prefix_space false needs prepend_scheme "never"',
    ],
    [
      bpe([], {
        post_processor: {
          type: "TemplateProcessing",
          single: [{ SpecialToken: { id: "<s>", type_id: 0 } }],
          pair: [],
          special_tokens: {},
        },
      }),
      'post_processor.single[0].SpecialToken.id: Special token "<s>" is not in special_tokens',
    ],
  ];
  for (const [json, message] of cases) {
    const r = tokenizerFromJson(json);
    assert.ok(E.isLeft(r), message);
    assert.equal(r.left.message, message);
  }
  const unsupported = tokenizerFromJson(bpe([], { normalizer: { type: "Nmt" } }));
  assert.ok(E.isLeft(unsupported) && unsupported.left._tag === "Unsupported");
});

Deno.test("the mutation fixture holds cases of every kind, with the Rust library's verdicts", () => {
  const kinds = new Set(MUTATIONS.cases.map((c) => c.category));
  for (const k of ["both_accept_same_ids", "we_refuse_rust_accepts", "both_refuse"]) {
    assert.ok(kinds.has(k), k);
  }
  assert.ok(MUTATIONS.cases.length >= 40);
});

const bases = new Map<string, unknown>();
for (const b of new Set(MUTATIONS.cases.map((c) => c.base))) {
  bases.set(b, JSON.parse(await Deno.readTextFile(new URL(`${b}/tokenizer.json`, FIXTURES))));
}

Deno.test("tokenizerFromJsonText() refuses each mutation the Rust library refuses, and gives its ids for the others", () => {
  for (const c of MUTATIONS.cases) {
    const text = writeJson(applyEdits(bases.get(c.base), c.edits));
    const r = tokenizerFromJsonText(text);
    const what = `${c.id} ${JSON.stringify(c.edits).slice(0, 200)}`;
    if (!c.rust_accepts) {
      assert.ok(E.isLeft(r), `${what}: Rust refuses (${c.rust_error}), we accept`);
      assert.ok(!describeProblem(r.left).includes("\n"));
      continue;
    }
    if (c.category === "we_refuse_rust_accepts") {
      // Stricter than the Rust library where it would guess (see docs/proposed/tokenizer_strictness.md).
      assert.ok(E.isLeft(r), `${what}: expected our refusal`);
      continue;
    }
    assert.ok(E.isRight(r), `${what}: ${E.isLeft(r) && describeProblem(r.left)}`);
    assert.deepEqual(MUTATIONS.texts.map((t) => r.right.encode(t)), c.ids, what);
    assert.deepEqual(MUTATIONS.texts.map((t) => r.right.encodeWithSpecial(t)), c.special, what);
  }
});
