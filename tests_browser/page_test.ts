/**
 * The page in headless Chromium: `web/build.ts` builds it into a temporary folder,
 * `web/serve.ts` serves it on 127.0.0.1, Playwright drives Debian's `chromium` (`CHROMIUM`
 * overrides the path) through a short training run, and the test checks that the loss fell, the
 * backend shown is the one that ran (WebGPU when the page's `navigator.gpu` gives an adapter,
 * else WASM), and that both downloads load in the command line: `prompt.npy` in `cli.ts eval`
 * and the PEFT adapter in `cli.ts convert`. A screenshot of the page after training is kept in
 * a temporary folder of its own (its path is printed; copied to `WEB_SCREENSHOT` when set).
 *
 * `WEB_TEST_TASK=spam` trains on the SpamAssassin mails instead of eight pasted examples, and
 * `WEB_TEST_STEPS` sets the steps (what `docs/web_screenshot.png` was made with).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { unzipSync } from "fflate";
import { buildPage } from "../web/build.ts";
import { serveStatic } from "../web/serve.ts";
import { readNpy } from "../io/npy.ts";
import { readPeftAdapter } from "../training/peft.ts";
import { orThrow } from "../problem.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";
const TASK = Deno.env.get("WEB_TEST_TASK") ?? "pasted";
const STEPS = Number(Deno.env.get("WEB_TEST_STEPS") ?? (TASK === "spam" ? 30 : 10));

/** Eight short examples a frozen T5 tells apart only with a prompt; two are held out. */
const PASTED = [
  "I loved this film, wonderful acting\tgreat",
  "Terrible plot and awful dialogue\tbad",
  "A delightful, moving story\tgreat",
  "Boring from start to finish\tbad",
  "Brilliant direction and a superb cast\tgreat",
  "The worst movie I have seen this year\tbad",
  "An absolute joy to watch\tgreat",
  "Dull, slow and badly written\tbad",
].join("\n");

/** What the test reads of the page's `<body>` (the test is not type-checked with the DOM). */
interface HTMLElementLike {
  readonly dataset: { readonly state?: string };
}

/** The page's `window.softPrompt`. */
interface PageRun {
  readonly backend: string;
  readonly losses: readonly number[];
  readonly stepsPerSecond: number;
  readonly accuracy: { readonly none?: number; readonly tuned?: number };
  readonly error?: string;
}

async function cli(args: readonly string[]): Promise<{ code: number; text: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "cli.ts"), ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text };
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

