/**
 * Step 2 of tools/make_peft_fixtures.py: writes PEFT adapter directories with our
 * writePeftAdapter, from each fixture model's PEFT-trained final prompt, for PEFT to load (step 3).
 *
 *     npx -y deno@2.9.6 run -A tools/write_peft_adapters.ts
 *
 * Writes tests/fixtures/peft/ours_t5_v1_1_encoder_only/, ours_t5_v1_1_peft/, ours_gpt2_tiny/.
 */
import * as E from "fp-ts/Either";
import { openSafetensors } from "../io/safetensors.ts";
import { loadModel } from "../model/load.ts";
import { orThrow } from "../problem.ts";
import { disposeTree } from "../tree/tree.ts";
import { peftOptionsFor, writePeftAdapter } from "../training/peft.ts";

const root = new URL("..", import.meta.url).pathname;
Deno.chdir(root);
const out = "tests/fixtures/peft";

const targets = [
  { dir: "ours_t5_v1_1_encoder_only", model: "t5_v1_1", layout: "encoder-only" as const },
  { dir: "ours_t5_v1_1_peft", model: "t5_v1_1", layout: "peft" as const },
  { dir: "ours_gpt2_tiny", model: "gpt2_tiny", layout: undefined },
];

for (const t of targets) {
  const path = `tests/fixtures/models/${t.model}`;
  const model = orThrow(await loadModel(path));
  const refs = orThrow(await openSafetensors(`${out}/${t.model}.safetensors`));
  const prompt = orThrow(await refs.read("final_prompt"));
  refs.close();
  const written = await writePeftAdapter(`${out}/${t.dir}`, prompt, {
    ...peftOptionsFor(model),
    baseModelNameOrPath: path,
    seq2seqLayout: t.layout,
  });
  disposeTree(model.params);
  if (E.isLeft(written)) throw new Error(`${t.dir}: ${written.left.message}`);
  console.log(`wrote ${out}/${t.dir}`);
}
