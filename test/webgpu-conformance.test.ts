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
import type { Backend } from "../src/backends/backend.js";
import { ReferenceBackend } from "../src/backends/reference/index.js";
import { MATMUL_TILES, pickMatmulTile, pickSplitK, type MatmulTileName } from "../src/backends/webgpu/kernels/gemm.js";
import { WebGpuBackend } from "../src/backends/webgpu/index.js";
import { counterUniform, Xoshiro128 } from "../src/core/rng.js";
import type { Tensor } from "../src/core/tensor.js";
import { KERNEL_NAMES, type KernelArgs, type KernelName } from "../src/kernels/contract.js";
import { CONV_POOL_TOLERANCE, convPoolCases } from "./conv-cases.js";
import { describeWebGpu } from "./backends.js";

interface Tolerance {
  atol: number;
  rtol: number;
}
const EXACT: Tolerance = { atol: 0, rtol: 0 };
const SUMS: Tolerance = { atol: 2e-5, rtol: 1e-5 };

const TOLERANCE: Record<KernelName, Tolerance> = {
  matmul: { atol: 2e-6, rtol: 1e-5 }, // atol per unit of K
  biasAdd: EXACT, columnSum: SUMS, batchNormTrain: SUMS, batchNormInfer: SUMS, batchNormBackward: SUMS,
  relu: EXACT, reluBackward: EXACT, dropout: EXACT, multiply: EXACT, squareHingeLoss: SUMS, binarize: EXACT,
  adam: { atol: 1e-7, rtol: 1e-6 }, fill: EXACT, copy: EXACT,
  ...CONV_POOL_TOLERANCE,
};

type Init = readonly number[] | ((rng: Xoshiro128, i: number) => number);

interface Case<K extends KernelName> {
  label: string;
  tensors: Record<string, { shape: number[]; init?: Init }>;
  args: (t: Record<string, Tensor>) => KernelArgs[K];
  tol?: Tolerance;
}
type Cases = { [K in KernelName]: Case<K>[] };

const uniform = (lo: number, hi: number): Init => (rng) => rng.uniform(lo, hi);
const ints = (n: number): Init => (rng) => Math.floor(rng.next() * n);
/** Uniform in [-1, 1) with zeros, -0, NaN, infinities and a subnormal mixed in. */
const special: Init = (rng, i) => [0, -0, NaN, Infinity, -Infinity, 1e-40, -1e-40][i % 23] ?? rng.uniform(-1, 1);

// ---------------------------------------------------------------------------------------------
// Cases per kernel

/**
 * [M, K, N]: tiny, odd, K = 1, several tiles of every size, an odd number of K slabs, and long
 * sums over few outputs (split K with matmulSplitK "auto": 4 parts, the last one shorter; 2
 * parts; by default: 8 parts of K = 5000).
 */
const MATMUL_SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 5, 3], [3, 1, 7], [5, 7, 9], [4, 8, 8], [13, 300, 21], [130, 260, 19], [129, 17, 133], [33, 40, 65],
  [5, 1100, 7], [130, 520, 19], [3, 5000, 5],
];

function matmulCase(M: number, K: number, N: number, transA: boolean, transB: boolean, accumulate: boolean): Case<"matmul"> {
  return {
    label: `M=${M} K=${K} N=${N} ${transA ? "A^T" : "A"}.${transB ? "B^T" : "B"}${accumulate ? " +=" : ""}`,
    tensors: { a: { shape: transA ? [K, M] : [M, K] }, b: { shape: transB ? [N, K] : [K, N] }, out: { shape: [M, N] } },
    args: ({ a, b, out }) => ({ a, b, out, transA, transB, accumulate }),
    tol: { atol: TOLERANCE.matmul.atol * K, rtol: TOLERANCE.matmul.rtol },
  };
}

