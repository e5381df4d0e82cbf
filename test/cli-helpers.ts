/** Helpers shared by the tests of the command line and of run folders. */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { EpochRecord } from "../src/train/trainer.js";

/** The built command line (npm test builds it first). */
export const CLI = new URL("../dist/src/cli/main.js", import.meta.url).pathname;

/** Command-line words from one string: `words("--backend wasm --threads 1")`. */
export function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== "");
}

/** The words of `reproduce mnist --out OUT SWEEP... --on CLUSTER MORE...`: a sweep handed to a cluster. */
export function reproduceOn(
  cluster: "slurm" | "k8s" | "local",
  out: string,
  sweep: readonly string[],
  ...more: string[]
): string[] {
  return ["reproduce", "mnist", "--out", out, ...sweep, "--on", cluster, ...more];
}

/** Runs the CLI to its end with extra environment variables. */
export function cli(
  args: string[],
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One `error: ...` line (and its hint), no stack trace. */
export function expectCleanError(r: { status: number | null; stderr: string }, pattern: RegExp): void {
  expect(r.status, r.stderr).toBe(1);
  expect(r.stderr).toMatch(/^error: /m);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr, r.stderr).not.toMatch(/^\s+at /m);
}

/** An epoch's record without its timings (which differ between runs of the same numbers). */
export function withoutTimings(r: EpochRecord): Omit<EpochRecord, "seconds" | "examples_per_second"> {
  const { seconds: _s, examples_per_second: _e, ...rest } = r;
  return rest;
}

/** The records of a run folder's metrics.jsonl. */
export function metricsOf(dir: string): EpochRecord[] {
  return readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as EpochRecord);
}
