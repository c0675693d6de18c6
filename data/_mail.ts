/**
 * Mail to text: an RFC 822 message (bytes) → its subject and body as plain text, the way the
 * spam task shows a message to a model.
 *
 * - Headers: unfolded; only `Subject` is kept, its RFC 2047 encoded words (`=?utf-8?B?…?=`)
 *   decoded. An mbox `From ` line before the headers is skipped.
 * - MIME: `multipart/alternative` gives its `text/plain` part (its `text/html` part only when
 *   it has no plain one); other multiparts give all their text parts in order, plain ones
 *   preferred over HTML ones; `message/rfc822` parts give their own body; attachments and
 *   non-text parts are left out. Quoted-printable and base64 bodies are decoded, then the bytes
 *   are read in the part's `charset` (UTF-8 when it is valid UTF-8 and no charset is named,
 *   else Windows-1252).
 * - HTML (a `text/html` part, or a body that starts like an HTML page whatever its type says):
 *   comments and the contents of `<script>`, `<style>` and `<title>` removed, inline tags (`<b>`, `<font>`, …)
 *   removed without a space (spam splits words with them), other tags become a space,
 *   character references decoded.
 * - Quoted reply lines (starting with `>`) and the "… wrote:" line before them are dropped from
 *   plain text: they are someone else's words, and would fill the model's few hundred tokens.
 *   A body that is nothing but quotes keeps them.
 * - URLs are cut to scheme and host (`http://www.example.com`): the tokenizer spells URLs
 *   letter by letter, and the path rarely tells more than the host.
 * - Runs of four or more of the same symbol (`=====`) become three, whitespace collapses to
 *   single spaces, control characters go, and the body is cut at a word boundary near
 *   `maxBodyChars` characters (the subject near `maxSubjectChars`).
 *
 * @module
 */

/**
 * What {@link cleanMail} makes of a message.
 *
 * @example
 * ```ts
 * import type { CleanMail } from "./_mail.ts";
 * import assert from "node:assert/strict";
 * const m: CleanMail = { subject: "Hello", body: "See you at 5" };
 * assert(m.subject === "Hello");
 * ```
 */
export interface CleanMail {
  /** The subject, decoded and cleaned; `""` when there is none. */
  readonly subject: string;
  /** The body as plain text, cleaned and truncated; `""` when no text part was found. */
  readonly body: string;
}

/**
 * Options for {@link cleanMail}.
 *
 * @example
 * ```ts
 * import type { CleanMailOptions } from "./_mail.ts";
 * import assert from "node:assert/strict";
 * const o: CleanMailOptions = { maxBodyChars: 500 };
 * assert(o.maxSubjectChars === undefined);
 * ```
 */
export interface CleanMailOptions {
  /** Longest body kept, in characters (default 1000; cut at a word boundary). */
  readonly maxBodyChars?: number;
  /** Longest subject kept, in characters (default 200). */
  readonly maxSubjectChars?: number;
}

interface Part {
  /** Header name (lower case) → unfolded value (binary string), first occurrence wins. */
  readonly headers: ReadonlyMap<string, string>;
  /** The body as a binary string (one char per byte), line ends normalised to `\n`. */
  readonly body: string;
}

interface ContentType {
  readonly type: string;
  readonly params: ReadonlyMap<string, string>;
}

/** Bytes → binary string, one char (0–255) per byte. */
function binary(bytes: Uint8Array): string {
  let s = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    s += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return s;
}

