import assert from "node:assert/strict";
import { join } from "node:path";
import {
  openRegularFile,
  readAtMost,
  readFileCapped,
  writeAtomic,
  writeFileAtomic,
} from "../io/files.ts";
import { mkfifo, withinTime } from "./_io_helpers.ts";

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
  "readFileCapped(), readAtMost() and openRegularFile() refuse a /dev/zero symlink, whose stat size is 0",
  { ignore: !unix },
  inTempDir(async (dir) => {
    const link = join(dir, "x.npy");
    await Deno.symlink("/dev/zero", link);
    assert.equal((await Deno.stat(link)).size, 0);
    const r = await readFileCapped(link, 1 << 30, "an .npy file");
    assert(r._tag === "Left" && r.left._tag === "Io", JSON.stringify(r));
    assert.equal(
      r.left.message,
      "Is a character device, not a regular file; expected an .npy file",
    );
    assert.equal(r.left.where, link);
    await assert.rejects(
      readAtMost(link, 1 << 30),
      /^Error: Is a character device, not a regular file/,
    );
    const o = await openRegularFile(link, "a .gguf file");
    assert(o._tag === "Left" && /^Is a character device, not a regular file/.test(o.left.message));
  }),
);

Deno.test(
  "readFileCapped(), readAtMost() and openRegularFile() refuse a FIFO without waiting for a writer",
  { ignore: !unix },
  inTempDir(async (dir) => {
    const fifo = join(dir, "x.npy");
    await mkfifo(fifo);
    const r = await withinTime(fifo, () => readFileCapped(fifo, 100, "an .npy file"));
    assert(r._tag === "Left" && r.left._tag === "Io", JSON.stringify(r));
    assert.equal(
      r.left.message,
      "Is a FIFO (named pipe), not a regular file; expected an .npy file",
    );
    await assert.rejects(withinTime(fifo, () => readAtMost(fifo, 100)), /Is a FIFO \(named pipe\)/);
    const o = await withinTime(fifo, () => openRegularFile(fifo, "a .gguf file"));
    assert(
      o._tag === "Left" && /^Is a FIFO \(named pipe\), not a regular file/.test(o.left.message),
    );
  }),
);

Deno.test(
  "readAtMost() stops at the cap on a regular file whose stat size is 0 (a file of /proc)",
  { ignore: Deno.build.os !== "linux" },
  async () => {
    const path = "/proc/self/status"; // a regular file that stat says is empty
    const st = await Deno.stat(path);
    assert(st.isFile && st.size === 0);
    assert.equal(await readAtMost(path, 10), undefined);
    const big = await readFileCapped(path, 10, "a status file");
    assert(big._tag === "Left" && big.left._tag === "TooLarge");
    assert.match(big.left.message, /^File is more than 10 bytes, over the limit of 10 bytes/);
    const all = await readAtMost(path, 1 << 20);
    assert(all !== undefined && all.length > 10);
    assert.match(new TextDecoder().decode(all), /^Name:/);
  },
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
