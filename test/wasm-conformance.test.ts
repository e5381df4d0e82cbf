/**
 * The wasm backend against the reference backend (the specification): every kernel of the
 * contract, on random inputs and awkward shapes (sizes that are not multiples of 4, one row,
 * 1x1, K = 1, blocks larger than the kernels' cache blocks, calls big enough to be split across
 * threads), with 1 and 2 threads; then the allocator and the backend's buffer handling.
 *
 * Tolerance: |wasm - ref| <= atol + rtol |ref| elementwise, over every tensor of the call
 * (inputs updated in place included). Most kernels are exact (atol = rtol = 0): they compute in
 * float64 in the reference's order, or their float32 result is exactly the rounded float64 one
 * (a single +, *), or they are discrete (binarize, the dropout mask, the error count). matmul
 * accumulates in float32 where the reference uses float64: error <= ~K 2^-24 sum_k |a||b|; with
 * entries in [-1, 1) we allow atol = 2e-6 K, rtol = 1e-5 (a wrong or missing term is >= ~1e-2).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "../src/backends/backend.js";
import { ReferenceBackend } from "../src/backends/reference/index.js";
import { Allocator } from "../src/backends/wasm/allocator.js";
import { WasmBackend } from "../src/backends/wasm/index.js";
import { BackendError, OptionError } from "../src/core/errors.js";
import { counterUniform, Xoshiro128 } from "../src/core/rng.js";
import type { Tensor } from "../src/core/tensor.js";
import { KERNEL_NAMES, type KernelArgs, type KernelName } from "../src/kernels/contract.js";
import { CONV_POOL_TOLERANCE, convPoolCases } from "./conv-cases.js";

interface Tolerance {
  atol: number;
  rtol: number;
}
const EXACT: Tolerance = { atol: 0, rtol: 0 };

/** Per-kernel tolerance (matmul's depends on K: see matmulCase). */
const TOLERANCE: Record<KernelName, Tolerance> = {
  matmul: { atol: 2e-6, rtol: 1e-5 }, // atol per unit of K
  biasAdd: EXACT, columnSum: EXACT, batchNormTrain: EXACT, batchNormInfer: EXACT, batchNormBackward: EXACT,
  relu: EXACT, reluBackward: EXACT, dropout: EXACT, multiply: EXACT, squareHingeLoss: EXACT, binarize: EXACT,
  adam: EXACT, fill: EXACT, copy: EXACT,
  ...CONV_POOL_TOLERANCE,
};

/** A tensor's initial values: an explicit list, or a function of (rng, index); default uniform in [-1, 1). */
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
/** Uniform in [-1, 1) with some exact zeros, -0 and (for relu) NaN/inf mixed in. */
const special: Init = (rng, i) => [0, -0, NaN, Infinity, -Infinity, 1e-40][i % 23] ?? rng.uniform(-1, 1);

// ---------------------------------------------------------------------------------------------
// Cases per kernel

/**
 * [M, K, N]: tiny and odd shapes, K = 1, K = 0 (out = 0), K and M beyond the kernel's cache blocks (256), and
 * products big enough (>= 2^20 multiply-adds) to be shared by two threads: in column chunks
 * (N not a multiple of the chunk) or, for a narrow output, in row chunks (M not a multiple).
 */
const MATMUL_SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 5, 3], [3, 1, 7], [3, 0, 5], [5, 7, 9], [4, 8, 8], [13, 300, 21], [259, 260, 19],
  [64, 170, 100], [4, 300, 1000], [1, 600, 2000], // column chunks
  [130, 600, 19], // row chunks
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

/** Shapes of [rows, channels] tensors: odd channel counts, one row, a 4-D NHWC tensor, and one big enough (>= 2^19 elements) for two threads. */
const ROWS_CHANNELS: number[][] = [[1, 1], [7, 5], [33, 3], [1, 9], [200, 64], [2, 3, 4, 5], [520, 1031]];
const channels = (shape: number[]): number => shape[shape.length - 1];

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

/** Element counts: tiny, not multiples of 4 or 16, and one big enough (>= 2^19) for two threads. */
const SIZES = [1, 3, 4, 5, 17, 1003, 524291];

/** The dropout threshold at element `i` of stream `key`: p just above u (drops it) or equal to u (keeps it). */
function dropoutEdgeP(key: number, i: number, above: boolean): number {
  const bits = counterUniform(key, i) * 2 ** 24;
  return (bits + (above ? 0.5 : 0)) / 2 ** 24;
}

