import assert from "node:assert/strict";
import * as E from "fp-ts/Either";
import {
  BUILTIN_TASKS,
  checkTask,
  compileTemplate,
  type Example,
  fillTemplate,
  getTask,
  GLUE_SST2,
  labelMapFrom,
  type LoadedSplit,
  type LoadOptions,
  loadTaskSplit,
  mapLabel,
  parseLabelMap,
  type Task,
  taskNames,
} from "../data/mod.ts";
import { checkTemplateFields, removeFirstTextToken } from "../data/template.ts";
import { labelKey } from "../data/labels.ts";
import { scoreText } from "../data/load.ts";
import { taskless } from "../data/tasks.ts";
import { describeProblem, orThrow, type Problem } from "../problem.ts";

const FIXTURES = new URL("./fixtures/data/", import.meta.url).pathname;
const GLUE_FIXTURES = `${FIXTURES}glue`;
const SUPER_GLUE_FIXTURES = `${FIXTURES}super_glue`;
const GLUE = new URL("./data/glue/", import.meta.url).pathname;

const dir = await Deno.makeTempDir({ prefix: "tasks_test_" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(dir, { recursive: true });
  } catch {
    // already gone
  }
});

async function load(
  name: string | Task,
  root: string,
  split: string,
  options: LoadOptions = {},
): Promise<LoadedSplit> {
  const task = typeof name === "string" ? orThrow(getTask(name)) : name;
  const r = await loadTaskSplit(task, root, split, options);
  if (E.isLeft(r)) assert.fail(describeProblem(r.left));
  return r.right;
}

async function loadProblem(
  task: Task,
  root: string,
  split: string,
  options: LoadOptions = {},
): Promise<Problem> {
  const r = await loadTaskSplit(task, root, split, options);
  if (E.isRight(r)) assert.fail(`expected a problem, loaded ${r.right.examples.length} examples`);
  assert.ok(!describeProblem(r.left).includes("\n"), "a problem is one line");
  return r.left;
}

const pick = (e: Example) => ({ inputs: e.inputs, targets: e.targets, label: e.label });

// ---- Templates ----

Deno.test("fillTemplate() fills fields and writes doubled braces as braces", () => {
  const t = orThrow(compileTemplate("{{x}} {a}-{ b }/{a}"));
  assert.deepEqual(t.fields, ["a", "b"]);
  assert.deepEqual(fillTemplate(t, { a: "A", b: 2 }, "r:1"), E.right("{x} A-2/A"));
  assert.deepEqual(fillTemplate(t, { a: true, b: 10n }, "r:1"), E.right("{x} true-10/true"));
});

Deno.test("fillTemplate() names a missing field and the fields the record has", () => {
  const t = orThrow(compileTemplate("sst2 sentence: {sentense}"));
  assert.deepEqual(
    fillTemplate(t, { sentence: "x", label: "1" }, "train.tsv:7"),
    E.left({
      _tag: "Invalid",
      where: "train.tsv:7",
      message:
        'Field "sentense" named by template "sst2 sentence: {sentense}" is missing; available fields: sentence, label',
    }),
  );
  const bad = fillTemplate(t, { sentense: ["a"] }, "r:1");
  assert.ok(
    E.isLeft(bad) &&
      bad.left.message === 'Field "sentense" is a list; a template takes text, numbers or booleans',
  );
  const nul = fillTemplate(t, { sentense: null }, "r:1");
  assert.ok(E.isLeft(nul) && nul.left.message.startsWith('Field "sentense" is null'));
});

Deno.test("compileTemplate() rejects unbalanced braces and empty fields", () => {
  const cases: [string, string][] = [
    ["a {b", 'Field opened at character 3 is never closed in template "a {b"'],
    ["a } b", 'Unmatched "}" at character 3; write "}}" for a brace in template "a } b"'],
    ["a {} b", 'Empty field name at character 3 in template "a {} b"'],
    ["{a {b}", 'Field opened at character 1 holds a "{" in template "{a {b}"'],
  ];
  for (const [source, message] of cases) {
    assert.deepEqual(
      compileTemplate(source, "task.inputs"),
      E.left({ _tag: "Invalid", where: "task.inputs", message }),
    );
  }
});

