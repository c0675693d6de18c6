/**
 * The paper's ablations in miniature, on the embedded models and the default task (SpamAssassin):
 * prompt length 1 / 5 / 20 / 100; initialization random uniform / sampled vocabulary / class
 * labels; span-corruption-only vs LM-adapted model — one factor at a time around a base setting
 * (20 tokens, class labels, LM-adapted), each with several seeds.
 *
 *     npx -y deno@2.9.6 run -A bench/ablate.ts [--seeds 3] [--steps 300] [--batch 8]
 *       [--max-input 64] [--loss rank|token] [--lr 1.0] [--schedule cosine|constant]
 *       [--out runs/ablation] [--doc docs/ablation]
 *
 * Each finished run is appended to `OUT/results.jsonl`, so an interrupted ablation resumes where
 * it stopped; `--report` only writes the table and plot from the runs finished so far;
 * `--reverse` walks the settings from the last, so a second process can share the work. At the end it writes `DOC.md` (a markdown table: mean ± std of test accuracy, the
 * runs and seeds) and `DOC.svg` (a plot of the same).
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { parseArgs } from "node:util";
import { dirname, join } from "node:path";
import { initBackend } from "../backend.ts";
import { loadSpamAssassin, SPAM_ASSASSIN } from "../data/spam.ts";
import { rankClassify } from "../eval/rank.ts";
import {
  fromEmbeddedList,
  fromSampleOfEmbeddings,
  type Initializer,
  randomUniform,
} from "../initializers/mod.ts";
import { embeddingTable, type FrozenModel, loadModel } from "../model/load.ts";
import { key } from "../random/mod.ts";
import { type HfTokenizer, loadTokenizer } from "../tokenizer/mod.ts";
import { disposeTree } from "../tree/tree.ts";
import { adafactor, cosineDecaySchedule } from "../training/optim/mod.ts";
import { tunePrompt } from "../training/tune.ts";
import type { TokenExample } from "../data/batch.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    seeds: { type: "string", default: "3" },
    steps: { type: "string", default: "300" },
    batch: { type: "string", default: "8" },
    "max-input": { type: "string", default: "64" },
    loss: { type: "string", default: "rank" },
    lr: { type: "string", default: "1.0" },
    schedule: { type: "string", default: "cosine" },
    out: { type: "string", default: "runs/ablation" },
    doc: { type: "string", default: "docs/ablation" },
    report: { type: "boolean", default: false },
    reverse: { type: "boolean", default: false },
  },
});
const SEEDS = Number(args.seeds), STEPS = Number(args.steps), BATCH = Number(args.batch);
const MAX_INPUT = Number(args["max-input"]), LR = Number(args.lr);
const SCHEDULE = args.schedule === "constant"
  ? "constant"
  : args.schedule === "cosine"
  ? "cosine"
  : fail(`--schedule is "${args.schedule}"; expected cosine or constant`);
const LOSS = args.loss === "token" ? "token" : args.loss === "rank" ? "rank" : fail(
  `--loss is "${args.loss}"; expected rank or token`,
);
const OUT = args.out!, DOC = args.doc!;

type Init = "random_uniform" | "sampled_vocab" | "class_labels";
type ModelName = "lm_adapted" | "span_corruption";
interface Setting {
  readonly factor: "length" | "init" | "model";
  readonly length: number;
  readonly init: Init;
  readonly model: ModelName;
}
interface Result extends Setting {
  readonly seed: number;
  readonly accuracy: number;
  readonly seconds: number;
  readonly steps: number;
  /** The recipe: training loss, Adafactor learning rate, batch size, input tokens. */
  readonly loss?: "rank" | "token";
  readonly lr?: number;
  readonly batch?: number;
  readonly maxInput?: number;
  readonly schedule?: "cosine" | "constant";
}

/**
 * Whether a result was made with this invocation's recipe. The first results (token loss, Adafactor
 * at a constant 0.3, batch 16, 128 tokens) predate the recipe fields; the first ones with a `loss`
 * field and no `schedule` used cosine decay.
 */
const sameRecipe = (r: Result) =>
  r.steps === STEPS && (r.loss ?? "token") === LOSS && (r.lr ?? 0.3) === LR &&
  (r.batch ?? 16) === BATCH && (r.maxInput ?? 128) === MAX_INPUT &&
  (r.schedule ?? (r.loss === undefined ? "constant" : "cosine")) === SCHEDULE;

const BASE = { length: 20, init: "class_labels" as Init, model: "lm_adapted" as ModelName };
const SETTINGS: Setting[] = [
  ...[1, 5, 20, 100].map((length) => ({ factor: "length" as const, ...BASE, length })),
  ...(["random_uniform", "sampled_vocab", "class_labels"] as const).map((init) => ({
    factor: "init" as const,
    ...BASE,
    init,
  })),
  ...(["span_corruption", "lm_adapted"] as const).map((model) => ({
    factor: "model" as const,
    ...BASE,
    model,
  })),
];

