import assert from "node:assert/strict";
import * as E from "fp-ts/Either";
import { deflateSync, zipSync } from "fflate";
import {
  encodeNpy,
  encodeNpz,
  type HostTensor,
  hostTensor,
  parseNpz,
  readNpz,
  writeNpz,
} from "../io/mod.ts";
import { assertValues, type Expected, fixture, left, right } from "./_io_helpers.ts";

// ---- helpers ----

const expected: Record<string, Expected> = JSON.parse(
  Deno.readTextFileSync(fixture("npz/expected.json")),
);

/** Offset of the (single) central directory entry of a small archive. */
function centralEntry(zip: Uint8Array): number {
  for (let o = zip.length - 22; o >= 0; o--) {
    if (zip[o] === 0x50 && zip[o + 1] === 0x4b && zip[o + 2] === 0x01 && zip[o + 3] === 0x02) {
      return o;
    }
  }
  throw new Error("No central directory entry");
}

// ---- numpy's archives ----

for (const name of ["stored", "deflated"]) {
  Deno.test(`readNpz() reads an archive from np.${name === "stored" ? "savez" : "savez_compressed"}`, async () => {
    const m = right(await readNpz(fixture(`npz/${name}.npz`)));
    assert.deepEqual([...m.keys()], ["prompt", "ids", "mask", "half"]);
    for (const [k, e] of Object.entries(expected)) assertValues(m.get(k)!, e, `${name}#${k}`);
  });
}

Deno.test("readNpz() names positional arrays arr_0, arr_1 like numpy", async () => {
  const m = right(await readNpz(fixture("npz/positional.npz")));
  assert.deepEqual([...m.keys()], ["arr_0", "arr_1"]);
  assert.deepEqual([...(m.get("arr_0")!.data as Int32Array)], [0, 1, 2]);
  assert.equal(m.get("arr_1")!.dtype, "float64");
});

// ---- round trips ----

const tensors = new Map<string, HostTensor>([
  ["prompt", hostTensor("float32", [2, 3], new Float32Array([1, 2, 3, 4, 5, 6]))],
  ["ids", hostTensor("int64", [2], new BigInt64Array([5n, -(2n ** 60n)]))],
  ["mask", hostTensor("bool", [3], new Uint8Array([1, 0, 1]))],
  ["nested/name", hostTensor("uint8", [0], new Uint8Array(0))],
]);