Deno.test("checkTemplateFields() names an unknown field and the available ones", () => {
  const t = orThrow(compileTemplate("{sentence1} {sentense2}"));
  const r = checkTemplateFields(t, ["sentence1", "sentence2"], "task rte");
  assert.ok(E.isLeft(r));
  assert.equal(
    r.left.message,
    'Template "{sentence1} {sentense2}" names unknown field "sentense2"; available fields: sentence1, sentence2',
  );
  assert.ok(E.isRight(checkTemplateFields(t, ["sentence1", "sentense2"], "x")));
});

Deno.test("removeFirstTextToken() drops everything up to the first space, once", () => {
  assert.equal(removeFirstTextToken("sst2 sentence: a b"), "sentence: a b");
  assert.equal(removeFirstTextToken(" leading"), "leading"); // ^[^ ]* matches the empty word
  assert.equal(removeFirstTextToken("word"), "word");
  assert.equal(removeFirstTextToken(""), "");
});

// ---- Label maps ----

Deno.test("labelKey() and mapLabel() read numbers, text and booleans alike", () => {
  assert.deepEqual([labelKey(0), labelKey("0"), labelKey(false), labelKey(1n), labelKey(null)], [
    "0",
    "0",
    "false",
    "1",
    undefined,
  ]);
  const map = { "0": "negative", "1": "positive" };
  assert.equal(mapLabel(map, 1), "positive");
  assert.equal(mapLabel(map, "0"), "negative");
  assert.equal(mapLabel(map, 2), undefined);
  assert.equal(mapLabel(map, "__proto__"), undefined);
});

Deno.test('parseLabelMap() reads {0: "negative", 1: "positive"} and its variants', () => {
  assert.deepEqual(
    parseLabelMap('{0: "negative", 1: "positive"}', "x"),
    E.right({ "0": "negative", "1": "positive" }),
  );
  assert.deepEqual(
    parseLabelMap(`{ False : 'No', True: "Yes", }`, "x"),
    E.right({ false: "No", true: "Yes" }),
  );
  assert.deepEqual(
    parseLabelMap('{"entailment": "yes", not_entailment: "no", -1: "unk"}', "x"),
    E.right({ entailment: "yes", not_entailment: "no", "-1": "unk" }),
  );
  assert.deepEqual(parseLabelMap("{01: 'a'}", "x"), E.right({ "1": "a" }));
  const cases: [string, string][] = [
    ["[0]", 'Expected "{" at character 1'],
    ["{0 'a'}", 'Expected ":" at character 4'],
    ["{0: a}", "Expected a quoted label word at character 5"],
    ["{0: 'a', 0: 'b'}", 'Duplicate key "0" at character 11'],
    ["{0: 'a'} x", "Unexpected text after the map at character 10"],
    ["{0: 'a' 1: 'b'}", 'Expected "," or "}" at character 9'],
  ];
  for (const [text, message] of cases) {
    const r = parseLabelMap(text, "--set labels");
    assert.ok(E.isLeft(r), text);
    assert.equal(r.left.message, `${message} of label map ${JSON.stringify(text)}`);
  }
  assert.equal(orThrow(E.mapLeft((p: Problem) => p)(labelMapFrom({ a: "x" }, "m"))).a, "x");
  assert.ok(E.isLeft(parseLabelMap("{0: ''}", "x")));
  assert.ok(E.isLeft(labelMapFrom({}, "m")));
  assert.ok(E.isLeft(labelMapFrom(["a"], "m")));
});

// ---- Task definitions ----

