/**
 * The conformance cases of every kernel of the contract and the code that runs them on a fast
 * backend and on the reference backend (the specification), shared by
 * test/wasm-conformance.test.ts and test/webgpu-conformance.test.ts. Each backend's test
 * chooses the sizes (wasm: calls big enough to be split across threads; webgpu: small, for
 * lavapipe) and the tolerances; the cases themselves (awkward shapes, in-place calls, +-0, NaN,
 * infinities, subnormals, ties of the stochastic rounding) are the same. Last, the check of a
 * backend's buffers that both run.
 *
 * Tolerance: |fast - ref| <= atol + rtol |ref| elementwise, over every tensor of the call (inputs
 * updated in place included); atol = rtol = 0 means bit for bit (Object.is).
 */
import { expect } from "vitest";
import type { Backend } from "../src/backends/backend.js";
import { ReferenceBackend } from "../src/backends/reference/index.js";
import { counterUniform, Xoshiro128 } from "../src/core/rng.js";
import type { Tensor } from "../src/core/tensor.js";
import { KERNEL_NAMES, type KernelArgs, type KernelName } from "../src/kernels/contract.js";
import { CONV_POOL_TOLERANCE, convPoolCases, type Init, type Tolerance } from "./conv-cases.js";
import { adamArgs, matmulForm, matmulShapes } from "./kernel-args.js";

export type { Init, Tolerance };
export const EXACT: Tolerance = { atol: 0, rtol: 0 };

/** matmul's and binaryMatmul's tolerance, atol per unit of K (float32 sums of K terms: error <= ~K 2^-24 sum_k |a||b|). */
export const MATMUL_TOLERANCE: Tolerance = { atol: 2e-6, rtol: 1e-5 };

/**
 * Every kernel's tolerance: matmul's and binaryMatmul's (MATMUL_TOLERANCE), the convolutions'
 * and pooling's (test/conv-cases.ts), `others` for the kernels a backend computes in float32
 * where the reference uses float64, and bit for bit (EXACT) for the rest.
 */
export function kernelTolerances(others: Partial<Record<KernelName, Tolerance>> = {}): Record<KernelName, Tolerance> {
  const exact = Object.fromEntries(KERNEL_NAMES.map((k) => [k, EXACT])) as Record<KernelName, Tolerance>;
  return { ...exact, matmul: MATMUL_TOLERANCE, binaryMatmul: MATMUL_TOLERANCE, ...CONV_POOL_TOLERANCE, ...others };
}

export interface Case<K extends KernelName> {
  label: string;
  tensors: Record<string, { shape: number[]; init?: Init }>;
  args: (t: Record<string, Tensor>) => KernelArgs[K];
  tol?: Tolerance;
}
export type Cases = { [K in KernelName]: Case<K>[] };

/**
 * The small sizes every backend's cases start with (one row, 1x1, odd channel counts, a 4-D NHWC
 * tensor, element counts that are not multiples of 4 or 16); each backend adds its larger ones.
 */
export const SMALL_SIZES: Pick<CaseSizes, "rowsChannels" | "elements" | "biasAdd" | "columnSum" | "hinge"> = {
  rowsChannels: [
    [1, 1],
    [7, 5],
    [33, 3],
    [1, 9],
    [200, 64],
    [2, 3, 4, 5],
  ],
  elements: [1, 3, 4, 5, 17, 1003],
  biasAdd: [
    [1, 1],
    [5, 7],
    [3, 4],
  ],
  columnSum: [
    [1, 1],
    [7, 5],
    [3, 1],
    [1, 10],
  ],
  hinge: [
    [1, 1],
    [7, 10],
    [200, 10],
    [5, 3],
  ],
};

/** The sizes a backend's cases use. */
export interface CaseSizes {
  /** [M, K, N] of the matrix products (each in the four operand layouts, with and without +=). */
  matmul: Array<[number, number, number]>;
  /** [M, K, N] of binaryMatmul (each with wb and wb^T, and two magnitudes H). */
  binaryMatmul: Array<[number, number, number]>;
  /** Shapes [rows, ..., channels] of the batch-norm cases. */
  rowsChannels: number[][];
  /** Element counts of the elementwise kernels. */
  elements: number[];
  /** [M, N] of biasAdd; the last one is also run in place. */
  biasAdd: Array<[number, number]>;
  /** [M, N] of columnSum. */
  columnSum: Array<[number, number]>;
  /** [M, classes] of squareHingeLoss. */
  hinge: Array<[number, number]>;
}