for (const compress of [false, true]) {
  Deno.test(`writeNpz() then readNpz() round-trips ${compress ? "deflated" : "stored"} entries`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      right(await writeNpz(`${dir}/a.npz`, tensors, { compress }));
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["a.npz"]);
      const back = right(await readNpz(`${dir}/a.npz`));
      assert.deepEqual([...back.keys()], [...tensors.keys()]);
      for (const [k, t] of tensors) {
        assert.deepEqual(back.get(k)!.data, t.data, k);
        assert.deepEqual(back.get(k)!.shape, t.shape, k);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("encodeNpz() accepts a record and is reproducible byte for byte", () => {
  const rec = Object.fromEntries(tensors);
  assert.deepEqual(encodeNpz(rec, { compress: true }), encodeNpz(tensors, { compress: true }));
  const stored = encodeNpz(rec);
  assert.ok(stored.length > 4 * 128, "stored entries hold whole .npy files");
});

Deno.test("writeNpz() refuses an empty key", async () => {
  left(
    await writeNpz("/tmp/never-written.npz", { "": tensors.get("mask")! }),
    "Invalid",
    /key is empty/,
  );
});

// ---- untrusted input ----

Deno.test("parseNpz() reports a file that is not a zip", () => {
  left(
    parseNpz(new TextEncoder().encode("just some text, not an archive"), "x.npz"),
    "Corrupt",
    /Not a zip archive/,
  );
  left(parseNpz(new Uint8Array(0), "empty.npz"), "Corrupt", /Not a zip archive/);
  const npy = encodeNpy(tensors.get("mask")!);
  left(parseNpz(npy, "a.npy"), "Corrupt", /Not a zip archive/);
});

Deno.test("readNpz() reports a missing file as NotFound", async () => {
  left(await readNpz("/nonexistent/a.npz"), "NotFound", /No such file/);
});

Deno.test("parseNpz() reports a truncated archive", () => {
  const zip = Deno.readFileSync(fixture("npz/stored.npz"));
  left(
    parseNpz(zip.subarray(0, zip.length - 30), "cut.npz"),
    "Corrupt",
    /no end-of-central-directory/,
  );
  left(parseNpz(zip.subarray(0, 200), "cut.npz"), "Corrupt", /no end-of-central-directory/);
});

Deno.test("parseNpz() checks each entry's CRC-32", () => {
  const zip = encodeNpz({ a: tensors.get("prompt")! });
  const bad = new Uint8Array(zip);
  bad[centralEntry(zip) - 1] ^= 0xff; // the last data byte of the only entry
  left(parseNpz(bad, "bad.npz"), "Corrupt", /Entry 'a\.npy' fails its CRC-32 check/);
});

Deno.test("parseNpz() refuses a declared size deflate cannot reach, before inflating", () => {
  const zip = new Uint8Array(encodeNpz({ a: tensors.get("prompt")! }, { compress: true }));
  new DataView(zip.buffer).setUint32(centralEntry(zip) + 24, 0xfffffff0, true);
  left(
    parseNpz(zip, "lie.npz"),
    "Corrupt",
    /declares 4294967280 uncompressed bytes from only \d+ compressed/,
  );
});

Deno.test("parseNpz() stops inflating when an entry yields more than it declared", () => {
  const zip = new Uint8Array(encodeNpz({ a: tensors.get("prompt")! }, { compress: true }));
  new DataView(zip.buffer).setUint32(centralEntry(zip) + 24, 50, true);
  left(parseNpz(zip, "lie.npz"), "Corrupt", /inflates to more than its declared 50 bytes/);
});

Deno.test("parseNpz() caps the total uncompressed size (a zip bomb)", () => {
  // 64 MiB of zeros deflate to ~64 KB; the declared size is refused before any inflating.
  const zeros = new Uint8Array(64 * 1024 * 1024);
  const zip = zipSync({ "big.npy": [zeros, { level: 9 }] });
  assert.ok(zip.length < 200_000);
  left(parseNpz(zip, "bomb.npz", { maxBytes: 1 << 20 }), "TooLarge", /more than 1048576 bytes/);
});

Deno.test("parseNpz() refuses entries that are not .npy files", () => {
  const zip = zipSync({ "readme.txt": new TextEncoder().encode("hi") });
  left(parseNpz(zip, "odd.npz"), "Unsupported", /Entry 'readme\.txt' is not an \.npy file/);
});

Deno.test("parseNpz() reports a broken .npy inside the archive at archive#key", () => {
  const npy = encodeNpy(tensors.get("prompt")!);
  const zip = zipSync({ "w.npy": [npy.subarray(0, npy.length - 4), { level: 0 }] });
  const p = left(parseNpz(zip, "a.npz"), "Truncated", /needs 24 data bytes but only 20/);
  assert.equal(p.where, "a.npz#w");
});

Deno.test("parseNpz() refuses invalid deflate data", () => {
  const zip = new Uint8Array(encodeNpz({ a: tensors.get("prompt")! }, { compress: true }));
  const comp = deflateSync(encodeNpy(tensors.get("prompt")!));
  const start = zip.indexOf(comp[0], 30 + 5);
  zip.fill(0xff, start, start + 8); // wreck the start of the deflate stream
  const r = parseNpz(zip, "bad.npz");
  assert.ok(
    E.isLeft(r) && ["Corrupt", "Truncated"].includes(r.left._tag),
    "a problem, not a crash",
  );
});
