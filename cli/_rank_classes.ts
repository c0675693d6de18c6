/**
 * The label words' token ids for the rank loss, shared by `train` and mixture training.
 *
 * @module
 */
import type { Example, Task } from "../data/mod.ts";
import { problem } from "../problem.ts";
import { Failure } from "./args.ts";

/**
 * The label words' token ids for `train.loss: "rank"`, tokenized as the examples' targets are;
 * fails at the first example whose target is not a label word.
 */
export function rankClasses(
  task: Task,
  encode: (text: string) => number[],
  examples: readonly Example[],
): number[][] {
  const words = task.labelWords ?? [];
  if (words.length < 2) {
    throw new Failure([
      problem(
        "Invalid",
        "train.loss",
        `The rank loss needs at least 2 label words; task ${task.name} has ${words.length}`,
      ),
    ]);
  }
  const bad = examples.find((e) => !words.includes(e.targets));
  if (bad !== undefined) {
    throw new Failure([
      problem(
        "Invalid",
        bad.meta.location,
        `Target "${bad.targets}" is not a label word (${
          words.join(", ")
        }); train.loss "rank" needs label targets`,
      ),
    ]);
  }
  return words.map(encode);
}
