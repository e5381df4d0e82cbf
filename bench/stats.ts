/**
 * Timing: warm-up, then `runs` timed runs of `repsPerRun` repetitions each; the figure of a
 * run is its time per repetition. We report the median (the typical figure on a noisy,
 * shared machine) and the minimum (the least disturbed run).
 */
export interface TimingOptions {
  /** Untimed repetitions before the timed runs (compilation, caches, allocator). */
  readonly warmup: number;
  /** Timed runs (>= 5). */
  readonly runs: number;
  /** Repetitions per run are chosen so that one run lasts at least this long. */
  readonly minRunMs: number;
}

export interface Timing {
  /** Seconds per repetition, one entry per timed run, in the order measured. */
  readonly seconds: number[];
  readonly repsPerRun: number;
  readonly min: number;
  readonly median: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Summarizes seconds-per-repetition figures (also used for timings made by a child process). */
export function summarize(seconds: number[], repsPerRun: number): Timing {
  return { seconds, repsPerRun, min: Math.min(...seconds), median: median(seconds) };
}

/**
 * Times `fn` (one repetition; it must resolve only once its work is complete).
 * `fn` is called warmup + 1 (calibration) + runs * repsPerRun times.
 */
export async function timeIt(fn: () => Promise<unknown>, opts: TimingOptions): Promise<Timing> {
  for (let i = 0; i < opts.warmup; i++) await fn();
  let t0 = performance.now();
  await fn();
  const oneMs = Math.max(performance.now() - t0, 1e-3);
  const repsPerRun = Math.max(1, Math.ceil(opts.minRunMs / oneMs));
  const seconds: number[] = [];
  for (let r = 0; r < opts.runs; r++) {
    t0 = performance.now();
    for (let i = 0; i < repsPerRun; i++) await fn();
    seconds.push((performance.now() - t0) / 1000 / repsPerRun);
  }
  return summarize(seconds, repsPerRun);
}

/** A rate (work / second) from a time per repetition. */
export function rate(work: number, seconds: number): number {
  return work / seconds;
}
