/**
 * The benchmark's command-line options (bench/options.ts): the GPU suite's --epoch-images,
 * and a clear OptionError for bad values.
 */
import { describe, expect, it } from "vitest";
import { parseBenchOptions, type RawBenchOptions } from "../bench/options.js";
import { OptionError } from "../src/core/errors.js";

const RAW: RawBenchOptions = { only: "all", threads: "1,2", backend: "wasm", simd: "auto" };

describe("parseBenchOptions", () => {
  it("leaves the GPU suite's epoch size to the suite unless --epoch-images is given", () => {
    expect(parseBenchOptions(RAW).epochImages).toBeNull();
    expect(parseBenchOptions({ ...RAW, backend: "webgpu", epochImages: "5000" }).epochImages).toBe(5000);
  });

  it.each(["199", "2.5", "many", "1000001"])("refuses --epoch-images %s, naming the range", (text) => {
    expect(() => parseBenchOptions({ ...RAW, epochImages: text })).toThrow(OptionError);
    expect(() => parseBenchOptions({ ...RAW, epochImages: text })).toThrow(
      `--epoch-images: expected an integer from 200 to 1000000, found "${text}"`,
    );
  });

  it("keeps --runs and --quick's timing", () => {
    expect(parseBenchOptions({ ...RAW, runs: "3" }).timing.runs).toBe(3);
    expect(parseBenchOptions({ ...RAW, quick: true }).timing).toEqual({ warmup: 1, runs: 5, minRunMs: 0 });
  });
});
