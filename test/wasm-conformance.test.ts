/**
 * The wasm backend against the reference backend (the specification): every kernel of the
 * contract, on random inputs and awkward shapes (sizes that are not multiples of 4, one row,
 * 1x1, K = 1, blocks larger than the kernels' cache blocks, calls big enough to be split across
 * threads), with 1 and 2 threads, in both builds of the module (baseline SIMD128, and relaxed
 * SIMD: a fused multiply-add in the products); then the allocator and the backend's buffer handling.
 *
 * Tolerance: |wasm - ref| <= atol + rtol |ref| elementwise, over every tensor of the call
 * (inputs updated in place included). Most kernels are exact (atol = rtol = 0): they compute in
 * float64 in the reference's order, or their float32 result is exactly the rounded float64 one
 * (a single +, *), or they are discrete (binarize, the dropout mask, the error count). matmul
 * accumulates in float32 where the reference uses float64: error <= ~K 2^-24 sum_k |a||b|; with
 * entries in [-1, 1) we allow atol = 2e-6 K, rtol = 1e-5 (a wrong or missing term is >= ~1e-2).
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { tensorFrom } from "../src/backends/backend.js";
import { ReferenceBackend } from "../src/backends/reference/index.js";
import { invStd32 } from "../src/backends/reference/kernels/batchNormShared.js";
import { Allocator } from "../src/backends/wasm/allocator.js";
import { WasmBackend } from "../src/backends/wasm/index.js";
import { BackendError, OptionError } from "../src/core/errors.js";
import { Xoshiro128 } from "../src/core/rng.js";
import { KERNEL_NAMES, type KernelName } from "../src/kernels/contract.js";
import {
  BN_BLOCK_DEVIATIONS,
  BN_BLOCK_SUMS,
  BN_CHANNELS,
  BN_COMBINE,
  BN_BLOCK_ROWS,
  BN_ROWS,
  batchNormPasses,
} from "../src/backends/wasm/kernels/batchNorm.js";
import { filterGradientPaths, filterGradientTakesDirect } from "../src/backends/wasm/kernels/conv2dBackwardFilter.js";
import {
  convProductPaths,
  winogradPays,
  productBlockTiles,
  winogradBlockTiles,
  winogradProductPays,
} from "../src/backends/wasm/kernels/convWinogradProduct.js";
import type { Tensor } from "../src/core/tensor.js";
import { type ConvShape, convGeometry, DIRECT_CONV_SHAPES, SPARSE_FILTER_SHAPES } from "./conv-cases.js";
import { conv2dTakesDirect } from "../src/backends/wasm/kernels/conv2d.js";
import { wholeBlocks } from "../src/backends/wasm/kernels/binaryMatmul.js";
import {
  conformance,
  expectBufferLifecycle,
  initialValues,
  kernelCases,
  kernelTolerances,
  matmulCase,
  mismatches,
  runCase,
  SMALL_SIZES,
  sparseMatmulCase,
  type Case,
  type Tolerance,
} from "./kernel-cases.js";

/**
 * Per-kernel tolerance (matmul's per unit of K): bit for bit but for the products. binaryMatmul's
 * lookup tables sum in float32 in another order: matmul's bound.
 */
const TOLERANCE = kernelTolerances();

/**
 * matmul [M, K, N]: tiny and odd shapes, K = 1, K = 0 (out = 0), K and M beyond the kernel's
 * cache blocks (256), and products big enough (>= 2^20 multiply-adds) to be shared by two
 * threads: in column chunks (N not a multiple of the chunk) or, for a narrow output, in row
 * chunks (M not a multiple). The other kernels: odd channel counts, one row, a 4-D NHWC tensor,
 * element counts that are not multiples of 4 or 16, and calls big enough (>= 2^19 elements) for
 * two threads.
 */
const CASES = kernelCases(
  {
    matmul: [
      [1, 1, 1],
      [1, 5, 3],
      [3, 1, 7],
      [3, 0, 5],
      [5, 7, 9],
      [4, 8, 8],
      [13, 300, 21],
      [259, 260, 19],
      [64, 170, 100],
      [4, 300, 1000],
      [1, 600, 2000],
      [130, 300, 700], // column chunks (op(a) packed once, shared: M not a multiple of 4, K > 256)
      [1030, 600, 19], // row chunks (a narrow product splits from 2 x 2^22 multiply-adds)
    ],
    // binaryMatmul [M, K, N]: below the lookup tables' sizes (runs as matmul); one row; M, K, N not
    // multiples of the 16-row block, the 8-input group or the 2-unit step; several 16-group table
    // chunks (K > 128); blocks shared by two threads
    binaryMatmul: [
      [5, 8, 10],
      [7, 20, 70],
      [1, 40, 64],
      [17, 37, 65],
      [33, 784, 100],
      [200, 300, 129],
      [40, 1024, 1030],
    ],
    // [520, 1031] splits by channels (3 blocks of rows in each channel's sums); [4100, 32] and
    // [10, 20, 20, 36], narrow rows, on 2 threads take the sums by blocks of rows (17 and 16, the
    // last short), then the output split by rows; [513, 20] three blocks, the last of one row,
    // on one thread (batchNormPasses)
    rowsChannels: [...SMALL_SIZES.rowsChannels, [520, 1031], [4100, 32], [10, 20, 20, 36], [513, 20]],
    elements: [...SMALL_SIZES.elements, 524291],
    biasAdd: [...SMALL_SIZES.biasAdd, [1030, 513]],
    columnSum: [...SMALL_SIZES.columnSum, [520, 1030]],
    hinge: SMALL_SIZES.hinge,
  },
  TOLERANCE.matmul,
);

/**
 * matmul's sparse path (wasm/kernels/matmulSparse.ts: a^T.b with a mostly zeros, out at least 64
 * wide): a last column block narrower than 24, k and rows beyond the cache blocks (256), a block
 * shared by two threads, one row, and a non-finite b under a zero of a (must give NaN, as IEEE).
 */
const SPARSE_MATMUL: Array<Parameters<typeof sparseMatmulCase>> = [
  [70, 37, 100, false, 0.5, TOLERANCE.matmul],
  [70, 37, 100, true, 0.5, TOLERANCE.matmul],
  [300, 300, 130, false, 0.5, TOLERANCE.matmul],
  [520, 200, 260, true, 0.8, TOLERANCE.matmul],
  [1, 9, 64, false, 0.5, TOLERANCE.matmul],
  [70, 37, 100, false, 0.5, TOLERANCE.matmul, [5, 30]],
];
CASES.matmul.push(...SPARSE_MATMUL.map((args) => sparseMatmulCase(...args)));