const same = (a: Setting, b: Setting) =>
  a.length === b.length && a.init === b.init && a.model === b.model;

function fail(message: string): never {
  console.error(`Error: ${message}`);
  Deno.exit(1);
}

function orFail<A>(e: E.Either<{ where: string; message: string }, A>): A {
  if (E.isLeft(e)) fail(`${e.left.where}: ${e.left.message}`);
  return e.right;
}

async function readResults(path: string): Promise<Result[]> {
  try {
    return (await Deno.readTextFile(path)).split("\n").filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as Result);
  } catch {
    return [];
  }
}

function initializer(init: Init, model: FrozenModel, tok: HfTokenizer): Initializer {
  const emb = embeddingTable(model); // [V, H]
  const quiet = { onWarning: () => {} };
  switch (init) {
    case "random_uniform":
      return randomUniform(0.5);
    case "sampled_vocab":
      return fromSampleOfEmbeddings(emb, { populationSize: 5000, ...quiet });
    case "class_labels":
      return fromEmbeddedList(emb, tok, SPAM_ASSASSIN.labelWords ?? [], quiet);
  }
}

async function run(
  s: Setting,
  seed: number,
  model: FrozenModel,
  tok: HfTokenizer,
  train: TokenExample[],
  test: { ids: number[]; label: number }[],
): Promise<Result> {
  const t0 = performance.now();
  const runDir = await Deno.makeTempDir({ prefix: "ablate-" });
  const labels = (SPAM_ASSASSIN.labelWords ?? []).map((w) => [...tok.encodeWithSpecial(w)]);
  try {
    const tuned = orFail(
      await tunePrompt({
        model,
        initializer: initializer(s.init, model, tok),
        promptLength: s.length,
        key: key(seed),
        train,
        optimizer: adafactor({
          learningRate: SCHEDULE === "cosine" ? cosineDecaySchedule(LR, STEPS) : LR,
        }),
        ...(LOSS === "rank" ? { rank: { classes: labels } } : {}),
        batchSize: BATCH,
        steps: STEPS,
        checkpointEvery: STEPS,
        keep: 1,
        runDir,
        progress: false,
        interrupts: false,
        peft: false,
      }),
    );
    const ranked = await rankClassify(model, tuned.prompt, test.map((e) => e.ids), labels, {
      batchSize: 32,
    });
    tuned.prompt.dispose();
    const correct = ranked.filter((r, i) => r.predicted === test[i].label).length;
    return {
      ...s,
      seed,
      accuracy: correct / test.length,
      seconds: (performance.now() - t0) / 1000,
      steps: tuned.steps,
      loss: LOSS,
      lr: LR,
      schedule: SCHEDULE,
      batch: BATCH,
      maxInput: MAX_INPUT,
    };
  } finally {
    await Deno.remove(runDir, { recursive: true });
  }
}

function stats(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean, std };
}

const LABEL: Record<Setting["factor"], (s: Setting) => string> = {
  length: (s) => `${s.length} tokens`,
  init: (s) => s.init.replace("_", " "),
  model: (s) => s.model === "lm_adapted" ? "LM-adapted" : "span corruption only",
};

/** Short tick labels for the plot. */
const TICK: Record<Setting["factor"], (s: Setting) => string> = {
  length: (s) => String(s.length),
  init: (s) =>
    ({ random_uniform: "uniform", sampled_vocab: "sampled", class_labels: "class" })[s.init],
  model: (s) => s.model === "lm_adapted" ? "LM-adapted" : "span only",
};
const TITLE: Record<Setting["factor"], string> = {
  length: "prompt length (tokens)",
  init: "initialization",
  model: "frozen model",
};

function table(results: Result[]): string {
  const lines = [
    "| factor | setting | test accuracy (mean ± std) | runs | seeds |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const s of SETTINGS) {
    const rs = results.filter((r) => same(r, s));
    if (rs.length === 0) continue;
    const { mean, std } = stats(rs.map((r) => r.accuracy));
    lines.push(
      `| ${s.factor} | ${LABEL[s.factor](s)} | ${(100 * mean).toFixed(1)}% ± ${
        (100 * std).toFixed(1)
      } | ${rs.length} | ${rs.map((r) => r.seed).join(", ")} |`,
    );
  }
  return lines.join("\n");
}