Deno.test("every built-in task is sound, and getTask() finds each with its taskless variant", () => {
  assert.equal(BUILTIN_TASKS.length, 16);
  for (const t of BUILTIN_TASKS) {
    assert.deepEqual(checkTask(t), [], t.name);
    assert.equal(orThrow(getTask(t.name)), t);
    const tl = orThrow(getTask(`taskless_${t.name}`));
    assert.equal(tl.taskless, true);
    assert.equal(tl.inputs, t.inputs);
  }
  assert.equal(taskNames().length, 32);
  assert.equal(taskless(taskless(GLUE_SST2)).name, "taskless_glue_sst2");
});

Deno.test("getTask() suggests close names for an unknown task", () => {
  assert.deepEqual(
    getTask("glue_sst-2"),
    E.left({
      _tag: "Invalid",
      where: "task",
      message: 'Unknown task "glue_sst-2"; did you mean glue_sst2?',
    }),
  );
  const short = getTask("rte");
  assert.ok(
    E.isLeft(short) &&
      short.left.message === 'Unknown task "rte"; did you mean glue_rte, super_glue_rte?',
  );
  const far = getTask("imagenet");
  assert.ok(
    E.isLeft(far) &&
      far.left.message.startsWith('Unknown task "imagenet"; known tasks: glue_cola, glue_sst2'),
  );
});

Deno.test("built-in tasks carry T5's label words and metrics", () => {
  const expect: Record<string, [string[] | undefined, string[], string?]> = {
    glue_cola: [["unacceptable", "acceptable"], ["matthews"]],
    glue_sst2: [["negative", "positive"], ["accuracy"]],
    glue_mrpc: [["not_equivalent", "equivalent"], ["f1", "accuracy"], "equivalent"],
    glue_qqp: [["not_duplicate", "duplicate"], ["f1", "accuracy"], "duplicate"],
    glue_stsb: [undefined, ["pearson", "spearman"]],
    glue_mnli: [["entailment", "neutral", "contradiction"], ["accuracy"]],
    glue_qnli: [["entailment", "not_entailment"], ["accuracy"]],
    glue_rte: [["entailment", "not_entailment"], ["accuracy"]],
    super_glue_boolq: [["False", "True"], ["accuracy"]],
    super_glue_cb: [["entailment", "contradiction", "neutral"], ["macro_f1", "accuracy"]],
    super_glue_copa: [["choice1", "choice2"], ["accuracy"]],
    super_glue_multirc: [["False", "True"], ["f1", "group_exact_match"], "True"],
    super_glue_record: [undefined, ["exact_match", "token_f1"]],
    super_glue_rte: [["entailment", "not_entailment"], ["accuracy"]],
    super_glue_wic: [["False", "True"], ["accuracy"]],
    super_glue_wsc: [undefined, ["accuracy"]],
  };
  for (const t of BUILTIN_TASKS) {
    const [words, metrics, positive] = expect[t.name];
    assert.deepEqual(t.labelWords, words, t.name);
    assert.deepEqual(t.metrics, metrics, t.name);
    assert.equal(t.positive, positive, t.name);
  }
});

Deno.test("checkTask() reports every problem of a task at once", () => {
  const problems = checkTask({
    name: "broken",
    inputs: "{a",
    targets: { kind: "label", field: "y", map: { "0": "no", "1": "maybe" } },
    labelWords: ["no", "yes", "no"],
    metrics: ["accuracy", "f1", "bleu" as "accuracy"],
    files: { train: { file: "", format: "xml" as "csv" } },
  });
  assert.deepEqual(problems.map((p) => `${p.where}: ${p.message}`), [
    'task broken: inputs: Field opened at character 1 is never closed in template "{a"',
    'task broken: labelWords: Label word "no" appears twice',
    'task broken: targets.map: Label "1" maps to "maybe", which is not among the classes no, yes, no',
    'task broken: metrics: Unknown metric "bleu"; expected one of accuracy, f1, macro_f1, matthews, pearson, spearman, exact_match, token_f1, group_exact_match',
    "task broken: positive: Metric f1 needs the positive class's word",
    "task broken: files.train.file: File must be non-empty text",
    'task broken: files.train.format: Unknown format "xml"; expected jsonl, csv, tsv or parquet',
  ]);
});