const CASES: Cases = {
  matmul: matmulCases,
  biasAdd: [
    ...[[1, 1], [5, 7], [3, 4], [1030, 513]].map(([M, N]): Case<"biasAdd"> => ({
      label: `x[${M},${N}]`,
      tensors: { x: { shape: [M, N] }, bias: { shape: [N] }, out: { shape: [M, N] } },
      args: ({ x, bias, out }) => ({ x, bias, out }),
    })),
    {
      label: "in place (out = x) [1030,513]",
      tensors: { x: { shape: [1030, 513] }, bias: { shape: [513] } },
      args: ({ x, bias }) => ({ x, bias, out: x }),
    },
  ],
  columnSum: [[1, 1], [7, 5], [3, 1], [1, 10], [520, 1030]].map(([M, N]) => ({
    label: `x[${M},${N}]`,
    tensors: { x: { shape: [M, N] }, out: { shape: [N] } },
    args: ({ x, out }) => ({ x, out }),
  })),
  batchNormTrain: [...bnAuthors.train, ...bnStandard.train],
  batchNormInfer: [...bnAuthors.infer, ...bnStandard.infer],
  batchNormBackward: [...bnAuthors.backward, ...bnStandard.backward],
  relu: SIZES.map((n) => ({
    label: `n=${n}`,
    tensors: { x: { shape: [n], init: special }, out: { shape: [n] } },
    args: ({ x, out }) => ({ x, out }),
  })),
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
  squareHingeLoss: [[1, 1], [7, 10], [200, 10], [5, 3]].flatMap(([M, K]) => [true, false].map((withGrad): Case<"squareHingeLoss"> => ({
    label: `logits[${M},${K}] ${withGrad ? "with" : "without"} grad`,
    tensors: {
      // rounded to one decimal so rows have ties (argmax takes the first maximum)
      logits: { shape: [M, K], init: (rng) => Math.round(rng.uniform(-2, 2) * 10) / 10 },
      labels: { shape: [M], init: ints(K) }, grad: { shape: [M, K] }, metrics: { shape: [2], init: [1.5, 3] },
    },
    args: ({ logits, labels, grad, metrics }) => ({ logits, labels, grad: withGrad ? grad : null, metrics }),
  }))),
  binarize: SIZES.flatMap((n) => (["det", "stoch"] as const).flatMap((mode) => [1, 0.0427].map((H): Case<"binarize"> => ({
    label: `n=${n} ${mode} H=${H}`,
    tensors: { w: { shape: [n], init: (rng, i) => (i % 7 === 0 ? 0 : i % 11 === 0 ? -0 : rng.uniform(-1.5 * H, 1.5 * H)) }, out: { shape: [n] } },
    args: ({ w, out }) => ({ w, out, mode, H, key: 0xdeadbeef + n }),
  })))),
  adam: SIZES.flatMap((n) => [[1, 0, 1], [7, 0.5, 3.5]].map(([t, clip, lrScale]): Case<"adam"> => ({
    label: `n=${n} t=${t} clip=${clip} lrScale=${lrScale}`,
    tensors: {
      param: { shape: [n] }, grad: { shape: [n], init: uniform(-0.1, 0.1) },
      m: { shape: [n], init: uniform(-0.01, 0.01) }, v: { shape: [n], init: uniform(0, 1e-3) },
    },
    args: ({ param, grad, m, v }) => ({ param, grad, m, v, lr: 0.003, beta1: 0.9, beta2: 0.999, eps: 1e-8, t, lrScale, clip }),
  }))),
  fill: SIZES.map((n) => ({
    label: `n=${n}`,
    tensors: { out: { shape: [n] } },
    args: ({ out }) => ({ out, value: 0.1 + n }),
  })),
  copy: SIZES.map((n) => ({
    label: `n=${n}`,
    tensors: { x: { shape: [n], init: special }, out: { shape: [n] } },
    args: ({ x, out }) => ({ x, out }),
  })),
  ...convPoolCases(),
};

// ---------------------------------------------------------------------------------------------
// Running a case on two backends

function pick<N extends string>(t: Record<string, Tensor>, ...names: N[]): Record<N, Tensor> {
  return Object.fromEntries(names.map((n) => [n, t[n]])) as Record<N, Tensor>;
}

