/**
 * tokenizer.json and tokenizer_config.json: the model (Unigram pieces and scores, BPE vocabulary
 * and merges, unk ids), added tokens, normalizer, pre-tokenizer, post-processor and decoder, and
 * the config's special tokens. The seeds are the test suite's T5, LLaMA and GPT-2 tokenizers cut
 * to their first few hundred ids (whole, each takes half a second to build). Read through
 * `loadTokenizer` (a directory), then used: encode, encode with specials, a batch, decode.
 *
 * @module
 */
import { loadTokenizer } from "../../tokenizer/load.ts";
import { type Json, jsonBytes, mutateJson, parseSeed } from "../json.ts";
import { type FuzzInput, type Seed, type Target, withFile, withoutFile } from "../target.ts";

type Obj = { [k: string]: Json };

/** Keeps the ids below `n` of a tokenizer.json (vocabulary, merges, added tokens). */
export function shrinkTokenizer(t: Obj, n: number): Obj {
  const model = t.model as Obj;
  const added = (t.added_tokens as Obj[] ?? []).filter((a) => (a.id as number) < n);
  if (Array.isArray(model.vocab)) {
    return { ...t, added_tokens: added, model: { ...model, vocab: model.vocab.slice(0, n) } };
  }
  const vocab = Object.fromEntries(
    Object.entries(model.vocab as Obj).filter(([, id]) => (id as number) < n),
  );
  const merges = ((model.merges ?? []) as Json[]).filter((m) => {
    const [a, b] = Array.isArray(m) ? m as string[] : String(m).split(" ");
    return a in vocab && b in vocab && a + b in vocab;
  });
  return { ...t, added_tokens: added, model: { ...model, vocab, merges } };
}

const TEXTS = [
  "Hello world",
  "héllo  wörld\t\n",
  "",
  " ",
  "<s> </s> <unk> <pad>",
  "a".repeat(200),
  "日本語 😀",
];

/** Loads the seeds: small tokenizers, with and without their tokenizer_config.json. */
async function tokenizerSeeds(root: string): Promise<Seed[]> {
  const read = async (p: string) => parseSeed(await Deno.readFile(`${root}/${p}`)) as Obj;
  const t5 = await read("tests/fixtures/tokenizers/t5/tokenizer.json");
  const llama = await read("tests/fixtures/tokenizers/llama/tokenizer.json");
  const gpt2 = await read("tests/data/tokenizers/gpt2/tokenizer.json");
  const t5c = await Deno.readFile(`${root}/tests/fixtures/tokenizers/t5/tokenizer_config.json`);
  const llamac = await Deno.readFile(
    `${root}/tests/fixtures/tokenizers/llama/tokenizer_config.json`,
  );
  const seed = (name: string, t: Obj, config?: Uint8Array): Seed => ({
    name,
    files: new Map([
      ["tokenizer.json", jsonBytes(t)],
      ...(config ? [["tokenizer_config.json", config] as const] : []),
    ]),
  });
  return [
    seed("t5", shrinkTokenizer(t5, 300), t5c),
    seed("t5-no-precompiled", { ...shrinkTokenizer(t5, 300), normalizer: null }, t5c),
    seed("llama", shrinkTokenizer(llama, 500), llamac),
    seed("gpt2", shrinkTokenizer(gpt2, 700)),
  ];
}

async function use(dir: string): Promise<unknown> {
  const r = await loadTokenizer(dir);
  if (r._tag === "Left") return r;
  const t = r.right;
  for (const s of TEXTS) {
    const ids = t.encodeWithSpecial(s);
    t.decode(ids);
    t.decode(t.encode(s), { skipSpecialTokens: true });
  }
  t.encodeBatch(TEXTS.slice(0, 3), { maxLength: 8 });
  return r;
}

/** The tokenizer.json target. */
export const tokenizer: Target = {
  name: "tokenizer",
  weight: 0.05,
  usesFiles: true,
  seeds: tokenizerSeeds,
  mutate: (rng, seeds): FuzzInput => {
    const s = rng.pick(seeds);
    const b = s.files.get("tokenizer.json")!;
    return withFile(s, "tokenizer.json", mutateJson(rng, parseSeed(b), b));
  },
  run: (_input, dir) => use(dir),
};

/** The tokenizer_config.json target: the tokenizer itself stays valid. */
export const tokenizerConfig: Target = {
  name: "tokenizer_config",
  weight: 0.05,
  usesFiles: true,
  seeds: async (root) =>
    (await tokenizerSeeds(root)).filter((s) => s.files.has("tokenizer_config.json")),
  mutate: (rng, seeds): FuzzInput => {
    const s = rng.pick(seeds);
    const b = s.files.get("tokenizer_config.json")!;
    if (rng.chance(0.03)) return withoutFile(s, "tokenizer_config.json");
    return withFile(s, "tokenizer_config.json", mutateJson(rng, parseSeed(b), b));
  },
  run: (_input, dir) => use(dir),
};