Deno.test("scoreText() rounds like T5's stsb: float32, to 0.2, ties to even", () => {
  // x·5 → round half to even → /5, one decimal.
  const cases: [number, string][] = [
    [5, "5.0"],
    [3.8, "3.8"],
    [0, "0.0"],
    [2.5, "2.4"], // 12.5 → 12
    [3.7, "3.6"], // 18.5 → 18
    [0.3, "0.4"], // 1.5 → 2
    [0.1, "0.0"], // 0.5 → 0
    [4.333, "4.4"], // 21.665 → 22
    [1.25, "1.2"], // 6.25 → 6
  ];
  for (const [x, want] of cases) assert.equal(scoreText(x, 0.2, 1), want, String(x));
});

// ---- GLUE on the real files ----

Deno.test({
  name:
    "GLUE SST-2, CoLA and RTE load from the real files (trimmed train splits) with T5's inputs and targets",
  fn: async () => {
    const cases: [string, string, number, { inputs: string; targets: string; label: number }[]][] =
      [
        ["glue_sst2", "train", 3_000, [
          {
            inputs: "sst2 sentence: hide new secretions from the parental units ",
            targets: "negative",
            label: 0,
          },
          {
            inputs: "sst2 sentence: contains no wit , only labored gags ",
            targets: "negative",
            label: 0,
          },
          {
            inputs:
              "sst2 sentence: that loves its characters and communicates something rather beautiful about human nature ",
            targets: "positive",
            label: 1,
          },
        ]],
        ["glue_sst2", "validation", 872, [
          {
            inputs: "sst2 sentence: it 's a charming and often affecting journey . ",
            targets: "positive",
            label: 1,
          },
          {
            inputs: "sst2 sentence: unflinchingly bleak and desperate ",
            targets: "negative",
            label: 0,
          },
        ]],
        ["glue_cola", "train", 3_100, [
          {
            inputs:
              "cola sentence: Our friends won't buy this analysis, let alone the next one we propose.",
            targets: "acceptable",
            label: 1,
          },
        ]],
        ["glue_cola", "validation", 1_043, [
          {
            inputs: "cola sentence: The sailors rode the breeze clear of the rocks.",
            targets: "acceptable",
            label: 1,
          },
        ]],
        ["glue_rte", "train", 500, [
          {
            inputs:
              "rte sentence1: No Weapons of Mass Destruction Found in Iraq Yet. sentence2: Weapons of Mass Destruction Found in Iraq.",
            targets: "not_entailment",
            label: 1,
          },
          {
            inputs:
              "rte sentence1: A place of sorrow, after Pope John Paul II died, became a place of celebration, as Roman Catholic faithful gathered in downtown Chicago to mark the installation of new Pope Benedict XVI. sentence2: Pope Benedict XVI is the new leader of the Roman Catholic Church.",
            targets: "entailment",
            label: 0,
          },
        ]],
        ["glue_rte", "validation", 277, [
          {
            inputs:
              "rte sentence1: Dana Reeve, the widow of the actor Christopher Reeve, has died of lung cancer at age 44, according to the Christopher Reeve Foundation. sentence2: Christopher Reeve had an accident.",
            targets: "not_entailment",
            label: 1,
          },
        ]],
      ];
    for (const [name, split, n, first] of cases) {
      const s = await load(name, GLUE, split);
      assert.equal(s.examples.length, n, `${name} ${split}`);
      assert.equal(s.records, n);
      assert.equal(s.skipped + s.filtered + s.unlabelled, 0);
      assert.deepEqual(s.examples.slice(0, first.length).map(pick), first, `${name} ${split}`);
    }
    // Class balance of SST-2's dev set, a known figure: 444 positive, 428 negative.
    const dev = await load("glue_sst2", GLUE, "validation");
    assert.equal(dev.examples.filter((e) => e.label === 1).length, 444);
    assert.equal(dev.examples[871].meta.location, `${GLUE}SST-2/dev.tsv:873`);
    assert.equal(dev.examples[871].meta.index, 871);
    // CoLA's dev set: 721 acceptable of 1,043 (its published majority baseline 69.1%).
    const cola = await load("glue_cola", GLUE, "validation");
    assert.equal(cola.examples.filter((e) => e.targets === "acceptable").length, 721);
  },
});