export const uniform =
  (lo: number, hi: number): Init =>
  (rng) =>
    rng.uniform(lo, hi);
const ints =
  (n: number): Init =>
  (rng) =>
    Math.floor(rng.next() * n);
/** Uniform in [-1, 1) with zeros, -0, NaN, infinities and subnormals mixed in at every 23rd position from `shift`. */
const specialFrom =
  (shift: number): Init =>
  (rng, i) =>
    [0, -0, NaN, Infinity, -Infinity, 1e-40, -1e-40][(i + shift) % 23] ?? rng.uniform(-1, 1);
const special = specialFrom(0);
const channels = (shape: number[]): number => shape[shape.length - 1];

function pick<N extends string>(t: Record<string, Tensor>, ...names: N[]): Record<N, Tensor> {
  return Object.fromEntries(names.map((n) => [n, t[n]])) as Record<N, Tensor>;
}

/** Magnitudes of binaryMatmul's wb: 1, and one whose scaling is not exact in binary. */
const BINARY_H = [1, 0.7];

/** A product with wb in {-H, +H} (random signs); tolerance as matmul's, scaled by H. */
export function binaryMatmulCase(
  M: number,
  K: number,
  N: number,
  transB: boolean,
  H: number,
  tol: Tolerance,
): Case<"binaryMatmul"> {
  return {
    label: `M=${M} K=${K} N=${N} A.${transB ? "Wb^T" : "Wb"} H=${H}`,
    tensors: {
      a: { shape: [M, K] },
      wb: { shape: transB ? [N, K] : [K, N], init: (rng) => (rng.next() < 0.5 ? -H : H) },
      out: { shape: [M, N] },
    },
    args: ({ a, wb, out }) => ({ a, wb, out, transB }),
    tol: { atol: tol.atol * K * H, rtol: tol.rtol },
  };
}

/** A matrix product case; atol is `atolPerTerm` times K (float32 accumulation: error <= ~K 2^-24 sum |a||b|). */
export function matmulCase(
  M: number,
  K: number,
  N: number,
  transA: boolean,
  transB: boolean,
  accumulate: boolean,
  tol: Tolerance,
): Case<"matmul"> {
  const shapes = matmulShapes(M, K, N, transA, transB);
  return {
    label: `M=${M} K=${K} N=${N} ${matmulForm(transA, transB, accumulate)}`,
    tensors: { a: { shape: shapes.a }, b: { shape: shapes.b }, out: { shape: shapes.out } },
    args: ({ a, b, out }) => ({ a, b, out, transA, transB, accumulate }),
    tol: { atol: tol.atol * K, rtol: tol.rtol },
  };
}

/**
 * A weight-gradient product a^T.b whose a ([K,M], the layer's input) is mostly zeros, as after
 * a ReLU: each value is 0 with probability `zeros`, else uniform in [-1, 1). With `infAt` = [k, j],
 * row k of a is all zeros and b[k, j] = +inf, so column j of out is NaN (0 * inf) in every row.
 */
export function sparseMatmulCase(
  M: number,
  K: number,
  N: number,
  accumulate: boolean,
  zeros: number,
  tol: Tolerance,
  infAt?: [number, number],
): Case<"matmul"> {
  const zeroRow = infAt?.[0] ?? -1,
    infIndex = infAt ? infAt[0] * N + infAt[1] : -1;
  return {
    label: `M=${M} K=${K} N=${N} A^T.B${accumulate ? " +=" : ""}, a ${Math.round(zeros * 100)} % zeros${infAt ? `, b[${infAt}] = inf under a zero row` : ""}`,
    tensors: {
      a: {
        shape: [K, M],
        init: (rng, i) => (Math.floor(i / M) === zeroRow || rng.next() < zeros ? 0 : rng.uniform(-1, 1)),
      },
      b: { shape: [K, N], init: (rng, i) => (i === infIndex ? Infinity : rng.uniform(-1, 1)) },
      out: { shape: [M, N] },
    },
    args: ({ a, b, out }) => ({ a, b, out, transA: true, transB: false, accumulate }),
    tol: { atol: tol.atol * K, rtol: tol.rtol },
  };
}

