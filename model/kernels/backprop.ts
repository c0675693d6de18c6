/**
 * Reverse-mode gradients that free memory as they go. TensorFlow.js's `tf.grads` keeps every
 * intermediate gradient and every tensor the tape saved until the whole backward pass ends, so
 * its peak is the forward pass's activations plus a gradient of each; {@link leanGrads} walks
 * the same tape in the same order with the same gradient functions (so the numbers are the
 * same), but
 *
 * - disposes a tensor's gradient once the operation that made the tensor has used it,
 * - disposes what an operation saved once its gradient has run, and what operations off the path
 *   from the inputs to the output saved before the backward pass starts,
 * - and disposes, before the backward pass, saved operands that only the gradient of an input off
 *   that path would read: `x · W` with `W` frozen keeps `W`, not `x` (a matrix product's and an
 *   element-wise product's other operand), and what kernels saved only for its shape (a sum's,
 *   a reshape's, a slice's operands).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";

/** A node of TensorFlow.js's tape (its engine's `activeTape`). */
interface TapeNode {
  readonly id: number;
  readonly kernelName: string;
  readonly inputs: Readonly<Record<string, tf.Tensor>>;
  readonly outputs: readonly tf.Tensor[];
  readonly saved?: readonly tf.Tensor[];
  readonly gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}

/** The parts of TensorFlow.js's engine the walk uses (tfjs-core 4.22). */
interface Engine {
  readonly state: { activeTape: TapeNode[] | null; gradientDepth: number };
  addTapeNode(...args: unknown[]): void;
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
}

/**
 * Kernels whose gradient reads only the shapes of what they saved (a released tensor keeps its
 * shape): what they saved is released before the backward pass.
 */
const SHAPES_ONLY: ReadonlySet<string> = new Set([
  "Add",
  "Concat",
  "Mean",
  "Reshape",
  "Slice",
  "Sub",
  "Sum",
]);

/**
 * For kernels whose gradient reads a saved operand only for one input's gradient: the saved
 * index, and the input whose gradient reads it. When that input is off the path, the operand is
 * released before the backward pass.
 */
const SAVED_FOR: Readonly<Record<string, readonly (readonly [number, string])[]>> = {
  // [a, b] saved; dA reads b, dB reads a.
  BatchMatMul: [[0, "b"], [1, "a"]],
  Multiply: [[0, "b"], [1, "a"]],
};

/** The tape's nodes on a path from one of `xs` to `y`, inputs pruned to those from `xs`. */
function pathNodes(tape: readonly TapeNode[], xs: readonly tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      nodesFromX.add(node.id);
      for (const o of node.outputs) fromX.add(o.id);
    }
  }
  const toY = new Set([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => toY.has(o.id))) {
      nodesToY.add(node.id);
      for (const t of Object.values(node.inputs)) toY.add(t.id);
    }
  }
  return tape.filter((n) => nodesFromX.has(n.id) && nodesToY.has(n.id)).map((node) => ({
    ...node,
    inputs: Object.fromEntries(Object.entries(node.inputs).filter(([, t]) => fromX.has(t.id))),
  }));
}

function disposeSaved(node: TapeNode): void {
  for (const t of node.saved ?? []) t.dispose();
}

/**
 * Releases what a newly recorded node saved that no gradient from `fromX` will read, and marks
 * its outputs as from `fromX` when one of its inputs is.
 */
function releaseUnread(node: TapeNode, fromX: Set<number>): void {
  const inputs = Object.entries(node.inputs);
  const differentiated = new Set(inputs.filter(([, t]) => fromX.has(t.id)).map(([name]) => name));
  if (differentiated.size === 0 || SHAPES_ONLY.has(node.kernelName)) {
    disposeSaved(node);
  } else {
    for (const [index, input] of SAVED_FOR[node.kernelName] ?? []) {
      if (!differentiated.has(input)) node.saved?.[index]?.dispose();
    }
  }
  if (differentiated.size > 0) { for (const o of node.outputs) fromX.add(o.id); }
}

