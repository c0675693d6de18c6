/**
 * The command line end to end, in subprocesses with scoped permissions, on the tiny fixture model
 * (tests/fixtures/cli/model: a random T5 1.1 with the real T5 vocabulary and tokenizer; written
 * by tools/make_cli_fixtures.py) and a few SST-2 rows.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { hostTensor, readNpy, writeNpy } from "../io/mod.ts";
import { orThrow } from "../problem.ts";
import { type Run, runCli, showRun } from "./_cli.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const TINY = "tests/fixtures/cli/sst2_tiny.json";
const MODEL = "tests/fixtures/cli/model";
const TEST_TSV = "tests/fixtures/cli/sst2/test.tsv";
const T5X = "tests/data/prompt-tuning/test_data/test_t5_1_1_tiny/checkpoint_3";
const WIDE = "tests/data/prompt-tuning/pretrained_prompts/t5_1_1_lm100k_base/sst2.npy";

const work = await Deno.makeTempDir({ prefix: "cli_commands_" });
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

/** Runs the CLI with `--allow-read` and writes allowed under the test's directory only. */
const cli = (args: readonly string[], permissions?: readonly string[]): Promise<Run> =>
  runCli(args, permissions ?? ["--allow-read", `--allow-write=${work}`]);

const show = (r: Run) => showRun(r, 2000);

function succeeded(r: Run): void {
  assert.equal(r.code, 0, show(r));
}

/** A failure: the given exit code, and one line on stderr saying what and where, no stack. */
function oneLineError(r: Run, pattern: RegExp, code = 1): void {
  assert.equal(r.code, code, show(r));
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, show(r));
  assert.match(lines[0], /^Error: [A-Za-z0-9./_-]/, show(r));
  assert.match(lines[0], pattern, show(r));
  assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/);
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);
const bytes = (path: string) => Deno.readFile(path);

let trained: Promise<string> | undefined;
/** Trains 4 steps into `work/run` once; later tests use the run. */
function trainedRun(): Promise<string> {
  trained ??= (async () => {
    const dir = `${work}/run`;
    const r = await cli([
      "train",
      "--config",
      "configs/prompts/from_class_labels.json",
      "--config",
      "configs/runs/prompt_finetune.json",
      "--config",
      TINY,
      "--run-dir",
      dir,
    ]);
    succeeded(r);
    return dir;
  })();
  return trained;
}

Deno.test("cli train tunes a prompt on the tiny model, printing and saving the resolved config", async () => {
  const dir = await trainedRun();
  const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
  assert.equal(config.train.steps, 4);
  assert.equal(config.prompt.initializer.kind, "class_labels");
  assert.equal(config.run_dir, dir);
  for (
    const f of ["prompt.npy", "best.npy", "metrics.jsonl", "checkpoints/step_4/state.safetensors"]
  ) {
    assert.ok(await exists(`${dir}/${f}`), f);
  }
  assert.ok(await exists(`${dir}/adapter/adapter_config.json`));
  const prompt = orThrow(await readNpy(`${dir}/prompt.npy`));
  assert.deepEqual([prompt.dtype, ...prompt.shape], ["float32", 5, 8]);
  const best = JSON.parse(await Deno.readTextFile(`${dir}/best.json`));
  assert.equal(best.metric, "accuracy");
});

Deno.test("cli train prints the config first, refuses a used run directory, and resumes", async () => {
  const dir = `${work}/resume`;
  const base = ["train", "--config", TINY, "--set", 'prompt.initializer={"kind": "sampled_vocab"}'];
  const first = await cli([...base, "--run-dir", dir, "--set", "train.steps=2"]);
  succeeded(first);
  const printed = first.stdout.slice(0, first.stdout.indexOf("\n}\n") + 2);
  assert.equal(JSON.parse(printed).prompt.initializer.kind, "sampled_vocab");
  assert.match(first.stdout, /Stopped: done after 2 steps/);
  oneLineError(await cli([...base, "--run-dir", dir]), /already holds checkpoints.*--resume/);
  const again = await cli([...base, "--run-dir", dir, "--resume"]);
  succeeded(again);
  assert.match(again.stdout, /Stopped: done after 4 steps \(2 in this run, resumed from step 2\)/);
});