/**
 * Batch norm in training sums by blocks of BN_BLOCK_ROWS rows (wasm/kernels/batchNormShared.ts),
 * the reference in plain row order: bit for bit up to BN_BLOCK_ROWS rows, within float32
 * rounding beyond. Two orders of a float32 sum of M terms differ by about u sqrt(M) times the
 * running sum (u = 2^-24), itself ~ sqrt(M) for these cases' inputs: atol 2e-7 M (observed: up to
 * 1.4e-4 on 4100 rows, against 8.2e-4).
 */
const blockedSums = (rows: number): Tolerance => ({ atol: 2e-7 * rows, rtol: 1e-5 });
const caseRows = (c: Case<"batchNormTrain"> | Case<"batchNormBackward">) =>
  c.tensors.x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
for (const c of [...CASES.batchNormTrain, ...CASES.batchNormBackward])
  if (caseRows(c) > BN_BLOCK_ROWS) c.tol = blockedSums(caseRows(c));

/** Every kernel runs on each build of the module with 1 and 2 threads. */
const VARIANTS = [
  { threads: 1, simd: "baseline" },
  { threads: 2, simd: "baseline" },
  { threads: 1, simd: "relaxed" },
  { threads: 2, simd: "relaxed" },
] as const;
const label = (v: (typeof VARIANTS)[number]) => `${v.simd}, ${v.threads} thread${v.threads > 1 ? "s" : ""}`;
const backends = new Map<string, WasmBackend>();

beforeAll(async () => {
  for (const v of VARIANTS) backends.set(label(v), await WasmBackend.create(v));
});
afterAll(async () => {
  for (const be of backends.values()) await be.close();
});

describe("wasm backend conformance (against the reference backend)", () => {
  for (const kernel of KERNEL_NAMES) {
    const cases = CASES[kernel] as Case<KernelName>[];
    it(`${kernel}: has test cases`, () => {
      expect(cases.length, `no conformance cases for kernel ${kernel}`).toBeGreaterThan(0);
    });
    for (const v of VARIANTS) {
      it(`${kernel} (${label(v)})`, async () => {
        const be = backends.get(label(v))!;
        expect(be.simd).toBe(v.simd);
        expect(await conformance(be, "wasm", kernel, cases, TOLERANCE)).toEqual([]);
      });
    }
  }
});

describe("wasm conv2d and conv2dBackwardInput without Winograd's product (conformance)", () => {
  // The cases above take Winograd's product wherever it applies (3x3, stride 1, channels
  // multiples of 4 from 16); here the same cases by the routes it replaces: the lookup tables
  // for binary filters, else the float product.
  for (const kernel of ["conv2d", "conv2dBackwardInput"] as const) {
    for (const v of [VARIANTS[0], VARIANTS[3]]) {
      it(`${kernel} (${label(v)})`, async () => {
        convProductPaths.winograd = false;
        onTestFinished(() => {
          convProductPaths.winograd = true;
        });
        const cases = CASES[kernel] as Case<KernelName>[];
        expect(await conformance(backends.get(label(v))!, "wasm", kernel, cases, TOLERANCE)).toEqual([]);
      });
    }
  }
});

describe("wasm batch norm's passes", () => {
  // The conformance cases above run each kind of pass and compare bit for bit; this checks which
  // shapes take which.
  it("splits wide rows by channels, and narrow ones into sums by blocks of rows, their combination, then output by rows", () => {
    const two = backends.get(label({ threads: 2, simd: "baseline" }))!,
      one = backends.get(label({ threads: 1, simd: "baseline" }))!;
    const byChannels = {
      phase: BN_CHANNELS,
      parts: [
        [0, 516],
        [516, 1031],
      ],
    };
    expect(batchNormPasses(two, 520, 1031, "train")).toEqual([byChannels]);
    expect(batchNormPasses(two, 520, 1031, "backward")).toEqual([byChannels]);
    // 4100 rows: 17 blocks of 256 rows (the last of 4), 9 + 8 blocks
    const blocks = {
      phase: BN_BLOCK_SUMS,
      parts: [
        [0, 9],
        [9, 17],
      ],
    };
    const rows = {
      phase: BN_ROWS,
      parts: [
        [0, 2064],
        [2064, 4100],
      ],
    };
    const combine = { phase: BN_COMBINE, parts: [[0, 32]] };
    expect(batchNormPasses(two, 4100, 32, "train")).toEqual([
      blocks,
      { ...blocks, phase: BN_BLOCK_DEVIATIONS },
      combine,
      rows,
    ]);
    expect(batchNormPasses(two, 4100, 32, "backward")).toEqual([blocks, combine, rows]);
    expect(batchNormPasses(two, 4000, 36, "train")[3]).toEqual({
      phase: BN_ROWS,
      parts: [
        [0, 2000],
        [2000, 4000],
      ],
    });
    // up to 511 channels by blocks, from 512 by channels (two threads of 256 or more)
    expect(batchNormPasses(two, 3200, 511, "backward")[0]).toEqual({
      ...blocks,
      parts: [
        [0, 7],
        [7, 13],
      ],
    });
    expect(batchNormPasses(two, 3200, 512, "backward")).toEqual([
      {
        phase: BN_CHANNELS,
        parts: [
          [0, 256],
          [256, 512],
        ],
      },
    ]);
    expect(batchNormPasses(one, 4100, 32, "train")).toEqual([{ phase: BN_CHANNELS, parts: [[0, 32]] }]);
    expect(batchNormPasses(two, 200, 64, "train")).toEqual([{ phase: BN_CHANNELS, parts: [[0, 64]] }]);
  });
});