// deno-doc-ignore private-type-ref -- tf.Tensor is the tfjs npm package's own type
/**
 * The value of `f(...xs)` and its gradients with respect to each of `xs`, as `tf.valueAndGrads`
 * computes them, with the backward pass's memory released as it goes (see the module doc).
 * Called where a tape is already recording (a gradient of a gradient), it is `tf.valueAndGrads`.
 *
 * @param f a function of the `xs`
 * @param xs the tensors to differentiate with respect to
 * @param dy the gradient of the output (its shape); default ones (not disposed)
 * @returns the value and one gradient per `x` (new tensors the caller disposes)
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { leanGrads } from "./backprop.ts";
 * import assert from "node:assert/strict";
 * const x = tf.tensor1d([1, 2]);
 * const w = tf.tensor2d([[3], [4]]); // frozen: only x is differentiated
 * const { value, grads } = leanGrads((x) => tf.sum(tf.matMul(x.reshape([1, 2]), w)), [x]);
 * assert.equal(value.dataSync()[0], 11);
 * assert.deepEqual(Array.from(grads[0].dataSync()), [3, 4]);
 * tf.dispose([x, w, value, ...grads]);
 * ```
 */
export function leanGrads(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  xs: readonly tf.Tensor[],
  dy?: tf.Tensor,
): { value: tf.Tensor; grads: tf.Tensor[] } {
  const engine = tf.engine() as unknown as Engine;
  if (engine.state.gradientDepth !== 0) {
    const r = tf.valueAndGrads((...a: tf.Tensor[]) => f(...a))([...xs], dy);
    return { value: r.value, grads: r.grads };
  }
  // Released as the tape records (the forward pass's peak is what it keeps): what operations
  // on no path from the xs save, and saved tensors that only their shapes or an input from no xs
  // would need. Nodes from the xs that do not lead to y are released once y is known.
  const fromX = new Set(xs.map((x) => x.id));
  const record = engine.addTapeNode;
  engine.addTapeNode = function (...args: Parameters<Engine["addTapeNode"]>) {
    record.apply(this, args);
    const tape = this.state.activeTape;
    if (tape !== null && tape.length > 0) releaseUnread(tape[tape.length - 1], fromX);
  };
  let y: tf.Tensor;
  try {
    y = engine.scopedRun(
      () => engine.startTape(),
      () => engine.endTape(),
      () => tf.tidy(() => f(...xs)),
    );
  } finally {
    engine.addTapeNode = record;
  }
  const tape = engine.state.activeTape ?? [];
  engine.state.activeTape = null;
  const path = pathNodes(tape, xs, y);
  const onPath = new Set(path.map((n) => n.id));
  for (const node of tape) if (!onPath.has(node.id)) disposeSaved(node);
  if (path.length === 0) {
    y.dispose();
    throw new Error("leanGrads: the output is not a function of the inputs");
  }
  const keep = new Set(xs.map((x) => x.id));
  try {
    return tf.tidy(() => {
      // A handle of the caller's dy, so that releasing it leaves theirs alone.
      const seed = dy === undefined ? tf.onesLike(y) : tf.clone(dy);
      const grad = new Map<number, tf.Tensor>([[y.id, seed]]);
      const held = new Set<tf.Tensor>(grad.values());
      for (let i = path.length - 1; i >= 0; i--) {
        const node = path[i];
        const dys = node.outputs.map((o) => grad.get(o.id) ?? null);
        if (node.gradient === undefined) {
          throw new Error(`Cannot compute gradient: no gradient function for ${node.kernelName}`);
        }
        const inputGradients = node.gradient(dys);
        for (const [name, x] of Object.entries(node.inputs)) {
          if (!(name in inputGradients)) {
            throw new Error(`Cannot backprop through input ${name} of ${node.kernelName}`);
          }
          let dx = tf.tidy(() => inputGradients[name]());
          if (dx.dtype !== "float32" || !tf.util.arraysEqual(dx.shape, x.shape)) {
            throw new Error(
              `The gradient of input ${name} of ${node.kernelName} is ${dx.dtype} [${dx.shape}]; ` +
                `expected float32 [${x.shape}]`,
            );
          }
          // A gradient function may hand back a tensor it was given: own a handle of it.
          if (held.has(dx) || dys.includes(dx) || node.saved?.includes(dx)) dx = tf.clone(dx);
          const before = grad.get(x.id);
          if (before === undefined) {
            grad.set(x.id, dx);
            held.add(dx);
          } else {
            const sum = tf.add(before, dx);
            held.delete(before);
            before.dispose();
            dx.dispose();
            grad.set(x.id, sum);
            held.add(sum);
          }
        }
        // The outputs' gradients and the saved tensors are read by no later node.
        for (const o of node.outputs) {
          const g = grad.get(o.id);
          if (g !== undefined && !keep.has(o.id)) {
            held.delete(g);
            g.dispose();
            grad.delete(o.id);
          }
        }
        disposeSaved(node);
      }
      const grads = xs.map((x) => grad.get(x.id) ?? tf.zerosLike(x));
      return { value: y, grads };
    });
  } finally {
    for (const node of path) disposeSaved(node);
  }
}
