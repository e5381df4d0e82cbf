/**
 * The benchmark's command-line options (bench/options.ts): the GPU suite's --epoch-images,
 * --torch-isa (the PyTorch peers capped at AVX2, and their label saying so), and a clear
 * OptionError for bad values.
 */
import { describe, expect, it } from "vitest";
import { TORCH_ISA_ENV, parseBenchOptions, torchIsaCaps, type RawBenchOptions } from "../bench/options.js";
import { capsLabel } from "../bench/peers/torch-mlp.js";
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

  it("runs the PyTorch peers on the machine's own vectors unless --torch-isa avx2 caps them", () => {
    expect(parseBenchOptions(RAW).torchIsa).toBe("native");
    expect(TORCH_ISA_ENV[parseBenchOptions(RAW).torchIsa]).toEqual({});
    const capped = parseBenchOptions({ ...RAW, torchIsa: "avx2" });
    expect(TORCH_ISA_ENV[capped.torchIsa]).toEqual({ ONEDNN_MAX_CPU_ISA: "AVX2", OPENBLAS_CORETYPE: "Haswell" });
  });

  it("refuses an unknown --torch-isa, naming the choices", () => {
    expect(() => parseBenchOptions({ ...RAW, torchIsa: "avx512" })).toThrow(OptionError);
    expect(() => parseBenchOptions({ ...RAW, torchIsa: "avx512" })).toThrow(
      '--torch-isa: expected one of native, avx2, found "avx512"',
    );
  });

  it("labels a capped peer with the variables that cap it, whoever set them", () => {
    expect(capsLabel({ PATH: "/usr/bin" })).toBe("");
    expect(capsLabel({ ...TORCH_ISA_ENV.avx2 })).toBe(
      ", vector ISA capped: ONEDNN_MAX_CPU_ISA=AVX2, OPENBLAS_CORETYPE=Haswell",
    );
    expect(torchIsaCaps({ OPENBLAS_CORETYPE: "Haswell", ONEDNN_MAX_CPU_ISA: "" })).toEqual([
      "OPENBLAS_CORETYPE=Haswell",
    ]);
  });
});