/**
 * The batch-norm kernels' cases of one variant: every shape without the fused ReLU, then every
 * shape with it (`relu`: training's forward with the ReLU after it, and its gradient).
 */
function batchNormCases(variant: "authors" | "standard", shapes: number[][]) {
  const plain = batchNormVariantCases(variant, shapes, false),
    relu = batchNormVariantCases(variant, shapes, true);
  return {
    train: [...plain.train, ...relu.train],
    infer: plain.infer,
    backward: [...plain.backward, ...relu.backward],
  };
}

function batchNormVariantCases(variant: "authors" | "standard", shapes: number[][], relu: boolean) {
  const tag = relu ? " relu" : "";
  return {
    train: shapes.map(
      (shape): Case<"batchNormTrain"> => ({
        label: `${variant}${tag} x[${shape}]`,
        tensors: {
          x: { shape, init: uniform(-2, 3) },
          gamma: { shape: [channels(shape)] },
          beta: { shape: [channels(shape)] },
          out: { shape },
          mean: { shape: [channels(shape)] },
          variance: { shape: [channels(shape)] },
          runningMean: { shape: [channels(shape)] },
          runningScale: { shape: [channels(shape)], init: uniform(0.5, 2) },
        },
        args: (t) => ({
          ...pick(t, "x", "gamma", "beta", "out", "mean", "variance", "runningMean", "runningScale"),
          variant,
          eps: 1e-4,
          momentum: 0.1,
          ...(relu ? { relu } : {}),
        }),
      }),
    ),
    infer: shapes.map(
      (shape): Case<"batchNormInfer"> => ({
        label: `${variant} x[${shape}]`,
        tensors: {
          x: { shape },
          gamma: { shape: [channels(shape)] },
          beta: { shape: [channels(shape)] },
          out: { shape },
          runningMean: { shape: [channels(shape)] },
          runningScale: { shape: [channels(shape)], init: uniform(0.1, 2) },
        },
        args: (t) => ({ ...pick(t, "x", "gamma", "beta", "out", "runningMean", "runningScale"), variant, eps: 1e-4 }),
      }),
    ),
    backward: shapes.map(
      (shape): Case<"batchNormBackward"> => ({
        label: `${variant}${tag} x[${shape}]`,
        tensors: {
          x: { shape },
          dy: { shape },
          gamma: { shape: [channels(shape)] },
          beta: { shape: [channels(shape)] },
          mean: { shape: [channels(shape)] },
          // channel 0 has zero variance (the authors' s = 0 branch)
          variance: { shape: [channels(shape)], init: (rng, i) => (i === 0 ? 0 : rng.uniform(0.1, 2)) },
          dx: { shape },
          dgamma: { shape: [channels(shape)] },
          dbeta: { shape: [channels(shape)] },
        },
        args: (t) => ({
          ...pick(t, "x", "dy", "gamma", "mean", "variance", "dx", "dgamma", "dbeta"),
          variant,
          eps: 1e-4,
          ...(relu ? { relu, beta: t.beta } : {}),
        }),
      }),
    ),
  };
}

/** The dropout threshold at element `i` of stream `key`: p just above u (drops it) or equal to u (keeps it). */
function dropoutEdgeP(key: number, i: number, above: boolean): number {
  const bits = counterUniform(key, i) * 2 ** 24;
  return (bits + (above ? 0.5 : 0)) / 2 ** 24;
}

/** A key whose stream gives exactly u = 1/2 (24-bit value 2^23) at `index` (found by search). */
function keyWithHalfAt(index: number): number {
  for (let key = 1; ; key++) if (counterUniform(key, index) === 0.5) return key;
}

function nextFloat32(x: number, dir: 1 | -1): number {
  const f = new Float32Array([x]),
    u = new Uint32Array(f.buffer);
  if (x === 0) return dir * 2 ** -149;
  u[0] += x > 0 === dir > 0 ? 1 : -1;
  return f[0];
}