Deno.test("the page trains a prompt in headless Chromium and its downloads load in the CLI", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "web_page_" });
  const shots = await Deno.makeTempDir({ prefix: "web_page_screenshot_" }); // kept
  const dist = join(tmp, "dist");
  const t0 = performance.now();
  await buildPage(dist);
  const built = performance.now();
  const server = serveStatic(dist, 0);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  try {
    const context = await browser.newContext({
      acceptDownloads: true,
      viewport: { width: 1000, height: 900 },
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e: Error) => errors.push(e.message));
    // Our matrix-product kernel's .wasm, fetched beside tfjs's (else products fall back to tfjs's).
    const kernels: string[] = [];
    page.on("response", (r: { url(): string; status(): number }) => {
      if (/gemm-(relaxed|split)\.wasm$/.test(r.url())) kernels.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`http://127.0.0.1:${server.addr.port}/`);
    const hasAdapter: boolean = await page.evaluate(async () => {
      const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      return gpu !== undefined && (await gpu.requestAdapter().catch(() => null)) !== null;
    });
    if (TASK === "pasted") {
      await page.check("input[name=task][value=pasted]");
      await page.fill("#pasted", PASTED);
      await page.fill("#batch", "6"); // the six training examples: every step sees them all
      await page.fill("#lr", "0.3");
    } else {
      await page.fill("#maxTrain", "200");
      await page.fill("#maxValidation", "32");
    }
    await page.fill("#steps", String(STEPS));
    await page.fill("#maxInput", "64");
    await page.click("#train");
    await page.waitForFunction(
      () => {
        const body =
          (globalThis as unknown as { document: { body: HTMLElementLike } }).document.body;
        return ["done", "error"].includes(body.dataset.state ?? "");
      },
      undefined,
      { timeout: 540_000, polling: 500 },
    ).catch(async (e: Error) => {
      await page.screenshot({ path: join(shots, "page.png"), fullPage: true });
      throw new Error(`${e.message.split("\n")[0]}; the page then: ${join(shots, "page.png")}`);
    });
    const run = await page.evaluate(() =>
      (globalThis as unknown as { softPrompt: unknown }).softPrompt
    ) as PageRun;
    const trained = performance.now();
    await page.screenshot({ path: join(shots, "page.png"), fullPage: true });
    const shot = Deno.env.get("WEB_SCREENSHOT");
    if (shot !== undefined) await Deno.copyFile(join(shots, "page.png"), shot);
    assert.deepEqual(errors, []);
    assert.equal(kernels.length, 1, `the page fetched our kernel once: ${kernels}`);
    assert.match(kernels[0], /^200 /, "the kernel's .wasm was served");
    assert.equal(run.error, undefined, run.error);
    assert.equal(run.backend, hasAdapter ? "webgpu" : "wasm");
    const shown = await page.textContent("#backend");
    assert.match(shown ?? "", hasAdapter ? /^WebGPU/ : /^WASM/);
    assert.equal(run.losses.length, STEPS);
    assert.ok(run.losses.every(Number.isFinite), run.losses.join(", "));
    const k = Math.max(1, Math.floor(STEPS / 5));
    const first = mean(run.losses.slice(0, k)), last = mean(run.losses.slice(-k));
    assert.ok(last < first, `loss ${first} over the first ${k} steps, ${last} over the last`);
    assert.ok(run.stepsPerSecond > 0);
    assert.ok(run.accuracy.none !== undefined && run.accuracy.tuned !== undefined);
    assert.match(await page.textContent("#results") ?? "", /prompt-tuned \(20 tokens, \d+ steps\)/);

    const [npyDownload] = await Promise.all([page.waitForEvent("download"), page.click("#npy")]);
    const npyPath = join(tmp, "prompt.npy");
    await npyDownload.saveAs(npyPath);
    const npy = orThrow(await readNpy(npyPath));
    assert.equal(npy.dtype, "float32");
    const config = JSON.parse(
      await Deno.readTextFile(join(ROOT, "assets/embedded/lm_adapted/config.json")),
    );
    assert.deepEqual(npy.shape, [20, config.d_model]); // [P, H] of the embedded T5
    const [zipDownload] = await Promise.all([page.waitForEvent("download"), page.click("#peft")]);
    const zipPath = join(tmp, "adapter.zip");
    await zipDownload.saveAs(zipPath);
    const files = unzipSync(await Deno.readFile(zipPath));
    assert.deepEqual(Object.keys(files).sort(), [
      "adapter/adapter_config.json",
      "adapter/adapter_model.safetensors",
    ]);
    await Deno.mkdir(join(tmp, "adapter"));
    for (const [name, bytes] of Object.entries(files)) await Deno.writeFile(join(tmp, name), bytes);
    const adapter = orThrow(await readPeftAdapter(join(tmp, "adapter")));
    assert.deepEqual(adapter.prompt.data, npy.data);
    assert.equal(adapter.config.taskType, "SEQ_2_SEQ_LM");

    // The command line reads both: the adapter converts back to the same .npy, and the .npy
    // scores a few validation mails with the embedded model.
    const back = join(tmp, "from_adapter.npy");
    const converted = await cli(["convert", join(tmp, "adapter"), back]);
    assert.equal(converted.code, 0, converted.text);
    assert.deepEqual(orThrow(await readNpy(back)).data, npy.data);
    const evaluated = await cli([
      "eval",
      "--config",
      join(ROOT, "configs/runs/default.json"),
      "--prompt",
      npyPath,
      "--set",
      "eval.max_examples=4",
      "--set",
      "train.max_input_length=64",
    ]);
    assert.equal(evaluated.code, 0, evaluated.text);
    assert.match(evaluated.text, /accuracy/);
    const done = performance.now();
    console.log(
      `build ${((built - t0) / 1000).toFixed(1)} s, page run ${
        ((trained - built) / 1000).toFixed(1)
      } s (${run.backend}, ${run.stepsPerSecond.toFixed(2)} steps/s, loss ${first.toFixed(3)} → ${
        last.toFixed(3)
      }, accuracy ${run.accuracy.none} → ${run.accuracy.tuned}), CLI checks ${
        ((done - trained) / 1000).toFixed(1)
      } s; screenshot ${join(shots, "page.png")}`,
    );
  } finally {
    await browser.close();
    await server.shutdown();
    await Deno.remove(tmp, { recursive: true });
  }
});