const matmulCases = MATMUL_SHAPES.flatMap(([M, K, N]) =>
  [[false, false], [true, false], [false, true], [true, true]].flatMap(([tA, tB]) =>
    [false, true].map((acc) => matmulCase(M, K, N, tA, tB, acc))));

const ROWS_CHANNELS: number[][] = [[1, 1], [7, 5], [33, 3], [1, 9], [200, 64], [2, 3, 4, 5], [100, 70]];
const channels = (shape: number[]): number => shape[shape.length - 1];
const pick = <N extends string>(t: Record<string, Tensor>, ...names: N[]): Record<N, Tensor> =>
  Object.fromEntries(names.map((n) => [n, t[n]])) as Record<N, Tensor>;

const batchNormCases = (variant: "authors" | "standard") => ({
  train: ROWS_CHANNELS.map((shape): Case<"batchNormTrain"> => ({
    label: `${variant} x[${shape}]`,
    tensors: {
      x: { shape, init: uniform(-2, 3) }, gamma: { shape: [channels(shape)] }, beta: { shape: [channels(shape)] },
      out: { shape }, mean: { shape: [channels(shape)] }, variance: { shape: [channels(shape)] },
      runningMean: { shape: [channels(shape)] }, runningScale: { shape: [channels(shape)], init: uniform(0.5, 2) },
    },
    args: (t) => ({ ...pick(t, "x", "gamma", "beta", "out", "mean", "variance", "runningMean", "runningScale"), variant, eps: 1e-4, momentum: 0.1 }),
  })),
  infer: ROWS_CHANNELS.map((shape): Case<"batchNormInfer"> => ({
    label: `${variant} x[${shape}]`,
    tensors: {
      x: { shape }, gamma: { shape: [channels(shape)] }, beta: { shape: [channels(shape)] }, out: { shape },
      runningMean: { shape: [channels(shape)] }, runningScale: { shape: [channels(shape)], init: uniform(0.1, 2) },
    },
    args: (t) => ({ ...pick(t, "x", "gamma", "beta", "out", "runningMean", "runningScale"), variant, eps: 1e-4 }),
  })),
  backward: ROWS_CHANNELS.map((shape): Case<"batchNormBackward"> => ({
    label: `${variant} x[${shape}]`,
    tensors: {
      x: { shape }, dy: { shape }, gamma: { shape: [channels(shape)] }, mean: { shape: [channels(shape)] },
      // channel 0 has zero variance (the authors' s = 0 branch)
      variance: { shape: [channels(shape)], init: (rng, i) => (i === 0 ? 0 : rng.uniform(0.1, 2)) },
      dx: { shape }, dgamma: { shape: [channels(shape)] }, dbeta: { shape: [channels(shape)] },
    },
    args: (t) => ({ ...pick(t, "x", "dy", "gamma", "mean", "variance", "dx", "dgamma", "dbeta"), variant, eps: 1e-4 }),
  })),
});
const bnAuthors = batchNormCases("authors"), bnStandard = batchNormCases("standard");

/** Element counts: tiny, not multiples of 4, and more than one 65535-workgroup row of the grid is not needed here. */
const SIZES = [1, 3, 4, 5, 17, 1003, 70001];

function dropoutEdgeP(key: number, i: number, above: boolean): number {
  const bits = counterUniform(key, i) * 2 ** 24;
  return (bits + (above ? 0.5 : 0)) / 2 ** 24;
}

/** A key whose stream gives exactly u = 1/2 (24-bit value 2^23) at `index` (found by search). */
function keyWithHalfAt(index: number): number {
  for (let key = 1; ; key++) if (counterUniform(key, index) === 0.5) return key;
}
const HALF_KEY = keyWithHalfAt(3);