describe("wasm batch norm's sums by blocks of rows", () => {
  it("gives the same bits on every build and thread count", async () => {
    for (const kernel of ["batchNormTrain", "batchNormBackward"] as const) {
      for (const [i, c] of (CASES[kernel] as Case<KernelName>[]).entries()) {
        const values = initialValues(c, 1000 + i);
        const [first, ...others] = [...backends.values()];
        const expected = await runCase(first, kernel, c, values);
        for (const be of others) {
          const actual = await runCase(be, kernel, c, values);
          for (const name of Object.keys(expected))
            expect(mismatches(name, actual[name], expected[name], { atol: 0, rtol: 0 }, be.description)).toBe("");
        }
      }
    }
  });

  // 2^24 + 1 rounds back to 2^24 in float32: in plain row order (the reference) 2^24 followed
  // by 511 ones sums to 2^24; by blocks of 256 rows to 2^24 + 255 ones = 2^24, then 256 ones =
  // 256, so 2^24 + 256
  it("sums each block of BN_BLOCK_ROWS rows in row order, then the blocks in order", async () => {
    expect(BN_BLOCK_ROWS).toBe(256);
    const column = [2 ** 24, ...new Array<number>(511).fill(1)];
    const M = column.length,
      C = 256; // every channel holds the column; 512 x 256 splits into blocks on 2 threads
    const x = Float32Array.from({ length: M * C }, (_, i) => column[Math.floor(i / C)]);
    const run = async (be: WasmBackend | ReferenceBackend) => {
      const t = (shape: number[], values?: Float32Array) => {
        const tensor = be.alloc(shape);
        if (values) be.upload(tensor, values);
        return tensor;
      };
      const mean = t([C]),
        dbeta = t([C]),
        gamma = t([C], new Float32Array(C).fill(1));
      const common = { gamma, mean, variant: "standard" as const, eps: 1e-4 };
      be.run("batchNormTrain", {
        ...common,
        x: t([M, C], x),
        beta: t([C]),
        out: t([M, C]),
        variance: t([C]),
        runningMean: t([C]),
        runningScale: t([C]),
        momentum: 0.1,
      });
      const means = await be.read(mean);
      be.run("batchNormBackward", {
        ...common,
        x: t([M, C]),
        dy: t([M, C], x),
        variance: t([C], new Float32Array(C).fill(1)),
        dx: t([M, C]),
        dgamma: t([C]),
        dbeta,
      });
      return { mean: Array.from(means), dbeta: Array.from(await be.read(dbeta)) };
    };
    const two = backends.get(label({ threads: 2, simd: "baseline" }))!;
    expect(batchNormPasses(two, M, C, "train")[0].phase).toBe(BN_BLOCK_SUMS);
    // (2^24 + 256) / 512 = 32768.5; in plain row order 2^24 / 512 = 32768
    for (const be of backends.values())
      expect(await run(be)).toEqual({ mean: new Array(C).fill(32768.5), dbeta: new Array(C).fill(2 ** 24 + 256) });
    expect(await run(new ReferenceBackend())).toEqual({
      mean: new Array(C).fill(32768),
      dbeta: new Array(C).fill(2 ** 24),
    });
  });
});

describe("batch norm with the fused ReLU", () => {
  // Every pass form: one pass by channels ([200, 64]; [160, 1024] split between threads), the
  // sums by blocks of rows on 2 threads ([4100, 32]; with a scalar channel tail [4100, 37]); odd
  // channels ([33, 7]).
  const SHAPES = [
    [200, 64],
    [160, 1024],
    [4100, 32],
    [4100, 37],
    [33, 7],
  ];
  /** batchNormTrain and batchNormBackward on `be`, fused with the ReLU or followed / preceded by relu and reluBackward. */
  async function run(be: WasmBackend | ReferenceBackend, [M, C]: number[], fused: boolean, seed: number) {
    const rng = new Xoshiro128(seed);
    const t = (shape: number[], value?: () => number) => {
      const tensor = be.alloc(shape);
      if (value) be.upload(tensor, Float32Array.from({ length: tensor.size }, value));
      return tensor;
    };
    const xs = Float32Array.from({ length: M * C }, () => rng.uniform(-2, 3)),
      gammas = Float32Array.from({ length: C }, () => rng.uniform(-1, 1.5));
    const x = t([M, C], () => 0),
      gamma = t([C], () => 0),
      beta = t([C]),
      dy = t([M, C], () => rng.uniform(-1, 1));
    be.upload(x, xs);
    be.upload(gamma, gammas);
    const [mean, variance, runningMean, runningScale, dgamma, dbeta] = Array.from({ length: 6 }, () => t([C]));
    const [out, dx, normalized, masked] = Array.from({ length: 4 }, () => t([M, C]));
    const common = { x, gamma, mean, variance, variant: "authors" as const, eps: 1e-4 };
    const train = { ...common, beta, runningMean, runningScale, momentum: 0.1 };
    // beta such that row c % M of each channel c normalizes to exactly 0 (the statistics of this
    // backend's own forward): there a mask computed in another order than the forward's, or with
    // a fused multiply-add, falls on the wrong side of the ReLU
    be.run("batchNormTrain", { ...train, out: normalized });
    const [mu, v] = [await be.read(mean), await be.read(variance)];
    const f = Math.fround;
    be.upload(
      beta,
      Float32Array.from({ length: C }, (_, c) => {
        const r = invStd32("authors", v[c], 1e-4);
        return -f(f(f(xs[(c % M) * C + c] - mu[c]) * r) * gammas[c]);
      }),
    );
    const backward = { ...common, dx, dgamma, dbeta };
    if (fused) {
      be.run("batchNormTrain", { ...train, out, relu: true });
      be.run("batchNormBackward", { ...backward, dy, relu: true, beta });
    } else {
      be.run("batchNormTrain", { ...train, out: normalized });
      be.run("relu", { x: normalized, out });
      be.run("reluBackward", { x: normalized, dy, dx: masked });
      be.run("batchNormBackward", { ...backward, dy: masked });
    }
    const read = async (tensor: Tensor) => Array.from(new Uint32Array((await be.read(tensor)).buffer));
    return { out: await read(out), dx: await read(dx), dgamma: await read(dgamma), dbeta: await read(dbeta) };
  }

  it("equals batch norm, then relu (and reluBackward, then batch norm's gradient), bit for bit", async () => {
    const all = [new ReferenceBackend(), ...backends.values()];
    for (const [i, shape] of SHAPES.entries()) {
      for (const be of all) {
        const fused = await run(be, shape, true, 70 + i),
          separate = await run(be, shape, false, 70 + i);
        expect(fused, `${be.description} [${shape}]`).toEqual(separate);
        const zeros = fused.out.filter((b) => b === 0).length;
        expect(zeros > 0 && zeros < fused.out.length, "both sides of the ReLU").toBe(true);
      }
    }
    const two = backends.get(label({ threads: 2, simd: "baseline" }))!;
    expect(batchNormPasses(two, 4100, 32, "backward")[0].phase).toBe(BN_BLOCK_SUMS);
    expect(batchNormPasses(two, 160, 1024, "backward")[0].parts.length).toBe(2);
  });
});

