/**
 * The decoder-only fixtures on WebGPU give transformers' logits (the same references and checks
 * as `tests/gpt2_test.ts` and `tests/llama_test.ts` on WASM): padded batches, a prompt through
 * `inputs_embeds`, cached greedy decoding, cached against uncached logits, no tensor leaked.
 */
import {
  gpt2Embed,
  gpt2Forward,
  loadGpt2FromHuggingFace,
  parseGpt2Config,
} from "../model/gpt2/mod.ts";
import {
  llamaEmbed,
  llamaForward,
  loadLlamaFromHuggingFace,
  parseLlamaConfig,
} from "../model/llama/mod.ts";
import { decoderHarness } from "../tests/decoder_parity.ts";
import { use } from "./_webgpu.ts";

await use("webgpu");

const gpt2 = decoderHarness({
  load: loadGpt2FromHuggingFace,
  parseConfig: parseGpt2Config,
  forward: gpt2Forward,
  embed: gpt2Embed,
});
const llama = decoderHarness({
  load: loadLlamaFromHuggingFace,
  parseConfig: parseLlamaConfig,
  forward: llamaForward,
  embed: llamaEmbed,
});

for (const name of ["gpt2_tiny", "gpt2_variant"]) {
  Deno.test(`gpt2Forward() on WebGPU matches transformers on ${name}`, () =>
    gpt2.checkFixture(name));
}
for (const name of ["llama_gqa", "llama_tied", "qwen2_gqa", "llama_mistral_window"]) {
  Deno.test(`llamaForward() on WebGPU matches transformers on ${name}`, () =>
    llama.checkFixture(name));
}
