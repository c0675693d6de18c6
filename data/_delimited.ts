/**
 * Splits delimited text (CSV, TSV) into rows of fields, either as RFC 4180 (fields may be quoted
 * with `"`, a quote inside doubled, line breaks inside quotes kept) or with no quoting at all
 * (every delimiter splits, quotes are ordinary characters: GLUE's TSV files).
 *
 * @module
 */
import { problem, ProblemError } from "../problem.ts";
import type { Problem } from "../problem.ts";
import type { Line } from "./_lines.ts";

/** How quotes are read. */
export type Quoting = "rfc4180" | "none";

/** A row of fields and the line it starts on; or a line that could not be read as a row. */
export type RawRow =
  | { readonly ok: true; readonly fields: readonly string[]; readonly line: number }
  | { readonly ok: false; readonly problem: Problem; readonly line: number };

/**
 * Yields the rows of delimited text. Blank lines (outside quotes) are skipped. A malformed row
 * (a quote inside an unquoted field, text after a closing quote) is yielded as a problem and
 * reading goes on at the next line; a quoted field still open at the end of the file throws a
 * {@link ProblemError}, since nothing after its opening quote can be trusted.
 */
export async function* delimitedRows(
  lines: AsyncIterable<Line>,
  delimiter: string,
  quoting: Quoting,
  where: string,
  maxRecordChars: number,
): AsyncGenerator<RawRow> {
  if (quoting === "none") {
    for await (const l of lines) {
      if (l.text === "") continue;
      yield { ok: true, fields: l.text.split(delimiter), line: l.number };
    }
    return;
  }
  // RFC 4180 state machine; a record may span lines while a quoted field is open.
  let fields: string[] = [];
  let field = "";
  let state: "start" | "unquoted" | "quoted" | "closed" = "start";
  let startLine = 0;
  let size = 0;
  let openedAt = 0;
  for await (const l of lines) {
    if (state !== "quoted") {
      if (l.text === "") continue;
      fields = [];
      field = "";
      state = "start";
      startLine = l.number;
      size = 0;
    }
    size += l.text.length + l.end.length;
    if (size > maxRecordChars) {
      throw new ProblemError(
        problem(
          "TooLarge",
          `${where}:${startLine}`,
          `Record is longer than ${maxRecordChars} characters; raise maxLineChars to read it`,
        ),
      );
    }
    let bad: string | undefined;
    const t = l.text;
    for (let i = 0; i < t.length && bad === undefined; i++) {
      const c = t[i];
      switch (state) {
        case "start":
          if (c === '"') {
            state = "quoted";
            openedAt = l.number;
          } else if (c === delimiter) fields.push("");
          else {
            field = c;
            state = "unquoted";
          }
          break;
        case "unquoted":
          if (c === delimiter) {
            fields.push(field);
            field = "";
            state = "start";
          } else if (c === '"') {
            bad = `Quote inside unquoted field ${fields.length + 1}; quote the whole field`;
          } else field += c;
          break;
        case "quoted":
          if (c === '"') state = "closed";
          else field += c;
          break;
        case "closed":
          if (c === '"') {
            field += '"';
            state = "quoted";
          } else if (c === delimiter) {
            fields.push(field);
            field = "";
            state = "start";
          } else {
            bad = `Text after the closing quote of field ${fields.length + 1}`;
          }
          break;
      }
    }
    if (bad !== undefined) {
      state = "start";
      yield {
        ok: false,
        problem: problem("Corrupt", `${where}:${startLine}`, bad),
        line: startLine,
      };
      continue;
    }
    if (state === "quoted") {
      field += l.end === "" ? "" : l.end;
      continue;
    }
    fields.push(field);
    state = "start";
    yield { ok: true, fields, line: startLine };
  }
  if (state === "quoted") {
    throw new ProblemError(
      problem(
        "Corrupt",
        `${where}:${openedAt}`,
        "Quoted field is never closed; expected a closing quote before the end of the file",
      ),
    );
  }
}