describe("wasm matmul's sparse path", () => {
  // a^T.b takes the sparse path, a^T.(b^T)^T the dense one (its b is transposed): same terms in
  // the same order with the same multiply-add, so the same bits
  for (const v of VARIANTS) {
    it(`equals the dense path bit for bit (${label(v)})`, async () => {
      const be = backends.get(label(v))!;
      for (const [M, K, N] of [
        [300, 300, 130],
        [520, 200, 260],
      ]) {
        const c = sparseMatmulCase(M, K, N, false, 0.5, TOLERANCE.matmul);
        const values = initialValues(c as Case<KernelName>, 3);
        const bT = new Float32Array(N * K);
        for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) bT[j * K + k] = values.b[k * N + j];
        const sparse = await runCase(be, "matmul", c, values);
        const denseCase: Case<"matmul"> = {
          ...c,
          tensors: { ...c.tensors, b: { shape: [N, K] } },
          args: ({ a, b, out }) => ({ a, b, out, transA: true, transB: true, accumulate: false }),
        };
        const dense = await runCase(be, "matmul", denseCase, { ...values, b: bT });
        expect(new Uint32Array(sparse.out.buffer)).toEqual(new Uint32Array(dense.out.buffer));
      }
    });
  }
});

describe("wasm conv2dBackwardFilter's sparse path", () => {
  // dw = im2col(x)^T . dy: the convolution over an input of half zeros (its sparse path) against
  // matmul on the explicit im2col matrix (a^T.b, its own sparse path, itself equal to its dense
  // one): the same terms in the same order with the same multiply-add, so the same bits; last
  // with an infinite dy, whose column block both take densely (0 * inf = NaN).
  // (the direct product's route: Winograd's, which would take the 3x3 stride-1 shapes, is off)
  for (const v of VARIANTS) {
    it(`equals matmul on the explicit im2col bit for bit (${label(v)})`, async () => {
      const be = backends.get(label(v))!;
      const rng = new Xoshiro128(5);
      filterGradientPaths.winograd = false;
      onTestFinished(() => {
        filterGradientPaths.winograd = true;
      });
      for (const [shape, infinite] of [
        ...SPARSE_FILTER_SHAPES.map((s) => [s, false] as const),
        [SPARSE_FILTER_SHAPES[2], true] as const,
      ]) {
        const g = convGeometry(shape);
        const xs = Float32Array.from({ length: g.x.reduce((a, b) => a * b) }, () => Math.max(0, rng.uniform(-1, 1)));
        const dys = Float32Array.from({ length: g.y.reduce((a, b) => a * b) }, (_, i) =>
          infinite && i === 7 ? Infinity : rng.uniform(-1, 1),
        );
        const [N, H, W, C] = g.x,
          K = g.kh * g.kw * C,
          P = N * g.Ho * g.Wo;
        const cols = new Float32Array(P * K);
        for (let p = 0; p < P; p++) {
          const n = Math.floor(p / (g.Ho * g.Wo)),
            i = Math.floor(p / g.Wo) % g.Ho,
            j = p % g.Wo;
          for (let ki = 0; ki < g.kh; ki++)
            for (let kj = 0; kj < g.kw; kj++) {
              const r = i * g.stride[0] - g.pad[0] + ki,
                c = j * g.stride[1] - g.pad[1] + kj;
              if (r < 0 || r >= H || c < 0 || c >= W) continue;
              for (let ci = 0; ci < C; ci++)
                cols[p * K + (ki * g.kw + kj) * C + ci] = xs[((n * H + r) * W + c) * C + ci];
            }
        }
        const x = tensorFrom(be, g.x, xs),
          dy = tensorFrom(be, g.y, dys),
          a = tensorFrom(be, [P, K], cols),
          dyRows = tensorFrom(be, [P, g.Co], dys);
        const dw = be.alloc(g.w),
          out = be.alloc([K, g.Co]);
        be.run("conv2dBackwardFilter", { x, dy, dw, stride: g.stride, pad: g.pad });
        be.run("matmul", { a, b: dyRows, out, transA: true, transB: false, accumulate: false });
        const [conv, product] = [await be.read(dw), await be.read(out)];
        expect(new Uint32Array(conv.buffer)).toEqual(new Uint32Array(product.buffer));
        for (const t of [x, dy, a, dyRows, dw, out]) be.dispose(t);
      }
    });
  }
});

describe("wasm binaryMatmul's last blocks cut by units", () => {
  // The conformance cases compare with the reference within matmul's tolerance; here the blocks
  // of 16 rows that do not divide between 2 threads are cut into ranges of units, and every output
  // must still be the same float operations: the same bits as on 1 thread.
  const SHAPES: Array<[number, number, number]> = [
    [16, 256, 260], // one block: its units in two ranges (128 + 132, the last 4 one by one)
    [100, 300, 512], // 7 blocks: 6 whole, the last (4 rows) in halves
    [200, 256, 1024], // 13 blocks: 12 whole, the last (8 rows) in halves
  ];
  for (const simd of ["baseline", "relaxed"] as const) {
    it(`gives the same bits on 1 and 2 threads (${simd})`, async () => {
      const one = backends.get(label({ threads: 1, simd }))!,
        two = backends.get(label({ threads: 2, simd }))!;
      const rng = new Xoshiro128(77);
      for (const [M, K, N] of SHAPES) {
        expect(wholeBlocks(M, 2)).toBeLessThan(Math.ceil(M / 16));
        const a = Float32Array.from({ length: M * K }, () => rng.uniform(-1, 1));
        for (const transB of [false, true]) {
          const wb = Float32Array.from({ length: K * N }, () => (rng.next() < 0.5 ? -0.7 : 0.7));
          const run = async (be: WasmBackend) => {
            const at = tensorFrom(be, [M, K], a),
              wt = tensorFrom(be, transB ? [N, K] : [K, N], wb),
              out = be.alloc([M, N]);
            be.run("binaryMatmul", { a: at, wb: wt, out, transB });
            const values = await be.read(out);
            for (const t of [at, wt, out]) be.dispose(t);
            return new Uint32Array(values.buffer);
          };
          expect(await run(two), `M=${M} K=${K} N=${N} transB=${transB}`).toEqual(await run(one));
        }
      }
    });
  }
});

