import assert from "node:assert/strict";
import * as E from "fp-ts/Either";
import { join } from "node:path";
import {
  type GgufValue,
  type HfTokenizer,
  loadTokenizer,
  tokenizerFromGguf,
} from "../tokenizer/mod.ts";
import { describeProblem, orThrow, type ProblemTag } from "../problem.ts";

interface Case {
  text: string;
  ids: number[];
  idsSpecial: number[];
  decoded: string;
  decodedSkip: string;
}
interface Tiny {
  metadata: Record<string, GgufValue>;
  vocabSize: number;
  specialIds: Record<"bos" | "eos" | "unk" | "pad", number | null>;
  cases: Case[];
}
const TINY: { models: Record<string, Tiny> } = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/gguf/tiny_tokenizers.json", import.meta.url)),
);

const metadata = (name: string): Map<string, GgufValue> =>
  new Map(Object.entries(TINY.models[name].metadata));
const LLAMA = metadata("llama");
const GPT2 = metadata("gpt2_default");

const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

Deno.test("the tiny GGUF fixtures cover both tokenizer models and every pre-tokenizer family", () => {
  const models = Object.values(TINY.models).map((m) => m.metadata["tokenizer.ggml.model"]);
  assert.deepEqual([...new Set(models)].sort(), ["gpt2", "llama"]);
  const pres = Object.values(TINY.models).map((m) => m.metadata["tokenizer.ggml.pre"]);
  for (const pre of ["llama-bpe", "qwen2", "qwen35", "tekken", "gpt-4o", "smollm"]) {
    assert.ok(pres.includes(pre), pre);
  }
});

for (const [name, model] of Object.entries(TINY.models)) {
  Deno.test(`tokenizerFromGguf() gives transformers' ids and decodes for the ${name} fixture`, () => {
    const tok = orThrow(tokenizerFromGguf(metadata(name), `${name}.gguf`));
    assert.equal(tok.vocabSize, model.vocabSize);
    const kinds = ["bos", "eos", "unk", "pad"] as const;
    const expected = kinds.map((k) => model.specialIds[k] ?? undefined);
    assert.deepEqual([tok.bosId, tok.eosId, tok.unkId, tok.padId], expected);
    const failures: string[] = [];
    for (const c of model.cases) {
      const ids = tok.encode(c.text);
      const special = tok.encodeWithSpecial(c.text);
      const decoded = tok.decode(c.idsSpecial);
      const skipped = tok.decode(c.idsSpecial, { skipSpecialTokens: true });
      if (!same(ids, c.ids)) failures.push(`${JSON.stringify(c.text)}: encode ${ids}`);
      if (!same(special, c.idsSpecial)) {
        failures.push(`${JSON.stringify(c.text)}: with special ${special}`);
      }
      if (decoded !== c.decoded) failures.push(`${JSON.stringify(c.text)}: decode ${decoded}`);
      if (skipped !== c.decodedSkip) failures.push(`${JSON.stringify(c.text)}: skip ${skipped}`);
    }
    assert.deepEqual(failures, []);
  });
}

Deno.test("tokenizerFromGguf() keeps chat tokens whole, as added special tokens", () => {
  const tok = orThrow(tokenizerFromGguf(GPT2));
  const start = tok.tokenToId("<|im_start|>")!, end = tok.tokenToId("<|im_end|>")!;
  assert.deepEqual([start, end], [1, 2]);
  const ids = tok.encode("<|im_start|>user\nhello<|im_end|>");
  assert.equal(ids[0], start);
  assert.equal(ids.at(-1), end);
  assert.equal(tok.decode(ids, { skipSpecialTokens: true }), "user\nhello");
  // A user-defined token is kept whole too, but is not special.
  const think = tok.tokenToId("<think>")!;
  assert.deepEqual(tok.encode("<think>"), [think]);
  assert.equal(tok.decode([think], { skipSpecialTokens: true }), "<think>");
});

