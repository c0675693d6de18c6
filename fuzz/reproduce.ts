/**
 * Writes one fuzz input to a directory, as the harness made it:
 * `deno run -A fuzz/reproduce.ts <format> <seed> <index> <dir>`.
 *
 * Inputs are made from (seed, format, index) alone, so any input a run reports can be made again.
 *
 * @module
 */
import { TARGETS } from "./targets/mod.ts";
import { makeInput } from "./worker.ts";

if (import.meta.main) {
  const [format, seed, index, dir] = Deno.args;
  if (!(format in TARGETS) || dir === undefined) {
    console.error(`usage: reproduce.ts <${Object.keys(TARGETS).join("|")}> <seed> <index> <dir>`);
    Deno.exit(2);
  }
  const target = await TARGETS[format]();
  const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const input = makeInput(target, await target.seeds(root), Number(seed), Number(index));
  for (const [name, bytes] of input.files) {
    const slash = name.lastIndexOf("/");
    await Deno.mkdir(slash > 0 ? `${dir}/${name.slice(0, slash)}` : dir, { recursive: true });
    await Deno.writeFile(`${dir}/${name}`, bytes);
  }
  console.log(
    `${format} seed ${seed} input ${index} (from ${input.seed}): ${
      [...input.files.keys()].length
    } files in ${dir}`,
  );
}
