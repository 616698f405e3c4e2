// Binary search over sorted tables (units, functions, symbols, line rows, FDEs, dump extents).

/**
 * The first index in [0, count) where `before(i)` is false, for a `before` that is true up to some
 * index and false from there on: with `before = i => start[i] <= x` it is one past the last
 * entry starting at or before x.
 */
export function partitionPoint(count: number, before: (i: number) => boolean): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