Deno.test({
  name: "taskless GLUE tasks drop the task word, and a task's own folder works as the directory",
  fn: async () => {
    const s = await load("taskless_glue_sst2", `${GLUE}SST-2`, "validation", { limit: 1 });
    assert.deepEqual(s.examples.map(pick), [
      {
        inputs: "sentence: it 's a charming and often affecting journey . ",
        targets: "positive",
        label: 1,
      },
    ]);
    const rte = await load("taskless_glue_rte", GLUE, "train", { limit: 1 });
    assert.ok(rte.examples[0].inputs.startsWith("sentence1: No Weapons"));
  },
});

// ---- The other GLUE formats, on small files in the distribution's layout ----

Deno.test("GLUE MRPC, QQP, QNLI, MNLI and STS-B read the distribution's layouts", async () => {
  const cases: [string, string, ReturnType<typeof pick>[]][] = [
    // MRPC's header (with a byte-order mark) is renamed; quotes stay text.
    ["glue_mrpc", "train", [
      {
        inputs:
          "mrpc sentence1: The cat sat on the mat . sentence2: A cat was sitting on the mat .",
        targets: "equivalent",
        label: 1,
      },
      {
        inputs:
          'mrpc sentence1: Shares rose 5 percent on Monday . sentence2: The firm said profits "fell" sharply .',
        targets: "not_equivalent",
        label: 0,
      },
    ]],
    ["glue_mrpc", "test", [
      {
        inputs: "mrpc sentence1: It rained all day . sentence2: The day was rainy .",
        targets: "",
        label: undefined,
      },
    ]],
    ["glue_qqp", "validation", [
      {
        inputs: "qqp question1: How do I learn Go? question2: What is the best way to learn Go?",
        targets: "duplicate",
        label: 1,
      },
      {
        inputs: "qqp question1: Why is the sky blue? question2: How tall is Everest?",
        targets: "not_duplicate",
        label: 0,
      },
    ]],
    ["glue_qnli", "validation", [
      {
        inputs: "qnli question: What colour is grass? sentence: Grass is usually green.",
        targets: "entailment",
        label: 0,
      },
      {
        inputs: "qnli question: Who wrote Hamlet? sentence: Hamlet is set in Denmark.",
        targets: "not_entailment",
        label: 1,
      },
    ]],
    // MNLI: hypothesis (sentence2) before premise (sentence1), T5's sorted feature order.
    ["glue_mnli", "validation_matched", [
      {
        inputs: "mnli hypothesis: A dog made noise. premise: The dog barked.",
        targets: "entailment",
        label: 0,
      },
      {
        inputs: "mnli hypothesis: It was raining. premise: It was sunny.",
        targets: "contradiction",
        label: 2,
      },
    ]],
    ["glue_mnli", "train", [
      {
        inputs: "mnli hypothesis: Taxes changed. premise: Taxes rose.",
        targets: "entailment",
        label: 0,
      },
    ]],
    ["glue_stsb", "validation", [
      {
        inputs: "stsb sentence1: A plane is taking off. sentence2: An air plane is taking off.",
        targets: "5.0",
        label: 5,
      },
      {
        inputs:
          "stsb sentence1: A man is playing a flute. sentence2: A man is playing a bamboo flute.",
        targets: "3.8",
        label: 3.8,
      },
      {
        inputs: "stsb sentence1: Markets fell. sentence2: Stocks dropped sharply.",
        targets: "2.4",
        label: 2.5,
      },
      { inputs: "stsb sentence1: A cat eats. sentence2: A dog runs.", targets: "3.6", label: 3.7 },
      {
        inputs: "stsb sentence1: It is cold. sentence2: The soup is hot.",
        targets: "0.0",
        label: 0.1,
      },
    ]],
  ];
  for (const [name, split, want] of cases) {
    const s = await load(name, GLUE_FIXTURES, split);
    assert.deepEqual(s.examples.map(pick), want, `${name} ${split}`);
  }
  assert.equal((await load("glue_mrpc", GLUE_FIXTURES, "test")).unlabelled, 1);
});

