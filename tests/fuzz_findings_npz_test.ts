import assert from "node:assert/strict";
import * as E from "fp-ts/Either";
import { encodeNpz, hostTensor, parseNpz, readNpz } from "../io/mod.ts";
import { fromFile } from "../initializers/mod.ts";
import { describeProblem } from "../problem.ts";
import { runCli } from "./_cli.ts";
import { left, right } from "./_io_helpers.ts";

const FINDINGS = new URL("./data/fuzz-findings/npz_eocd_count/", import.meta.url);

const three = encodeNpz({
  a: hostTensor("int32", [1], new Int32Array([1])),
  b: hostTensor("int32", [1], new Int32Array([2])),
  c: hostTensor("int32", [1], new Int32Array([3])),
});

/** The offset of the end-of-central-directory record of an archive without a comment. */
const eocd = (zip: Uint8Array) => zip.length - 22;

/** A copy of `zip` whose end record declares `disk` entries on this disk and `total` in all. */
function declaring(zip: Uint8Array, disk: number, total: number): Uint8Array {
  const out = new Uint8Array(zip);
  const dv = new DataView(out.buffer);
  dv.setUint16(eocd(zip) + 8, disk, true);
  dv.setUint16(eocd(zip) + 10, total, true);
  return out;
}

Deno.test("readNpz() refuses the fuzzed archives whose end record's two entry counts disagree", async () => {
  const cases: [string, RegExp][] = [
    ["count1_three_entries.npz", /declares 3 entries on this disk but 1 in all/],
    ["zero_count_two_entries.npz", /declares 2 entries on this disk but 0 in all/],
  ];
  for (const [name, pattern] of cases) {
    const url = new URL(name, FINDINGS);
    const p = left(await readNpz(url), "Corrupt", pattern);
    assert.match(
      p.message,
      /^End-of-central-directory record declares .*; expected the same count/,
    );
    assert.ok(!describeProblem(p).includes("\n"), "one line");
    assert.ok(p.where.endsWith(name), p.where);
  }
});

Deno.test("parseNpz() refuses an end record that declares fewer entries than the central directory holds", () => {
  assert.equal(right(parseNpz(three, "three.npz")).size, 3);
  left(
    parseNpz(declaring(three, 1, 1), "one.npz"),
    "Corrupt",
    /^End-of-central-directory record declares 1 entry, but the central directory holds at least 3; expected the counts to agree$/,
  );
  left(
    parseNpz(declaring(three, 0, 0), "none.npz"),
    "Corrupt",
    /declares 0 entries, but the central directory holds at least 3/,
  );
});

Deno.test("parseNpz() refuses stray bytes after the declared entries of the central directory", () => {
  // Ten bytes spliced in between the last central entry and the end record, and counted in it.
  const end = eocd(three);
  const zip = new Uint8Array(three.length + 10);
  zip.set(three.subarray(0, end));
  zip.set(three.subarray(end), end + 10);
  const dv = new DataView(zip.buffer);
  dv.setUint32(end + 10 + 12, dv.getUint32(end + 10 + 12, true) + 10, true);
  left(
    parseNpz(zip, "stray.npz"),
    "Corrupt",
    /declares 3 entries, but 10 more bytes of the central directory follow; expected it to end there/,
  );
});

Deno.test("parseNpz() still reads an empty archive as no arrays", () => {
  assert.equal(right(parseNpz(encodeNpz({}), "empty.npz")).size, 0);
});

Deno.test("an empty .npz as a prompt says the archive holds no arrays (fromFile and cli convert)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/empty.npz`;
    await Deno.writeFile(path, encodeNpz({}));
    const r = await fromFile(path);
    assert.ok(E.isLeft(r));
    assert.equal(describeProblem(r.left), `${path}: The file holds no arrays; expected the prompt`);
    const run = await runCli(["convert", path, `${dir}/out.npy`]);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /empty\.npz: The file holds no arrays; expected the prompt/);
    assert.doesNotMatch(run.stderr, /one of/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
