/**
 * Shape checks shared by the samplers.
 *
 * @module
 */

/** The most elements one draw may have: a typed array's and a tfjs tensor's practical limit. */
export const MAX_SIZE = 2 ** 31 - 1;

/**
 * Checks that `shape` is a list of non-negative integers and returns its number of elements.
 *
 * @param shape the shape to check
 * @param who the caller, named in the error (e.g. `"uniform()"`)
 * @returns the product of the dimensions (1 for `[]`)
 * @throws {RangeError} when a dimension is not a non-negative integer or the size is too large
 */
export function shapeSize(shape: readonly number[], who: string): number {
  if (!Array.isArray(shape)) {
    throw new RangeError(
      `Shape for ${who} must be an array of non-negative integers, got ${String(shape)}`,
    );
  }
  let size = 1;
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0) {
      throw new RangeError(
        `Shape for ${who} must be an array of non-negative integers, got [${shape.join(", ")}]`,
      );
    }
    size *= d;
  }
  if (size > MAX_SIZE) {
    throw new RangeError(
      `Shape [${shape.join(", ")}] for ${who} has ${size} elements, more than 2^31 - 1`,
    );
  }
  return size;
}
