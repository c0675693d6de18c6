import assert from "node:assert/strict";
import * as E from "fp-ts/Either";
import { batchIds } from "../data/batch.ts";
import { type HfTokenizer, loadTokenizer, tokenizerFromJson } from "../tokenizer/mod.ts";
import { precompiledNormalizer } from "../tokenizer/precompiled.ts";
import { describeProblem, ProblemError } from "../problem.ts";

const FIXTURES = new URL("./fixtures/tokenizers/", import.meta.url);
const GPT2 = new URL("./data/tokenizers/gpt2/tokenizer.json", import.meta.url);

interface Case {
  ids: number[];
  idsSpecial: number[];
  decoded: string;
  decodedSkip: string;
}
interface Reference {
  vocabSize: number;
  specialIds: Record<"pad" | "eos" | "bos" | "unk", number | null>;
  padIdUsed: number;
  cases: Case[];
  batches: {
    options: {
      add_special_tokens: boolean;
      padding: "longest" | "max_length" | false;
      truncation: boolean;
      max_length: number | null;
      padding_side: "left" | "right";
    };
    ids: number[][];
    attentionMask: number[][];
  }[];
}
const PARITY: {
  texts: string[];
  batchTexts: string[];
  tokenizers: Record<"t5" | "gpt2" | "llama", Reference>;
} = JSON.parse(Deno.readTextFileSync(new URL("parity.json", FIXTURES)));

const SOURCES = {
  t5: new URL("t5", FIXTURES),
  gpt2: GPT2,
  llama: new URL("llama", FIXTURES),
} as const;
type Name = keyof typeof SOURCES;
const NAMES: readonly Name[] = ["t5", "gpt2", "llama"];

const loaded = new Map<Name, Promise<HfTokenizer>>();
function tokenizer(name: Name): Promise<HfTokenizer> {
  let p = loaded.get(name);
  if (p === undefined) {
    p = loadTokenizer(SOURCES[name]).then((r) => {
      if (E.isLeft(r)) throw new Error(describeProblem(r.left));
      return r.right;
    });
    loaded.set(name, p);
  }
  return p;
}

/** Runs `check` on every parity string and fails listing the first few that differ. */
function everyString(name: Name, check: (text: string, c: Case) => string | undefined): void {
  const failures: string[] = [];
  PARITY.texts.forEach((text, i) => {
    const why = check(text, PARITY.tokenizers[name].cases[i]);
    if (why !== undefined) failures.push(`${JSON.stringify(text)}: ${why}`);
  });
  assert.equal(
    failures.length,
    0,
    `${failures.length}/${PARITY.texts.length} strings differ, e.g.\n${
      failures.slice(0, 5).join("\n")
    }`,
  );
}

const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

Deno.test("the parity fixture holds a few hundred strings of every kind", () => {
  assert.ok(PARITY.texts.length >= 300);
  for (
    const probe of ["日本語のテキスト", "🤗", "  two leading", "a\t\tb", "<extra_id_0>", "3.14159"]
  ) {
    assert.ok(PARITY.texts.includes(probe), probe);
  }
});

for (const name of NAMES) {
  Deno.test({
    name: `loadTokenizer() finds the ${name} special tokens and vocabulary size the reference has`,
    fn: async () => {
      const tok = await tokenizer(name);
      const ref = PARITY.tokenizers[name];
      assert.equal(tok.vocabSize, ref.vocabSize);
      assert.deepEqual(
        { pad: tok.padId, eos: tok.eosId, bos: tok.bosId, unk: tok.unkId },
        {
          pad: ref.specialIds.pad ?? undefined,
          eos: ref.specialIds.eos ?? undefined,
          bos: ref.specialIds.bos ?? undefined,
          unk: ref.specialIds.unk ?? undefined,
        },
      );
    },
  });

  Deno.test({
    name: `encode() and encodeWithSpecial() give the Python ids for every ${name} parity string`,
    fn: async () => {
      const tok = await tokenizer(name);
      everyString(name, (text, c) => {
        const ids = tok.encode(text);
        if (!same(ids, c.ids)) {
          return `encode ${JSON.stringify(ids)}, expected ${JSON.stringify(c.ids)}`;
        }
        const special = tok.encodeWithSpecial(text);
        if (!same(special, c.idsSpecial)) {
          return `with special ${JSON.stringify(special)}, expected ${
            JSON.stringify(c.idsSpecial)
          }`;
        }
      });
    },
  });

  Deno.test({
    name:
      `decode() gives the Python text for every ${name} parity string, with and without special tokens`,
    fn: async () => {
      const tok = await tokenizer(name);
      everyString(name, (_, c) => {
        const text = tok.decode(c.idsSpecial);
        if (text !== c.decoded) {
          return `decode ${JSON.stringify(text)}, expected ${JSON.stringify(c.decoded)}`;
        }
        const skipped = tok.decode(c.idsSpecial, { skipSpecialTokens: true });
        if (skipped !== c.decodedSkip) {
          return `skipping ${JSON.stringify(skipped)}, expected ${JSON.stringify(c.decodedSkip)}`;
        }
      });
    },
  });

  Deno.test({
    name: `encodeBatch() truncates and pads ${name} batches left and right as the reference does`,
    fn: async () => {
      const tok = await tokenizer(name);
      for (const b of PARITY.tokenizers[name].batches) {
        const o = b.options;
        const got = tok.encodeBatch(PARITY.batchTexts, {
          addSpecialTokens: o.add_special_tokens,
          maxLength: o.max_length ?? undefined,
          truncation: o.truncation,
          padding: o.padding,
          paddingSide: o.padding_side,
        });
        assert.deepEqual(got, { ids: b.ids, attentionMask: b.attentionMask }, JSON.stringify(o));
      }
    },
  });
}

