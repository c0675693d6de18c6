import assert from "node:assert/strict";
import * as E from "fp-ts/Either";
import { fileURLToPath } from "node:url";
import { describeProblem, type Problem } from "../problem.ts";
import {
  applyOverride,
  formatConfig,
  type JsonValue,
  mergeLayers,
  parseJson,
  parseOverride,
  readConfigFile,
  resolveConfig,
  resolveLayers,
  type RunConfig,
  validateConfig,
  writeResolvedConfig,
} from "../config/mod.ts";
import { closest, editDistance } from "../config/suggest.ts";
import { MAX_JSON_DEPTH } from "../config/json.ts";
import { mergeJson } from "../config/merge.ts";

const preset = (p: string) => fileURLToPath(new URL(`../configs/${p}.json`, import.meta.url));

/** The smallest complete configuration. */
const BASE = {
  model: "embedded:default",
  task: "glue/sst2",
  prompt: { length: 4, initializer: { kind: "sampled_vocab" } },
};

const json = (v: unknown) => JSON.stringify(v);

function right<A>(r: E.Either<unknown, A>): A {
  if (E.isLeft(r)) assert.fail(`Expected Right, got ${json(r.left)}`);
  return r.right;
}

function lines(r: E.Either<readonly Problem[], unknown>): string[] {
  if (E.isRight(r)) assert.fail("Expected problems, got a valid configuration");
  return r.left.map(describeProblem);
}

function oneLine(r: E.Either<Problem, unknown>): string {
  if (E.isRight(r)) assert.fail(`Expected a problem, got ${json(r.right)}`);
  return describeProblem(r.left);
}

const validate = (v: unknown, options = {}) => validateConfig(v as JsonValue, options);
const set = (root: unknown, text: string) =>
  E.flatMap(parseOverride(text), (o) => applyOverride(root as JsonValue, o));

