/**
 * The webgpu backend against the reference backend (the specification): every kernel of the
 * contract on random inputs and awkward shapes (sizes not multiples of 4 or of a tile, one
 * row, 1x1, K = 1, an odd number of K slabs, several tiles per dimension), each matrix-product
 * tile forced in turn; then the backend's buffers, aliasing and errors. Shapes are small: in CI
 * the shaders run on Mesa's software Vulkan (lavapipe, ~1-2 GFLOP/s).
 *
 * Tolerance: |webgpu - ref| <= atol + rtol |ref| elementwise, over every tensor of the call.
 * Exact (bit for bit): relu, reluBackward, copy, fill and binarize (on the bits), dropout (an
 * integer threshold, one float32 product), multiply and biasAdd (one correctly rounded float32
 * operation, as the reference's float64 result rounded to float32). The others compute in
 * float32 where the reference uses float64:
 *  - matmul: error <= ~K 2^-24 sum_k |a||b|; entries in [-1, 1): atol 2e-6 K, rtol 1e-5 (as wasm)
 *  - columnSum, batch norm, square hinge loss: float32 sums of at most a few hundred terms of
 *    size <= ~3: atol 2e-5, rtol 1e-5 (a wrong or missing term is >= ~1e-2)
 *  - adam: a few float32 roundings of the parameter and of the step: atol 1e-7, rtol 1e-6
 *  - the convolutions and pooling: test/conv-cases.ts (shared with wasm): the convolutions as
 *    matmul with K = the length of each sum; maxPool and maxPoolBackward exact
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { MATMUL_TILES, pickMatmulTile, pickSplitK, type MatmulTileName } from "../src/backends/webgpu/kernels/gemm.js";
import { WebGpuBackend } from "../src/backends/webgpu/index.js";
import { KERNEL_NAMES, type KernelName } from "../src/kernels/contract.js";
import { describeWebGpu } from "./backends.js";
import {
  conformance as conformanceOn,
  expectBufferLifecycle,
  kernelCases,
  kernelTolerances,
  SMALL_SIZES,
  type Case,
  type Tolerance,
} from "./kernel-cases.js";

const SUMS: Tolerance = { atol: 2e-5, rtol: 1e-5 };

/** The float32 sums and adam as above; the products, the convolutions and the exact kernels as kernelTolerances gives them. */
const TOLERANCE = kernelTolerances({
  columnSum: SUMS,
  batchNormTrain: SUMS,
  batchNormInfer: SUMS,
  batchNormBackward: SUMS,
  squareHingeLoss: SUMS,
  adam: { atol: 1e-7, rtol: 1e-6 },
});

/**
 * matmul [M, K, N]: tiny, odd, K = 1, several tiles of every size, an odd number of K slabs, and
 * long sums over few outputs (split K with matmulSplitK "auto": 4 parts, the last one shorter; 2
 * parts; by default: 8 parts of K = 5000). Element counts: tiny, not multiples of 4; more than
 * one 65535-workgroup row of the grid is not needed here.
 */
const CASES = kernelCases(
  {
    matmul: [
      [1, 1, 1],
      [1, 5, 3],
      [3, 1, 7],
      [5, 7, 9],
      [4, 8, 8],
      [13, 300, 21],
      [130, 260, 19],
      [129, 17, 133],
      [33, 40, 65],
      [5, 1100, 7],
      [130, 520, 19],
      [3, 5000, 5],
    ],
    binaryMatmul: [
      [5, 8, 10],
      [17, 37, 65],
    ],
    rowsChannels: [...SMALL_SIZES.rowsChannels, [100, 70]],
    elements: [...SMALL_SIZES.elements, 70001],
    biasAdd: [...SMALL_SIZES.biasAdd, [300, 51]],
    columnSum: [...SMALL_SIZES.columnSum, [200, 103], [300, 33]],
    hinge: [...SMALL_SIZES.hinge, [300, 10]],
  },
  TOLERANCE.matmul,
);
const matmulCases = CASES.matmul;

