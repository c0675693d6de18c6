/**
 * A stable argsort of uint32 sort keys: the order `lax.sort_key_val(keys, iota, is_stable=True)`
 * gives.
 *
 * @module
 */

/** Sort keys and positions pack into one float64 (`key * 2^21 + position`) up to this many. */
export const PACKED_SORT_LIMIT = 2 ** 21;

/**
 * The positions of `sortKeys` in ascending order of key, ties in ascending order of position.
 *
 * @param sortKeys the keys to sort by
 * @param packed sort packed float64s (fast; needs `sortKeys.length <= 2^21`) rather than call a
 *   comparator; by default, whenever the length allows
 * @returns the positions, a permutation of `0, …, n-1`
 */
export function stableOrder(
  sortKeys: Uint32Array,
  packed: boolean = sortKeys.length <= PACKED_SORT_LIMIT,
): Int32Array {
  const n = sortKeys.length;
  const positions = new Int32Array(n);
  if (packed && n <= PACKED_SORT_LIMIT) {
    // key * 2^21 + position < 2^53 is exact, and distinct floats sort in a total order.
    const keyed = new Float64Array(n);
    for (let i = 0; i < n; i++) keyed[i] = sortKeys[i] * PACKED_SORT_LIMIT + i;
    keyed.sort();
    for (let i = 0; i < n; i++) positions[i] = keyed[i] % PACKED_SORT_LIMIT;
  } else {
    for (let i = 0; i < n; i++) positions[i] = i;
    positions.sort((a, b) => sortKeys[a] - sortKeys[b] || a - b);
  }
  return positions;
}