// ---- SuperGLUE formats, on small files in the distribution's layout ----

Deno.test("SuperGLUE BoolQ, CB, COPA, RTE and WiC read the distribution's JSON Lines", async () => {
  const cases: [string, ReturnType<typeof pick>[]][] = [
    ["super_glue_boolq", [
      {
        inputs:
          "boolq passage: The Moon is a rocky body orbiting Earth. question: is the moon made of cheese",
        targets: "False",
        label: 0,
      },
      {
        inputs: "boolq passage: Domestic cats purr when content. question: do cats purr",
        targets: "True",
        label: 1,
      },
    ]],
    ["super_glue_cb", [
      {
        inputs: "cb hypothesis: The train was on time. premise: She said the train was late.",
        targets: "contradiction",
        label: 1,
      },
      {
        inputs: "cb hypothesis: He will come tomorrow. premise: He might come tomorrow.",
        targets: "neutral",
        label: 2,
      },
    ]],
    ["super_glue_copa", [
      {
        inputs:
          "copa choice1: It shattered. choice2: It floated. premise: The glass fell off the table. question: effect",
        targets: "choice1",
        label: 0,
      },
    ]],
    ["super_glue_rte", [
      {
        inputs: "rte hypothesis: The museum is closed. premise: The museum opened in 1990.",
        targets: "not_entailment",
        label: 1,
      },
    ]],
    ["super_glue_wic", [
      {
        inputs:
          "wic sentence1: He sat on the river bank. sentence2: She works at a bank. word: bank",
        targets: "False",
        label: 0,
      },
    ]],
  ];
  for (const [name, want] of cases) {
    const s = await load(name, SUPER_GLUE_FIXTURES, "validation");
    assert.deepEqual(s.examples.map(pick), want, name);
  }
  const test = await load("super_glue_boolq", SUPER_GLUE_FIXTURES, "test");
  assert.deepEqual(test.examples.map(pick), [{
    inputs: "boolq passage: Water is a liquid. question: is water wet",
    targets: "",
    label: undefined,
  }]);
});

Deno.test("SuperGLUE MultiRC makes one example per answer, markup removed, grouped by question", async () => {
  const s = await load("super_glue_multirc", SUPER_GLUE_FIXTURES, "validation");
  const paragraph = "Sent 1: Alice went home after school. Sent 2: She slept early. ";
  assert.equal(s.records, 1);
  assert.deepEqual(s.examples.map(pick), [
    {
      inputs: `multirc question: Where did Alice go? answer: Home paragraph: ${paragraph}`,
      targets: "True",
      label: 1,
    },
    {
      inputs: `multirc question: Where did Alice go? answer: To school paragraph: ${paragraph}`,
      targets: "False",
      label: 0,
    },
    {
      inputs: `multirc question: When did she sleep? answer: Early paragraph: ${paragraph}`,
      targets: "True",
      label: 1,
    },
  ]);
  assert.deepEqual(s.examples.map((e) => e.meta.group), ["0/0", "0/0", "0/1"]);
});