const conformance = <K extends KernelName>(be: WebGpuBackend, kernel: K, cases: Case<K>[]) =>
  conformanceOn(be, "webgpu", kernel, cases, TOLERANCE);

// ---------------------------------------------------------------------------------------------

describeWebGpu("webgpu backend conformance (against the reference backend)", () => {
  let be: WebGpuBackend;
  beforeAll(async () => {
    be = await WebGpuBackend.create();
  });
  afterAll(async () => be?.close());

  for (const kernel of KERNEL_NAMES) {
    it(`${kernel}`, async () => {
      const cases = CASES[kernel] as Case<KernelName>[];
      expect(cases.length, `no conformance cases for kernel ${kernel}`).toBeGreaterThan(0);
      expect(await conformance(be, kernel, cases)).toEqual([]);
    });
  }

  // "auto" picks 32x32 for the small shapes above: force each tile on shapes that span several
  // of its blocks, end in partial ones, and have an odd number of K slabs; every operand layout
  // (accumulating once), and the convolutions' loaders. (Each variant is a shader to compile:
  // on lavapipe that is most of the time here.)
  const TILE_SHAPES = ["M=1 K=5 N=3", "M=130 K=260 N=19", "M=129 K=17 N=133", "M=33 K=40 N=65"];
  const TILE_FORMS = ["A.B +=", "A^T.B", "A.B^T", "A^T.B^T"];
  const tileCases = matmulCases.filter((c) => TILE_SHAPES.some((s) => TILE_FORMS.some((f) => c.label === `${s} ${f}`)));
  for (const tile of Object.keys(MATMUL_TILES) as MatmulTileName[]) {
    it(`matmul and the convolutions with the ${tile} tile forced`, async () => {
      const forced = await WebGpuBackend.create({ matmulTile: tile });
      try {
        expect(tileCases.length).toBe(TILE_SHAPES.length * TILE_FORMS.length);
        expect(await conformance(forced, "matmul", tileCases)).toEqual([]);
        for (const kernel of ["conv2d", "conv2dBackwardInput", "conv2dBackwardFilter"] as const) {
          expect(
            await conformance(
              forced,
              kernel,
              CASES[kernel].filter((_, i) => i === 1 || i === 9) as Case<typeof kernel>[],
            ),
          ).toEqual([]);
        }
      } finally {
        await forced.close();
      }
    });
  }
});

