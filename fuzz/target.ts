/**
 * What the fuzzer needs of each format: its seeds, how to mutate them, and how to hand the result
 * to the library's public loading functions.
 *
 * @module
 */
import type { Rng } from "./rng.ts";

/** A set of files: a name relative to the input's directory → its bytes. */
export type Files = ReadonlyMap<string, Uint8Array>;

/** One seed: the files of a valid input, and a name for it. */
export interface Seed {
  readonly name: string;
  readonly files: Files;
}

/** One fuzzed input: the files (unchanged ones shared with the seed) and what was done. */
export interface FuzzInput {
  readonly seed: string;
  readonly files: Files;
}

/** A format under fuzz. */
export interface Target {
  /** The format's name, as `--formats` takes it. */
  readonly name: string;
  /** Share of the inputs this format gets, relative to the others (by its speed). */
  readonly weight: number;
  /** Whether it reads files (then each input is followed by a wait for late rejections). */
  readonly usesFiles: boolean;
  /** Loads the seeds, from the repository's test files (`root` is the repository). */
  readonly seeds: (root: string) => Promise<readonly Seed[]>;
  /** Makes one input from the seeds. */
  readonly mutate: (rng: Rng, seeds: readonly Seed[]) => FuzzInput;
  /**
   * Hands the input to the library: `dir` holds its files (written by the worker); `files` are
   * the same files in memory, for parsers that take bytes. Returns the library's result (an
   * Either, checked by the worker), or throws.
   */
  readonly run: (input: FuzzInput, dir: string) => Promise<unknown>;
}

/** One file replaced in a seed's file set. */
export function withFile(seed: Seed, name: string, bytes: Uint8Array): FuzzInput {
  const files = new Map(seed.files);
  files.set(name, bytes);
  return { seed: seed.name, files };
}

/** One file removed from a seed's file set. */
export function withoutFile(seed: Seed, name: string): FuzzInput {
  const files = new Map(seed.files);
  files.delete(name);
  return { seed: seed.name, files };
}

/** Reads files of the repository into a seed. */
export async function seedOf(
  root: string,
  name: string,
  files: Readonly<Record<string, string>>,
): Promise<Seed> {
  const m = new Map<string, Uint8Array>();
  for (const [k, p] of Object.entries(files)) m.set(k, await Deno.readFile(`${root}/${p}`));
  return { name, files: m };
}

/** Thrown by a target when two readers of the library disagree on one input (a finding). */
export class Disagreement extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Disagreement";
  }
}