Deno.test("the special tokens sit where each model expects them", async () => {
  const t5 = await tokenizer("t5");
  const llama = await tokenizer("llama");
  assert.deepEqual([t5.specialPrefix, t5.specialSuffix], [[], [1]]);
  assert.deepEqual([llama.specialPrefix, llama.specialSuffix], [[1], []]);
  assert.deepEqual(t5.encodeWithSpecial(""), [1]);
  assert.deepEqual(llama.encodeWithSpecial(""), [1]);
  const gpt2 = await tokenizer("gpt2");
  assert.deepEqual([gpt2.specialPrefix, gpt2.specialSuffix], [[], []]);
  assert.deepEqual(gpt2.encodeWithSpecial("Hello world"), gpt2.encode("Hello world"));
});

Deno.test("sentinelId() maps T5's <extra_id_N> to 32099 - N and nothing else", async () => {
  const t5 = await tokenizer("t5");
  assert.equal(t5.sentinelId(0), 32099);
  assert.equal(t5.sentinelId(1), 32098);
  assert.equal(t5.sentinelId(99), 32000);
  assert.equal(t5.sentinelId(100), undefined);
  assert.equal(t5.sentinelId(-1), undefined);
  assert.equal(t5.sentinelId(1.5), undefined);
  assert.deepEqual(t5.encode("<extra_id_0>"), [32099]);
  assert.equal(t5.idToToken(32099), "<extra_id_0>");
  assert.equal(t5.tokenToId("</s>"), 1);
  assert.equal((await tokenizer("llama")).sentinelId(0), undefined);
});

Deno.test("decode() undoes encode() on text each tokenizer keeps intact", async () => {
  const t5 = await tokenizer("t5");
  const llama = await tokenizer("llama");
  const special = /<\/?s>|<pad>|<unk>|<extra_id_\d+>|<\|endoftext\|>/;
  const t5Cases = PARITY.tokenizers.t5.cases;
  let checked = 0;
  PARITY.texts.forEach((text, i) => {
    if (special.test(text)) return;
    // LLaMA's byte fallback keeps everything but its own space mark.
    if (!text.includes("▁")) assert.equal(llama.decode(llama.encode(text)), text);
    // T5 normalizes whitespace and lacks some characters: check where the reference keeps the text.
    if (t5Cases[i].decodedSkip === text) {
      assert.equal(t5.decode(t5.encode(text)), text);
      checked++;
    }
  });
  assert.ok(checked > 150, `only ${checked} T5 round trips`);
  const gpt2 = await tokenizer("gpt2");
  for (const text of PARITY.texts) {
    if (!special.test(text)) assert.equal(gpt2.decode(gpt2.encode(text)), text);
  }
  assert.equal(t5.decode([]), "");
});

Deno.test("encodeBatch() keeps T5's EOS when it truncates and masks padding on the left", async () => {
  const t5 = await tokenizer("t5");
  const b = t5.encodeBatch(["Hello world, how are you?", "Hi"], {
    maxLength: 4,
    paddingSide: "left",
  });
  const hello = t5.encode("Hello world, how are you?");
  const hi = t5.encode("Hi");
  assert.deepEqual(b.ids, [[...hello.slice(0, 3), 1], [0, 0, ...hi, 1]]);
  assert.deepEqual(b.attentionMask, [[1, 1, 1, 1], [0, 0, 1, 1]]);
  const longest = t5.encodeBatch(["a b c d e", "a"]);
  assert.equal(longest.ids[0].length, longest.ids[1].length);
  assert.equal(longest.ids[1].at(-1), 0); // right padding by default, with <pad>
  const ragged = t5.encodeBatch(["a b c d e", "a"], { padding: false });
  assert.notEqual(ragged.ids[0].length, ragged.ids[1].length);
});

