/**
 * Test helper shared by the command-line tests: runs `cli.ts` in a subprocess from the repository
 * root and collects its exit code and output.
 *
 * @module
 */

/** What a run of the CLI gave. */
export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const ROOT = new URL("../", import.meta.url);

/**
 * Runs `deno run PERMISSIONS cli.ts ARGS` from the repository root.
 *
 * @param args the command line after `cli.ts`
 * @param permissions Deno's permission flags (default: read and env only)
 * @param options a time limit (the process is killed past it) and extra environment variables
 */
export async function runCli(
  args: readonly string[],
  permissions: readonly string[] = ["--allow-read", "--allow-env"],
  options: { readonly timeoutMs?: number; readonly env?: Record<string, string> } = {},
): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, "cli.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    ...(options.env === undefined ? {} : { env: options.env }),
    // Killed (and its exit code then not 0, 1 or 2) when it runs past the time given.
    ...(options.timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(options.timeoutMs) }),
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    code: out.code,
    stdout: text(out.stdout),
    stderr: withoutDenoLockWait(text(out.stderr)),
  };
}

/**
 * Deno's own notice that another process holds the `node_modules` lock (under load, when several
 * CLI runs start at once) is not the CLI's output: dropped, so that one-line checks see ours.
 */
const withoutDenoLockWait = (stderr: string): string =>
  stderr.replace(
    // deno-lint-ignore no-control-regex -- the notice's colour codes
    /^(\x1b\[[0-9;]*m)*Blocking(\x1b\[[0-9;]*m)* waiting for file lock on [^\n]*\n/gm,
    "",
  );

/** A run's exit code and output, for assertion messages (the end of stdout only). */
export const showRun = (r: Run, tail = 3000): string =>
  `exit ${r.code}\nstdout: ${r.stdout.slice(-tail)}\nstderr: ${r.stderr}`;