/** Stochastic binarization's ties: W exactly at H (2u - 1), one float32 step either side, and the u = 1/2 rounding of the float64 reference. */
function binarizeTieCases(): Case<"binarize">[] {
  const key = 0x5eed,
    n = 40,
    halfKey = keyWithHalfAt(3);
  const at = (i: number) => 2 * counterUniform(key, i) - 1; // W with p == u exactly (H = 1)
  const up = (x: number) => nextFloat32(x, +1),
    down = (x: number) => nextFloat32(x, -1);
  return [
    {
      label: "stoch H=1: W = 2u-1 exactly, and one float32 step above and below",
      tensors: {
        w: { shape: [n], init: (_, i) => [at(i), up(at(i)), down(at(i))][i % 3] },
        out: { shape: [n] },
      },
      args: ({ w, out }) => ({ w, out, mode: "stoch", H: 1, key }),
    },
    {
      label: "stoch H=0.5: W = H(2u-1), exactly representable",
      tensors: {
        w: { shape: [n], init: (_, i) => 0.5 * at(i) },
        out: { shape: [n] },
      },
      args: ({ w, out }) => ({ w, out, mode: "stoch", H: 0.5, key }),
    },
    {
      label: "stoch H=0.0427: W = fround(H(2u-1))",
      tensors: {
        w: { shape: [n], init: (_, i) => 0.0427 * at(i) },
        out: { shape: [n] },
      },
      args: ({ w, out }) => ({ w, out, mode: "stoch", H: 0.0427, key }),
    },
    ...[2 ** -60, 2 ** -53, 2 ** -52, -(2 ** -60), 1e-40, 0, -0].map(
      (w3): Case<"binarize"> => ({
        label: `stoch H=1, u(key, 3) = 1/2, W[3] = ${w3}`,
        tensors: { w: { shape: [5], init: [0.1, -0.1, 0.3, w3, -0.7] }, out: { shape: [5] } },
        args: ({ w, out }) => ({ w, out, mode: "stoch", H: 1, key: halfKey }),
      }),
    ),
  ];
}

const elementwise = <K extends KernelName>(sizes: number[], make: (n: number) => Omit<Case<K>, "label">): Case<K>[] =>
  sizes.map((n) => ({ label: `n=${n}`, ...make(n) }));