Deno.test("encodeBatch() pads LLaMA, which has no padding token, with EOS", async () => {
  const llama = await tokenizer("llama");
  const b = llama.encodeBatch(["Hello world", "Hi"], { paddingSide: "left" });
  const hi = llama.encodeWithSpecial("Hi");
  const pad = b.ids[0].length - hi.length;
  assert.equal(llama.padId, undefined);
  assert.ok(pad > 0);
  assert.deepEqual(b.ids[1], [...new Array(pad).fill(llama.eosId), ...hi]);
  assert.deepEqual(b.attentionMask[1], [...new Array(pad).fill(0), ...hi.map(() => 1)]);
  assert.equal(b.ids[0][0], llama.bosId);
});

Deno.test("encodeBatch() and decode() refuse options and ids that make no sense", async () => {
  const t5 = await tokenizer("t5");
  assert.throws(() => t5.encodeBatch(["a"], { padding: "max_length" }), ProblemError);
  assert.throws(
    () => t5.encodeBatch(["a"], { maxLength: 0 }),
    /maxLength is 0; expected a positive integer/,
  );
  assert.throws(
    () => t5.decode([5, 32100]),
    /Token id 32100 at index 1 is not an integer in \[0, 32100\)/,
  );
  assert.throws(() => t5.decode([1.5]), ProblemError);
});

Deno.test("batchIds() gives way to special tokens when maxLength leaves no room for text", () => {
  const specials = { prefix: [1], suffix: [2], padId: 0, paddingSide: "right" as const };
  assert.deepEqual(batchIds([[7, 8, 9]], specials, { maxLength: 2 }).ids, [[1, 2]]);
  assert.deepEqual(batchIds([], specials).ids, []);
});

