/// <reference lib="dom" />
/**
 * The page: picks an embedded model, trains a soft prompt on the spam task (or on pasted
 * examples) with a live loss chart, compares validation accuracy with the no-prompt model, and
 * offers the prompt as `.npy` and as a PEFT adapter. Everything runs through `web.ts`, the
 * library's Deno-free core; `web/build.ts` bundles this file.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { zipSync } from "fflate";
import {
  accuracy,
  adafactor,
  type BackendName,
  cosineDecaySchedule,
  disposeState,
  disposeTree,
  encodeNpy,
  encodePeftAdapter,
  fromEmbeddedList,
  fromSampleOfEmbeddings,
  fromTensor,
  type HfTokenizer,
  initBackend,
  key,
  loadEmbedded,
  type ModelWithTokenizer,
  orThrow,
  peftOptionsFor,
  promptObjective,
  rankClassify,
  runSteps,
  specialIds,
  split,
} from "../web.ts";
import { lossChartSvg } from "./chart.ts";
import { type Labeled, type LabeledText, parsePasted } from "./examples.ts";

/** What the page exposes for scripts and tests (`window.softPrompt`). */
interface PageRun {
  backend: string;
  losses: number[];
  stepsPerSecond: number;
  accuracy: { none?: number; tuned?: number };
  error?: string;
}

const run: PageRun = { backend: "", losses: [], stepsPerSecond: 0, accuracy: {} };
(globalThis as unknown as { softPrompt: PageRun }).softPrompt = run;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const num = (id: string) => Number($<HTMLInputElement>(id).value);
const status = (text: string) => {
  $("status").textContent = text;
};
const setState = (s: string) => {
  document.body.dataset.state = s;
};

/** The page's folder: where the build put `assets/embedded/`, the `.wasm` files, `spam.json`. */
const here = () => new URL("./", globalThis.location.href);

let backendStarted: Promise<string> | undefined;

/** Starts the chosen backend once: WebGPU where `navigator.gpu` gives an adapter, else WASM. */
function startBackend(): Promise<string> {
  backendStarted ??= (async () => {
    const choice = $<HTMLSelectElement>("backendChoice").value;
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    const adapter = gpu === undefined ? null : await gpu.requestAdapter().catch(() => null);
    const name: BackendName = choice === "auto"
      ? (adapter ? "webgpu" : "wasm")
      : choice as BackendName;
    const notes: string[] = [];
    const started = orThrow(
      await initBackend(name, { wasmPaths: here().href, onNotice: (m) => notes.push(m) }),
    );
    const shown = started === "webgpu"
      ? "WebGPU"
      : `WASM (${tf.env().getBool("WASM_HAS_SIMD_SUPPORT") ? "SIMD" : "no SIMD"})`;
    $("backend").textContent = notes.length > 0 ? `${shown}; ${notes.join("; ")}` : shown;
    $<HTMLSelectElement>("backendChoice").disabled = true;
    run.backend = started;
    return started;
  })();
  return backendStarted;
}

const loaded = new Map<string, Promise<ModelWithTokenizer>>();

/** The embedded model, fetched from the page's server once per name. */
function model(name: string): Promise<ModelWithTokenizer> {
  let m = loaded.get(name);
  if (m === undefined) {
    m = loadEmbedded(name, { root: here() }).then(orThrow);
    loaded.set(name, m);
  }
  return m;
}

/** The spam task's mails, as the build wrote them from the SpamAssassin splits. */
async function spamTask(): Promise<Labeled> {
  const response = await fetch(new URL("spam.json", here()));
  if (!response.ok) throw new Error(`spam.json: HTTP ${response.status}; run web/build.ts`);
  return await response.json() as Labeled;
}

function task(): Promise<Labeled> {
  const which = (document.querySelector("input[name=task]:checked") as HTMLInputElement).value;
  if (which === "spam") return spamTask();
  return Promise.resolve(parsePasted($<HTMLTextAreaElement>("pasted").value));
}

/** Ids of each text, cut to `maxLength` tokens (EOS included). */
function encode(tokenizer: HfTokenizer, texts: readonly string[], maxLength: number) {
  return tokenizer.encodeBatch(texts, { maxLength, padding: false }).ids;
}

/** {@link encode} a hundred texts at a time, letting the page draw in between. */
async function encodeAll(
  tokenizer: HfTokenizer,
  texts: readonly string[],
  maxLength: number,
): Promise<(readonly number[])[]> {
  const out: (readonly number[])[] = [];
  for (let i = 0; i < texts.length; i += 100) {
    out.push(...encode(tokenizer, texts.slice(i, i + 100), maxLength));
    status(`Tokenizing: ${out.length}/${texts.length}…`);
    await new Promise((r) => setTimeout(r, 0));
  }
  return out;
}

let current: tf.Tensor | undefined; // the trained prompt [P, H]
let currentModel: ModelWithTokenizer | undefined;
let stopper: AbortController | undefined;

