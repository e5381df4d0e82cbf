/**
 * The wasm backend's watchdog on its worker threads (src/backends/wasm/threads.ts WaitClock):
 * workers that stop answering are reported after 10 minutes of waiting, but a process suspended
 * for longer (SIGSTOP, Ctrl-Z, a machine's sleep: the workers stop with it) is not taken for one
 * whose workers died. A training paused with SIGSTOP for more than 10 minutes used to fail with
 * "wasm worker threads did not finish a kernel in 600 s" when it was continued.
 */
import { describe, expect, it } from "vitest";
import { WaitClock } from "../src/backends/wasm/threads.js";

describe("the worker threads' watchdog clock", () => {
  it("reports workers that have not answered for the whole stuck time, slice by slice", () => {
    const clock = new WaitClock(0, 10_000);
    let now = 0;
    let stuck = false;
    for (let slice = 1; slice <= 10; slice++) {
      now += 1000;
      stuck = clock.tick(now);
      expect(stuck, `after ${slice} s`).toBe(false);
    }
    expect(clock.tick(now + 1000)).toBe(true);
  });

  it("counts a suspension of the process (one long gap) as two slices only", () => {
    const clock = new WaitClock(0, 10_000);
    expect(clock.tick(1000)).toBe(false);
    expect(clock.tick(1000 + 3_600_000)).toBe(false); // an hour stopped: 2 s counted, 3 in all
    let now = 1000 + 3_600_000;
    for (let slice = 0; slice < 7; slice++) expect(clock.tick((now += 1000))).toBe(false);
    expect(clock.tick((now += 1000))).toBe(true); // 11 s of waiting in all
  });

  it("does not count a clock that goes back", () => {
    const clock = new WaitClock(5000, 1000);
    expect(clock.tick(0)).toBe(false);
    expect(clock.tick(900)).toBe(false);
    expect(clock.tick(1100)).toBe(true);
  });
});
