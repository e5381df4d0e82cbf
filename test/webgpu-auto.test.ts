/**
 * `--backend auto`: webgpu on a hardware GPU adapter, wasm otherwise (a software adapter -
 * lavapipe, SwiftShader, WARP - does not count), and the description says which and why.
 */
import { describe, expect, it } from "vitest";
import { createBackend } from "../src/backends/index.js";
import { isSoftwareAdapter } from "../src/backends/webgpu/adapter.js";
import { bindings, MAX_STORAGE_BUFFERS, program } from "../src/backends/webgpu/program.js";
import { WEBGPU } from "./backends.js";

const adapter = (info: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean }) =>
  ({ info }) as unknown as GPUAdapter;

describe("backend auto", () => {
  it("tells software adapters from GPUs", () => {
    expect(
      isSoftwareAdapter(adapter({ vendor: "nvidia", architecture: "hopper", description: "NVIDIA H100 80GB HBM3" })),
    ).toBe(false);
    expect(isSoftwareAdapter(adapter({ vendor: "apple", architecture: "metal-3", description: "Apple M2" }))).toBe(
      false,
    );
    expect(
      isSoftwareAdapter(
        adapter({ vendor: "mesa", architecture: "software", description: "llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)" }),
      ),
    ).toBe(true);
    expect(isSoftwareAdapter(adapter({ vendor: "google", architecture: "swiftshader", description: "" }))).toBe(true);
    expect(isSoftwareAdapter(adapter({ vendor: "microsoft", description: "Microsoft Basic Render Driver" }))).toBe(
      true,
    );
    expect(isSoftwareAdapter(adapter({ vendor: "x", description: "y", isFallbackAdapter: true }))).toBe(true);
  });

  it(`picks ${WEBGPU.available && !WEBGPU.software ? "webgpu (a GPU is present)" : "wasm (no GPU adapter here)"} and says why`, async () => {
    const be = await createBackend("auto", { threads: 1 });
    try {
      if (WEBGPU.available && !WEBGPU.software) {
        expect(be.name).toBe("webgpu");
        expect(be.description).toMatch(/auto: a GPU adapter is present/);
      } else {
        expect(be.name).toBe("wasm");
        const why = WEBGPU.available
          ? /auto: no WebGPU GPU \(the only WebGPU adapter is a software one, /
          : /auto: no WebGPU GPU \(/;
        expect(be.description).toMatch(why);
      }
      const t = be.alloc([3]);
      be.run("fill", { out: t, value: 1.5 });
      expect(Array.from(await be.read(t))).toEqual([1.5, 1.5, 1.5]);
    } finally {
      await be.close();
    }
  });
});

describe("webgpu programs", () => {
  it("bind at most 8 tensors, the storage buffers every adapter allows a shader", async () => {
    expect(MAX_STORAGE_BUFFERS).toBe(8);
    // every kernel's programs are made when its module loads: one over the limit throws here
    await expect(import("../src/backends/webgpu/kernels/all.js")).resolves.toBeDefined();
    const names = Array.from({ length: 9 }, (_, i) => `t${i}`);
    expect(() => program("nine-tensors", [], bindings(names.slice(0, 8), names.slice(8)), () => "")).toThrow(
      /nine-tensors: at most 8 tensors, found 9/,
    );
  });
});
