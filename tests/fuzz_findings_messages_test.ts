import assert from "node:assert/strict";
import { parseNpy } from "../io/npy.ts";
import { readRecords } from "../data/read.ts";
import { openGguf } from "../io/gguf.ts";
import { openSafetensorsIndex } from "../io/safetensors.ts";
import { loadModel } from "../model/load.ts";
import { parseLlamaConfig } from "../model/llama/config.ts";
import { parseGpt2Config } from "../model/gpt2/config.ts";
import { parseT5Config } from "../model/t5/config.ts";
import { readCheckpoint } from "../training/checkpoint.ts";
import { loadTokenizer } from "../tokenizer/load.ts";
import { readPeftAdapter } from "../training/peft.ts";
import { describeProblem, type Problem } from "../problem.ts";

const FINDINGS = new URL("./data/fuzz-findings/", import.meta.url).pathname;

/** Long enough for a read left running when a reader returned to finish, and reject. */
const settle = () => new Promise((r) => setTimeout(r, 100));

/** Asserts a reader's problem: one line, no control characters, matching `pattern`. */
function assertClean(r: { _tag: string; left?: Problem }, pattern: RegExp): void {
  assert.equal(r._tag, "Left");
  const text = describeProblem(r.left!);
  assert.doesNotMatch(
    text,
    // deno-lint-ignore no-control-regex -- control characters are what is looked for
    /[\u0000-\u001f\u2028\u2029]/,
    `one line, no control characters: ${JSON.stringify(text)}`,
  );
  assert.doesNotMatch(text, /\bundefined\b|\[object Object\]/, text);
  assert.match(r.left!.message, pattern);
}

Deno.test("parseNpy() escapes a header key holding NUL (fuzz finding)", async () => {
  const bytes = await Deno.readFile(`${FINDINGS}control_chars_in_names/nul_in_key.npy`);
  assertClean(
    parseNpy(bytes, "x.npy"),
    /^Header has keys \['descr','fortran_orde\\u0000','shape'\]; expected exactly/,
  );
});

Deno.test("openGguf() escapes a tensor name running into binary fields (fuzz finding)", async () => {
  const r = await openGguf(`${FINDINGS}control_chars_in_names/control_in_tensor_name.gguf`);
  assertClean(r, /^Tensor 'blk\.0\.attn_k\.weight\\u0002\\u0000/);
  await settle();
});

Deno.test("readCheckpoint() reports a damaged checkpoint.json (bytes 0xff, a quoted newline) on one line (fuzz finding)", async () => {
  const r = await readCheckpoint(`${FINDINGS}json_error_newline/checkpoint`);
  assertClean(r, /^Cannot read checkpoint\.json: not UTF-8 text; expected JSON$/);
  await settle();
});

Deno.test("openSafetensorsIndex() reports a JSON error that quotes a newline on one line (fuzz finding)", async () => {
  const r = await openSafetensorsIndex(
    `${FINDINGS}json_error_newline/safetensors_index/model.safetensors.index.json`,
  );
  assertClean(r, /^Index is not valid JSON: Unexpected token 'e'.* is not valid JSON$/);
  await settle();
});

Deno.test("readers name a missing field as missing, not undefined (fuzz findings)", async () => {
  const index = await openSafetensorsIndex(
    `${FINDINGS}missing_fields/safetensors_index/model.safetensors.index.json`,
  );
  assertClean(index, /^Tensor 'prompt' has no shape; expected a list of non-negative integers$/);
  const ckpt = await readCheckpoint(`${FINDINGS}missing_fields/checkpoint`);
  assertClean(ckpt, /^Tensor 'optimizer\/m' has no data_offsets; expected \[begin, end\]/);
  const peft = await readPeftAdapter(`${FINDINGS}missing_fields/peft`);
  assertClean(peft, /^num_virtual_tokens is missing; expected a positive integer$/);
  const model = await loadModel(`${FINDINGS}missing_fields/model_config`);
  assertClean(model, /^No model_type; expected one of: t5, gpt2, llama, qwen2, mistral$/);
  await settle();
});

Deno.test("parseLlamaConfig() shows an object rope_type as JSON (fuzz finding)", async () => {
  const r = await loadModel(`${FINDINGS}object_as_text/model_config`);
  assertClean(
    r,
    /rope_parameters\.rope_type \[\{"a":\[\{"a":.* is not supported \(expected "default"\)$/,
  );
});

Deno.test("readRecords() and loadModel() report JSON errors quoting CRs and control bytes on one line (fuzz findings)", async () => {
  const rows = await readRecords(`${FINDINGS}json_error_newline/jsonl/x.jsonl`);
  assertClean(rows, /^Invalid JSON: Unexpected token 'A', " A" is not valid JSON$/);
  const model = await loadModel(`${FINDINGS}json_error_newline/model_config`);
  assertClean(model, /^Not valid JSON: Unexpected token .*\\u0012g"relu"\.\.\. is not valid JSON$/);
  await settle();
});

Deno.test("model configs refuse a layer count past MAX_LAYERS in one line, not a RangeError (fuzz finding)", () => {
  const huge = 4294967296;
  const llama = parseLlamaConfig({ model_type: "llama", num_hidden_layers: huge }, "c.json");
  assertClean(llama, /num_hidden_layers must be an integer ≥ 1 and ≤ 1024, got 4294967296$/);
  assertClean(parseGpt2Config({ n_layer: huge }, "c.json"), /n_layer must be .* ≤ 1024, got/);
  assertClean(parseT5Config({ num_layers: huge }, "c.json"), /num_layers is 4294967296, expected/);
  assert.equal(
    parseLlamaConfig({ model_type: "llama", num_hidden_layers: 1024 }, "c")._tag,
    "Right",
  );
});

Deno.test("readRecords() quotes a header cell holding a newline when a row does not match (fuzz finding)", async () => {
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  try {
    await Deno.writeTextFile(path, '"a\nb"\n1,2,3\n');
    const r = await readRecords(path, { format: "csv" });
    assertClean(r, /^Expected 1 field \('a\\u000ab'\), found 3$/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("loadTokenizer() refuses a single-sequence template holding sequence B when loaded, not on encode (fuzz finding)", async () => {
  const r = await loadTokenizer(`${FINDINGS}tokenizer_single_template_b`);
  assertClean(r, /post_processor.*single.*Sequence.*sequence "A", not "B"/);
});