Deno.test("cli train builds every initializer, optimizer and schedule the configuration names", async () => {
  const dir = await trainedRun();
  const set = (kv: string) => ["--set", kv];
  const variants: string[][] = [
    [
      ...set('prompt.initializer={"kind": "random_uniform", "scale": 0.5, "range": "symmetric"}'),
      ...set(
        'optimizer={"kind": "adam", "learning_rate": 0.01, "schedule": {"kind": "cosine", "warmup_steps": 1}}',
      ),
    ],
    [
      ...set('prompt.initializer={"kind": "from_string", "text": "Is this review positive?"}'),
      ...set(
        'optimizer={"kind": "adamw", "betas": [0.8, 0.99], "schedule": {"kind": "linear_decay"}, "clip_norm": 1}',
      ),
    ],
    [
      ...set(`prompt.initializer={"kind": "from_file", "path": "${dir}/prompt.npy"}`),
      ...set('optimizer.schedule={"kind": "rsqrt", "warmup_steps": 1}'),
      ...set("optimizer.weight_decay_scaling=learning_rate"),
    ],
    [...set("optimizer.weight_decay_scaling=step_size"), ...set("prompt.combine=suffix")],
  ];
  const runs = await Promise.all(variants.map((v, i) =>
    cli([
      "train",
      "--config",
      TINY,
      ...v,
      ...set("train.steps=2"),
      ...set("train.early_stopping.metric=loss"),
      "--run-dir",
      `${work}/variant_${i}`,
    ])
  ));
  runs.forEach((r) => {
    succeeded(r);
    assert.match(r.stdout, /Stopped: done after 2 steps/);
  });
});