function initialValues(c: Case<KernelName>, seed: number): Record<string, Float32Array> {
  const rng = new Xoshiro128(seed);
  const values: Record<string, Float32Array> = {};
  for (const [name, { shape, init }] of Object.entries(c.tensors)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const f = init === undefined ? uniform(-1, 1) : init;
    values[name] = typeof f === "function" ? Float32Array.from({ length: n }, (_, i) => f(rng, i)) : Float32Array.from(f);
  }
  return values;
}

/** Runs the case on `be` from `values`; returns every tensor's values afterwards. */
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

/** "" when every element is within tolerance, else a description of the worst offenders. */
function mismatches(name: string, actual: Float32Array, expected: Float32Array, tol: Tolerance): string {
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    const ok = tol.atol === 0 && tol.rtol === 0 ? Object.is(a, e) : Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e);
    if (!ok && bad.length < 5) bad.push(`${name}[${i}]: wasm ${a}, reference ${e}`);
  }
  return bad.join("; ");
}

// ---------------------------------------------------------------------------------------------

const THREADS = [1, 2];
const backends = new Map<number, WasmBackend>();

beforeAll(async () => {
  for (const threads of THREADS) backends.set(threads, await WasmBackend.create({ threads }));
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
    for (const threads of THREADS) {
      it(`${kernel} (${threads} thread${threads > 1 ? "s" : ""})`, async () => {
        const wasm = backends.get(threads)!;
        const failures: string[] = [];
        for (const [i, c] of cases.entries()) {
          const values = initialValues(c, 1000 + i);
          const expected = await runCase(new ReferenceBackend(), kernel, c, values);
          const actual = await runCase(wasm, kernel, c, values);
          const tol = c.tol ?? TOLERANCE[kernel];
          for (const name of Object.keys(expected)) {
            const m = mismatches(name, actual[name], expected[name], tol);
            if (m) failures.push(`${c.label}: ${m}`);
          }
        }
        expect(failures).toEqual([]);
      });
    }
  }
});

describe("wasm allocator", () => {
  const noGrow = () => {};

  it("aligns blocks to 64 bytes and never overlaps them", () => {
    const al = new Allocator(1000, 1 << 20, noGrow);
    const blocks = [1, 63, 64, 65, 1000, 4].map((n) => ({ ptr: al.alloc(n), n }));
    for (const b of blocks) expect(b.ptr % 64).toBe(0);
    blocks.sort((x, y) => x.ptr - y.ptr);
    for (let i = 1; i < blocks.length; i++) expect(blocks[i].ptr).toBeGreaterThanOrEqual(blocks[i - 1].ptr + blocks[i - 1].n);
    expect(blocks[0].ptr).toBeGreaterThanOrEqual(1000);
  });

  it("reuses freed blocks and merges neighbours", () => {
    const al = new Allocator(0, 1 << 20, noGrow);
    const a = al.alloc(128), b = al.alloc(128), c = al.alloc(128);
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
    const be = backends.get(1)!;
    const before = be.usedBytes;
    const t = be.alloc([100]);
    be.upload(t, new Float32Array(100).fill(7));
    const copy = await be.read(t);
    copy[0] = 1;
    expect((await be.read(t))[0]).toBe(7);
    be.dispose(t);
    expect(be.usedBytes).toBe(before);
    const u = be.alloc([100]);
    expect(Array.from(await be.read(u))).toEqual(new Array(100).fill(0));
    be.dispose(u);
    await expect(be.read(u)).rejects.toThrow(BackendError);
    expect(() => be.dispose(u)).toThrow(BackendError);
  });

  it("grows its memory, keeping values, and the worker threads see the grown memory", async () => {
    const be = await WasmBackend.create({ threads: 2, maxMemoryMiB: 64 });
    try {
      const first = be.alloc([4]);
      be.upload(first, Float32Array.from([1, 2, 3, 4]));
      const big = [be.alloc([1 << 20]), be.alloc([1 << 20]), be.alloc([1 << 20])]; // 12 MiB > the initial 4 MiB
      expect(Array.from(await be.read(first))).toEqual([1, 2, 3, 4]);
      const c = matmulCase(64, 170, 100, false, false, false); // shared by the two threads
      const values = initialValues(c as Case<KernelName>, 7);
      const actual = await runCase(be, "matmul", c, values);
      const expected = await runCase(new ReferenceBackend(), "matmul", c, values);
      expect(mismatches("out", actual.out, expected.out, c.tol!)).toBe("");
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
