import type { Row } from "./report.js";

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