/** Binary string → bytes (chars above 255 keep their low byte, which cannot happen here). */
function bytesOf(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** Splits headers from body and unfolds the headers. */
function parsePart(bin: string): Part {
  let text = bin.replace(/\r\n?/g, "\n");
  if (text.startsWith("From ")) text = text.slice(text.indexOf("\n") + 1); // mbox From_ line
  let end = text.indexOf("\n\n");
  // A part that starts with an empty line has no headers.
  if (text.startsWith("\n")) end = 0;
  const head = end === -1 ? text : text.slice(0, end);
  const body = end === -1 ? "" : text.slice(end === 0 ? 1 : end + 2);
  const headers = new Map<string, string>();
  let name = "";
  let value = "";
  const flush = () => {
    if (name !== "" && !headers.has(name)) headers.set(name, value.trim());
  };
  for (const line of head.split("\n")) {
    if (/^[ \t]/.test(line) && name !== "") {
      value += " " + line.trim();
      continue;
    }
    const colon = line.indexOf(":");
    flush();
    if (colon <= 0) {
      name = "";
      continue;
    }
    name = line.slice(0, colon).trim().toLowerCase();
    value = line.slice(colon + 1);
  }
  flush();
  return { headers, body };
}

/** `text/plain; charset="utf-8"` → type and lower-cased parameter names. */
function contentType(value: string | undefined): ContentType {
  if (value === undefined) return { type: "text/plain", params: new Map() };
  const [first, ...rest] = value.split(";");
  const params = new Map<string, string>();
  for (const p of rest) {
    const eq = p.indexOf("=");
    if (eq === -1) continue;
    const k = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"')) {
      const close = v.indexOf('"', 1);
      v = close === -1 ? v.slice(1) : v.slice(1, close);
    }
    if (!params.has(k)) params.set(k, v);
  }
  const type = first.trim().toLowerCase();
  return { type: type.includes("/") ? type : "text/plain", params };
}

/** Quoted-printable → binary string. */
function decodeQuotedPrintable(s: string): string {
  return s
    .replace(/=[ \t]*\n/g, "") // soft line breaks
    .replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** Base64 → binary string; anything that is not base64 is skipped. */
function decodeBase64(s: string): string {
  let clean = s.replace(/[^A-Za-z0-9+/]/g, "");
  clean = clean.slice(0, clean.length - (clean.length % 4 === 1 ? 1 : 0));
  while (clean.length % 4 !== 0) clean += "=";
  try {
    return atob(clean);
  } catch {
    return "";
  }
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });
const WINDOWS_1252 = new TextDecoder("windows-1252");

/** Bytes in a charset → text; unknown or missing charsets: UTF-8 if valid, else Windows-1252. */
function decodeCharset(bin: string, charset: string | undefined): string {
  const bytes = bytesOf(bin);
  const label = charset?.trim().toLowerCase();
  if (label !== undefined && label !== "" && label !== "us-ascii" && label !== "default") {
    try {
      return new TextDecoder(label).decode(bytes);
    } catch {
      // an unknown label: fall through
    }
  }
  try {
    return UTF8.decode(bytes);
  } catch {
    return WINDOWS_1252.decode(bytes);
  }
}

/** RFC 2047 encoded words (`=?charset?B?…?=`, `=?charset?Q?…?=`) → text. */
function decodeHeader(value: string): string {
  const plain = decodeCharset(value, undefined);
  return plain
    .replace(/(\?=)\s+(=\?)/g, "$1$2") // whitespace between encoded words is not text
    .replace(
      /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g,
      (_, cs: string, enc: string, data: string) => {
        const bin = enc.toUpperCase() === "B"
          ? decodeBase64(data)
          : decodeQuotedPrintable(data.replace(/_/g, " "));
        return decodeCharset(bin, cs.split("*")[0]);
      },
    );
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  nbsp: " ",
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  copy: "©",
  reg: "®",
  trade: "™",
  euro: "€",
  pound: "£",
  cent: "¢",
  yen: "¥",
  sect: "§",
  deg: "°",
  middot: "·",
  bull: "•",
  hellip: "…",
  ndash: "–",
  mdash: "—",
  lsquo: "‘",
  rsquo: "’",
  ldquo: "“",
  rdquo: "”",
  laquo: "«",
  raquo: "»",
  times: "×",
  eacute: "é",
  egrave: "è",
  agrave: "à",
  aacute: "á",
  ccedil: "ç",
  uuml: "ü",
  ouml: "ö",
  auml: "ä",
  szlig: "ß",
  ntilde: "ñ",
  iexcl: "¡",
  iquest: "¿",
};

