/**
 * The wasm backend's two builds (src/backends/wasm/simd.ts): the choice of build, its errors,
 * and what the relaxed build changes numerically: its matrix micro-kernel accumulates with a
 * fused multiply-add (one rounding) where the CPU has one, the baseline build with a product
 * and a sum (two roundings). The conformance suite checks both builds against the reference.
 */
import { readFileSync } from "node:fs";
import { arch } from "node:os";
import { describe, expect, it } from "vitest";
import { tensorFrom } from "../src/backends/backend.js";
import { createBackend } from "../src/backends/index.js";
import { WasmBackend } from "../src/backends/wasm/index.js";
import { relaxedSimdSupported, resolveSimd } from "../src/backends/wasm/simd.js";
import { BackendError, OptionError } from "../src/core/errors.js";

const yes = async () => true;
const no = async () => false;

describe("choosing the build", () => {
  it("baseline never asks the engine; auto and relaxed take relaxed where it is accepted", async () => {
    expect(
      await resolveSimd("baseline", () => {
        throw new Error("asked");
      }),
    ).toBe("baseline");
    expect(await resolveSimd("auto", yes)).toBe("relaxed");
    expect(await resolveSimd("relaxed", yes)).toBe("relaxed");
  });

  it("auto falls back to baseline where relaxed SIMD is refused; relaxed fails with the reason", async () => {
    expect(await resolveSimd("auto", no)).toBe("baseline");
    const err = await resolveSimd("relaxed", no).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toMatch(
      /simd "relaxed" was asked for, but .* does not accept WebAssembly relaxed SIMD; use "auto" or "baseline"/,
    );
  });

  it("this Node.js accepts the relaxed build (turning on V8's flag where it needs one)", async () => {
    expect(await relaxedSimdSupported()).toBe(true);
  });

  it("the backend says which build it runs; a bad choice is an OptionError", async () => {
    const relaxed = (await createBackend("wasm", { threads: 1, simd: "relaxed" })) as WasmBackend;
    const baseline = (await createBackend("wasm", { threads: 1, simd: "baseline" })) as WasmBackend;
    try {
      expect([relaxed.simd, baseline.simd]).toEqual(["relaxed", "baseline"]);
      expect(relaxed.description).toBe("wasm (SIMD128 + relaxed FMA, 1 thread)");
      expect(baseline.description).toBe("wasm (SIMD128, 1 thread)");
    } finally {
      await relaxed.close();
      await baseline.close();
    }
    await expect(WasmBackend.create({ simd: "fast" as never })).rejects.toThrow(OptionError);
  });
});

/** Whether this CPU has a fused multiply-add that V8 uses for f32x4.relaxed_madd (x86: FMA3; Arm64: always). */
function cpuHasFma(): boolean {
  if (arch() === "arm64") return true;
  try {
    return /^flags\s*:.*\bfma\b/m.test(readFileSync("/proc/cpuinfo", "utf8"));
  } catch {
    return false;
  }
}

describe("what the relaxed build computes", () => {
  // out = a0 b0 + a1 b1 with a0 b0 = -(1 + 2^-11) and a1 = b1 = 1 + 2^-12, whose exact product
  // 1 + 2^-11 + 2^-24 is halfway between two floats: rounded on its own (to even) it cancels
  // the first term exactly (0); fused into the sum, the 2^-24 survives.
  const a = new Float32Array([-(1 + 2 ** -11), 1 + 2 ** -12]); // [1, 2]
  const b = new Float32Array([1, 1 + 2 ** -12]); // [2, 1]

  async function product(simd: "relaxed" | "baseline"): Promise<number> {
    const be = await WasmBackend.create({ threads: 1, simd });
    try {
      const out = be.alloc([1, 1]);
      be.run("matmul", {
        a: tensorFrom(be, [1, 2], a),
        b: tensorFrom(be, [2, 1], b),
        out,
        transA: false,
        transB: false,
        accumulate: false,
      });
      return (await be.read(out))[0];
    } finally {
      await be.close();
    }
  }

  it("baseline: a product and a sum, each rounded (the same bits on every machine)", async () => {
    expect(await product("baseline")).toBe(0);
  });

  it(`relaxed: one rounding where the CPU fuses (${cpuHasFma() ? "it does here" : "it does not here"})`, async () => {
    expect(await product("relaxed")).toBe(cpuHasFma() ? 2 ** -24 : 0);
  });
});
