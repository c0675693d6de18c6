import assert from "node:assert/strict";
import { runCli } from "./_cli.ts";

const data = new URL("./data/prompt-tuning/", import.meta.url);

const cli = (...args: string[]) => runCli(args);

Deno.test("cli --help prints the commands and exits 0", async () => {
  const r = await cli("--help");
  assert.equal(r.code, 0);
  assert.match(r.stdout, /inspect PATH/);
});

Deno.test("cli inspect prints one line per tensor of a released prompt", async () => {
  const r = await cli(
    "inspect",
    new URL("pretrained_prompts/t5_1_1_lm100k_base/sst2.npy", data).pathname,
  );
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^name\s+dtype\s+shape\s+mean\s+std\s+min\s+max$/);
  const cells = lines[1].split(/\s{2,}/);
  assert.equal(cells[0], "sst2");
  assert.equal(cells[1], "float32");
  assert.equal(cells[2], "[100, 768]");
  assert.equal(cells.length, 7);
  assert.ok(cells.slice(3).every((c) => Number.isFinite(Number(c))), lines[1]);
});

Deno.test("cli inspect gives a one-line error and exit 1 for a missing file", async () => {
  const r = await cli("inspect", "/nonexistent/prompt.npy");
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, /^Error: \/nonexistent\/prompt\.npy: /);
});

Deno.test("cli inspect gives a one-line error and exit 1 for corrupt and truncated files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const real = await Deno.readFile(
      new URL("pretrained_prompts/t5_1_1_lm100k_base/rte.npy", data),
    );
    await Deno.writeFile(`${dir}/truncated.npy`, real.subarray(0, 1000));
    await Deno.writeFile(
      `${dir}/garbage.safetensors`,
      new TextEncoder().encode("not a tensor file"),
    );
    await Deno.writeFile(`${dir}/notzip.npz`, new TextEncoder().encode("PK but not really"));
    for (const name of ["truncated.npy", "garbage.safetensors", "notzip.npz"]) {
      const r = await cli("inspect", `${dir}/${name}`);
      assert.equal(r.code, 1, name);
      assert.equal(r.stderr.trimEnd().split("\n").length, 1, `${name}: ${r.stderr}`);
      assert.ok(r.stderr.startsWith(`Error: ${dir}/${name}`), r.stderr);
      assert.doesNotMatch(r.stderr, /\bat .*\.ts:\d+/);
    }
    const debug = await cli("inspect", `${dir}/truncated.npy`, "--debug");
    assert.equal(debug.code, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli exits 2 on a usage error: no command, unknown command, missing FILE, unknown option", async () => {
  for (const args of [[], ["frobnicate"], ["inspect"], ["inspect", "--colour", "x"]]) {
    const r = await cli(...args);
    assert.equal(r.code, 2, args.join(" "));
    assert.equal(r.stdout, "", args.join(" "));
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  }
  const none = await cli();
  assert.equal(
    none.stderr,
    "Error: No command given; expected one of: train, eval, infer, extract, convert, inspect, serve (see --help)\n",
  );
});
