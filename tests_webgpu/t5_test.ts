/**
 * The T5 fixtures on WebGPU give transformers' encoder states, logits and cached decoding (the
 * same references and checks as `tests/t5_test.ts` on WASM), and so do the embedded checkpoints
 * (as `tests/embedded_test.ts`), leaking no tensor.
 */
import { checkEmbeddedForward, NAMES } from "../tests/embedded_parity.ts";
import {
  checkCachedDecoding,
  checkEncoderStates,
  checkLogits,
  checkPromptLogits,
  FIXTURES,
} from "../tests/t5_parity.ts";
import { use } from "./_webgpu.ts";

await use("webgpu");

for (const name of FIXTURES) {
  Deno.test(`t5Encode() on WebGPU matches transformers' encoder states (t5_${name})`, () =>
    checkEncoderStates(name));
  Deno.test(`t5Apply() on WebGPU matches transformers' logits (t5_${name})`, () =>
    checkLogits(name));
  Deno.test(`t5Apply() on WebGPU with a prompt in inputs_embeds matches transformers (t5_${name})`, () =>
    checkPromptLogits(name));
  Deno.test(`t5Decode() on WebGPU matches transformers' cached greedy decoding (t5_${name})`, () =>
    checkCachedDecoding(name));
}

for (const name of NAMES) {
  Deno.test(`the embedded ${name} checkpoint on WebGPU gives transformers' states and logits`, () =>
    checkEmbeddedForward(name));
}