Deno.test("SuperGLUE ReCoRD makes one example per unique answer, with entities and highlights joined", async () => {
  const s = await load("super_glue_record", SUPER_GLUE_FIXTURES, "validation");
  const passage =
    "Paris (CNN) -- Alice met Bob in Paris on Monday. Alice visits France. Bob is happy";
  const inputs = (q: string) =>
    `record query: ${q} entities: Alice, Bob, France, Paris passage: ${passage}`;
  assert.deepEqual(s.examples.map(pick), [
    { inputs: inputs("@placeholder was glad to see Alice."), targets: "Bob", label: undefined },
    { inputs: inputs("Alice flew to @placeholder."), targets: "France", label: undefined },
    { inputs: inputs("Alice flew to @placeholder."), targets: "Paris", label: undefined },
  ]);
  assert.deepEqual(s.examples.map((e) => e.meta.answers), [["Bob"], ["France", "Paris"], [
    "France",
    "Paris",
  ]]);
  assert.deepEqual(s.examples[0].meta.candidates, ["Alice", "Bob", "France", "Paris"]);
  assert.deepEqual(s.examples.map((e) => e.meta.group), ["0/0", "0/1", "0/1"]);
});

Deno.test("SuperGLUE WSC marks the pronoun, fixes spans, and trains on right referents only", async () => {
  const v = await load("super_glue_wsc", SUPER_GLUE_FIXTURES, "validation");
  assert.deepEqual(v.examples.map(pick), [
    {
      inputs: "wsc: Anna thanked Maria because *she* had helped her move.",
      targets: "Maria",
      label: 1,
    },
    // span1_text "The bottle." is fixed to the text's own "the bottle", as TFDS's wsc.fixed does.
    {
      inputs: "wsc: I poured water from the bottle into the cup until *it* was full.",
      targets: "the bottle",
      label: 0,
    },
  ]);
  const t = await load("super_glue_wsc", SUPER_GLUE_FIXTURES, "train");
  assert.equal(t.examples.length, 1);
  assert.equal(t.filtered, 1);
  const tl = await load("taskless_super_glue_wsc", SUPER_GLUE_FIXTURES, "validation");
  assert.equal(tl.examples[0].inputs, "Anna thanked Maria because *she* had helped her move.");
});

// ---- Bad records ----

const TOY: Task = {
  name: "toy",
  inputs: "review: {text}",
  targets: { kind: "label", field: "y", map: { "0": "bad", "1": "good" } },
  labelWords: ["bad", "good"],
  metrics: ["accuracy"],
  files: {
    train: { file: "train.jsonl", format: "jsonl" },
    tsv: { file: "train.tsv", format: "tsv" },
  },
};

Deno.test("loadTaskSplit() fails on the first bad record by default, naming file:line", async () => {
  await Deno.writeTextFile(
    `${dir}/train.jsonl`,
    '{"text": "fine", "y": 1}\n{"text": "odd", "y": 5}\n{"y": 0}\nnot json\n{"text": "ok", "y": "0"}\n',
  );
  const p = await loadProblem(TOY, dir, "train");
  assert.deepEqual(p, {
    _tag: "Invalid",
    where: `${dir}/train.jsonl:2`,
    message: 'Unknown label "5" in field "y"; expected one of "0", "1"',
  });
});

