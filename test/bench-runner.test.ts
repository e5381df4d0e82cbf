/**
 * The benchmark's interleaved timing of one engine's thread counts (bench/runner.ts): each
 * runner's losses from its own first steps, timed runs alternating between the runners, and
 * every runner closed, also when one fails.
 */
import { describe, expect, it } from "vitest";
import { measureRunnersInterleaved, type StepRunner } from "../bench/runner.js";

/** A runner whose step returns 10 k + its step count and logs "name:step" into `log`. */
function fakeRunner(name: string, k: number, log: string[], failAt = Infinity): StepRunner & { closed: boolean } {
  let steps = 0;
  return {
    name,
    description: name,
    sharedStart: true,
    threads: k,
    closed: false,
    async step() {
      steps++;
      if (steps >= failAt) throw new Error(`${name} failed`);
      log.push(name);
      return 10 * k + steps;
    },
    async close() {
      this.closed = true;
    },
  };
}

describe("measureRunnersInterleaved", () => {
  const timing = { warmup: 1, runs: 3, minRunMs: 0 };

  it("records each runner's first losses, then alternates their timed runs", async () => {
    const log: string[] = [];
    const a = fakeRunner("a", 1, log),
      b = fakeRunner("b", 2, log);
    const [ra, rb] = await measureRunnersInterleaved([a, b], 2, timing);
    expect(ra.losses).toEqual([11, 12]);
    expect(rb.losses).toEqual([21, 22]);
    expect([ra.threads, rb.threads]).toEqual([1, 2]);
    // losses (2 each), warm-up + calibration of each (2 each, one repetition per run), then 3 runs alternating
    expect(log).toEqual(["a", "a", "b", "b", "a", "a", "b", "b", "a", "b", "a", "b", "a", "b"]);
    expect(ra.timing.seconds).toHaveLength(3);
    expect(a.closed && b.closed).toBe(true);
  });

  it("closes every runner when one fails", async () => {
    const log: string[] = [];
    const a = fakeRunner("a", 1, log),
      b = fakeRunner("b", 2, log, 4);
    await expect(measureRunnersInterleaved([a, b], 1, timing)).rejects.toThrow("b failed");
    expect(a.closed && b.closed).toBe(true);
  });
});