describe("wasm convolutions by binary filters", () => {
  // The conformance cases cannot tell which path ran; an infinite input can: the lookup tables
  // add +inf and -inf into their entries (NaN), the float product gives +-inf.
  it("take the lookup tables from 16 units and 32 inputs when every weight is +-H, else the float product", async () => {
    const be = await WasmBackend.create({ threads: 1 });
    try {
      const run = async (C: number, Co: number, binary: boolean) => {
        const x = be.alloc([1, 5, 5, C]),
          w = be.alloc([3, 3, C, Co]),
          out = be.alloc([1, 5, 5, Co]);
        be.upload(
          x,
          Float32Array.from({ length: x.size }, (_, i) => (i === 6 * C ? Infinity : 0.5)),
        );
        be.upload(
          w,
          Float32Array.from({ length: w.size }, (_, i) => (i % 3 ? 0.25 : binary ? -0.25 : -0.125)),
        );
        be.run("conv2d", { x, w, out, stride: [1, 1], pad: [1, 1] });
        const y = await be.read(out);
        for (const t of [x, w, out]) be.dispose(t);
        return y.some(Number.isNaN) ? "tables" : "float";
      };
      expect(await run(4, 16, true)).toBe("tables");
      expect(await run(4, 16, false)).toBe("float");
      expect(await run(4, 15, true)).toBe("float");
      expect(await run(3, 16, true)).toBe("float"); // 27 inputs
    } finally {
      await be.close();
    }
  });
});

describe("wasm allocator", () => {
  const noGrow = () => {};

  it("aligns blocks to 64 bytes and never overlaps them", () => {
    const al = new Allocator(1000, 1 << 20, noGrow);
    const blocks = [1, 63, 64, 65, 1000, 4].map((n) => ({ ptr: al.alloc(n), n }));
    for (const b of blocks) expect(b.ptr % 64).toBe(0);
    blocks.sort((x, y) => x.ptr - y.ptr);
    for (let i = 1; i < blocks.length; i++)
      expect(blocks[i].ptr).toBeGreaterThanOrEqual(blocks[i - 1].ptr + blocks[i - 1].n);
    expect(blocks[0].ptr).toBeGreaterThanOrEqual(1000);
  });

  it("reuses freed blocks and merges neighbours", () => {
    const al = new Allocator(0, 1 << 20, noGrow);
    const a = al.alloc(128),
      b = al.alloc(128),
      c = al.alloc(128);
    al.release(a);
    expect(al.alloc(64)).toBe(a); // first fit, split
    al.release(a);
    al.release(b); // merged with a: 256 bytes free at a
    expect(al.alloc(256)).toBe(a);
    expect(al.usedBytes).toBe(384);
    al.release(c); // at the top: the top comes down
    expect(al.topBytes).toBe(c);
  });

  it("grows through `ensure` and reports out of memory as a BackendError", () => {
    const ends: number[] = [];
    const al = new Allocator(0, 4096, (end) => ends.push(end));
    al.alloc(4000);
    expect(ends).toEqual([4032]);
    expect(() => al.alloc(128)).toThrow(BackendError);
    expect(() => al.alloc(128)).toThrow(/out of memory/);
  });

  it("rejects a double free", () => {
    const al = new Allocator(0, 4096, noGrow);
    const p = al.alloc(10);
    al.release(p);
    expect(() => al.release(p)).toThrow(BackendError);
  });
});

describe("wasm backend buffers", () => {
  it("alloc is zero-filled after reuse, dispose frees, read returns a copy", async () => {
    await expectBufferLifecycle(backends.get(label(VARIANTS[0]))!, BackendError);
  });

  it("grows its memory, keeping values, and the worker threads see the grown memory", async () => {
    const be = await WasmBackend.create({ threads: 2, maxMemoryMiB: 64 });
    try {
      const first = be.alloc([4]);
      be.upload(first, Float32Array.from([1, 2, 3, 4]));
      const big = [be.alloc([1 << 20]), be.alloc([1 << 20]), be.alloc([1 << 20])]; // 12 MiB > the initial 4 MiB
      expect(Array.from(await be.read(first))).toEqual([1, 2, 3, 4]);
      const c = matmulCase(64, 170, 100, false, false, false, TOLERANCE.matmul); // shared by the two threads
      const values = initialValues(c as Case<KernelName>, 7);
      const actual = await runCase(be, "matmul", c, values);
      const expected = await runCase(new ReferenceBackend(), "matmul", c, values);
      expect(mismatches("out", actual.out, expected.out, c.tol!, "wasm")).toBe("");
      for (const t of big) be.dispose(t);
    } finally {
      await be.close();
    }
  });

  it("reports out of memory as a BackendError and keeps working", async () => {
    const be = await WasmBackend.create({ threads: 1, maxMemoryMiB: 8 });
    try {
      expect(() => be.alloc([4096, 1024])).toThrow(BackendError);
      const t = be.alloc([3]);
      be.run("fill", { out: t, value: 2 });
      expect(Array.from(await be.read(t))).toEqual([2, 2, 2]);
    } finally {
      await be.close();
    }
  });

  it("validates options and refuses work after close", async () => {
    await expect(WasmBackend.create({ threads: 0 })).rejects.toThrow(OptionError);
    await expect(WasmBackend.create({ thread: 2 } as never)).rejects.toThrow(OptionError);
    const be = await WasmBackend.create({ threads: 2 });
    expect(be.description).toContain("2 threads");
    await be.close();
    expect(() => be.alloc([1])).toThrow(BackendError);
  });
});

