/**
 * Names and strings from a file, shown in a one-line message.
 *
 * @module
 */

/** The longest piece of a file's text a message shows. */
const MAX_SHOWN = 200;

/**
 * Quotes a name or string read from a file for a message: in single quotes, with control and
 * line-breaking characters escaped (a name cannot break the line) and long text cut.
 *
 * @param s the text from the file
 * @returns `'s'`, escaped
 */
export function quoted(s: string): string {
  const cut = s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s;
  const escaped = cut.replace(
    // deno-lint-ignore no-control-regex -- control characters are what is looked for
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029\\']/g,
    (c) =>
      c === "\\"
        ? "\\\\"
        : c === "'"
        ? "\\'"
        : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return `'${escaped}'`;
}