Deno.test("loadTokenizer() reports a missing path, a directory without tokenizer.json and bad JSON", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = await loadTokenizer(`${dir}/nope`);
    assert.ok(E.isLeft(missing) && missing.left._tag === "NotFound");
    assert.match(
      describeProblem(missing.left),
      /No such file or directory; expected a tokenizer.json/,
    );

    const empty = await loadTokenizer(dir);
    assert.ok(E.isLeft(empty) && empty.left._tag === "NotFound");
    assert.equal(describeProblem(empty.left), `${dir}: No tokenizer.json in this directory`);

    await Deno.writeTextFile(`${dir}/tokenizer.json`, '{"model": {"type": "BPE", ');
    const broken = await loadTokenizer(dir);
    assert.ok(E.isLeft(broken) && broken.left._tag === "Corrupt");
    assert.match(broken.left.message, /^Invalid JSON \(.*\); expected a JSON object$/);

    await Deno.writeTextFile(`${dir}/tokenizer.json`, "[1, 2]");
    const array = await loadTokenizer(`${dir}/tokenizer.json`);
    assert.ok(E.isLeft(array) && array.left._tag === "Invalid");

    await Deno.writeTextFile(`${dir}/tokenizer.json`, '{"version": "1.0"}');
    const noModel = await loadTokenizer(dir);
    assert.ok(E.isLeft(noModel));
    assert.equal(noModel.left.message, 'model: Missing field "model"');

    await Deno.writeTextFile(`${dir}/tokenizer.json`, JSON.stringify(TINY));
    const big = await loadTokenizer(dir, { maxBytes: 10 });
    assert.ok(E.isLeft(big) && big.left._tag === "TooLarge");

    await Deno.writeTextFile(`${dir}/tokenizer_config.json`, "{oops");
    const badConfig = await loadTokenizer(dir);
    assert.ok(E.isLeft(badConfig) && badConfig.left._tag === "Corrupt");
    assert.match(badConfig.left.where, /tokenizer_config\.json$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A four-word BPE tokenizer.json with special tokens, small enough to write in a test. */
const TINY = {
  added_tokens: [
    {
      id: 0,
      content: "<unk>",
      special: true,
      normalized: false,
      lstrip: false,
      rstrip: false,
      single_word: false,
    },
    {
      id: 1,
      content: "<s>",
      special: true,
      normalized: false,
      lstrip: false,
      rstrip: false,
      single_word: false,
    },
    {
      id: 2,
      content: "</s>",
      special: true,
      normalized: false,
      lstrip: false,
      rstrip: false,
      single_word: false,
    },
  ],
  normalizer: null,
  pre_tokenizer: { type: "WhitespaceSplit" },
  post_processor: null,
  decoder: null,
  model: {
    type: "BPE",
    vocab: { "<unk>": 0, "<s>": 1, "</s>": 2, a: 3, b: 4, ab: 5 },
    merges: ["a b"],
    unk_token: "<unk>",
  },
};

Deno.test("tokenizerFromJson() takes special tokens from the config, then the map, then the file", () => {
  const bare = tokenizerFromJson(TINY);
  assert.ok(E.isRight(bare));
  assert.deepEqual([bare.right.eosId, bare.right.bosId, bare.right.unkId, bare.right.padId], [
    2,
    1,
    0,
    undefined,
  ]);
  assert.deepEqual(bare.right.encode("ab a"), [5, 3]);

  const mapped = tokenizerFromJson(TINY, {
    tokenizerConfig: { padding_side: "left", eos_token: { content: "<s>", __type: "AddedToken" } },
    specialTokensMap: { pad_token: "</s>", eos_token: "</s>" },
  });
  assert.ok(E.isRight(mapped));
  assert.deepEqual([mapped.right.eosId, mapped.right.padId], [1, 2]);
  assert.deepEqual(mapped.right.encodeBatch(["ab", "ab ab"]).ids, [[2, 5], [5, 5]]);

  const noneOf = tokenizerFromJson(TINY, { tokenizerConfig: { bos_token: null } });
  assert.ok(E.isRight(noneOf) && noneOf.right.bosId === undefined);
});

Deno.test("tokenizerFromJson() refuses what it cannot build, in one line", () => {
  const wordLevel = tokenizerFromJson({ model: { type: "WordLevel", vocab: {} } });
  assert.ok(E.isLeft(wordLevel) && wordLevel.left._tag === "Unsupported");
  assert.equal(
    describeProblem(wordLevel.left),
    'tokenizer.json: model.type: Model type "WordLevel" is not supported; expected BPE, Unigram or WordPiece',
  );
  const unigramBytes = tokenizerFromJson({
    model: { type: "Unigram", vocab: [["<unk>", 0]], unk_id: 0, byte_fallback: true },
  });
  assert.ok(E.isLeft(unigramBytes) && unigramBytes.left._tag === "Unsupported");

  const badAdded = tokenizerFromJson({ ...TINY, added_tokens: [{ id: -1, content: "x" }] });
  assert.ok(E.isLeft(badAdded));
  assert.equal(
    badAdded.left.message,
    "added_tokens[0].id: Expected an integer in [0, 4294967295], got number -1",
  );

  const minimal = tokenizerFromJson({ model: TINY.model });
  assert.ok(E.isRight(minimal), "optional parts of tokenizer.json may be absent");
  assert.deepEqual(minimal.right.encode("abb"), [5, 4]);

  const badConfig = tokenizerFromJson(TINY, { tokenizerConfig: [1] });
  assert.ok(E.isLeft(badConfig) && badConfig.left._tag === "Invalid");
});

Deno.test("precompiledNormalizer() refuses a charsmap that is not one", () => {
  const notBase64 = precompiledNormalizer("%%%");
  assert.ok(E.isLeft(notBase64) && notBase64.left._tag === "Corrupt");
  const short = precompiledNormalizer(btoa("\x01\x00"));
  assert.ok(E.isLeft(short));
  const overlong = precompiledNormalizer(btoa("\xff\x00\x00\x00abcd"));
  assert.ok(E.isLeft(overlong));
  assert.match(overlong.left.message, /does not fit/);
});

Deno.test("precompiledNormalizer() keeps the reference's quirks for long combining clusters", async () => {
  const json = JSON.parse(await Deno.readTextFile(new URL("t5/tokenizer.json", FIXTURES)));
  const normalize = precompiledNormalizer(json.normalizer.precompiled_charsmap);
  assert.ok(E.isRight(normalize));
  // Five bytes: looked up whole and composed. Seven bytes: code point by code point, left apart.
  assert.equal(normalize.right("e\u0301"), "\u00e9");
  assert.equal(normalize.right("a\u0301\u0302\u0303"), "a\u0301\u0302\u0303");
  assert.equal(normalize.right("ﬁ"), "fi");
});