describeWebGpu("webgpu backend buffers and errors", () => {
  let be: WebGpuBackend;
  beforeAll(async () => {
    be = await WebGpuBackend.create();
  });
  afterAll(async () => be?.close());

  it("alloc is zero-filled (also a reused buffer), dispose frees, read returns a copy", async () => {
    await expectBufferLifecycle(be, /not a live tensor/);
    expect(Array.from(await be.read(be.alloc([0])))).toEqual([]);
  });

  it("keeps call order across uploads, kernels and reads (the queue is asynchronous)", async () => {
    const x = be.alloc([4]),
      y = be.alloc([4]);
    be.upload(x, Float32Array.from([1, 2, 3, 4]));
    be.run("copy", { x, out: y });
    be.upload(x, Float32Array.from([5, 6, 7, 8])); // after the copy
    be.run("multiply", { a: x, b: y, out: y });
    expect(Array.from(await be.read(y))).toEqual([5, 12, 21, 32]);
    be.dispose(x);
    be.dispose(y);
  });

  it("two outputs bound to one tensor are an error", () => {
    const x = be.alloc([4]),
      out = be.alloc([4]);
    expect(() => be.run("dropout", { x, out, mask: out, p: 0.5, key: 1 })).toThrow(/same tensor/);
    be.dispose(x);
    be.dispose(out);
  });

  it("a tensor larger than the adapter allows is an out-of-memory BackendError, and the backend keeps working", async () => {
    expect(() => be.alloc([be.maxTensorBytes / 4 + 1])).toThrow(/out of memory.*largest buffer/);
    const t = be.alloc([3]);
    be.run("fill", { out: t, value: 2 });
    expect(Array.from(await be.read(t))).toEqual([2, 2, 2]);
    be.dispose(t);
  });

  it("a lost device is a BackendError that points to resuming on another backend", async () => {
    const { requestAdapter } = await import("../src/backends/webgpu/adapter.js");
    const choice = await requestAdapter({});
    let device: GPUDevice | undefined;
    const adapter = new Proxy(choice.adapter, {
      get(target, key) {
        if (key === "requestDevice") {
          return async (d: GPUDeviceDescriptor) => (device = await target.requestDevice(d));
        }
        const v = Reflect.get(target, key, target) as unknown;
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const lost = await WebGpuBackend.create({ adapter: { ...choice, adapter } });
    const t = lost.alloc([4]);
    device!.destroy();
    await device!.lost;
    expect(() => lost.run("fill", { out: t, value: 1 })).toThrow(/device was lost[\s\S]*--resume DIR --backend wasm/);
    await expect(lost.read(t)).rejects.toThrow(/device was lost/);
    await lost.close();
  });

  it("no adapter, or a missing `webgpu` package, is a BackendError that says what to do", async () => {
    const noAdapter = { requestAdapter: async () => null } as unknown as GPU;
    await expect(WebGpuBackend.create({ gpu: noAdapter })).rejects.toThrow(/no WebGPU adapter[\s\S]*hint: .*lavapipe/);
    const { createNodeGpu } = await import("../src/backends/webgpu/node.js");
    await expect(createNodeGpu([], "webgpu-not-installed-package")).rejects.toThrow(
      /not installed[\s\S]*npm install webgpu/,
    );
  });

  it("validates its options", async () => {
    await expect(WebGpuBackend.create({ matmulTile: "100x100" as never })).rejects.toThrow(/matmulTile/);
    await expect(WebGpuBackend.create({ tile: 1 } as never)).rejects.toThrow(/unknown option "tile"/);
  });

  it("the matmul tile and split K are chosen by shape", () => {
    expect(pickMatmulTile(4096, 4096, 4096, "auto")).toBe("128x128");
    expect(pickMatmulTile(1024, 1024, 200, "auto")).toBe("64x64");
    expect(pickMatmulTile(200, 1024, 1024, "auto")).toBe("32x32");
    expect(pickMatmulTile(200, 1024, 1024, "auto", "auto")).toBe("64x64");
    expect(pickSplitK(200, 1024, 1024, "64x64", "auto")).toBe(4); // 64 blocks x 4 = 256 workgroups
    expect(pickSplitK(200, 1024, 1024, "64x64", "off")).toBe(1);
    expect(pickSplitK(200, 1024, 1024, "64x64", "long")).toBe(1);
    expect(pickSplitK(1024, 1024, 200, "64x64", "auto")).toBe(1);
    // a convolution's weight gradient, 128 -> 128 channels at 32x32, batch 50: K = 51,200
    expect(pickMatmulTile(1152, 128, 51200, "auto")).toBe("64x64");
    expect(pickSplitK(1152, 128, 51200, "64x64", "long")).toBe(8);
    expect(pickMatmulTile(200, 300, 64, "auto")).toBe("32x32");
    expect(pickMatmulTile(4096, 4096, 4096, "32x32")).toBe("32x32");
  });

  it("matmul and the convolutions with split K (an option) give the same products", async () => {
    const split = await WebGpuBackend.create({ matmulSplitK: "auto" });
    try {
      const long = matmulCases.filter((c) => /^M=(5 K=1100 N=7|130 K=520 N=19) /.test(c.label)); // 4 and 2 parts
      expect(long).toHaveLength(16);
      expect(await conformance(split, "matmul", long)).toEqual([]);
      for (const kernel of ["conv2d", "conv2dBackwardInput", "conv2dBackwardFilter"] as const) {
        expect(await conformance(split, kernel, CASES[kernel] as Case<typeof kernel>[])).toEqual([]);
      }
    } finally {
      await split.close();
    }
  });
});