/** Stochastic binarization's ties: W exactly at H (2u - 1), one float32 step either side, and the u = 1/2 rounding of the float64 reference. */
function binarizeTieCases(): Case<"binarize">[] {
  const key = 0x5eed;
  const n = 40;
  const at = (i: number) => 2 * counterUniform(key, i) - 1; // W with p == u exactly (H = 1)
  const up = (x: number) => nextFloat32(x, +1), down = (x: number) => nextFloat32(x, -1);
  return [
    { label: "stoch H=1: W = 2u-1 exactly, and one float32 step above and below", tensors: {
      w: { shape: [n], init: (_, i) => [at(i), up(at(i)), down(at(i))][i % 3] }, out: { shape: [n] } },
    args: ({ w, out }) => ({ w, out, mode: "stoch", H: 1, key }) },
    { label: "stoch H=0.5: W = H(2u-1), exactly representable", tensors: {
      w: { shape: [n], init: (_, i) => 0.5 * at(i) }, out: { shape: [n] } },
    args: ({ w, out }) => ({ w, out, mode: "stoch", H: 0.5, key }) },
    { label: "stoch H=0.0427: W = fround(H(2u-1))", tensors: {
      w: { shape: [n], init: (_, i) => 0.0427 * at(i) }, out: { shape: [n] } },
    args: ({ w, out }) => ({ w, out, mode: "stoch", H: 0.0427, key }) },
    ...[2 ** -60, 2 ** -53, 2 ** -52, -(2 ** -60), 1e-40, 0, -0].map((w3): Case<"binarize"> => ({
      label: `stoch H=1, u(key, 3) = 1/2, W[3] = ${w3}`,
      tensors: { w: { shape: [5], init: [0.1, -0.1, 0.3, w3, -0.7] }, out: { shape: [5] } },
      args: ({ w, out }) => ({ w, out, mode: "stoch", H: 1, key: HALF_KEY }),
    })),
  ];
}

function nextFloat32(x: number, dir: 1 | -1): number {
  const f = new Float32Array([x]), u = new Uint32Array(f.buffer);
  if (x === 0) return dir * 2 ** -149;
  u[0] += (x > 0) === (dir > 0) ? 1 : -1;
  return f[0];
}