describe("wasm conv2d and conv2dBackwardInput by Winograd's F(4x4, 3x3)", () => {
  // The reference conformance above runs Winograd's product on small shapes (conv-cases.ts,
  // WINOGRAD_PRODUCT_SHAPES); here the CIFAR-10 networks' layer sizes against the other route
  // on the same backend (float32 both: the sums in another order), and the same bits on 1 and 2
  // threads (each output tile computed by one thread).
  const SHAPES: ConvShape[] = [
    [3, 32, 32, 32, 32, 3, 3, [1, 1], [1, 1]], // 192 tiles: blocks of 56
    [2, 16, 16, 32, 64, 3, 3, [1, 1], [1, 1]],
    [2, 16, 16, 64, 64, 3, 3, [1, 1], [1, 1]],
    [2, 8, 8, 64, 128, 3, 3, [1, 1], [1, 1]],
    [3, 8, 8, 128, 128, 3, 3, [1, 1], [1, 1]],
    [1, 16, 16, 128, 256, 3, 3, [1, 1], [1, 1]],
    [9, 8, 8, 256, 512, 3, 3, [1, 1], [1, 1]], // U 18 MiB, 36 tiles: one block on 1 thread, 32 + 4 on 2
  ];
  type Product = "conv2d" | "conv2dBackwardInput";
  /**
   * The product of `kernel` for shape s on `be`, by Winograd or (with `winograd` false) the other
   * route; with `signs` false, Winograd never takes the filters' signs.
   */
  async function product(
    be: WasmBackend,
    kernel: Product,
    s: ConvShape,
    input: Float32Array,
    ws: Float32Array,
    winograd: boolean,
    signs = true,
  ) {
    const g = convGeometry(s);
    const forward = kernel === "conv2d";
    const a = tensorFrom(be, forward ? g.x : g.y, input),
      w = tensorFrom(be, g.w, ws),
      out = be.alloc(forward ? g.y : g.x);
    convProductPaths.winograd = winograd;
    convProductPaths.winogradSigns = signs;
    try {
      if (forward) be.run("conv2d", { x: a, w, out, stride: g.stride, pad: g.pad });
      else be.run("conv2dBackwardInput", { dy: a, w, dx: out, stride: g.stride, pad: g.pad });
    } finally {
      convProductPaths.winograd = true;
      convProductPaths.winogradSigns = true;
    }
    const values = await be.read(out);
    for (const t of [a, w, out]) be.dispose(t);
    return values;
  }
  /** An input of `kernel` for s (x a ReLU's output, or a gradient) and binary filters (+-H, as in training). */
  function operands(kernel: Product, s: ConvShape, seed: number) {
    const g = convGeometry(s),
      rng = new Xoshiro128(seed);
    const size = (shape: number[]) => shape.reduce((a, b) => a * b);
    const input =
      kernel === "conv2d"
        ? Float32Array.from({ length: size(g.x) }, () => Math.max(0, rng.uniform(-1, 1)))
        : Float32Array.from({ length: size(g.y) }, () => rng.uniform(-1, 1));
    const ws = Float32Array.from({ length: size(g.w) }, () => (rng.uniform(-1, 1) >= 0 ? 0.05 : -0.05));
    return { g, input, ws };
  }

  for (const kernel of ["conv2d", "conv2dBackwardInput"] as const) {
    for (const simd of ["baseline", "relaxed"] as const) {
      it(`${kernel}: agrees with the other route and gives the same bits on 1 and 2 threads (${simd})`, async () => {
        const one = backends.get(label({ threads: 1, simd }))!,
          two = backends.get(label({ threads: 2, simd }))!;
        for (const [k, s] of SHAPES.entries()) {
          const { g, input, ws } = operands(kernel, s, 60 + k);
          const d = { ...g, H: g.x[1], W: g.x[2], sh: 1, sw: 1, ph: 1, pw: 1 };
          const K = kernel === "conv2d" ? g.C : g.Co; // the length of each sum, over 9 taps
          expect(winogradProductPays(d)).toBe(true);
          const [winograd, winograd2, other] = [
            await product(one, kernel, s, input, ws, true),
            await product(two, kernel, s, input, ws, true),
            await product(one, kernel, s, input, ws, false),
          ];
          expect(new Uint32Array(winograd2.buffer)).toEqual(new Uint32Array(winograd.buffer));
          expect(new Uint32Array(winograd.buffer)).not.toEqual(new Uint32Array(other.buffer)); // the route taken
          const atol = 2e-6 * 9 * K;
          const worst = other.reduce(
            (w, ref, i) => Math.max(w, Math.abs(winograd[i] - ref) - (atol + 1e-5 * Math.abs(ref))),
            -Infinity,
          );
          expect(worst, `${s}: largest excess over atol ${atol} + 1e-5 |other|`).toBeLessThanOrEqual(0);
        }
      });
    }
  }

  // U past 16 MiB: the terms from the signs. 516 channels: a last block of 4 of the products' k
  // (KC 256) on one side, 4 columns past the last strip of 16 on the other.
  const LARGE: ConvShape[] = [
    [9, 8, 8, 256, 512, 3, 3, [1, 1], [1, 1]],
    [2, 8, 8, 512, 516, 3, 3, [1, 1], [1, 1]],
    [2, 8, 8, 516, 512, 3, 3, [1, 1], [1, 1]],
  ];
  const bits = (a: Float32Array) => new Uint32Array(a.buffer);

  for (const kernel of ["conv2d", "conv2dBackwardInput"] as const) {
    it(`${kernel}: takes large binary filters' transforms from their signs, in the same bits as from the filters`, async () => {
      for (const threads of [1, 2] as const) {
        const be = backends.get(label({ threads, simd: "relaxed" }))!;
        for (const [k, s] of LARGE.entries()) {
          const { input, ws } = operands(kernel, s, 90 + k);
          const fromSigns = await product(be, kernel, s, input, ws, true);
          expect(bits(fromSigns), `${s}, ${threads} threads`).toEqual(
            bits(await product(be, kernel, s, input, ws, true, false)),
          );
        }
      }
    });
  }

  it("takes the filters' transforms when a weight is not +-H, or H is 0", async () => {
    const be = backends.get(label({ threads: 2, simd: "baseline" }))!;
    const s = LARGE[1];
    for (const kernel of ["conv2d", "conv2dBackwardInput"] as const) {
      const { input, ws } = operands(kernel, s, 97);
      const binary = await product(be, kernel, s, input, ws, true);
      const uneven = ws.slice();
      uneven[ws.length - 7] *= 1.5; // one weight of the last filters: the other threads' part
      const unevenOut = await product(be, kernel, s, input, uneven, true);
      expect(bits(unevenOut)).not.toEqual(bits(binary));
      expect(bits(unevenOut)).toEqual(bits(await product(be, kernel, s, input, uneven, true, false)));
      const zeros = ws.map((w) => (w > 0 ? 0 : -0));
      expect(bits(await product(be, kernel, s, input, zeros, true))).toEqual(
        bits(await product(be, kernel, s, input, zeros, true, false)),
      );
    }
  });

  it("leaves small output grids with many channels, other strides and sizes to the other routes", () => {
    const dims = (H: number, C: number, Co: number, k = 3, stride = 1) => ({
      N: 1,
      H,
      W: H,
      C,
      Ho: H,
      Wo: H,
      Co,
      kh: k,
      kw: k,
      sh: stride,
      sw: stride,
      ph: 1,
      pw: 1,
    });
    expect(winogradProductPays(dims(8, 128, 128))).toBe(true);
    expect(winogradProductPays(dims(8, 256, 512))).toBe(true);
    expect(winogradProductPays(dims(4, 128, 128))).toBe(true);
    expect(winogradProductPays(dims(4, 256, 512))).toBe(false); // the tables win there
    expect(winogradProductPays(dims(16, 256, 512))).toBe(true);
    expect(winogradProductPays(dims(16, 12, 32))).toBe(false); // 12 channels
    expect(winogradProductPays(dims(16, 18, 32))).toBe(false); // not a multiple of 4
    expect(winogradProductPays(dims(16, 32, 32, 5))).toBe(false);
    expect(winogradProductPays(dims(16, 32, 32, 3, 2))).toBe(false);
  });

  it("takes the tiles in as few blocks as keep the threads busy, within a scratch budget, when the filters' transforms are large", () => {
    const U = (K: number, Nc: number) => 36 * K * Nc * 4;
    expect(U(256, 256)).toBeLessThan(16 * 2 ** 20);
    expect(productBlockTiles(200, 256, 256, 1)).toBe(winogradBlockTiles(256, 256)); // 9 MiB: the usual blocks
    expect(productBlockTiles(200, 512, 512, 1)).toBe(200); // the paper network's 8 x 8 layer, batch 50: one block
    expect(productBlockTiles(200, 512, 512, 2)).toBe(100);
    expect(productBlockTiles(200, 256, 512, 3)).toBe(68); // ceil(200 / 3) = 67, to a multiple of 4
    expect(productBlockTiles(200, 512, 512, 16)).toBe(winogradBlockTiles(512, 512)); // never below the usual blocks
    // within 64 MiB of scratch over the threads, at least 16 MiB a thread (36 x 4 (K + Nc) bytes a tile)
    expect(productBlockTiles(3200, 512, 512, 1)).toBe(452); // 64 MiB / 147,456 = 455, to a multiple of 4
    expect(productBlockTiles(3200, 512, 512, 2)).toBe(224);
    expect(productBlockTiles(3200, 512, 512, 8)).toBe(112); // 16 MiB a thread
    expect(productBlockTiles(3200, 400, 400, 8)).toBe(144); // U 22 MiB: 16 MiB / 115,200 = 145
  });

  it("keeps a non-finite input non-finite wherever the other route does", async () => {
    const be = backends.get(label({ threads: 2, simd: "baseline" }))!;
    const s: ConvShape = [2, 8, 8, 16, 20, 3, 3, [1, 1], [1, 1]];
    for (const kernel of ["conv2d", "conv2dBackwardInput"] as const) {
      const { input, ws } = operands(kernel, s, 8);
      input[3 * 16 + 5] = Infinity;
      const [winograd, other] = [
        await product(be, kernel, s, input, ws, true),
        await product(be, kernel, s, input, ws, false),
      ];
      const nonFinite = (a: Float32Array) => [...a.keys()].filter((i) => !Number.isFinite(a[i]));
      expect(nonFinite(other).length).toBeGreaterThan(0);
      expect(nonFinite(other).filter((i) => Number.isFinite(winograd[i]))).toEqual([]);
    }
  });
});