Deno.test("cli train with train.loss=rank trains over the label words; a target that is none fails in one line", async () => {
  const set = (kv: string) => ["--set", kv];
  const common = [...set("train.loss=rank"), ...set("train.steps=2"), ...set("train.eval_every=2")];
  const dir = `${work}/rank`;
  const ok = await cli(["train", "--config", TINY, ...common, "--run-dir", dir]);
  succeeded(ok);
  assert.match(ok.stdout, /Stopped: done after 2 steps/);
  assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/config.json`)).train.loss, "rank");
  // The validation loss is the rank loss: a cross-entropy over the 2 label words, near ln 2 for
  // a random model (the token loss over T5's 32k vocabulary is above 10).
  const lines = (await Deno.readTextFile(`${dir}/metrics.jsonl`)).trim().split("\n");
  const evals = lines.map((l) => JSON.parse(l)).filter((m) => m.eval !== undefined);
  assert.ok(evals.length > 0, lines.join("\n"));
  const loss = evals.at(-1).eval.loss;
  assert.ok(loss > 0 && loss < 2, `validation rank loss ${loss}`);
  const task = JSON.stringify({
    files: {
      train: "tests/fixtures/cli/sst2/train.tsv",
      validation: "tests/fixtures/cli/sst2/dev.tsv",
    },
    inputs: "{sentence}",
    targets: "label {label}",
    label_words: ["bad", "good"],
  });
  const bad = await cli([
    "train",
    "--config",
    TINY,
    ...common,
    ...set(`task=${task}`),
    ...set("train.early_stopping.metric=loss"),
    "--run-dir",
    `${work}/rank_bad`,
  ]);
  oneLineError(bad, /train\.tsv:\d+: Target "label 0" is not a label word \(bad, good\)/);
});

/** The JSON report `eval` prints before its table. */
function printedReport(stdout: string): { metrics: Record<string, number>; examples: number } {
  return JSON.parse(stdout.slice(0, stdout.indexOf("\n\n")));
}

Deno.test("cli eval prints metrics as JSON and a table; --out writes the report and predictions", async () => {
  const dir = await trainedRun();
  const r = await cli([
    "eval",
    "--config",
    `${dir}/config.json`,
    "--prompt",
    `${dir}/prompt.npy`,
    "--out",
    `${work}/eval`,
  ]);
  succeeded(r);
  const report = printedReport(r.stdout);
  assert.equal(report.examples, 4);
  assert.ok(report.metrics.accuracy >= 0 && report.metrics.accuracy <= 1);
  assert.match(
    r.stdout,
    /\ntask\s+split\s+examples\s+accuracy\nglue_sst2\s+validation\s+4\s+\d\.\d{4}\n/,
  );
  const saved = JSON.parse(await Deno.readTextFile(`${work}/eval/report.json`));
  assert.deepEqual(saved, report);
  const rows = (await Deno.readTextFile(`${work}/eval/predictions.jsonl`)).trimEnd().split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(rows.length, 4);
  assert.ok(rows.every((x) => ["negative", "positive"].includes(x.prediction)));
  assert.equal(rows[0].location, "tests/fixtures/cli/sst2/dev.tsv:2");
  // The same prompt from the PEFT adapter, the run directory and the checkpoint: the same metrics.
  for (const prompt of [`${dir}/adapter`, dir, `${dir}/checkpoints/step_4`]) {
    const same = await cli(["eval", "--config", `${dir}/config.json`, "--prompt", prompt]);
    succeeded(same);
    assert.deepEqual(printedReport(same.stdout).metrics, report.metrics, prompt);
  }
  const frozen = await cli(["eval", "--config", `${dir}/config.json`, "--no-prompt"]);
  succeeded(frozen);
  const generated = await cli([
    "eval",
    "--config",
    `${dir}/config.json`,
    "--prompt",
    `${dir}/prompt.npy`,
    "--set",
    "eval.method=generate",
  ]);
  succeeded(generated);
  assert.equal(printedReport(generated.stdout).metrics.accuracy, 0); // a random model never says "positive"
});

Deno.test("cli infer writes predictions with greedy, beam and sampling decoding", async () => {
  const dir = await trainedRun();
  const base = [
    "infer",
    "--config",
    `${dir}/config.json`,
    "--prompt",
    `${dir}/prompt.npy`,
    "--input",
    TEST_TSV,
  ];
  const lines = (r: Run) => r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  const greedy = await cli(base);
  succeeded(greedy);
  const g = lines(greedy);
  assert.equal(g.length, 2);
  assert.equal(g[0].inputs, "sst2 sentence: uneasy mishmash of styles and genres .");
  assert.ok(g.every((x) => typeof x.prediction === "string" && x.ids.length <= 4));
  const beam = await cli([
    ...base,
    "--config",
    "configs/decoding/beam_search.json",
    "--out",
    `${work}/beam.jsonl`,
  ]);
  succeeded(beam);
  const b = (await Deno.readTextFile(`${work}/beam.jsonl`)).trimEnd().split("\n");
  assert.equal(b.length, 2);
  const sample = ["--config", "configs/decoding/nucleus_sampling.json"];
  const [s1, s2] = await Promise.all([cli([...base, ...sample]), cli([...base, ...sample])]);
  succeeded(s1);
  assert.equal(s1.stdout, s2.stdout, "sampling is deterministic for a seed");
});

Deno.test("cli extract writes one variable of training, PEFT, T5X and Hugging Face checkpoints", async () => {
  const dir = await trainedRun();
  const out = (name: string) => `${work}/x_${name}.npy`;
  const runs = await Promise.all([
    cli(["extract", `${dir}/checkpoints/step_4`, "--variable", "prompt", "--out", out("prompt")]),
    cli(["extract", dir, "--variable", "v", "--out", out("v")]),
    cli(["extract", `${dir}/adapter`, "--variable", "prompt_embeddings", "--out", out("peft")]),
    cli([
      "extract",
      T5X,
      "--variable",
      "target/encoder/layers_0/attention/query/kernel",
      "--out",
      out("t5x"),
    ]),
    cli([
      "extract",
      T5X,
      "--variable",
      "encoder/layers/0/attention/query/kernel",
      "--out",
      out("tree"),
    ]),
    cli(["extract", MODEL, "--variable", "shared.weight", "--out", out("hf")]),
  ]);
  runs.forEach(succeeded);
  assert.deepEqual(await bytes(out("prompt")), await bytes(`${dir}/prompts/step_4.npy`));
  assert.deepEqual(await bytes(out("peft")), await bytes(`${dir}/prompt.npy`));
  assert.deepEqual(orThrow(await readNpy(out("v"))).shape, [5, 8]);
  const q = orThrow(await readNpy(out("t5x")));
  assert.equal(q.shape.length, 2);
  assert.deepEqual(await bytes(out("tree")), await bytes(out("t5x")));
  const emb = orThrow(await readNpy(out("hf")));
  assert.deepEqual([emb.dtype, ...emb.shape], ["float16", 32128, 8]);
  const unknown = await cli([
    "extract",
    T5X,
    "--variable",
    "target/encoder/layers_0/attention/qury/kernel",
    "--out",
    out("no"),
  ]);
  oneLineError(
    unknown,
    /No variable ".*qury.*"; closest: encoder\/layers_0\/attention\/query\/kernel/,
  );
});

Deno.test("cli convert round-trips .npy → PEFT adapter → .npy and .npy → safetensors → .npy bit for bit", async () => {
  const dir = await trainedRun();
  const npy = `${dir}/prompt.npy`;
  succeeded(await cli(["convert", npy, `${work}/c_adapter`, "--model", MODEL]));
  const config = JSON.parse(await Deno.readTextFile(`${work}/c_adapter/adapter_config.json`));
  assert.deepEqual(
    [
      config.task_type,
      config.token_dim,
      config.num_layers,
      config.num_attention_heads,
      config.num_virtual_tokens,
    ],
    ["SEQ_2_SEQ_LM", 8, 1, 2, 5],
  );
  succeeded(await cli(["convert", `${work}/c_adapter`, `${work}/c_back.npy`]));
  assert.deepEqual(await bytes(`${work}/c_back.npy`), await bytes(npy));
  succeeded(await cli(["convert", npy, `${work}/c.safetensors`]));
  succeeded(await cli(["convert", `${work}/c.safetensors`, `${work}/c_back2.npy`]));
  assert.deepEqual(await bytes(`${work}/c_back2.npy`), await bytes(npy));
  const explicit = await cli([
    "convert",
    npy,
    `${work}/c_causal`,
    "--task-type",
    "CAUSAL_LM",
    "--token-dim",
    "8",
    "--num-layers",
    "2",
    "--num-heads",
    "2",
  ]);
  succeeded(explicit);
});

/** A [3, 6] prompt: not the tiny model's width (8). */
async function widePrompt(): Promise<string> {
  const path = `${work}/wide.npy`;
  orThrow(await writeNpy(path, hostTensor("float32", [3, 6], new Float32Array(18))));
  return path;
}

const EVAL_PROMPT = (dir: string) => ["--prompt", `${dir}/prompt.npy`];

Deno.test("every command fails in one line, exit 1, on a missing file", async () => {
  const dir = await trainedRun();
  const missing = `${work}/no/such`;
  const cases: [string[], RegExp][] = [
    [["train", "--config", `${missing}.json`], /no\/such\.json: No such configuration file/],
    [["eval", "--config", TINY, "--prompt", `${missing}.npy`], /no\/such\.npy: No such file/],
    [
      ["infer", "--config", TINY, ...EVAL_PROMPT(dir), "--input", `${missing}.jsonl`],
      /no\/such\.jsonl: No such file/,
    ],
    [
      ["extract", missing, "--variable", "prompt", "--out", `${work}/m.npy`],
      /no\/such: No such file/,
    ],
    [["convert", `${missing}.npy`, `${work}/m2.npy`], /no\/such\.npy: No such file/],
    [
      ["train", "--config", TINY, "--set", `task.data_dir=${missing}`, "--run-dir", `${work}/m3`],
      /no\/such\/SST-2\/train\.tsv: No such file/,
    ],
  ];
  const runs = await Promise.all(cases.map(([args]) => cli(args)));
  runs.forEach((r, i) => oneLineError(r, cases[i][1]));
  const debug = await cli([...cases[1][0], "--debug"]);
  assert.equal(debug.code, 1);
  assert.match(debug.stderr, /^Error: .*no\/such\.npy: No such file[^]*\n\s+at .*\.ts:\d+/);
});

Deno.test("every command fails in one line, exit 1, on a malformed config", async () => {
  const dir = await trainedRun();
  const bad = `${work}/bad.json`;
  await Deno.writeTextFile(
    bad,
    '{"model": "tests/fixtures/cli/model",\n  "train": {"steps": }\n}\n',
  );
  // extract and convert take no run configuration: a malformed model config.json and T5X file.
  const badModel = `${work}/bad_model`;
  await Deno.mkdir(badModel, { recursive: true });
  await Deno.writeTextFile(`${badModel}/config.json`, '{"model_type": "t5", "d_model": ');
  await Deno.writeTextFile(`${badModel}/model.safetensors`, "");
  const badT5x = `${work}/bad_t5x`;
  await Deno.mkdir(badT5x, { recursive: true });
  await Deno.writeTextFile(`${badT5x}/checkpoint`, "not msgpack");
  const cases: [string[], RegExp][] = [
    [["train", "--config", bad], /bad\.json:2:\d+: /],
    [["eval", "--config", bad, ...EVAL_PROMPT(dir)], /bad\.json:2:\d+: /],
    [["infer", "--config", bad, ...EVAL_PROMPT(dir), "--input", TEST_TSV], /bad\.json:2:\d+: /],
    [
      ["extract", badT5x, "--variable", "token_embedder/embedding", "--out", `${work}/b.npy`],
      /bad_t5x/,
    ],
    [
      ["convert", `${dir}/prompt.npy`, `${work}/b_adapter`, "--model", badModel],
      /bad_model\/config\.json: /,
    ],
    [
      ["train", "--config", TINY, "--set", "optimizer.learning_rat=1"],
      /optimizer\.learning_rat: Unknown key; did you mean learning_rate\?/,
    ],
  ];
  const runs = await Promise.all(cases.map(([args]) => cli(args)));
  runs.forEach((r, i) => oneLineError(r, cases[i][1]));
});

Deno.test("train, eval and infer fail in one line, exit 1, on an unknown task (extract and convert take none)", async () => {
  const dir = await trainedRun();
  const task = ["--set", 'task={"name": "glue/sst3", "data_dir": "tests/fixtures/cli/sst2"}'];
  const cases: string[][] = [
    ["train", "--config", TINY, ...task],
    ["eval", "--config", TINY, ...task, ...EVAL_PROMPT(dir)],
    ["infer", "--config", TINY, ...task, ...EVAL_PROMPT(dir), "--input", TEST_TSV],
  ];
  const runs = await Promise.all(cases.map((args) => cli(args)));
  runs.forEach((r) =>
    oneLineError(r, /^Error: task\.name: Unknown task "glue\/sst3"; did you mean glue\/sst2\?/)
  );
});

Deno.test("every command given a prompt of the wrong width fails in one line, exit 1", async () => {
  const wide = await widePrompt();
  const fromFile = `prompt.initializer={"kind": "from_file", "path": "${wide}"}`;
  const cases: string[][] = [
    [
      "train",
      "--config",
      TINY,
      "--set",
      fromFile,
      "--set",
      "prompt.length=3",
      "--run-dir",
      `${work}/w`,
    ],
    ["eval", "--config", TINY, "--prompt", wide],
    ["infer", "--config", TINY, "--prompt", wide, "--input", TEST_TSV],
    ["convert", wide, `${work}/w_adapter`, "--model", MODEL],
    ["eval", "--config", TINY, "--prompt", WIDE],
  ];
  const runs = await Promise.all(cases.map((args) => cli(args)));
  runs.forEach((r) =>
    oneLineError(r, /The prompt is \[\d+, \d+\] but the model's width is 8; expected \[P, 8\]/)
  );
  // extract reads a variable whatever its shape: there is no model to match.
});

Deno.test("every command has --help, and usage errors exit 2 in one line", async () => {
  const commands = ["train", "eval", "infer", "extract", "convert", "inspect"];
  const helps = await Promise.all(commands.map((c) => cli([c, "--help"])));
  helps.forEach((r, i) => {
    succeeded(r);
    assert.match(r.stdout, new RegExp(`^Usage: deno run .*cli\\.ts ${commands[i]}`), commands[i]);
  });
  const usage: [string[], RegExp][] = [
    [
      ["train", "--config", TINY, "--colour", "x"],
      /train: Unknown option '--colour' \(see train --help\)/,
    ],
    [["eval", "--config", TINY], /eval needs --prompt FILE, --no-prompt/],
    [["infer", "--config", TINY, "--no-prompt"], /infer needs --input/],
    [["extract", MODEL, "--variable", "shared.weight"], /extract needs --out FILE\.npy/],
    [["convert", "a.npy"], /convert takes IN OUT, got 1/],
    [["trian"], /Unknown command "trian"; did you mean train\?/],
  ];
  const runs = await Promise.all(usage.map(([args]) => cli(args)));
  runs.forEach((r, i) => oneLineError(r, usage[i][1], 2));
});

/** Splits a shell command line into words (whitespace, single and double quotes). */
function shellWords(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

Deno.test("the README's commands work with exactly their scoped permissions", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const section = readme.split("\n## The command line\n")[1].split("\n## ")[0];
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  const commands = blocks
    .flatMap((b) => b.replace(/\\\n\s*/g, " ").split("\n"))
    .map((l) => l.trim())
    .filter((l) => l.startsWith("npx -y deno@2.9.6 run ") && l.includes("runs/tiny"))
    .map(shellWords);
  assert.deepEqual(commands.map((c) => c[c.indexOf("cli.ts") + 1]), [
    "train",
    "eval",
    "infer",
    "extract",
    "convert",
  ]);
  const dir = `${work}/readme`;
  for (const words of commands) {
    const args = words.slice(3).map((w) => w.replaceAll("runs/tiny", dir)); // after "npx -y deno@2.9.6"
    const flags = args.slice(1, args.indexOf("cli.ts"));
    assert.deepEqual(flags, ["--allow-read", `--allow-write=${dir}`], words.join(" "));
    const r = await cli(args.slice(args.indexOf("cli.ts") + 1), flags);
    succeeded(r);
  }
  assert.ok(await exists(`${dir}/eval/report.json`));
  assert.ok(await exists(`${dir}/adapter_peft/adapter_config.json`));
});
