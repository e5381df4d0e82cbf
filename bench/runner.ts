import { BinaryConnectError } from "../src/core/errors.js";
import type { InitialState, MlpSpec } from "./spec.js";
import { timeInterleaved, timeIt, type Timing, type TimingOptions } from "./stats.js";

/**
 * One way of running the benchmarked training step (our engine or an in-process peer),
 * created ready to train. `step()` runs forward + backward + update once on the fixed batch
 * and resolves with that step's loss (mean square hinge over the batch) once all of the
 * step's work is done.
 */
export interface StepRunner {
  /** Short name used in the table and the JSON ("tfjs-wasm", "jax-js", ...). */
  readonly name: string;
  /** Version, backend and threads, for the report. */
  readonly description: string;
  /** True when it trains from the shared `InitialState` (so its losses must match the others'). */
  readonly sharedStart: boolean;
  /** The thread count the benchmark chose; absent when the library fixes it (1 in Node). */
  readonly threads?: number;
  step(): Promise<number>;
  close(): Promise<void>;
}

export type RunnerFactory = (spec: MlpSpec, init: InitialState) => Promise<StepRunner>;

/** What a training-step measurement gives, in process or from a child process. */
export interface StepResult {
  readonly name: string;
  readonly description: string;
  readonly sharedStart: boolean;
  readonly threads?: number;
  /** Losses of the first steps from the start (also the first warm-up steps). */
  readonly losses: number[];
  /** Seconds per training step. */
  readonly timing: Timing;
}

/** Runs `lossSteps` steps recording their losses, then times the step; closes the runner. */
export async function measureRunner(runner: StepRunner, lossSteps: number, timing: TimingOptions): Promise<StepResult> {
  try {
    const losses: number[] = [];
    for (let i = 0; i < lossSteps; i++) losses.push(await runner.step());
    const t = await timeIt(() => runner.step(), timing);
    const { name, description, sharedStart, threads } = runner;
    return { name, description, sharedStart, threads, losses, timing: t };
  } finally {
    await runner.close();
  }
}

/**
 * measureRunner for several runners of one engine (its thread counts): the losses of each, then
 * their steps timed interleaved (timeInterleaved: run r of every runner before run r + 1 of any),
 * so that the ratios between them (the 2-thread scaling) do not take a change of load on a
 * shared machine between two measurements for the engine's. Closes every runner.
 */
export async function measureRunnersInterleaved(
  runners: readonly StepRunner[],
  lossSteps: number,
  timing: TimingOptions,
): Promise<StepResult[]> {
  try {
    const losses: number[][] = [];
    for (const runner of runners) {
      const own: number[] = [];
      for (let i = 0; i < lossSteps; i++) own.push(await runner.step());
      losses.push(own);
    }
    const timings = await timeInterleaved(
      runners.map((r) => () => r.step()),
      timing,
    );
    return runners.map(({ name, description, sharedStart, threads }, k) => ({
      name,
      description,
      sharedStart,
      threads,
      losses: losses[k],
      timing: timings[k],
    }));
  } finally {
    for (const runner of runners) await runner.close();
  }
}

/** A peer that cannot run here (library or interpreter not installed): reported, not fatal. */
export class PeerUnavailable extends BinaryConnectError {
  constructor(
    readonly peer: string,
    readonly reason: string,
    hint?: string,
  ) {
    super(`${peer}: not available (${reason})`, hint);
  }

  /** For the report's notes: the reason, and the fix when there is one. */
  get note(): string {
    return `not available: ${this.reason}${this.hint ? ` (fix: ${this.hint})` : ""}`;
  }
}