describe("wasm conv2dBackwardFilter by Winograd's F(4x4, 3x3)", () => {
  // The reference conformance above runs Winograd on small shapes (conv-cases.ts,
  // WINOGRAD_FILTER_SHAPES); here the sizes of the CIFAR-10 networks' layers, against the direct
  // product on the same backend (float32 both: the sums in another order), in both forms (up to
  // 64 x 64 channel pairs the grouped one, its partial sums added in group order; above, one M
  // shared by the threads, here a call whose tiles take two blocks, M summed over them), and the
  // same bits on 1 and 2 threads.
  const SHAPES: ConvShape[] = [
    [4, 32, 32, 64, 64, 3, 3, [1, 1], [1, 1]], // grouped: 4 groups of 64 tiles, blocks of 32
    [2, 16, 16, 128, 256, 3, 3, [1, 1], [1, 1]],
    [10, 16, 16, 64, 128, 3, 3, [1, 1], [1, 1]], // one M: 160 tiles, blocks of 151
    [3, 8, 8, 512, 512, 3, 3, [1, 1], [1, 1]],
    [2, 10, 14, 32, 36, 3, 3, [1, 1], [1, 1]],
  ];
  /** dw of shape s on `be` by Winograd (or, with `winograd` false, the direct product). */
  async function filterGradient(be: WasmBackend, s: ConvShape, xs: Float32Array, dys: Float32Array, winograd: boolean) {
    const g = convGeometry(s);
    const x = tensorFrom(be, g.x, xs),
      dy = tensorFrom(be, g.y, dys),
      dw = be.alloc(g.w);
    filterGradientPaths.winograd = winograd;
    try {
      be.run("conv2dBackwardFilter", { x, dy, dw, stride: g.stride, pad: g.pad });
    } finally {
      filterGradientPaths.winograd = true;
    }
    const out = await be.read(dw);
    for (const t of [x, dy, dw] as Tensor[]) be.dispose(t);
    return out;
  }
  function inputs(s: ConvShape, seed: number) {
    const g = convGeometry(s),
      rng = new Xoshiro128(seed);
    const size = (shape: number[]) => shape.reduce((a, b) => a * b);
    const xs = Float32Array.from({ length: size(g.x) }, () => Math.max(0, rng.uniform(-1, 1))); // a ReLU's output
    const dys = Float32Array.from({ length: size(g.y) }, () => rng.uniform(-1, 1));
    return { g, xs, dys };
  }

  for (const simd of ["baseline", "relaxed"] as const) {
    it(`agrees with the direct product and gives the same bits on 1 and 2 threads (${simd})`, async () => {
      const one = backends.get(label({ threads: 1, simd }))!,
        two = backends.get(label({ threads: 2, simd }))!;
      for (const [k, s] of SHAPES.entries()) {
        const { g, xs, dys } = inputs(s, 40 + k);
        const d = { ...g, H: g.x[1], W: g.x[2], sh: g.stride[0], sw: g.stride[1], ph: g.pad[0], pw: g.pad[1] };
        expect(winogradPays(d)).toBe(true);
        const [winograd, winograd2, direct] = [
          await filterGradient(one, s, xs, dys, true),
          await filterGradient(two, s, xs, dys, true),
          await filterGradient(one, s, xs, dys, false),
        ];
        expect(new Uint32Array(winograd2.buffer)).toEqual(new Uint32Array(winograd.buffer));
        expect(new Uint32Array(winograd.buffer)).not.toEqual(new Uint32Array(direct.buffer)); // the route taken
        const atol = 2e-6 * g.N * g.Ho * g.Wo;
        const worst = direct.reduce(
          (w, ref, i) => Math.max(w, Math.abs(winograd[i] - ref) - (atol + 1e-5 * Math.abs(ref))),
          -Infinity,
        );
        expect(worst, `${s}: largest excess over atol ${atol} + 1e-5 |direct|`).toBeLessThanOrEqual(0);
      }
    });
  }

  it("leaves a layer whose work area would pass 256 MiB to the direct product", async () => {
    const be = backends.get(label({ threads: 2, simd: "baseline" }))!;
    const s: ConvShape = [1, 4, 4, 1376, 1376, 3, 3, [1, 1], [1, 1]]; // M alone: 36 x 1376^2 floats = 273 MB
    const { xs, dys } = inputs(s, 9);
    const [auto, direct] = [await filterGradient(be, s, xs, dys, true), await filterGradient(be, s, xs, dys, false)];
    const [a, b] = [new Uint32Array(auto.buffer), new Uint32Array(direct.buffer)];
    expect(a.length).toBe(9 * 1376 * 1376);
    expect(a.findIndex((bits, i) => bits !== b[i])).toBe(-1);
  });

  it("keeps a non-finite dy non-finite wherever the direct product does", async () => {
    const be = backends.get(label({ threads: 2, simd: "baseline" }))!;
    const s: ConvShape = [2, 8, 8, 16, 20, 3, 3, [1, 1], [1, 1]];
    const { xs, dys } = inputs(s, 7);
    dys[3 * 20 + 5] = Infinity;
    const [winograd, direct] = [
      await filterGradient(be, s, xs, dys, true),
      await filterGradient(be, s, xs, dys, false),
    ];
    const nonFinite = (a: Float32Array) => [...a.keys()].filter((i) => !Number.isFinite(a[i]));
    expect(nonFinite(direct).length).toBeGreaterThan(0);
    expect(nonFinite(direct).filter((i) => Number.isFinite(winograd[i]))).toEqual([]);
  });
});