Deno.test("tokenizerFromGguf() follows add_bos_token and add_eos_token", () => {
  const build = (flags: [string, boolean][]) =>
    orThrow(tokenizerFromGguf(new Map([...LLAMA, ...flags])));
  const hello = build([]).encode("hello");
  assert.deepEqual(build([]).specialPrefix, [1]); // llama: BOS by default
  assert.deepEqual(build([["tokenizer.ggml.add_bos_token", false]]).encodeWithSpecial("hello"), [
    ...hello,
  ]);
  const both = build([["tokenizer.ggml.add_eos_token", true]]);
  assert.deepEqual([both.specialPrefix, both.specialSuffix], [[1], [2]]);
  assert.deepEqual(orThrow(tokenizerFromGguf(GPT2)).specialPrefix, []); // gpt2: nothing by default
});

Deno.test("tokenizerFromGguf() reads 64-bit ids as bigints and a token named __proto__", () => {
  const ids: [string, GgufValue][] = [
    ["tokenizer.ggml.bos_token_id", 1n],
    ["tokenizer.ggml.eos_token_id", 2n],
  ];
  const tok = orThrow(tokenizerFromGguf(new Map([...LLAMA, ...ids])));
  assert.deepEqual([tok.bosId, tok.eosId], [1, 2]);
  const tokens = [...LLAMA.get("tokenizer.ggml.tokens") as string[]];
  tokens[tokens.indexOf("▁hello")] = "__proto__";
  const proto = orThrow(tokenizerFromGguf(new Map([...LLAMA, ["tokenizer.ggml.tokens", tokens]])));
  assert.equal(proto.tokenToId("__proto__"), tokens.indexOf("__proto__"));
  assert.equal(proto.vocabSize, tokens.length);
});

const n = (LLAMA.get("tokenizer.ggml.tokens") as string[]).length;
const tokensOf = (m: Map<string, GgufValue>) => m.get("tokenizer.ggml.tokens") as string[];
const without = (m: Map<string, GgufValue>, key: string) => {
  const out = new Map(m);
  out.delete(key);
  return out;
};
const withKey = (m: Map<string, GgufValue>, key: string, value: GgufValue) =>
  new Map([...m, [key, value]]);

