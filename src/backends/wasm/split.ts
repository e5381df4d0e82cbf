/**
 * Splits [0, n) into at most `parts` contiguous ranges of nearly equal length whose bounds are
 * multiples of `quantum` (except the end, n). Returns [start, end] pairs; at least one.
 */
export function splitRange(n: number, parts: number, quantum: number): Array<[number, number]> {
  const units = Math.ceil(n / quantum);
  const p = Math.max(1, Math.min(parts, units));
  const ranges: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < p; i++) {
    const endUnit = Math.round(((i + 1) * units) / p);
    const end = Math.min(n, endUnit * quantum);
    ranges.push([start, end]);
    start = end;
  }
  return ranges;
}

/** How many threads a call of `work` units should use: one per `minPerThread` units, at most `threads`. */
export function partsFor(work: number, minPerThread: number, threads: number): number {
  return Math.max(1, Math.min(threads, Math.floor(work / minPerThread)));
}

/**
 * Work per thread below which a call does not split further. Waking a sleeping worker costs
 * ~10 us or more (workers spin 1 ms after a call, so calls in a burst cost ~1 us), so each share
 * should take several times the burst cost: 2^19 multiply-adds ~ 25 us at 40 GFLOP/s; 2^16
 * elements of an element-wise or per-channel kernel ~ 8-40 us (so batch norm's 200 x 1024, ~90
 * us on one thread, splits in two).
 */
export const MIN_MATMUL_MACS = 1 << 19;
export const MIN_ELEMENTS = 1 << 16;

/** Ranges of [0, n) for the threads that `work` elements deserve (at least MIN_ELEMENTS each), as [start, end] argument lists. */
export function split(n: number, work: number, quantum: number, threads: number): Array<[number, number]> {
  return splitRange(n, partsFor(work, MIN_ELEMENTS, threads), quantum);
}

/** The ranges of an element-wise kernel over all `size` elements (bounds multiples of 16). */
export function elementRanges(size: number, threads: number): Array<[number, number]> {
  return split(size, size, 16, threads);
}
