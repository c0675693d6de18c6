import assert from "node:assert/strict";
import { join } from "node:path";
import { readAtMost, readFileCapped, writeAtomic, writeFileAtomic } from "../io/files.ts";

const unix = Deno.build.os !== "windows";

/** Runs `body` in a fresh temporary directory, removed afterwards. */
function inTempDir(body: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = await Deno.makeTempDir();
    try {
      await body(dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  };
}

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test(
  "readFileCapped() refuses a /dev/zero symlink, whose stat size is 0",
  { ignore: !unix },
  inTempDir(async (dir) => {
    const link = join(dir, "config.json");
    await Deno.symlink("/dev/zero", link);
    assert.equal((await Deno.stat(link)).size, 0);
    const r = await readFileCapped(link, 1000, "a JSON file");
    assert(r._tag === "Left" && r.left._tag === "TooLarge", JSON.stringify(r));
    assert.match(r.left.message, /more than 1000 bytes/);
    assert.equal(await readAtMost(link, 1 << 20), undefined);
  }),
);

Deno.test(
  "readFileCapped() reads a FIFO up to the cap, and no further",
  { ignore: !unix },
  inTempDir(async (dir) => {
    const fifo = join(dir, "pipe");
    assert((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
    const feed = async (bytes: Uint8Array) => {
      const w = await Deno.open(fifo, { write: true });
      try {
        await w.write(bytes).catch(() => 0); // the reader may stop early
      } finally {
        w.close();
      }
    };
    const small = new Uint8Array(100).fill(7);
    const [ok] = await Promise.all([readFileCapped(fifo, 100, "a file"), feed(small)]);
    assert(ok._tag === "Right" && ok.right.length === 100 && ok.right[99] === 7);
    const big = new Uint8Array(200_000);
    const [over] = await Promise.all([readFileCapped(fifo, 100_000, "a file"), feed(big)]);
    assert(over._tag === "Left" && over.left._tag === "TooLarge");
  }),
);

Deno.test(
  "readAtMost() reads files of every size around the cap exactly",
  inTempDir(async (dir) => {
    const path = join(dir, "a.bin");
    for (const n of [0, 1, 65535, 65536, 65537, 200_000]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => i % 251);
      await Deno.writeFile(path, bytes);
      assert.deepEqual(await readAtMost(path, n), bytes);
      assert.deepEqual(await readAtMost(path, n + 1), bytes);
      if (n > 0) assert.equal(await readAtMost(path, n - 1), undefined);
    }
  }),
);

Deno.test(
  "writeAtomic() writes text and bytes, leaving no temporary file",
  inTempDir(async (dir) => {
    const path = join(dir, "out.txt");
    assert.equal((await writeAtomic(path, "héllo"))._tag, "Right");
    assert.equal(await Deno.readTextFile(path), "héllo");
    assert.equal((await writeAtomic(path, new Uint8Array([0x61, 0x62])))._tag, "Right");
    assert.equal(await Deno.readTextFile(path), "ab");
    assert.deepEqual(names(dir), ["out.txt"]);
    const missing = await writeAtomic(join(dir, "no", "out.txt"), "x");
    assert(missing._tag === "Left" && missing.left._tag === "NotFound");
    assert.equal(
      missing.left.message,
      `Cannot write: the directory ${join(dir, "no")} does not exist`,
    );
  }),
);

Deno.test(
  "writeFileAtomic() keeps the old file when the writer fails",
  inTempDir(async (dir) => {
    const path = join(dir, "keep.txt");
    await writeFileAtomic(path, "old");
    const failing = async (put: (b: Uint8Array) => Promise<void>) => {
      await put(new Uint8Array([1]));
      throw new Error("cut");
    };
    await assert.rejects(() => writeFileAtomic(path, failing), /cut/);
    assert.equal(await Deno.readTextFile(path), "old");
    assert.deepEqual(names(dir), ["keep.txt"]);
  }),
);