/** Decodes `&amp;`, `&#233;`, `&#xE9;` and the common named references; others stay. */
function decodeEntities(s: string): string {
  return s.replace(/&(#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z]{2,8});?/g, (m, e: string) => {
    if (e[0] === "#") {
      const code = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1));
      return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff)
        ? String.fromCodePoint(code)
        : " ";
    }
    return NAMED_ENTITIES[e.toLowerCase()] ?? m;
  });
}

// Tags that sit inside words in spam ("F<b>R</b>EE"): removed without a space.
const INLINE_TAGS = /^(a|b|i|u|s|em|strong|font|span|small|big|sup|sub|strike|tt|wbr|o:p)$/i;

/** HTML → text (see the module doc). */
function htmlToText(html: string): string {
  return decodeEntities(
    html
      .replace(/<!--[\s\S]*?(-->|$)/g, " ")
      .replace(/<!(doctype|\[)[^>]*>/gi, " ")
      .replace(/<(script|style|title)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, " ")
      .replace(
        /<\/?([A-Za-z][A-Za-z0-9:]*)\b[^>]*>/g,
        (_, tag: string) => INLINE_TAGS.test(tag) ? "" : " ",
      ),
  );
}

/** Whether a body typed `text/plain` (or untyped) is really an HTML page. */
function looksLikeHtml(text: string): boolean {
  return /^\s*(<!doctype html|<html|<head|<body)/i.test(text) ||
    /<html[\s>]/i.test(text.slice(0, 2000)) ||
    (/<(p|br|div|font|table|td|a href)[\s>]/i.test(text) && /<\/(p|div|font|table|a)>/i.test(text));
}

/** Drops quoted reply lines and the attribution line before them, unless nothing else is left. */
function dropQuotes(text: string): string {
  const lines = text.split("\n");
  const quoted = (l: string) => /^\s*>/.test(l);
  const kept = lines.filter((l, i) => {
    if (quoted(l)) return false;
    // "On Mon, 5 Aug 2002, Jo wrote:" followed (after blank lines) by a quote.
    if (/\b(wrote|writes|said):\s*$/i.test(l)) {
      let j = i + 1;
      while (j < lines.length && lines[j].trim() === "") j++;
      if (j < lines.length && quoted(lines[j])) return false;
    }
    return true;
  });
  const out = kept.join("\n");
  return out.trim() === "" ? text : out;
}

interface Texts {
  plain: string[];
  html: string[];
}

function decodedBody(part: Part): string {
  const cte = (part.headers.get("content-transfer-encoding") ?? "").trim().toLowerCase();
  const bin = cte === "base64"
    ? decodeBase64(part.body)
    : cte === "quoted-printable"
    ? decodeQuotedPrintable(part.body)
    : part.body;
  return decodeCharset(bin, contentType(part.headers.get("content-type")).params.get("charset"));
}

/** Splits a multipart body at its boundary lines; the preamble and epilogue are dropped. */
function multipartChildren(body: string, boundary: string): Part[] {
  // Compared without whitespace: some senders write the boundary with spaces it lacks in the
  // header ("--= Multipart Boundary" for boundary "=Multipart Boundary").
  const delimiter = ("--" + boundary).replace(/\s/g, "");
  const children: Part[] = [];
  let current: string[] | undefined;
  for (const line of body.split("\n")) {
    if (!line.startsWith("--")) {
      if (current !== undefined) current.push(line);
      continue;
    }
    const t = line.replace(/\s/g, "");
    if (t === delimiter || t === delimiter + "--") {
      if (current !== undefined) children.push(parsePart(current.join("\n")));
      current = t === delimiter ? [] : undefined;
      if (t !== delimiter) break;
    } else if (current !== undefined) current.push(line);
  }
  if (current !== undefined) children.push(parsePart(current.join("\n"))); // no closing line
  return children;
}

function collect(part: Part, out: Texts, depth: number): void {
  const ct = contentType(part.headers.get("content-type"));
  const disposition = (part.headers.get("content-disposition") ?? "").toLowerCase();
  if (depth > 0 && disposition.startsWith("attachment")) return;
  if (ct.type.startsWith("multipart/")) {
    const boundary = ct.params.get("boundary");
    if (boundary === undefined || depth > 8) return;
    const children = multipartChildren(part.body, boundary);
    if (ct.type === "multipart/alternative") {
      const options = children.map((c) => {
        const t: Texts = { plain: [], html: [] };
        collect(c, t, depth + 1);
        return t;
      });
      const plain = options.find((t) => t.plain.some((s) => s.trim() !== ""));
      const chosen = plain ?? options.find((t) => t.html.length > 0);
      if (chosen !== undefined) {
        out.plain.push(...chosen.plain);
        out.html.push(...chosen.html);
      }
      return;
    }
    for (const c of children) collect(c, out, depth + 1);
    return;
  }
  if (ct.type === "message/rfc822") {
    if (depth <= 8) collect(parsePart(part.body), out, depth + 1);
    return;
  }
  if (ct.type === "text/html") {
    out.html.push(decodedBody(part));
    return;
  }
  if (ct.type.startsWith("text/")) {
    const text = decodedBody(part);
    if (looksLikeHtml(text)) out.html.push(text);
    else out.plain.push(text);
  }
}

/** Symbol runs, whitespace and control characters, URLs (see the module doc). */
function tidy(text: string): string {
  return text
    .replace(/\b(https?|ftp):\/\/([^\s/<>"'?#)\]]+)[^\s<>"')\]]*/gi, "$1://$2")
    .replace(/[\u00ad\u200b-\u200d\u2060\ufeff]/g, "") // soft hyphens, zero-width marks
    .replace(/[\p{Cc}\p{Cf}\ufffd]/gu, " ")
    .replace(/([^\p{L}\p{N}\s])\1{3,}/gu, "$1$1$1")
    .replace(/\s+/g, " ")
    .trim();
}

/** Cuts at a word boundary at most `max` characters in (a hard cut when no space is near). */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max + 1);
  const space = cut.lastIndexOf(" ");
  return (space >= max * 0.8 ? cut.slice(0, space) : text.slice(0, max)).trimEnd();
}

/**
 * Cleans one raw mail message to its subject and body text (see the module doc for each step).
 *
 * @param raw the message file's bytes (RFC 822, MIME or not)
 * @param options the longest subject and body kept
 * @returns the subject and body
 * @example
 * ```ts
 * import { cleanMail } from "./_mail.ts";
 * import assert from "node:assert/strict";
 * const raw = "Subject: =?utf-8?Q?Caf=C3=A9?=\nContent-Type: text/html\n\n<p>Hello&nbsp;<b>W</b>orld</p>";
 * const m = cleanMail(new TextEncoder().encode(raw));
 * assert(m.subject === "Café" && m.body === "Hello World");
 * ```
 */
export function cleanMail(raw: Uint8Array, options: CleanMailOptions = {}): CleanMail {
  const maxBody = options.maxBodyChars ?? 1000;
  const maxSubject = options.maxSubjectChars ?? 200;
  const root = parsePart(binary(raw));
  const texts: Texts = { plain: [], html: [] };
  collect(root, texts, 0);
  const plain = texts.plain.map(dropQuotes).map(tidy).filter((t) => t !== "");
  const body = plain.length > 0 ? plain.join(" ") : tidy(texts.html.map(htmlToText).join(" "));
  const subjectRaw = root.headers.get("subject");
  const subject = subjectRaw === undefined ? "" : tidy(decodeHeader(subjectRaw));
  return { subject: truncate(subject, maxSubject), body: truncate(body, maxBody) };
}