function download(name: string, bytes: Uint8Array, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function resultsTable(rows: readonly [string, number | undefined][], n: number): string {
  const pct = (x: number | undefined) => (x === undefined ? "…" : `${(100 * x).toFixed(1)}%`);
  return `<table><tr><th>model (${n} validation examples)</th><th>accuracy</th></tr>${
    rows.map(([name, acc]) => `<tr><td>${name}</td><td class="n">${pct(acc)}</td></tr>`).join("")
  }</table>`;
}

async function evaluate(
  m: ModelWithTokenizer,
  prompt: tf.Tensor | undefined,
  inputs: readonly (readonly number[])[],
  labelIds: readonly (readonly number[])[],
  truth: readonly number[],
): Promise<number> {
  const ranked = await rankClassify(m.model, prompt, inputs, labelIds, { batchSize: 16 });
  return accuracy(ranked.map((r) => r.predicted), truth);
}

async function train(): Promise<void> {
  setState("loading");
  for (const id of ["train", "npy", "peft"]) $<HTMLButtonElement>(id).disabled = true;
  run.losses = [];
  run.accuracy = {};
  run.error = undefined;
  $("chart").innerHTML = "";
  $("results").innerHTML = "";
  try {
    status("Starting the backend…");
    await startBackend();
    status("Fetching the model…");
    const m = await model($<HTMLSelectElement>("model").value);
    currentModel = m;
    const data = await task();
    const steps = num("steps"), promptLength = num("promptLength"), maxInput = num("maxInput");
    const trainSet = data.train.slice(0, num("maxTrain"));
    const batchSize = Math.min(num("batch"), trainSet.length);
    const validation = data.validation.slice(0, num("maxValidation"));
    const labelIds = encode(m.tokenizer, data.labels, 8); // [label][tokens]
    const trainIds = await encodeAll(m.tokenizer, trainSet.map((e) => e.text), maxInput);
    const examples = trainIds.map((inputIds, i) => ({
      inputIds,
      targetIds: labelIds[trainSet[i].label],
    }));
    const valInputs = await encodeAll(m.tokenizer, validation.map((e) => e.text), maxInput);
    const valTruth = validation.map((e: LabeledText) => e.label);
    const names = (acc: PageRun["accuracy"], tuned: string): [string, number | undefined][] => [
      ["frozen model, no prompt", acc.none],
      [tuned, acc.tuned],
    ];
    const tunedName = `prompt-tuned (${promptLength} tokens, ${steps} steps)`;
    status("Scoring the validation examples without a prompt…");
    setState("evaluating");
    run.accuracy.none = await evaluate(m, undefined, valInputs, labelIds, valTruth);
    $("results").innerHTML = resultsTable(names(run.accuracy, tunedName), validation.length);

    const embeddings = m.model.params.token_embedder.embedding; // [V, H]
    const width = embeddings.shape[1] as number;
    const initializer = fromEmbeddedList(embeddings, m.tokenizer, data.labels, {
      aggregate: "mean",
      fallback: fromSampleOfEmbeddings(embeddings, { populationSize: 5000 }),
    });
    const [initKey, trainKey] = split(key(num("seed")));
    const prompt = initializer(initKey, [promptLength, width]); // [P, H]
    const optimizer = adafactor({ learningRate: cosineDecaySchedule(num("lr"), steps) });
    const objective = promptObjective(m.model, {
      rank: { classes: labelIds },
      padId: specialIds(m.model).padTokenId,
    });
    current?.dispose();
    current = undefined;
    stopper = new AbortController();
    $<HTMLButtonElement>("stop").disabled = false;
    setState("training");
    const started = performance.now();
    const result = await runSteps({ prompt, opt: optimizer.init(prompt) }, {
      train: examples,
      batchSize,
      collate: objective.collate,
      loss: (p, b) => objective.loss(p, b),
      optimizer,
      key: trainKey,
      steps,
      signal: stopper.signal,
      onStep: async (s) => {
        run.losses.push(s.loss);
        run.stepsPerSecond = s.step / ((performance.now() - started) / 1000);
        status(
          `step ${s.step}/${steps} · loss ${s.loss.toFixed(4)} · ${
            run.stepsPerSecond.toFixed(2)
          } steps/s · ${run.backend}`,
        );
        $("chart").innerHTML = lossChartSvg(run.losses);
        await new Promise((r) => setTimeout(r, 0)); // let the page draw
      },
    });
    $<HTMLButtonElement>("stop").disabled = true;
    disposeState(result.state.opt);
    current = result.state.prompt;
    status(`Stopped (${result.stopped}) after ${result.steps} steps; scoring with the prompt…`);
    setState("evaluating");
    run.accuracy.tuned = await evaluate(m, current, valInputs, labelIds, valTruth);
    const tunedDone = `prompt-tuned (${promptLength} tokens, ${result.steps} steps)`;
    $("results").innerHTML = resultsTable(names(run.accuracy, tunedDone), validation.length);
    status(
      `Done: ${result.steps} steps at ${
        run.stepsPerSecond.toFixed(2)
      } steps/s on ${run.backend}; ` +
        `${tf.memory().numTensors} tensors held`,
    );
    $<HTMLButtonElement>("npy").disabled = false;
    $<HTMLButtonElement>("peft").disabled = false;
    setState("done");
  } catch (e) {
    run.error = e instanceof Error ? e.message.split("\n")[0] : String(e);
    status(`Error: ${run.error}`);
    setState("error");
  } finally {
    $<HTMLButtonElement>("train").disabled = false;
    $<HTMLButtonElement>("stop").disabled = true;
  }
}

/** Wires the page's controls (only where there is a page: importing this module elsewhere does nothing). */
function main(): void {
  $("train").addEventListener("click", () => void train());
  $("stop").addEventListener("click", () => stopper?.abort());
  $("npy").addEventListener("click", async () => {
    if (current === undefined) return;
    download("prompt.npy", encodeNpy(await fromTensor(current)), "application/octet-stream");
  });
  $("peft").addEventListener("click", async () => {
    if (current === undefined || currentModel === undefined) return;
    const files = orThrow(await encodePeftAdapter(current, peftOptionsFor(currentModel.model)));
    const zip = zipSync(
      Object.fromEntries(Object.entries(files).map(([name, bytes]) => [`adapter/${name}`, bytes])),
    );
    download("adapter.zip", zip, "application/zip");
  });
  addEventListener("pagehide", () => {
    current?.dispose();
    for (const m of loaded.values()) m.then((x) => disposeTree(x.model.params), () => {});
  });
}

if (typeof document !== "undefined") main();
