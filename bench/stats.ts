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

/**
 * Times several functions side by side: warm-up and calibration of each, then run r of every
 * function before run r + 1 of any, so that a change of load on a shared machine falls on all of
 * them alike and the ratios of their medians stay fair. One Timing per function, in order.
 */
export async function timeInterleaved(
  fns: readonly (() => Promise<unknown>)[],
  opts: TimingOptions,
): Promise<Timing[]> {
  const reps: number[] = [];
  for (const fn of fns) {
    for (let i = 0; i < opts.warmup; i++) await fn();
    const t0 = performance.now();
    await fn();
    reps.push(Math.max(1, Math.ceil(opts.minRunMs / Math.max(performance.now() - t0, 1e-3))));
  }
  const seconds: number[][] = fns.map(() => []);
  for (let r = 0; r < opts.runs; r++) {
    for (const [k, fn] of fns.entries()) {
      const t0 = performance.now();
      for (let i = 0; i < reps[k]; i++) await fn();
      seconds[k].push((performance.now() - t0) / 1000 / reps[k]);
    }
  }
  return seconds.map((s, k) => summarize(s, reps[k]));
}

/** A rate (work / second) from a time per repetition. */
export function rate(work: number, seconds: number): number {
  return work / seconds;
}