/** Every kernel's cases at the given sizes; `matmulTol` is matmul's tolerance per unit of K. */
export function kernelCases(sizes: CaseSizes, matmulTol: Tolerance): Cases {
  const SIZES = sizes.elements;
  const bnAuthors = batchNormCases("authors", sizes.rowsChannels),
    bnStandard = batchNormCases("standard", sizes.rowsChannels);
  const [inM, inN] = sizes.biasAdd[sizes.biasAdd.length - 1];
  return {
    matmul: sizes.matmul.flatMap(([M, K, N]) =>
      [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ].flatMap(([tA, tB]) => [false, true].map((acc) => matmulCase(M, K, N, tA, tB, acc, matmulTol))),
    ),
    binaryMatmul: sizes.binaryMatmul.flatMap(([M, K, N]) =>
      [false, true].flatMap((tB) => BINARY_H.map((H) => binaryMatmulCase(M, K, N, tB, H, matmulTol))),
    ),
    biasAdd: [
      ...sizes.biasAdd.map(
        ([M, N]): Case<"biasAdd"> => ({
          label: `x[${M},${N}]`,
          tensors: { x: { shape: [M, N] }, bias: { shape: [N] }, out: { shape: [M, N] } },
          args: ({ x, bias, out }) => ({ x, bias, out }),
        }),
      ),
      {
        label: `in place (out = x) [${inM},${inN}]`,
        tensors: { x: { shape: [inM, inN] }, bias: { shape: [inN] } },
        args: ({ x, bias }) => ({ x, bias, out: x }),
      },
    ],
    columnSum: sizes.columnSum.map(([M, N]) => ({
      label: `x[${M},${N}]`,
      tensors: { x: { shape: [M, N] }, out: { shape: [N] } },
      args: ({ x, out }) => ({ x, out }),
    })),
    batchNormTrain: [...bnAuthors.train, ...bnStandard.train],
    batchNormInfer: [...bnAuthors.infer, ...bnStandard.infer],
    batchNormBackward: [...bnAuthors.backward, ...bnStandard.backward],
    relu: [
      ...elementwise<"relu">(SIZES, (n) => ({
        tensors: { x: { shape: [n], init: special }, out: { shape: [n] } },
        args: ({ x, out }) => ({ x, out }),
      })),
      { label: "in place (out = x)", tensors: { x: { shape: [50], init: special } }, args: ({ x }) => ({ x, out: x }) },
    ],
    reluBackward: elementwise(SIZES, (n) => ({
      tensors: { x: { shape: [n], init: special }, dy: { shape: [n] }, dx: { shape: [n] } },
      args: ({ x, dy, dx }) => ({ x, dy, dx }),
    })),
    dropout: [
      ...SIZES.flatMap((n) =>
        [0, 0.1, 0.5, 0.3].map(
          (p): Case<"dropout"> => ({
            label: `n=${n} p=${p}`,
            tensors: { x: { shape: [n] }, out: { shape: [n] }, mask: { shape: [n] } },
            args: ({ x, out, mask }) => ({ x, out, mask, p, key: 0x9e3779b9 ^ n }),
          }),
        ),
      ),
      ...[true, false].map(
        (above): Case<"dropout"> => ({
          label: `p ${above ? "just above" : "equal to"} u(key, 5)`,
          tensors: { x: { shape: [9] }, out: { shape: [9] }, mask: { shape: [9] } },
          args: ({ x, out, mask }) => ({ x, out, mask, p: dropoutEdgeP(1234567, 5, above), key: 1234567 }),
        }),
      ),
    ],
    multiply: elementwise(SIZES, (n) => ({
      tensors: { a: { shape: [n] }, b: { shape: [n], init: uniform(-3, 3) }, out: { shape: [n] } },
      args: ({ a, b, out }) => ({ a, b, out }),
    })),
    squareHingeLoss: sizes.hinge.flatMap(([M, K]) =>
      [true, false].map(
        (withGrad): Case<"squareHingeLoss"> => ({
          label: `logits[${M},${K}] ${withGrad ? "with" : "without"} grad`,
          tensors: {
            // rounded to one decimal so rows have ties (argmax takes the first maximum)
            logits: { shape: [M, K], init: (rng) => Math.round(rng.uniform(-2, 2) * 10) / 10 },
            labels: { shape: [M], init: ints(K) },
            grad: { shape: [M, K] },
            metrics: { shape: [2], init: [1.5, 3] },
          },
          args: ({ logits, labels, grad, metrics }) => ({ logits, labels, grad: withGrad ? grad : null, metrics }),
        }),
      ),
    ),
    binarize: [
      ...SIZES.flatMap((n) =>
        (["det", "stoch"] as const).flatMap((mode) =>
          [1, 0.0427].map(
            (H): Case<"binarize"> => ({
              label: `n=${n} ${mode} H=${H}`,
              tensors: {
                w: {
                  shape: [n],
                  init: (rng, i) =>
                    i % 7 === 0 ? 0 : i % 11 === 0 ? -0 : i % 13 === 0 ? NaN : rng.uniform(-1.5 * H, 1.5 * H),
                },
                out: { shape: [n] },
              },
              args: ({ w, out }) => ({ w, out, mode, H, key: 0xdeadbeef + n }),
            }),
          ),
        ),
      ),
      ...binarizeTieCases(),
    ],
    adam: [
      ...SIZES.flatMap((n) =>
        [
          [1, 0, 1],
          [7, 0.5, 3.5],
        ].map(
          ([t, clip, lrScale]): Case<"adam"> => ({
            label: `n=${n} t=${t} clip=${clip} lrScale=${lrScale}`,
            tensors: {
              param: { shape: [n] },
              grad: { shape: [n], init: uniform(-0.1, 0.1) },
              m: { shape: [n], init: uniform(-0.01, 0.01) },
              v: { shape: [n], init: uniform(0, 1e-3) },
            },
            args: (tensors) => adamArgs(tensors, { lr: 0.003, t, lrScale, clip }),
          }),
        ),
      ),
      // NaN, +-inf, +-0 and subnormals in the weights and gradients, clipped and not: NaN stays NaN, -0 stays -0
      ...[0, 1].map(
        (clip): Case<"adam"> => ({
          label: `special values, clip=${clip}`,
          tensors: {
            param: { shape: [1003], init: special },
            grad: { shape: [1003], init: specialFrom(5) },
            m: { shape: [1003], init: uniform(-0.01, 0.01) },
            v: { shape: [1003], init: uniform(0, 1e-3) },
          },
          args: (tensors) => adamArgs(tensors, { lr: 0.003, t: 2, lrScale: 20, clip }),
        }),
      ),
    ],
    fill: [
      ...elementwise<"fill">(SIZES, (n) => ({
        tensors: { out: { shape: [n] } },
        args: ({ out }) => ({ out, value: 0.1 + n }),
      })),
      { label: "-0", tensors: { out: { shape: [3] } }, args: ({ out }) => ({ out, value: -0 }) },
    ],
    copy: elementwise(SIZES, (n) => ({
      tensors: { x: { shape: [n], init: special }, out: { shape: [n] } },
      args: ({ x, out }) => ({ x, out }),
    })),
    ...convPoolCases(),
  };
}