Deno.test("loadTaskSplit() skips bad records with a count and their problems when asked", async () => {
  await Deno.writeTextFile(
    `${dir}/train.jsonl`,
    '{"text": "fine", "y": 1}\n{"text": "odd", "y": 5}\n{"y": 0}\nnot json\n{"text": "ok", "y": "0"}\n{"text": "x"}\n',
  );
  const s = await load(TOY, dir, "train", { onBadRecord: "skip" });
  assert.deepEqual(s.examples.map(pick), [
    { inputs: "review: fine", targets: "good", label: 1 },
    { inputs: "review: ok", targets: "bad", label: 0 },
  ]);
  assert.equal(s.records, 6);
  assert.equal(s.skipped, 4);
  assert.deepEqual(s.problems.map((p) => p.where.slice(dir.length)), [
    "/train.jsonl:2",
    "/train.jsonl:3",
    "/train.jsonl:4",
    "/train.jsonl:6",
  ]);
  assert.deepEqual(s.problems.map((p) => p.message.split(";")[0].split(":")[0]), [
    'Unknown label "5" in field "y"',
    'Field "text" named by template "review',
    "Invalid JSON",
    'Label field "y" is missing',
  ]);
  const few = await load(TOY, dir, "train", { onBadRecord: "skip", keepProblems: 1 });
  assert.equal(few.skipped, 4);
  assert.equal(few.problems.length, 1);
});

Deno.test("loadTaskSplit() treats a TSV row with the wrong number of fields as a bad record", async () => {
  await Deno.writeTextFile(`${dir}/train.tsv`, "text\ty\nfine\t1\ntoo\tmany\tfields\nok\t0\n");
  const p = await loadProblem(TOY, dir, "tsv");
  assert.equal(p.where, `${dir}/train.tsv:3`);
  assert.equal(p.message, "Expected 2 fields ('text', 'y'), found 3");
  const s = await load(TOY, dir, "tsv", { onBadRecord: "skip" });
  assert.deepEqual(s.examples.map((e) => e.targets), ["good", "bad"]);
  assert.equal(s.skipped, 1);
});

Deno.test("loadTaskSplit() fails whatever onBadRecord says when a template names a column the file lacks", async () => {
  await Deno.writeTextFile(`${dir}/train.tsv`, "sentence\ty\nfine\t1\n");
  const p = await loadProblem(TOY, dir, "tsv", { onBadRecord: "skip" });
  assert.equal(
    p.message,
    'Task toy names field "text", which this file lacks; available fields: sentence, y',
  );
});

Deno.test("loadTaskSplit() reports unknown splits, missing files and unsound tasks", async () => {
  const split = await loadProblem(TOY, dir, "dev");
  assert.equal(split.message, 'No split "dev"; the task has train, tsv');
  const missing = await loadProblem(GLUE_SST2, `${dir}/nowhere`, "train");
  assert.equal(missing._tag, "NotFound");
  assert.equal(missing.where, `${dir}/nowhere/SST-2/train.tsv`);
  const unsound = await loadProblem({ ...TOY, inputs: "{text" }, dir, "train");
  assert.equal(unsound.where, "task toy: inputs");
});

Deno.test("loadTaskSplit() reads a Hugging Face Parquet export through another file layout", async () => {
  const s = await load(GLUE_SST2, FIXTURES, "train", {
    file: { file: "sst2_hf.parquet", format: "parquet" },
  });
  assert.deepEqual(s.examples.slice(0, 2).map(pick), [
    { inputs: "sst2 sentence: a gripping , funny film ", targets: "positive", label: 1 },
    { inputs: "sst2 sentence: dull and overlong ", targets: "negative", label: 0 },
  ]);
  assert.equal(s.examples.length, 5);
  assert.ok(s.examples[4].meta.location.endsWith("sst2_hf.parquet:row 5"));
});

Deno.test("loadTaskSplit() treats label -1 as unlabelled, as Hugging Face test splits write it", async () => {
  await Deno.writeTextFile(`${dir}/test.jsonl`, '{"text": "a", "y": -1}\n{"text": "b", "y": 1}\n');
  const task: Task = { ...TOY, files: { test: { file: "test.jsonl", format: "jsonl" } } };
  const s = await load(task, dir, "test");
  assert.deepEqual(s.examples.map(pick), [
    { inputs: "review: a", targets: "", label: undefined },
    { inputs: "review: b", targets: "good", label: 1 },
  ]);
  assert.equal(s.unlabelled, 1);
});