// [what, metadata, tag, message pattern]: every message names its key.
const REFUSED: [string, Map<string, GgufValue>, ProblemTag, RegExp][] = [
  [
    "no model",
    without(LLAMA, "tokenizer.ggml.model"),
    "Invalid",
    /^tokenizer\.ggml\.model is missing/,
  ],
  [
    "a model that is not a string",
    withKey(LLAMA, "tokenizer.ggml.model", 1),
    "Invalid",
    /^tokenizer\.ggml\.model is a number; expected a string$/,
  ],
  [
    "an unsupported model",
    withKey(LLAMA, "tokenizer.ggml.model", "t5"),
    "Unsupported",
    /^tokenizer\.ggml\.model is "t5"; supported: gpt2/,
  ],
  [
    "a Gemma vocabulary",
    withKey(LLAMA, "general.architecture", "gemma2"),
    "Unsupported",
    /^general\.architecture is "gemma2"/,
  ],
  [
    "no tokens",
    without(LLAMA, "tokenizer.ggml.tokens"),
    "Invalid",
    /^tokenizer\.ggml\.tokens is missing$/,
  ],
  [
    "tokens that are not an array",
    withKey(LLAMA, "tokenizer.ggml.tokens", "<unk>"),
    "Invalid",
    /^tokenizer\.ggml\.tokens is a string; expected an array of strings$/,
  ],
  [
    "a token that is not a string",
    withKey(LLAMA, "tokenizer.ggml.tokens", ["<unk>", "<s>", 7]),
    "Invalid",
    /^tokenizer\.ggml\.tokens\[2\] is a number; expected a string$/,
  ],
  [
    "no token at all",
    withKey(LLAMA, "tokenizer.ggml.tokens", []),
    "Invalid",
    /^tokenizer\.ggml\.tokens is empty/,
  ],
  [
    "a repeated token",
    withKey(LLAMA, "tokenizer.ggml.tokens", tokensOf(LLAMA).map((t, i) => i === 5 ? "<s>" : t)),
    "Invalid",
    /^tokenizer\.ggml\.tokens\[5\] repeats token 1 \("<s>"\)$/,
  ],
  [
    "two tokens of the same bytes in a byte-level vocabulary",
    withKey(GPT2, "tokenizer.ggml.tokens", tokensOf(GPT2).map((t) => t === "<think>" ? "\n" : t)),
    "Invalid",
    /^tokenizer\.ggml\.tokens\[\d+\] spells the same bytes as token \d+$/,
  ],
  [
    "token types of another length",
    withKey(LLAMA, "tokenizer.ggml.token_type", [1, 1]),
    "Invalid",
    new RegExp(`^tokenizer\\.ggml\\.token_type has 2 entries; expected ${n}, one per token$`),
  ],
  [
    "token types that are not an array",
    withKey(LLAMA, "tokenizer.ggml.token_type", 1),
    "Invalid",
    /^tokenizer\.ggml\.token_type is a number; expected an array of numbers$/,
  ],
  [
    "a fractional token type",
    withKey(
      LLAMA,
      "tokenizer.ggml.token_type",
      Array.from({ length: n }, (_, i) => i === 3 ? 1.5 : 1),
    ),
    "Invalid",
    /^tokenizer\.ggml\.token_type\[3\] is 1\.5; expected an integer$/,
  ],
  [
    "an unknown token type",
    withKey(
      LLAMA,
      "tokenizer.ggml.token_type",
      Array.from({ length: n }, (_, i) => i === 4 ? 9 : 1),
    ),
    "Invalid",
    /^tokenizer\.ggml\.token_type\[4\] is 9; expected a token type in \[0, 6\]$/,
  ],
  [
    "scores of another length",
    withKey(LLAMA, "tokenizer.ggml.scores", [0]),
    "Invalid",
    /^tokenizer\.ggml\.scores has 1 entries; expected \d+, one per token$/,
  ],
  [
    "a score that is not a number",
    withKey(LLAMA, "tokenizer.ggml.scores", Array.from({ length: n }, (_, i) => i === 0 ? "x" : 0)),
    "Invalid",
    /^tokenizer\.ggml\.scores\[0\] is a string; expected a finite number$/,
  ],
  [
    "a NaN score",
    withKey(LLAMA, "tokenizer.ggml.scores", Array.from({ length: n }, (_, i) => i === 9 ? NaN : 0)),
    "Invalid",
    /^tokenizer\.ggml\.scores\[9\] is NaN; expected a finite number$/,
  ],
  [
    "a llama vocabulary with neither merges nor scores",
    without(LLAMA, "tokenizer.ggml.scores"),
    "Invalid",
    /^tokenizer\.ggml\.merges is missing, and so is tokenizer\.ggml\.scores; expected one of them$/,
  ],
  [
    "a byte-level vocabulary without merges",
    without(GPT2, "tokenizer.ggml.merges"),
    "Invalid",
    /^tokenizer\.ggml\.merges is missing; a byte-level vocabulary needs its merges$/,
  ],
  [
    "merges that are not strings",
    withKey(GPT2, "tokenizer.ggml.merges", [["Ġ", "h"]]),
    "Invalid",
    /^tokenizer\.ggml\.merges\[0\] is an array; expected a string$/,
  ],
  [
    "a merge of three parts",
    withKey(GPT2, "tokenizer.ggml.merges", ["Ġ h e"]),
    "Invalid",
    /^tokenizer\.ggml\.merges\[0\] is "Ġ h e"; expected two tokens and one space$/,
  ],
  [
    "a merge without a space",
    withKey(GPT2, "tokenizer.ggml.merges", ["Ġh"]),
    "Invalid",
    /^tokenizer\.ggml\.merges\[0\] is "Ġh"; expected two tokens and one space$/,
  ],
  [
    "a merge of tokens not in the vocabulary",
    withKey(GPT2, "tokenizer.ggml.merges", ["Ġ h", "z q"]),
    "Invalid",
    /^tokenizer\.ggml\.merges\[1\] \("z q"\) names "zq", not a token$/,
  ],
  [
    "a pre-tokenizer that is not a string",
    withKey(GPT2, "tokenizer.ggml.pre", 3),
    "Invalid",
    /^tokenizer\.ggml\.pre is a number; expected a string$/,
  ],
  [
    "a byte-level split with a llama vocabulary",
    withKey(LLAMA, "tokenizer.ggml.pre", "llama3"),
    "Unsupported",
    /^tokenizer\.ggml\.pre is "llama3", a byte-level split, with tokenizer\.ggml\.model llama$/,
  ],
  [
    "a BOS id past the vocabulary",
    withKey(LLAMA, "tokenizer.ggml.bos_token_id", n),
    "Invalid",
    new RegExp(`^tokenizer\\.ggml\\.bos_token_id is ${n}; expected a token id in \\[0, ${n}\\)$`),
  ],
  [
    "a negative EOS id",
    withKey(LLAMA, "tokenizer.ggml.eos_token_id", -1),
    "Invalid",
    /^tokenizer\.ggml\.eos_token_id is -1; expected a token id/,
  ],
  [
    "a fractional UNK id",
    withKey(LLAMA, "tokenizer.ggml.unknown_token_id", 0.5),
    "Invalid",
    /^tokenizer\.ggml\.unknown_token_id is 0\.5; expected a token id/,
  ],
  [
    "a PAD id that is a string",
    withKey(LLAMA, "tokenizer.ggml.padding_token_id", "2"),
    "Invalid",
    /^tokenizer\.ggml\.padding_token_id is a string; expected a token id/,
  ],
  [
    "a 64-bit id past the vocabulary",
    withKey(LLAMA, "tokenizer.ggml.bos_token_id", 2n ** 63n),
    "Invalid",
    /^tokenizer\.ggml\.bos_token_id is 9223372036854775808; expected a token id/,
  ],
  [
    "an add_bos_token that is not a boolean",
    withKey(LLAMA, "tokenizer.ggml.add_bos_token", 1),
    "Invalid",
    /^tokenizer\.ggml\.add_bos_token is a number; expected a boolean$/,
  ],
  [
    "BOS asked for but not named",
    without(LLAMA, "tokenizer.ggml.bos_token_id"),
    "Invalid",
    /^tokenizer\.ggml\.bos_token_id is missing but tokenizer\.ggml\.add_bos_token is true$/,
  ],
  [
    "EOS asked for but not named",
    withKey(without(LLAMA, "tokenizer.ggml.eos_token_id"), "tokenizer.ggml.add_eos_token", true),
    "Invalid",
    /^tokenizer\.ggml\.eos_token_id is missing but tokenizer\.ggml\.add_eos_token is true$/,
  ],
];