const CASES: Cases = {
  matmul: matmulCases,
  biasAdd: [
    ...[[1, 1], [5, 7], [3, 4], [300, 51]].map(([M, N]): Case<"biasAdd"> => ({
      label: `x[${M},${N}]`,
      tensors: { x: { shape: [M, N] }, bias: { shape: [N] }, out: { shape: [M, N] } },
      args: ({ x, bias, out }) => ({ x, bias, out }),
    })),
    {
      label: "in place (out = x) [300,51]",
      tensors: { x: { shape: [300, 51] }, bias: { shape: [51] } },
      args: ({ x, bias }) => ({ x, bias, out: x }),
    },
  ],
  columnSum: [[1, 1], [7, 5], [3, 1], [1, 10], [200, 103], [300, 33]].map(([M, N]) => ({
    label: `x[${M},${N}]`,
    tensors: { x: { shape: [M, N] }, out: { shape: [N] } },
    args: ({ x, out }) => ({ x, out }),
  })),
  batchNormTrain: [...bnAuthors.train, ...bnStandard.train],
  batchNormInfer: [...bnAuthors.infer, ...bnStandard.infer],
  batchNormBackward: [...bnAuthors.backward, ...bnStandard.backward],
  relu: [...SIZES.map((n): Case<"relu"> => ({
    label: `n=${n}`,
    tensors: { x: { shape: [n], init: special }, out: { shape: [n] } },
    args: ({ x, out }) => ({ x, out }),
  })), {
    label: "in place (out = x)",
    tensors: { x: { shape: [50], init: special } },
    args: ({ x }) => ({ x, out: x }),
  }],
  reluBackward: SIZES.map((n) => ({
    label: `n=${n}`,
    tensors: { x: { shape: [n], init: special }, dy: { shape: [n] }, dx: { shape: [n] } },
    args: ({ x, dy, dx }) => ({ x, dy, dx }),
  })),
  dropout: [
    ...SIZES.flatMap((n) => [0, 0.1, 0.5, 0.3].map((p): Case<"dropout"> => ({
      label: `n=${n} p=${p}`,
      tensors: { x: { shape: [n] }, out: { shape: [n] }, mask: { shape: [n] } },
      args: ({ x, out, mask }) => ({ x, out, mask, p, key: 0x9e3779b9 ^ n }),
    }))),
    ...[true, false].map((above): Case<"dropout"> => ({
      label: `p ${above ? "just above" : "equal to"} u(key, 5)`,
      tensors: { x: { shape: [9] }, out: { shape: [9] }, mask: { shape: [9] } },
      args: ({ x, out, mask }) => ({ x, out, mask, p: dropoutEdgeP(1234567, 5, above), key: 1234567 }),
    })),
  ],
  multiply: SIZES.map((n) => ({
    label: `n=${n}`,
    tensors: { a: { shape: [n] }, b: { shape: [n], init: uniform(-3, 3) }, out: { shape: [n] } },
    args: ({ a, b, out }) => ({ a, b, out }),
  })),
  squareHingeLoss: [[1, 1], [7, 10], [200, 10], [5, 3], [300, 10]].flatMap(([M, K]) => [true, false].map((withGrad): Case<"squareHingeLoss"> => ({
    label: `logits[${M},${K}] ${withGrad ? "with" : "without"} grad`,
    tensors: {
      // rounded to one decimal so rows have ties (argmax takes the first maximum)
      logits: { shape: [M, K], init: (rng) => Math.round(rng.uniform(-2, 2) * 10) / 10 },
      labels: { shape: [M], init: ints(K) }, grad: { shape: [M, K] }, metrics: { shape: [2], init: [1.5, 3] },
    },
    args: ({ logits, labels, grad, metrics }) => ({ logits, labels, grad: withGrad ? grad : null, metrics }),
  }))),
  binarize: [
    ...SIZES.flatMap((n) => (["det", "stoch"] as const).flatMap((mode) => [1, 0.0427].map((H): Case<"binarize"> => ({
      label: `n=${n} ${mode} H=${H}`,
      tensors: { w: { shape: [n], init: (rng, i) => (i % 7 === 0 ? 0 : i % 11 === 0 ? -0 : i % 13 === 0 ? NaN : rng.uniform(-1.5 * H, 1.5 * H)) }, out: { shape: [n] } },
      args: ({ w, out }) => ({ w, out, mode, H, key: 0xdeadbeef + n }),
    })))),
    ...binarizeTieCases(),
  ],
  adam: SIZES.flatMap((n) => [[1, 0, 1], [7, 0.5, 3.5]].map(([t, clip, lrScale]): Case<"adam"> => ({
    label: `n=${n} t=${t} clip=${clip} lrScale=${lrScale}`,
    tensors: {
      param: { shape: [n] }, grad: { shape: [n], init: uniform(-0.1, 0.1) },
      m: { shape: [n], init: uniform(-0.01, 0.01) }, v: { shape: [n], init: uniform(0, 1e-3) },
    },
    args: ({ param, grad, m, v }) => ({ param, grad, m, v, lr: 0.003, beta1: 0.9, beta2: 0.999, eps: 1e-8, t, lrScale, clip }),
  }))),
  ...convPoolCases(),
  fill: [...SIZES.map((n): Case<"fill"> => ({ label: `n=${n}`, tensors: { out: { shape: [n] } }, args: ({ out }) => ({ out, value: 0.1 + n }) })),
    { label: "-0", tensors: { out: { shape: [3] } }, args: ({ out }) => ({ out, value: -0 }) }],
  copy: SIZES.map((n) => ({
    label: `n=${n}`,
    tensors: { x: { shape: [n], init: special }, out: { shape: [n] } },
    args: ({ x, out }) => ({ x, out }),
  })),
};

// ---------------------------------------------------------------------------------------------
// Running a case on two backends

