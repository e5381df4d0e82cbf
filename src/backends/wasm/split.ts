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