for (const [what, meta, tag, pattern] of REFUSED) {
  Deno.test(`tokenizerFromGguf() refuses ${what} in one line naming the key`, () => {
    const r = tokenizerFromGguf(meta, "model.gguf");
    assert.ok(E.isLeft(r), "expected a problem");
    assert.equal(r.left._tag, tag);
    assert.equal(r.left.where, "model.gguf");
    assert.match(r.left.message, pattern);
    assert.ok(!describeProblem(r.left).includes("\n"));
  });
}

Deno.test("loadTokenizer() asks which .gguf file when a directory holds several", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "a.gguf"), "");
    await Deno.writeTextFile(join(dir, "b.GGUF"), "");
    const r = await loadTokenizer(dir);
    assert.ok(E.isLeft(r));
    assert.equal(
      describeProblem(r.left),
      `${dir}: No tokenizer.json, and the directory holds 2 .gguf files (a.gguf, b.GGUF); pass one of them`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadTokenizer() prefers a directory's tokenizer.json to a .gguf file beside it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const llama = new URL("./fixtures/tokenizers/llama/", import.meta.url);
    await Deno.copyFile(new URL("tokenizer.json", llama), join(dir, "tokenizer.json"));
    await Deno.writeTextFile(join(dir, "model.gguf"), "");
    const tok: HfTokenizer = orThrow(await loadTokenizer(dir));
    assert.equal(tok.vocabSize, 32000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