// ---------------------------------------------------------------------------------------------
// Running a case on two backends

/** A case's initial values from a seeded generator (default: uniform in [-1, 1)). */
export function initialValues(c: Case<KernelName>, seed: number): Record<string, Float32Array> {
  const rng = new Xoshiro128(seed);
  const values: Record<string, Float32Array> = {};
  for (const [name, { shape, init }] of Object.entries(c.tensors)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const f = init ?? uniform(-1, 1);
    values[name] =
      typeof f === "function" ? Float32Array.from({ length: n }, (_, i) => f(rng, i)) : Float32Array.from(f);
  }
  return values;
}

/** Runs the case on `be` from `values`; returns every tensor's values afterwards. */
export async function runCase<K extends KernelName>(
  be: Backend,
  kernel: K,
  c: Case<K>,
  values: Record<string, Float32Array>,
): Promise<Record<string, Float32Array>> {
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
export function mismatches(
  name: string,
  actual: Float32Array,
  expected: Float32Array,
  tol: Tolerance,
  backend: string,
): string {
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i],
      e = expected[i];
    const ok =
      Object.is(a, e) || (!(tol.atol === 0 && tol.rtol === 0) && Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e));
    if (!ok && bad.length < 5) bad.push(`${name}[${i}]: ${backend} ${a}, reference ${e}`);
  }
  return bad.join("; ");
}

/** Every case of `kernel` on `be` and on the reference backend; the failures as text (empty: all pass). */
export async function conformance<K extends KernelName>(
  be: Backend,
  backend: string,
  kernel: K,
  cases: Case<K>[],
  tolerance: Record<KernelName, Tolerance>,
): Promise<string[]> {
  const failures: string[] = [];
  for (const [i, c] of cases.entries()) {
    const values = initialValues(c as Case<KernelName>, 1000 + i);
    const expected = await runCase(new ReferenceBackend(), kernel, c, values);
    const actual = await runCase(be, kernel, c, values);
    const tol = c.tol ?? tolerance[kernel];
    for (const name of Object.keys(expected)) {
      const m = mismatches(name, actual[name], expected[name], tol, backend);
      if (m) failures.push(`${c.label}: ${m}`);
    }
  }
  return failures;
}

// ---------------------------------------------------------------------------------------------
// A fast backend's buffers

/** alloc, upload, read and dispose on `be`: read returns a copy, dispose frees, a reused buffer is zero-filled, a disposed tensor is refused with `disposedError`. */
export async function expectBufferLifecycle(
  be: Backend & { readonly usedBytes: number },
  disposedError: RegExp | (new (...args: never[]) => Error),
): Promise<void> {
  const before = be.usedBytes;
  const t = be.alloc([100]);
  be.upload(t, new Float32Array(100).fill(7));
  const copy = await be.read(t);
  copy[0] = 1;
  expect((await be.read(t))[0]).toBe(7);
  be.dispose(t);
  expect(be.usedBytes).toBe(before);
  const u = be.alloc([100]); // the same buffer where the backend pools them
  expect(Array.from(await be.read(u))).toEqual(new Array(100).fill(0));
  be.dispose(u);
  await expect(be.read(u)).rejects.toThrow(disposedError);
  expect(() => be.dispose(u)).toThrow(disposedError);
}
