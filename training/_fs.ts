/**
 * Private file-system helpers of the training loop: durable writes, directory syncs, atomic
 * replacement of small files.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";

/** A short random suffix for temporary names (not a PRNG draw: it never affects results). */
export const tmpSuffix = (): string => `tmp-${crypto.randomUUID().slice(0, 8)}`;

/** Writes all bytes to a new file (failing if it exists) and syncs its data to disk. */
export async function writeFileSynced(path: string, bytes: Uint8Array): Promise<void> {
  const f = await Deno.open(path, { write: true, createNew: true });
  try {
    let off = 0;
    while (off < bytes.length) off += await f.write(bytes.subarray(off));
    await f.syncData();
  } finally {
    f.close();
  }
}

/**
 * Syncs a directory so that the names created or renamed in it survive a crash. Best effort:
 * platforms that cannot open a directory (Windows) skip it.
 */
export async function syncDir(path: string): Promise<void> {
  let f: Deno.FsFile | undefined;
  try {
    f = await Deno.open(path, { read: true });
    await f.sync();
  } catch {
    // Not supported here; the rename is still atomic, only its durability is weaker.
  } finally {
    f?.close();
  }
}

/** Replaces a file atomically: a synced temporary file in the same directory, then a rename. */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `${basename(path)}.${tmpSuffix()}`);
  try {
    await writeFileSynced(tmp, new TextEncoder().encode(text));
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** The message of an error, for one-line problems. */
export const errorText = (e: unknown): string => e instanceof Error ? e.message : String(e);