function svg(results: Result[]): string {
  const factors = ["length", "init", "model"] as const;
  const W = 780, H = 300, panel = W / 3, top = 40, bottom = 230;
  const y = (acc: number) => bottom - (bottom - top) * Math.max(0, Math.min(1, (acc - 0.5) / 0.5));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  factors.forEach((f, p) => {
    const x0 = p * panel + 50, x1 = (p + 1) * panel - 15;
    const settings = SETTINGS.filter((s) => s.factor === f);
    parts.push(
      `<text x="${(x0 + x1) / 2}" y="20" text-anchor="middle" font-size="13">${TITLE[f]}</text>`,
    );
    parts.push(`<line x1="${x0}" y1="${top}" x2="${x0}" y2="${bottom}" stroke="black"/>`);
    parts.push(`<line x1="${x0}" y1="${bottom}" x2="${x1}" y2="${bottom}" stroke="black"/>`);
    for (const t of [0.5, 0.75, 1]) {
      parts.push(
        `<text x="${x0 - 5}" y="${y(t) + 4}" text-anchor="end">${100 * t}%</text>`,
        `<line x1="${x0}" y1="${y(t)}" x2="${x1}" y2="${y(t)}" stroke="#ddd"/>`,
      );
    }
    settings.forEach((s, i) => {
      const x = x0 + (x1 - x0) * (i + 0.5) / settings.length;
      const rs = results.filter((r) => same(r, s));
      parts.push(
        `<text x="${x}" y="${bottom + 16}" text-anchor="middle">${TICK[f](s)}</text>`,
      );
      for (const r of rs) {
        parts.push(`<circle cx="${x}" cy="${y(r.accuracy)}" r="2.5" fill="#999"/>`);
      }
      if (rs.length > 0) {
        const { mean, std } = stats(rs.map((r) => r.accuracy));
        parts.push(
          `<line x1="${x}" y1="${y(mean - std)}" x2="${x}" y2="${y(mean + std)}" stroke="#c00"/>`,
          `<circle cx="${x}" cy="${y(mean)}" r="4" fill="#c00"/>`,
        );
      }
    });
  });
  parts.push(
    `<text x="10" y="${
      H - 10
    }">Test accuracy on SpamAssassin; red: mean ± std over seeds, grey: runs.</text>`,
    "</svg>",
  );
  return parts.join("\n");
}

const started = orFail(await initBackend("wasm"));
console.error(
  `backend ${started}; ${SETTINGS.length} settings × ${SEEDS} seeds, ${STEPS} steps, ${LOSS} loss`,
);
const tokDir = "assets/embedded/lm_adapted";
const tok = orFail(await loadTokenizer(tokDir));
const trainSplit = orFail(await loadSpamAssassin("train"));
const testSplit = orFail(await loadSpamAssassin("test"));
const clip = (ids: number[]) =>
  ids.length > MAX_INPUT ? [...ids.slice(0, MAX_INPUT - 1), ids.at(-1)!] : ids;
const train: TokenExample[] = trainSplit.examples.map((e) => ({
  inputIds: clip([...tok.encodeWithSpecial(e.inputs)]),
  targetIds: [...tok.encodeWithSpecial(e.targets)],
}));
const test = testSplit.examples.map((e) => ({
  ids: clip([...tok.encodeWithSpecial(e.inputs)]),
  label: e.label ?? 0,
}));

await Deno.mkdir(OUT, { recursive: true });
const resultsPath = join(OUT, "results.jsonl");
const done = await readResults(resultsPath);
const models = new Map<ModelName, FrozenModel>();
const order = args.reverse ? [...SETTINGS].reverse() : SETTINGS;
for (const s of order) {
  if (SETTINGS.findIndex((t) => same(t, s)) !== SETTINGS.indexOf(s)) continue; // shared base
  for (let seed = 0; seed < SEEDS && !args.report; seed++) {
    const finished = [...done, ...await readResults(resultsPath)]; // another process may share
    if (finished.some((r) => same(r, s) && r.seed === seed && sameRecipe(r))) continue;
    if (!models.has(s.model)) {
      models.set(s.model, orFail(await loadModel(`assets/embedded/${s.model}`)));
    }
    const r = await run(s, seed, models.get(s.model)!, tok, train, test);
    done.push(r);
    await Deno.writeTextFile(resultsPath, JSON.stringify(r) + "\n", { append: true });
    console.error(
      `${s.factor} ${LABEL[s.factor](s)} seed ${seed}: ${(100 * r.accuracy).toFixed(1)}% (${
        r.seconds.toFixed(0)
      } s)`,
    );
  }
}
for (const m of models.values()) disposeTree(m.params);
// One result per setting and seed (two processes may both have run one).
const current = (await readResults(resultsPath)).filter(sameRecipe).filter((r, i, all) =>
  all.findIndex((q) => same(q, r) && q.seed === r.seed) === i
);
await Deno.mkdir(dirname(DOC), { recursive: true });
const header =
  `Ablations on the embedded models, SpamAssassin test split (${test.length} messages): ` +
  `${STEPS} Adafactor steps (lr ${LR}${
    SCHEDULE === "cosine" ? " with cosine decay" : ", constant"
  }), ${
    LOSS === "rank" ? "rank-classification loss" : "token loss"
  }, batch ${BATCH}, inputs cut to ${MAX_INPUT} tokens; ` +
  `one factor varied at a time around 20 tokens, class-label init, LM-adapted model.`;
await Deno.writeTextFile(`${DOC}.md`, `${header}\n\n${table(current)}\n`);
await Deno.writeTextFile(`${DOC}.svg`, svg(current) + "\n");
console.log(table(current));