async function withTemp<T>(f: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "config_test_" });
  try {
    return await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// --- JSON ------------------------------------------------------------------------------------

Deno.test("parseJson() reads every JSON type into objects without a prototype", () => {
  const v = right(
    parseJson('\ufeff{"a": [1, -2.5e3, true, false, null, "x\\u00e9\\n"], "b": {}}', "t"),
  );
  assert.equal(json(v), '{"a":[1,-2500,true,false,null,"xé\\n"],"b":{}}');
  assert.equal(Object.getPrototypeOf(v), null);
  assert.equal(Object.getPrototypeOf((v as Record<string, unknown>).b), null);
});

Deno.test("parseJson() gives the line and column of a syntax error", () => {
  const cases: [string, string][] = [
    ['{\n  "a": 1,\n}', 'f.json:3:1: Unexpected "}"; expected a quoted key'],
    ['{"a" 1}', 'f.json:1:6: Unexpected "1"; expected ":" after a key'],
    ["[1, 2", 'f.json:1:6: Unexpected the end of the text; expected "," or "]" in an array'],
    ['{"a": "b', "f.json:1:7: Unterminated string"],
    ["{'a': 1}", 'f.json:1:2: Unexpected "\'"; expected a quoted key'],
    ["[01]", 'f.json:1:3: Unexpected "1"; expected "," or "]" in an array'],
    ["1e999", "f.json:1:1: Number 1e999 is out of range"],
    ["{} x", 'f.json:1:4: Unexpected "x" after the value; expected the end'],
    ["", "f.json:1:1: Unexpected the end of the text; expected a value"],
    ['{"a": NaN}', 'f.json:1:7: Unexpected "N"; expected a value'],
  ];
  for (const [text, expected] of cases) assert.equal(oneLine(parseJson(text, "f.json")), expected);
});

Deno.test("parseJson() refuses duplicate and forbidden keys, and deep nesting", () => {
  assert.equal(oneLine(parseJson('{"a": 1, "a": 2}', "f")), 'f:1:10: Duplicate key "a"');
  for (const k of ["__proto__", "constructor", "prototype"]) {
    assert.equal(oneLine(parseJson(`{"x": {"${k}": {}}}`, "f")), `f:1:8: Forbidden key "${k}"`);
  }
  const deep = "[".repeat(MAX_JSON_DEPTH + 2) + "]".repeat(MAX_JSON_DEPTH + 2);
  assert.match(oneLine(parseJson(deep, "f")), /Nested deeper than 64 levels/);
  assert.ok(E.isRight(parseJson("[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH), "f")));
});

// --- merging ---------------------------------------------------------------------------------

Deno.test("mergeJson() lets the later layer win, merges objects deeply and replaces arrays", () => {
  const a = {
    train: { steps: 1, batch_size: 2, early_stopping: { metric: "loss" } },
    x: [1, 2, 3],
  };
  const b = { train: { steps: 5, early_stopping: { patience: 3 } }, x: [9], y: "new" };
  const m = mergeJson(a, b);
  assert.equal(
    json(m),
    '{"train":{"steps":5,"batch_size":2,"early_stopping":{"metric":"loss","patience":3}},"x":[9],"y":"new"}',
  );
  assert.equal(json(a.train), '{"steps":1,"batch_size":2,"early_stopping":{"metric":"loss"}}');
  assert.equal(json(mergeJson({ a: { b: 1 } }, { a: 2 })), '{"a":2}');
  assert.equal(json(mergeJson({ a: 2 }, { a: { b: 1 } })), '{"a":{"b":1}}');
  assert.equal(json(mergeJson({ a: { b: 1 } }, { a: null })), '{"a":null}');
});

Deno.test("mergeJson() replaces an object whose kind changes instead of merging it", () => {
  const m = mergeJson(
    { i: { kind: "random_uniform", scale: 0.5 }, s: { kind: "cosine", alpha: 0.1 } },
    { i: { kind: "class_labels" }, s: { alpha: 0.2 } },
  );
  assert.equal(json(m), '{"i":{"kind":"class_labels"},"s":{"kind":"cosine","alpha":0.2}}');
});

Deno.test("mergeLayers() applies layers in order and remembers which one gave each path", () => {
  const m = mergeLayers([
    {
      source: "a",
      value: { train: { steps: 1, seed: 3 }, prompt: { initializer: { kind: "x", s: 1 } } },
    },
    { source: "b", value: { train: { steps: 2 } } },
    { source: "c", value: { train: { steps: 3 }, prompt: { initializer: { kind: "y" } } } },
  ]);
  assert.equal(
    json(m.value),
    '{"train":{"steps":3,"seed":3},"prompt":{"initializer":{"kind":"y"}}}',
  );
  assert.equal(m.sources.get("train.steps"), "c");
  assert.equal(m.sources.get("train.seed"), "a");
  assert.equal(m.sources.get("prompt.initializer"), "c");
  assert.equal(m.sources.get("prompt.initializer.s"), undefined);
});

// --- overrides -------------------------------------------------------------------------------

Deno.test("--set reads every JSON type, and anything else as a plain string", () => {
  const cases: [string, unknown][] = [
    ["a=3", 3],
    ["a=-1.5e-5", -1.5e-5],
    ["a=true", true],
    ["a=false", false],
    ["a=null", null],
    ['a="quoted text"', "quoted text"],
    ['a="3"', "3"],
    ["a=[0.9, 0.99]", [0.9, 0.99]],
    ['a={"kind": "cosine", "alpha": 0}', { kind: "cosine", alpha: 0 }],
    ["a=glue/sst2", "glue/sst2"],
    ["a=embedded:default", "embedded:default"],
    ["a=sentence: {sentence}", "sentence: {sentence}"],
    ["a=x=y", "x=y"],
    ["a=", ""],
    ["a=[1, 2", "[1, 2"],
  ];
  for (const [text, expected] of cases) {
    const o = right(parseOverride(text));
    assert.deepEqual(o.path, ["a"]);
    assert.equal(json(o.value), json(expected), text);
  }
});

Deno.test("--set creates missing objects and replaces values without touching the input", () => {
  const root = { train: { steps: 1 } };
  assert.equal(json(right(set(root, "train.steps=7"))), '{"train":{"steps":7}}');
  assert.equal(
    json(right(set(root, "optimizer.schedule.kind=cosine"))),
    '{"train":{"steps":1},"optimizer":{"schedule":{"kind":"cosine"}}}',
  );
  assert.equal(json(right(set(root, 'train={"seed": 1}'))), '{"train":{"seed":1}}');
  assert.equal(json(root), '{"train":{"steps":1}}');
});

Deno.test("--set through a non-object, without =, or with an empty key is an error", () => {
  const root = { train: { steps: 1 }, task: "glue/sst2", betas: [1, 2], n: null };
  assert.equal(
    oneLine(set(root, "train.steps.x=1")),
    "--set train.steps.x=1: Cannot set through train.steps: it is a number, not an object",
  );
  assert.equal(
    oneLine(set(root, "task.name=x")),
    "--set task.name=x: Cannot set through task: it is a string, not an object",
  );
  assert.match(oneLine(set(root, "betas.0=1")), /through betas: it is an array/);
  assert.match(oneLine(set(root, "n.x=1")), /through n: it is null/);
  assert.equal(
    oneLine(set(root, "train.steps")),
    "--set train.steps: Expected PATH=VALUE, as in train.steps=100",
  );
  assert.match(oneLine(set(root, "train..steps=1")), /Empty key in the path "train..steps"/);
  assert.match(oneLine(set(root, "=1")), /Empty key/);
});

Deno.test("--set refuses __proto__ in the path and in the value, and pollutes nothing", () => {
  for (
    const text of ["__proto__.polluted=1", "a.constructor.prototype.polluted=1", "prototype=1"]
  ) {
    assert.match(oneLine(set({}, text)), /Forbidden key/, text);
  }
  assert.equal(
    oneLine(set({}, 'a={"__proto__": {"polluted": 1}}')),
    '--set a={"__proto__": {"polluted": 1}}: Forbidden key "__proto__" in the value',
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

// --- validation ------------------------------------------------------------------------------

Deno.test("validateConfig() fills in every default of a minimal configuration", () => {
  const c = right(validate(BASE));
  assert.equal(c.model, "embedded:default");
  assert.deepEqual(c.task, { kind: "builtin", name: "glue/sst2", data_dir: null, taskless: false });
  assert.deepEqual(c.prompt, {
    length: 4,
    initializer: { kind: "sampled_vocab", population: 5000 },
    combine: "prefix",
  });
  assert.equal(c.optimizer.kind, "adafactor");
  assert.equal(c.optimizer.learning_rate, 0.3);
  assert.equal(c.optimizer.weight_decay, 1e-5);
  assert.equal(c.train.steps, 30000);
  assert.equal(c.train.batch_size, 32);
  assert.equal(c.train.eval_every, 1000);
  assert.deepEqual(c.train.early_stopping, { metric: "loss", mode: "min", patience: null });
  assert.equal(c.eval.method, "rank");
  assert.equal(c.decoding.mode, "greedy");
  assert.equal(c.run_dir, "runs/default");
});

Deno.test("validateConfig() reports every problem at once, each with its path", () => {
  const r = validate({
    task: "glue/sst2",
    prompt: { lenght: 100, initializer: { kind: "class_label" } },
    optimizer: { learning_rat: 0.3, decay_rate: 2 },
    train: { steps: 0, batch_size: 2.5, on_bad_record: "ignore" },
    decoding: { top_p: 0, mode: "beam" },
    extra: true,
  });
  assert.deepEqual(lines(r), [
    "extra: Unknown key",
    'model: Required: a checkpoint directory, or "embedded:<name>"',
    "prompt.lenght: Unknown key; did you mean length?",
    "prompt.length: Required",
    'prompt.initializer.kind: Expected one of random_uniform, sampled_vocab, class_labels, from_string, from_file, got "class_label" (a string); did you mean class_labels?',
    "train.steps: Expected an integer ≥ 1, got 0 (a number)",
    "train.batch_size: Expected an integer ≥ 1, got 2.5 (a number)",
    'train.on_bad_record: Expected one of skip, fail, got "ignore" (a string)',
    "optimizer.learning_rat: Unknown key; did you mean learning_rate?",
    "optimizer.decay_rate: Expected a number ≥ 0 and ≤ 1, got 2 (a number)",
    "decoding.top_p: Expected a number > 0 and ≤ 1, got 0 (a number)",
  ]);
});

Deno.test("validateConfig() reports missing model, task and prompt", () => {
  assert.deepEqual(lines(validate({})), [
    'model: Required: a checkpoint directory, or "embedded:<name>"',
    'task: Required: a built-in task name such as "glue/sst2", or a custom task',
    "prompt.length: Required",
    "prompt.initializer: Required: an object with a kind, one of random_uniform, sampled_vocab, class_labels, from_string, from_file",
  ]);
  assert.deepEqual(lines(validate([])), ["config: Expected an object, got [] (an array)"]);
});

Deno.test("validateConfig() says which kind a misplaced key belongs to", () => {
  const r = validate({
    ...BASE,
    prompt: { length: 4, initializer: { kind: "class_labels", scale: 0.5, texts: ["a"] } },
    optimizer: {
      kind: "adam",
      decay_rate: 0.8,
      betas: [0.9, 1.5],
      schedule: { kind: "constant", alpha: 0 },
    },
  });
  assert.deepEqual(lines(r), [
    "prompt.initializer.scale: Not a setting of class_labels; it belongs to random_uniform",
    "optimizer.decay_rate: Not a setting of adam; it belongs to adafactor",
    "optimizer.schedule.alpha: Not a setting of constant; it belongs to cosine",
    "optimizer.betas: β2: Expected a number ≥ 0 and < 1, got 1.5 (a number)",
  ]);
});

Deno.test("validateConfig() checks built-in task and embedded model names against known lists", () => {
  const options = {
    knownTasks: ["glue/sst2", "glue/cola", "super_glue/boolq"],
    knownModels: ["default"],
  };
  assert.deepEqual(
    lines(validate({ ...BASE, task: "glue/sst", model: "embedded:defualt" }, options)),
    [
      'model: Unknown embedded model "embedded:defualt"; did you mean embedded:default?',
      'task: Unknown task "glue/sst"; did you mean glue/sst2?',
    ],
  );
  assert.deepEqual(lines(validate({ ...BASE, task: "GLUE SST-2", model: "embedded:" })), [
    'model: Expected "embedded:" then a name of letters, digits, "_", "-" or ".", got "embedded:"',
    'task: Expected a task name such as "glue/sst2", got "GLUE SST-2"',
  ]);
  const c = right(
    validate({ ...BASE, task: { name: "super_glue/boolq", taskless: true } }, options),
  );
  assert.deepEqual(c.task, {
    kind: "builtin",
    name: "super_glue/boolq",
    data_dir: null,
    taskless: true,
  });
});

Deno.test("validateConfig() resolves a custom task and checks its parts", () => {
  const task = {
    files: { train: "d/train.tsv", validation: "d/dev.tsv" },
    inputs: "sentence: {sentence}",
    label_map: { "0": "negative", "1": "positive" },
    metric: "accuracy",
  };
  const c = right(validate({ ...BASE, task }));
  assert.deepEqual(c.task, {
    kind: "custom",
    name: "custom",
    files: { train: "d/train.tsv", validation: "d/dev.tsv" },
    format: "tsv",
    header: true,
    columns: null,
    inputs: "sentence: {sentence}",
    targets: null,
    label_field: "label",
    label_map: { "0": "negative", "1": "positive" },
    label_words: ["negative", "positive"],
    metric: ["accuracy"],
  });
  const bad = validate({
    ...BASE,
    task: {
      files: { train: "a.txt" },
      inputs: "s: {s",
      taskless: true,
      metric: ["acc"],
      columns: ["a"],
    },
    prompt: { length: 4, initializer: { kind: "class_labels" } },
    eval: { method: "rank" },
  });
  assert.deepEqual(lines(bad), [
    "task.taskless: Not a setting of a custom task; it belongs to built-in tasks",
    "task.format: Required: the files' extensions do not tell (a.txt); give one of jsonl, csv, tsv, parquet",
    "task.columns: Only for csv and tsv files, not jsonl",
    "task.columns: Only for files without a header; set header to false",
    'task.inputs: Malformed placeholder at character 4; expected {field}, or "{{" for a brace',
    "task.targets: Required: a template, or a label_map from label_field to text",
    'task.metric: Item 0: Expected one of accuracy, f1, macro_f1, matthews, pearson, spearman, exact_match, token_f1, group_exact_match, got "acc" (a string)',
    "prompt.initializer.texts: Required: the task has no label words to initialize from (set texts, or the task's label_words)",
    'eval.method: Rank classification needs label words and the task has none; give task.label_words or use "generate"',
  ]);
  const generation = right(validate({
    ...BASE,
    task: {
      files: { train: "q.jsonl" },
      inputs: "question: {q} {{literal}}",
      targets: "{a}",
      metric: ["exact_match", "token_f1"],
    },
  }));
  assert.equal(generation.eval.method, "generate");
});

Deno.test("validateConfig() checks schedules against the training length", () => {
  const withSchedule = (schedule: unknown, steps = 100) =>
    validate({ ...BASE, optimizer: { schedule }, train: { steps } });
  const cosine = right(withSchedule({ kind: "cosine", warmup_steps: 10 }));
  assert.deepEqual(cosine.optimizer.schedule, {
    kind: "cosine",
    warmup_steps: 10,
    decay_steps: 90,
    alpha: 0,
  });
  assert.deepEqual(lines(withSchedule({ kind: "linear_decay", warmup_steps: 100 })), [
    "optimizer.schedule.warmup_steps: The warm-up (100 steps) leaves no steps to decay over in train.steps (100); give decay_steps",
  ]);
  assert.deepEqual(lines(withSchedule({ kind: "rsqrt" })), [
    "optimizer.schedule.warmup_steps: Required",
  ]);
  const adamw = right(validate({ ...BASE, optimizer: { kind: "adamw" } }));
  assert.equal(adamw.optimizer.learning_rate, 1e-3);
  assert.equal(adamw.optimizer.weight_decay, 0.01);
});

// --- files, layering and the whole resolution ------------------------------------------------

Deno.test("resolveConfig() merges files in order, then applies --set in order", async () => {
  await withTemp(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/a.json`,
      json({ ...BASE, train: { steps: 10, batch_size: 4 } }),
    );
    await Deno.writeTextFile(
      `${dir}/b.json`,
      json({ train: { steps: 20 }, task: { name: "glue/cola" } }),
    );
    const c = right(
      await resolveConfig([`${dir}/a.json`, `${dir}/b.json`], [
        "train.steps=30",
        "train.steps=40",
        "run_dir=r/x",
      ]),
    );
    assert.equal(c.train.steps, 40);
    assert.equal(c.train.batch_size, 4);
    assert.equal(c.task.kind === "builtin" && c.task.name, "glue/cola");
    assert.equal(c.run_dir, "r/x");
  });
});

Deno.test("resolveConfig() names the file and the --set behind each problem", async () => {
  await withTemp(async (dir) => {
    await Deno.writeTextFile(`${dir}/a.json`, json({ ...BASE, optimizer: { learning_rat: 1 } }));
    const r = await resolveConfig([`${dir}/a.json`], ["train.steps=-1", "prompt.length=x", "x"]);
    assert.deepEqual(lines(r), [
      "--set x: Expected PATH=VALUE, as in train.steps=100",
      'prompt.length: Expected an integer ≥ 1 and ≤ 65536, got "x" (a string) (from --set prompt.length=x)',
      "train.steps: Expected an integer ≥ 1, got -1 (a number) (from --set train.steps=-1)",
      `optimizer.learning_rat: Unknown key; did you mean learning_rate? (from ${dir}/a.json)`,
    ]);
  });
});

Deno.test("resolveConfig() reports every unreadable file with its position", async () => {
  await withTemp(async (dir) => {
    await Deno.writeTextFile(`${dir}/bad.json`, '{\n  "model": "m",\n  "task": glue\n}');
    await Deno.writeTextFile(`${dir}/proto.json`, '{"prompt": {"__proto__": {"length": 1}}}');
    await Deno.writeTextFile(`${dir}/array.json`, "[1]");
    await Deno.writeFile(`${dir}/binary.json`, new Uint8Array([0x7b, 0xff, 0x7d]));
    await Deno.writeTextFile(`${dir}/big.json`, `{"a": "${"x".repeat(2000)}"}`);
    const files = ["bad", "proto", "array", "binary", "missing", "big"].map((f) =>
      `${dir}/${f}.json`
    );
    assert.deepEqual(lines(await resolveConfig(files, [], { maxBytes: 1000 })), [
      `${dir}/bad.json:3:11: Unexpected "g"; expected a value`,
      `${dir}/proto.json:1:13: Forbidden key "__proto__"`,
      `${dir}/array.json: Expected a JSON object at the top of a configuration file`,
      `${dir}/binary.json: Not UTF-8 text; expected a JSON configuration file`,
      `${dir}/missing.json: No such configuration file`,
      `${dir}/big.json: Configuration file of 2009 bytes; the limit is 1000`,
    ]);
    assert.match(
      oneLine(await readConfigFile(dir)),
      /: Is a directory, not a regular file; expected a JSON configuration file$/,
    );
  });
});

Deno.test("writeResolvedConfig() saves the config atomically and reading it back gives it again", async () => {
  await withTemp(async (dir) => {
    const c = right(
      resolveLayers([{
        source: "x",
        value: { ...BASE, task: { files: { t: "a.csv" }, inputs: "{a}", targets: "{b}" } },
      }], []),
    );
    const path = right(await writeResolvedConfig(`${dir}/run/nested`, c));
    assert.equal(path, `${dir}/run/nested/config.json`);
    assert.equal(await Deno.readTextFile(path), formatConfig(c));
    assert.deepEqual([...Deno.readDirSync(`${dir}/run/nested`)].map((e) => e.name), [
      "config.json",
    ]);
    assert.equal(json(right(await resolveConfig([path], []))), json(c));
    await Deno.writeTextFile(`${dir}/file`, "");
    assert.equal(E.isLeft(await writeResolvedConfig(`${dir}/file/run`, c)), true);
  });
});

Deno.test("a resolved configuration validates to itself", () => {
  const variants: unknown[] = [
    BASE,
    {
      ...BASE,
      task: {
        name: "nli",
        files: { train: "t.csv" },
        header: false,
        columns: ["p", "h", "y"],
        inputs: "premise: {p} hypothesis: {h}",
        label_field: "y",
        label_map: { e: "entailment", n: "neutral", c: "contradiction" },
        metric: ["accuracy", "macro_f1"],
      },
      prompt: {
        length: 20,
        initializer: {
          kind: "from_string",
          text: "Is it entailed?",
          fallback: { kind: "random_uniform" },
        },
        combine: "suffix",
      },
      optimizer: {
        kind: "adamw",
        betas: [0.9, 0.99],
        schedule: { kind: "linear_decay", warmup_steps: 5 },
      },
      train: { steps: 50, early_stopping: { metric: "accuracy", patience: 2 }, keep: null },
      decoding: { mode: "sample", top_k: 40, temperature: 0.7 },
    },
    {
      ...BASE,
      task: { name: "super_glue/cb", data_dir: "data/cb" },
      prompt: { length: 1, initializer: { kind: "from_file", path: "p.npz", name: "prompt" } },
      optimizer: {
        schedule: { kind: "rsqrt", warmup_steps: 10 },
        clipping_threshold: null,
        momentum: 0.9,
      },
    },
  ];
  for (const v of variants) {
    const c = right(validate(v));
    assert.deepEqual(right(validate(JSON.parse(formatConfig(c)))), c);
  }
});

// --- presets ---------------------------------------------------------------------------------

const PRESETS = [
  "models/embedded_default",
  "models/t5_1_1_lm100k_small",
  "models/t5_1_1_lm100k_base",
  "models/t5_1_1_lm100k_large",
  "models/t5_1_1_lm100k_xl",
  "prompts/from_class_labels",
  "prompts/from_sampled_vocab",
  "prompts/from_random_uniform",
  "prompts/from_file",
  "decoding/greedy",
  "decoding/beam_search",
  "decoding/nucleus_sampling",
  "runs/prompt_finetune",
  "runs/prompt_eval",
  "runs/prompt_infer",
  "runs/default",
  "runs/mixture",
];

Deno.test("every preset file is listed here, loads, and validates on top of a base", async () => {
  const found: string[] = [];
  for (const sub of ["models", "prompts", "decoding", "runs"]) {
    for (const e of Deno.readDirSync(new URL(`../configs/${sub}/`, import.meta.url))) {
      if (e.name.endsWith(".json")) found.push(`${sub}/${e.name.slice(0, -5)}`);
    }
  }
  assert.deepEqual(found.sort(), [...PRESETS].sort());
  await withTemp(async (dir) => {
    await Deno.writeTextFile(`${dir}/base.json`, json(BASE));
    for (const p of PRESETS) {
      const sets =
        p === "prompts/from_file" || p.startsWith("runs/prompt_e") || p.startsWith("runs/prompt_i")
          ? ["prompt.initializer.path=p.npy"]
          : [];
      const r = await resolveConfig([`${dir}/base.json`, preset(p)], sets);
      assert.ok(E.isRight(r), `${p}: ${E.isLeft(r) ? r.left.map(describeProblem).join("; ") : ""}`);
    }
  });
});

Deno.test("the presets layer into the original's prompt tuning setup", async () => {
  const c: RunConfig = right(
    await resolveConfig(
      [
        preset("models/t5_1_1_lm100k_base"),
        preset("prompts/from_class_labels"),
        preset("decoding/beam_search"),
        preset("runs/prompt_finetune"),
      ],
      ["task=glue/sst2"],
    ),
  );
  assert.equal(c.model, "checkpoints/t5_1_1_lm100k_base");
  assert.deepEqual(c.prompt.initializer, {
    kind: "class_labels",
    texts: null,
    aggregate: "mean",
    fallback: { kind: "sampled_vocab", population: 5000 },
  });
  assert.equal(c.prompt.length, 100);
  assert.ok(c.optimizer.kind === "adafactor");
  assert.equal(c.optimizer.learning_rate, 0.3);
  assert.deepEqual(c.optimizer.schedule, { kind: "constant" });
  assert.equal(c.optimizer.decay_rate, 0.8);
  assert.equal(c.optimizer.clipping_threshold, 1.0);
  assert.equal(c.optimizer.weight_decay, 1e-5);
  assert.equal(c.optimizer.factored, false);
  assert.deepEqual(
    [c.train.steps, c.train.batch_size, c.train.checkpoint_every, c.train.keep, c.train.z_loss],
    [30000, 32, 1000, 1, 1e-4],
  );
  assert.deepEqual([c.decoding.mode, c.decoding.num_beams, c.decoding.length_penalty], [
    "beam",
    4,
    0.6,
  ]);

  const sample = right(
    await resolveConfig([
      preset("models/embedded_default"),
      preset("prompts/from_random_uniform"),
      preset("decoding/nucleus_sampling"),
    ], ["task=glue/rte"]),
  );
  assert.deepEqual(sample.prompt.initializer, {
    kind: "random_uniform",
    scale: 0.5,
    range: "flax",
  });
  assert.deepEqual([
    sample.decoding.mode,
    sample.decoding.top_p,
    sample.decoding.top_k,
    sample.decoding.temperature,
  ], ["sample", 0.9, 0, 1]);

  const evalRun = await resolveConfig([
    preset("models/t5_1_1_lm100k_small"),
    preset("runs/prompt_eval"),
  ], ["task=glue/rte"]);
  assert.deepEqual(lines(evalRun), [
    `prompt.initializer.path: Required (in an object from ${preset("runs/prompt_eval")})`,
  ]);
});

// --- did-you-mean ----------------------------------------------------------------------------

Deno.test("editDistance() and closest() find likely typos and nothing else", () => {
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("ab", "ba"), 1);
  assert.equal(
    closest("learning_rat", ["learning_rate", "schedule", "clip_norm"]),
    "learning_rate",
  );
  assert.equal(closest("batchsize", ["batch_size", "steps"]), "batch_size");
  assert.equal(closest("EVAL_EVERY", ["eval_every"]), "eval_every");
  assert.equal(closest("optimizer", ["model", "task"]), undefined);
});

Deno.test("mixture: each task's prompt is the top-level one with its keys over it; problems name the task's path", () => {
  const base = {
    model: "embedded:default",
    prompt: { length: 4, initializer: { kind: "sampled_vocab" } },
  };
  const ok = validateConfig({
    ...base,
    mixture: {
      tasks: [{ name: "a", task: "glue/sst2" }, {
        name: "b",
        task: "glue/rte",
        prompt: { length: 2 },
      }],
      shared: { length: 3, mode: "concat" },
    },
  });
  assert.ok(E.isRight(ok), E.isLeft(ok) ? ok.left.map(describeProblem).join("; ") : "");
  const m = ok.right.mixture!;
  assert.deepEqual(m.tasks.map((t) => [t.name, t.prompt.length, t.rate]), [["a", 4, null], [
    "b",
    2,
    null,
  ]]);
  assert.equal(m.rate, "proportional");
  assert.deepEqual(ok.right.task, m.tasks[0].task); // the top-level task is the first one's
  assert.equal(m.shared?.initializer.kind, "sampled_vocab");
  const bad = validateConfig({
    ...base,
    mixture: {
      rate: "given",
      tasks: [{ name: "a", task: "glue/sst2", rate: 1 }, {
        name: "a",
        task: "glue/rte",
        prompt: { length: 0 },
      }],
      shared: { length: 4, mode: "add" },
    },
  });
  assert.ok(E.isLeft(bad));
  assert.deepEqual(bad.left.map((p) => p.where).sort(), [
    "mixture.tasks[1].name",
    "mixture.tasks[1].prompt.length",
    "mixture.tasks[1].prompt.length",
    "mixture.tasks[1].rate",
  ]);
  const single = validateConfig({ ...base, task: "glue/sst2" });
  assert.ok(E.isRight(single) && !("mixture" in single.right)); // no mixture, no key
});
