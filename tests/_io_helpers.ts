/**
 * Test helpers shared by the tensor file tests (`io_npz_test.ts`, `io_safetensors_test.ts`):
 * locating fixtures, comparing a tensor with its expected values, and unwrapping results.
 *
 * Not a test file itself (no `_test` suffix); it imports nothing but the library.
 *
 * @module
 */
import assert from "node:assert/strict";
import * as E from "fp-ts/Either";
import type { HostTensor } from "../io/mod.ts";
import type { Problem } from "../problem.ts";

export const fixture = (p: string) => new URL(`./fixtures/io/${p}`, import.meta.url);

export interface Expected {
  dtype: string;
  shape: number[];
  values: (number | string)[];
  bits?: number[];
}

export function assertValues(h: HostTensor, e: Expected, label: string): void {
  assert.equal(h.dtype, e.dtype, `${label}: dtype`);
  assert.deepEqual([...h.shape], e.shape, `${label}: shape`);
  if (e.bits) {
    assert.deepEqual([...(h.data as Uint16Array)], e.bits, `${label}: bits`);
    return;
  }
  const got = h.dtype === "int64" ? [...(h.data as BigInt64Array)] : [...(h.data as Float32Array)];
  const want = e.values.map((v) =>
    h.dtype === "int64"
      ? BigInt(v)
      : v === "nan"
      ? NaN
      : v === "inf"
      ? Infinity
      : v === "-inf"
      ? -Infinity
      : v === "-0"
      ? -0
      : v
  );
  assert.deepEqual(got, want, label);
}

export function right<A>(r: E.Either<Problem, A>): A {
  if (E.isLeft(r)) {
    assert.fail(`Expected Right, got ${r.left._tag}: ${r.left.where}: ${r.left.message}`);
  }
  return r.right;
}

export function left<A>(r: E.Either<Problem, A>, tag: Problem["_tag"], pattern: RegExp): Problem {
  if (E.isRight(r)) assert.fail(`Expected a ${tag} problem, got a value`);
  assert.equal(r.left._tag, tag, r.left.message);
  assert.match(r.left.message, pattern);
  assert.match(r.left.message, /^[A-Z]/, "messages start with a capital");
  assert.ok(!r.left.message.endsWith("."), "messages end without a period");
  return r.left;
}

/**
 * Runs `read` against a FIFO nobody writes to, failing (instead of hanging) when it has not
 * returned within `ms`: then a writer opens and closes the FIFO, so that a reader stuck in `open`
 * sees the end of the file and the test can finish.
 */
export async function withinTime<T>(fifo: string, read: () => Promise<T>, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => timer = setTimeout(() => resolve("late"), ms));
  const r = await Promise.race([read(), late]);
  clearTimeout(timer);
  if (r === "late") {
    (await Deno.open(fifo, { write: true })).close();
    assert.fail(`Still reading ${fifo} after ${ms} ms: a FIFO must be refused before it is opened`);
  }
  return r as T;
}

/** Makes a FIFO (named pipe) at `path`. */
export const mkfifo = async (path: string) =>
  assert((await new Deno.Command("mkfifo", { args: [path] }).output()).success);