function initialValues(c: Case<KernelName>, seed: number): Record<string, Float32Array> {
  const rng = new Xoshiro128(seed);
  const values: Record<string, Float32Array> = {};
  for (const [name, { shape, init }] of Object.entries(c.tensors)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const f = init ?? uniform(-1, 1);
    values[name] = typeof f === "function" ? Float32Array.from({ length: n }, (_, i) => f(rng, i)) : Float32Array.from(f);
  }
  return values;
}

async function runCase<K extends KernelName>(be: Backend, kernel: K, c: Case<K>, values: Record<string, Float32Array>): Promise<Record<string, Float32Array>> {
  const t: Record<string, Tensor> = {};
  for (const [name, { shape }] of Object.entries(c.tensors)) {
    t[name] = be.alloc(shape);
    be.upload(t[name], values[name]);
  }
  be.run(kernel, c.args(t));
  const after: Record<string, Float32Array> = {};
  for (const name of Object.keys(t)) {
    after[name] = await be.read(t[name]);
    be.dispose(t[name]);
  }
  return after;
}

function mismatches(name: string, actual: Float32Array, expected: Float32Array, tol: Tolerance): string {
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    const ok = tol.atol === 0 && tol.rtol === 0 ? Object.is(a, e) : Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e);
    if (!ok && bad.length < 5) bad.push(`${name}[${i}]: webgpu ${a}, reference ${e}`);
  }
  return bad.join("; ");
}

async function conformance<K extends KernelName>(be: WebGpuBackend, kernel: K, cases: Case<K>[]): Promise<string[]> {
  const failures: string[] = [];
  for (const [i, c] of cases.entries()) {
    const values = initialValues(c as Case<KernelName>, 1000 + i);
    const expected = await runCase(new ReferenceBackend(), kernel, c, values);
    const actual = await runCase(be, kernel, c, values);
    const tol = c.tol ?? TOLERANCE[kernel];
    for (const name of Object.keys(expected)) {
      const m = mismatches(name, actual[name], expected[name], tol);
      if (m) failures.push(`${c.label}: ${m}`);
    }
  }
  return failures;
}

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
          expect(await conformance(forced, kernel, CASES[kernel].filter((_, i) => i === 1 || i === 9) as Case<typeof kernel>[])).toEqual([]);
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
    const before = be.usedBytes;
    const t = be.alloc([100]);
    be.upload(t, new Float32Array(100).fill(7));
    const copy = await be.read(t);
    copy[0] = 1;
    expect((await be.read(t))[0]).toBe(7);
    be.dispose(t);
    expect(be.usedBytes).toBe(before);
    const u = be.alloc([100]); // the same buffer, from the pool
    expect(Array.from(await be.read(u))).toEqual(new Array(100).fill(0));
    be.dispose(u);
    await expect(be.read(u)).rejects.toThrow(/not a live tensor/);
    expect(() => be.dispose(u)).toThrow(/not a live tensor/);
    expect(Array.from(await be.read(be.alloc([0])))).toEqual([]);
  });

  it("keeps call order across uploads, kernels and reads (the queue is asynchronous)", async () => {
    const x = be.alloc([4]), y = be.alloc([4]);
    be.upload(x, Float32Array.from([1, 2, 3, 4]));
    be.run("copy", { x, out: y });
    be.upload(x, Float32Array.from([5, 6, 7, 8])); // after the copy
    be.run("multiply", { a: x, b: y, out: y });
    expect(Array.from(await be.read(y))).toEqual([5, 12, 21, 32]);
    be.dispose(x);
    be.dispose(y);
  });

  it("two outputs bound to one tensor are an error", () => {
    const x = be.alloc([4]), out = be.alloc([4]);
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
    await expect(createNodeGpu([], "webgpu-not-installed-package")).rejects.toThrow(/not installed[\s\S]*npm install webgpu/);
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
