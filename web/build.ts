/**
 * Builds the page into a folder (default `web/dist/`, not committed): `app.js` (bundled from
 * `web/app.ts` by `deno bundle`, which runs esbuild from npm), `index.html`, the WASM backend's
 * `.wasm` files and our matrix-product kernels', the embedded models' files under `assets/embedded/`, and `spam.json` (the
 * SpamAssassin training and validation mails, as the command line's spam task reads them).
 *
 * ```sh
 * npx -y deno@2.9.6 run -A web/build.ts [--out DIR]
 * ```
 *
 * @module
 */
import "@tensorflow/tfjs-backend-wasm"; // so that node_modules/ holds its .wasm files
import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../io/files.ts";
import { orThrow } from "../problem.ts";
import { loadSpamAssassin, SPAM_LABEL_WORDS } from "../data/spam.ts";
import { EMBEDDED_FILES, EMBEDDED_MODELS } from "../model/embedded.ts";
import type { Labeled } from "./examples.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Mails are cut to this many characters: the page reads at most a few hundred tokens. */
const MAX_TEXT_CHARS = 1500;

async function copy(from: string, to: string): Promise<void> {
  await writeFileAtomic(to, await Deno.readFile(from));
}

/** The spam task's train and validation splits, as `{labels, train, validation}`. */
async function spamJson(): Promise<string> {
  const split = async (name: string) =>
    orThrow(await loadSpamAssassin(name)).examples.map((e) => ({
      text: e.inputs.slice(0, MAX_TEXT_CHARS),
      label: SPAM_LABEL_WORDS.indexOf(e.targets as (typeof SPAM_LABEL_WORDS)[number]),
    }));
  const task: Labeled = {
    labels: SPAM_LABEL_WORDS,
    train: await split("train"),
    validation: await split("validation"),
  };
  return JSON.stringify(task);
}

/**
 * Builds the page into `out`.
 *
 * @param out the folder (created if missing; files in it are replaced)
 * @returns nothing; throws with the bundler's output when bundling fails
 */
export async function buildPage(out: string): Promise<void> {
  await Deno.mkdir(out, { recursive: true });
  const bundled = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform=browser",
      "--minify",
      join(ROOT, "web/app.ts"),
      "-o",
      join(out, "app.js"),
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!bundled.success) {
    throw new Error(`deno bundle failed: ${new TextDecoder().decode(bundled.stderr).trim()}`);
  }
  await copy(join(ROOT, "web/index.html"), join(out, "index.html"));
  // tfjs's builds and our matrix-product kernels, side by side (the page's wasmPaths).
  for (const dir of ["node_modules/@tensorflow/tfjs-backend-wasm/dist", "model/kernels/wasm"]) {
    for await (const e of Deno.readDir(join(ROOT, dir))) {
      if (e.name.endsWith(".wasm")) await copy(join(ROOT, dir, e.name), join(out, e.name));
    }
  }
  for (const folder of new Set(Object.values(EMBEDDED_MODELS))) {
    const to = join(out, "assets/embedded", folder);
    await Deno.mkdir(to, { recursive: true });
    for (const f of EMBEDDED_FILES) {
      await copy(join(ROOT, "assets/embedded", folder, f), join(to, f));
    }
  }
  await writeFileAtomic(join(out, "spam.json"), await spamJson());
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { out: { type: "string", default: join(ROOT, "web/dist") } },
  });
  const t0 = performance.now();
  await buildPage(values.out);
  console.log(`Built ${values.out} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
