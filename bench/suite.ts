import type { Row } from "./report.js";
import { measureRunnersInterleaved, type StepResult, type StepRunner } from "./runner.js";
import type { TimingOptions } from "./stats.js";

/** Progress messages (to stderr, so that stdout holds only the report). */
export type Log = (message: string) => void;

/** What a suite gives: its rows, and the problems that make the run fail (exit code 1). */
export interface SuiteOutput {
  rows: Row[];
  problems: string[];
}

/** "1 thread", "2 threads". */
export function threadsLabel(n: number): string {
  return `${n} thread${n === 1 ? "" : "s"}`;
}

/** An error's message (first lines), for the report: failures are reported, never swallowed. */
export function describeError(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split("\n").slice(0, 6).join("\n    ");
}

/**
 * Our engine at each of `threads`: a runner per thread count (`create`), then their steps timed
 * interleaved (measureRunnersInterleaved: the 2-thread scaling's ratio). A runner that cannot
 * be made, or a failed measurement, becomes a problem line starting with `what`.
 */
export async function measureEngineThreads(
  what: string,
  threads: readonly number[],
  create: (threads: number) => Promise<StepRunner>,
  { lossSteps, timing }: { lossSteps: number; timing: TimingOptions },
  problems: string[],
  log: Log,
): Promise<StepResult[]> {
  const runners: StepRunner[] = [];
  for (const n of threads) {
    try {
      runners.push(await create(n));
    } catch (e) {
      problems.push(`${what} ${threadsLabel(n)}: ${describeError(e)}`);
    }
  }
  log(`${what} ${runners.map((r) => threadsLabel(r.threads ?? 1)).join(" and ")}, interleaved`);
  try {
    return await measureRunnersInterleaved(runners, lossSteps, timing);
  } catch (e) {
    problems.push(`${what}: ${describeError(e)}`);
    return [];
  }
}