describe("wasm conv2d's and conv2dBackwardFilter's direct products (few inputs per position)", () => {
  // The conformance cases run them against the reference (DIRECT_CONV_SHAPES); here their bits
  // against the packed float product's, whose float32 operations they repeat in the same order,
  // on inputs with -0, zeros and large values, filters and gradients of either sign.
  type Direct = "conv2d" | "conv2dBackwardFilter";
  async function run(be: WasmBackend, kernel: Direct, s: ConvShape, x: Float32Array, b: Float32Array, direct: boolean) {
    const g = convGeometry(s);
    const xt = tensorFrom(be, g.x, x);
    const bt = tensorFrom(be, kernel === "conv2d" ? g.w : g.y, b);
    const out = be.alloc(kernel === "conv2d" ? g.y : g.w);
    convProductPaths.direct = direct;
    filterGradientPaths.direct = direct;
    try {
      if (kernel === "conv2d") be.run("conv2d", { x: xt, w: bt, out, stride: g.stride, pad: g.pad });
      else be.run("conv2dBackwardFilter", { x: xt, dy: bt, dw: out, stride: g.stride, pad: g.pad });
    } finally {
      convProductPaths.direct = true;
      filterGradientPaths.direct = true;
    }
    const values = await be.read(out);
    for (const t of [xt, bt, out]) be.dispose(t);
    return new Uint32Array(values.buffer);
  }
  for (const kernel of ["conv2d", "conv2dBackwardFilter"] as const) {
    for (const v of VARIANTS) {
      it(`${kernel}: the packed float product's bits (${label(v)})`, async () => {
        const be = backends.get(label(v))!;
        for (const [k, s] of DIRECT_CONV_SHAPES().entries()) {
          const g = convGeometry(s),
            rng = new Xoshiro128(90 + k);
          const size = (shape: number[]) => shape.reduce((a, b) => a * b);
          const x = Float32Array.from({ length: size(g.x) }, (_, i) =>
            i % 13 === 0 ? -0 : i % 7 === 0 ? 0 : i % 29 === 0 ? 3e37 : rng.uniform(-2, 2),
          );
          const b = Float32Array.from({ length: size(kernel === "conv2d" ? g.w : g.y) }, () => rng.uniform(-1, 1));
          const dims = { ...g, H: g.x[1], W: g.x[2], sh: g.stride[0], sw: g.stride[1], ph: g.pad[0], pw: g.pad[1] };
          const takes = kernel === "conv2d" ? conv2dTakesDirect(dims) : filterGradientTakesDirect(dims);
          expect(takes, `${s}`).toBe(true);
          expect(await run(be, kernel, s, x, b, true), `${s}`).toEqual(await run(be, kernel, s, x, b, false));
        }
      });
    }
  }

  it("take fewer than 32 inputs per position and filters in multiples of 8 only", () => {
    const dims = (C: number, Co: number, k = 3) => ({
      N: 1,
      H: 8,
      W: 8,
      C,
      Ho: 8,
      Wo: 8,
      Co,
      kh: k,
      kw: k,
      sh: 1,
      sw: 1,
      ph: 1,
      pw: 1,
    });
    for (const takes of [conv2dTakesDirect, filterGradientTakesDirect]) {
      expect(takes(dims(3, 32))).toBe(true);
      expect(takes(dims(3, 12))).toBe(false); // filters not a multiple of 8
      expect(takes(dims(4, 32))).toBe(false); // K = 36
      expect(takes(dims(1, 8, 5))).toBe(true); // K = 25
    }
  });
});
