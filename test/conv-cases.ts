/**
 * Conformance cases of the convolution and pooling kernels, shared by the backends' conformance
 * tests (test/wasm-conformance.test.ts, test/webgpu-conformance.test.ts): odd sizes, channel
 * counts that are not multiples of 4, strides and paddings other than 1, non-square kernels and
 * windows, padding wider than the kernel's half (whole output rows of padding), 1x1 kernels,
 * overlapping pooling windows, ties, +-0 and NaN, and calls big enough to be shared by threads
 * (with K beyond the 256-deep cache blocks).
 *
 * Tolerance: the convolutions are matrix products (float32 accumulation where the reference
 * uses float64): atol = 2e-6 K (K = the length of each sum: kh kw Cin forward, kh kw Cout for
 * the input gradient, N Ho Wo for the filter gradient), rtol = 1e-5, as matmul. Pooling is
 * exact (a selection, and the same float32 adds in the same order).
 */
import type { Xoshiro128 } from "../src/core/rng.js";
import type { Tensor } from "../src/core/tensor.js";
import { convOutputSize, type KernelArgs, type Pair } from "../src/kernels/contract.js";

export type ConvPoolKernel = "conv2d" | "conv2dBackwardInput" | "conv2dBackwardFilter" | "maxPool" | "maxPoolBackward";

export type Init = readonly number[] | ((rng: Xoshiro128, i: number) => number);
export interface Tolerance {
  atol: number;
  rtol: number;
}
export interface Case<K extends ConvPoolKernel> {
  label: string;
  tensors: Record<string, { shape: number[]; init?: Init }>;
  args: (t: Record<string, Tensor>) => KernelArgs[K];
  tol?: Tolerance;
}

const EXACT: Tolerance = { atol: 0, rtol: 0 };
const ATOL_PER_TERM = 2e-6,
  RTOL = 1e-5;

export const CONV_POOL_TOLERANCE: Record<ConvPoolKernel, Tolerance> = {
  conv2d: { atol: ATOL_PER_TERM, rtol: RTOL }, // atol per term of the sums (see sumTolerance)
  conv2dBackwardInput: { atol: ATOL_PER_TERM, rtol: RTOL },
  conv2dBackwardFilter: { atol: ATOL_PER_TERM, rtol: RTOL },
  maxPool: EXACT,
  maxPoolBackward: EXACT,
};

const sumTolerance = (terms: number): Tolerance => ({ atol: ATOL_PER_TERM * Math.max(terms, 1), rtol: RTOL });

/** [N, H, W, Cin, Cout, kh, kw, stride, pad] */
export type ConvShape = [number, number, number, number, number, number, number, Pair, Pair];
/**
 * Shapes of the direct products of conv2d and conv2dBackwardFilter on the wasm backend (fewer than 32 inputs per position,
 * filters a multiple of 8): rows of 4 positions and a remainder, strides, padding per axis and
 * wider than the kernel, non-square kernels, 1 to 3 channels, images shared by two threads.
 */
export function DIRECT_CONV_SHAPES(): ConvShape[] {
  return [
    [2, 5, 7, 3, 8, 3, 3, [1, 1], [1, 1]], // Wo = 7: one block of 4 positions, then 3 one by one
    [1, 9, 8, 2, 16, 3, 2, [2, 1], [2, 0]], // non-square kernel, stride and padding per axis
    [1, 2, 2, 1, 8, 3, 3, [1, 1], [3, 3]], // padding wider than the kernel
    [3, 11, 10, 3, 24, 5, 1, [2, 2], [2, 0]], // K = 15, stride 2
    [6, 16, 16, 3, 32, 3, 3, [1, 1], [1, 1]], // a first layer, images shared by two threads
  ];
}

export const CONV_SHAPES: ConvShape[] = [
  [1, 1, 1, 1, 1, 1, 1, [1, 1], [0, 0]], // 1x1 everything
  [2, 5, 4, 3, 2, 3, 3, [1, 1], [1, 1]], // the paper's 3x3 pad 1, odd sizes, Cin = 3 (the first layer)
  [2, 7, 6, 5, 7, 3, 3, [2, 2], [1, 1]], // stride 2
  [1, 6, 5, 4, 9, 2, 3, [2, 1], [1, 0]], // non-square kernel, stride and padding per axis
  [1, 4, 4, 8, 4, 1, 1, [1, 1], [0, 0]], // 1x1 kernel
  [2, 5, 5, 3, 3, 5, 5, [1, 1], [2, 2]], // 5x5 pad 2
  [1, 3, 3, 2, 2, 3, 3, [3, 3], [0, 0]], // stride = kernel
  [1, 2, 2, 3, 2, 3, 3, [1, 1], [3, 3]], // padding wider than the kernel: output rows of padding only
  [1, 9, 9, 6, 5, 3, 3, [2, 3], [2, 1]],
  [4, 16, 16, 32, 40, 3, 3, [1, 1], [1, 1]], // shared by two threads; K = 288 > 256
  [3, 11, 13, 30, 19, 3, 3, [1, 1], [1, 1]], // two threads, channels not multiples of 4, K = 270
  [2, 12, 10, 12, 8, 3, 2, [2, 2], [0, 1]], // stride 2 with an uncovered last row
  [4, 16, 16, 3, 64, 3, 3, [1, 1], [1, 1]], // a first layer: 27 rows of dw, 64 filters (the direct products)
  ...DIRECT_CONV_SHAPES(),
];

/**
 * Shapes run with binary filters (every weight +H or -H, the training step's Wb), which the wasm
 * backend's conv2d and conv2dBackwardInput compute by lookup tables (additions only) from 16
 * units and 32 inputs: units (Cout forward, Cin for the input gradient) not multiples of 4 or
 * 8, 4-input tables (fewer than 384 units) over more than one chunk of 64 groups (K > 512),
 * 8-input tables (390 and 400 units) over several chunks of 16 groups, strides, padding per
 * axis, padding wider than the kernel, 1x1 kernels, Cout a multiple of 8 (the input gradient's
 * signs packed 8 at a time) or not, and calls shared by two threads. The first two stay below
 * the tables' sizes (K = 27; 5 input channels for the input gradient).
 */
export const BINARY_CONV_SHAPES: ConvShape[] = [
  [2, 5, 4, 3, 17, 3, 3, [1, 1], [1, 1]], // K = 27: the float product with binary filters
  [2, 7, 6, 5, 17, 3, 3, [2, 2], [1, 1]], // forward: tables; input gradient: 5 units, the float product
  [1, 9, 9, 18, 19, 3, 3, [2, 3], [2, 1]],
  [1, 6, 5, 16, 24, 2, 3, [2, 1], [1, 0]], // non-square kernel; Cout = 24: signs 8 at a time
  [1, 4, 4, 40, 33, 1, 1, [1, 1], [0, 0]], // 1x1
  [1, 2, 2, 16, 16, 3, 3, [1, 1], [3, 3]], // output rows of padding only
  [2, 4, 4, 64, 40, 3, 3, [1, 1], [1, 1]], // K = 576: two chunks of 4-input tables
  [3, 11, 13, 30, 19, 3, 3, [1, 1], [1, 1]], // shared by two threads
  [1, 3, 4, 400, 390, 3, 3, [1, 1], [1, 1]], // 8-input tables, K = 3600 and 3510
];

/**
 * Shapes of conv2dBackwardFilter run with an input that is half zeros (a ReLU's output), which
 * the wasm backend's sparse path takes from 128 filters: filters not a multiple of its 24-column
 * blocks (136, 130), strides and padding per axis (test/wasm-conformance.test.ts also runs them with
 * an infinite dy, whose column block goes back to the dense path).
 */
export const SPARSE_FILTER_SHAPES: ConvShape[] = [
  [2, 8, 8, 16, 128, 3, 3, [1, 1], [1, 1]],
  [1, 9, 7, 12, 136, 3, 3, [2, 1], [1, 1]],
  [2, 6, 6, 20, 130, 2, 3, [1, 2], [0, 1]],
];

/**
 * Shapes of conv2dBackwardFilter that the wasm backend computes by Winograd's F(4x4, 3x3)
 * (3x3, stride 1, channels multiples of 4 from 16): outputs not a multiple of the 4 x 4 tiles
 * (tiles past the edge), padding 0, 2 (patches past the image on every side) and per axis,
 * and tiles inside the image.
 */
export const WINOGRAD_FILTER_SHAPES: ConvShape[] = [
  [1, 6, 7, 16, 20, 3, 3, [1, 1], [1, 1]],
  [2, 9, 5, 20, 16, 3, 3, [1, 1], [0, 0]],
  [1, 5, 6, 24, 28, 3, 3, [1, 1], [2, 2]],
  [2, 4, 5, 16, 16, 3, 3, [1, 1], [0, 1]],
  [1, 10, 11, 16, 24, 3, 3, [1, 1], [1, 1]], // tiles inside the image too (read straight from x and dy)
  [1, 3, 4, 16, 16, 3, 3, [1, 1], [1, 1]], // one tile: groups without tiles (the grouped form, C Co <= 64 x 64)
];

/** A ReLU's output: half zeros, the rest uniform in (0, 1). */
export const reluOutput: Init = (rng) => Math.max(0, rng.uniform(-1, 1));

/** +H or -H at random (H = 0.3: not a power of two). */
const binaryWeights: Init = (rng) => (rng.uniform(-1, 1) >= 0 ? 0.3 : -0.3);
/** Binary but for one weight (|w| = H / 2): the packing must notice, and the float product run. */
const almostBinary: Init = (rng, i) => (i === 37 ? 0.15 : rng.uniform(-1, 1) >= 0 ? 0.3 : -0.3);

export function convGeometry([N, H, W, C, Co, kh, kw, stride, pad]: ConvShape) {
  const Ho = convOutputSize(H, kh, stride[0], pad[0]),
    Wo = convOutputSize(W, kw, stride[1], pad[1]);
  return { x: [N, H, W, C], w: [kh, kw, C, Co], y: [N, Ho, Wo, Co], stride, pad, N, Ho, Wo, C, Co, kh, kw };
}

const label = (s: ConvShape) => {
  const [N, H, W, C, Co, kh, kw, stride, pad] = s;
  return `x[${N},${H},${W},${C}] w[${kh},${kw},${C},${Co}] stride [${stride}] pad [${pad}]`;
};

/** [N, H, W, C, window, stride] */
type PoolShape = [number, number, number, number, Pair, Pair];
export const POOL_SHAPES: PoolShape[] = [
  [1, 2, 2, 1, [2, 2], [2, 2]],
  [2, 5, 7, 3, [2, 2], [2, 2]], // odd sizes (the last row and column dropped), C = 3: the scalar path
  [2, 6, 6, 9, [2, 2], [2, 2]], // 4 channels at a time and a remainder
  [1, 5, 5, 4, [3, 3], [1, 1]], // overlapping windows
  [1, 7, 6, 5, [3, 2], [2, 1]], // overlapping, non-square
  [3, 4, 4, 8, [1, 1], [1, 1]], // identity
  [8, 32, 32, 64, [2, 2], [2, 2]], // shared by two threads
];

/** Values with many ties (multiples of 1/2), +-0 and a NaN now and then. */
const tiesAndSpecials: Init = (rng, i) =>
  i % 97 === 13 ? Number.NaN : i % 11 === 0 ? 0 : i % 11 === 1 ? -0 : Math.round(rng.uniform(-2, 2) * 2) / 2;

interface PoolCase {
  label: string;
  x: { shape: number[]; init?: Init };
  y: number[];
  window: Pair;
  stride: Pair;
}

/** Each pooling shape with random values, then with ties, +-0 and NaN (in x, and in the gradient dy of maxPoolBackward). */
function poolShapes(): PoolCase[] {
  return POOL_SHAPES.flatMap(([N, H, W, C, window, stride]) => {
    const y = [N, convOutputSize(H, window[0], stride[0], 0), convOutputSize(W, window[1], stride[1], 0), C];
    return (
      [
        ["random", undefined],
        ["ties, +-0, NaN", tiesAndSpecials],
      ] as const
    ).map(([what, init]) => ({
      label: `x[${N},${H},${W},${C}] window [${window}] stride [${stride}] ${what}`,
      x: { shape: [N, H, W, C], init },
      y,
      window,
      stride,
    }));
  });
}

/** The shapes of the products by the filters with their filters: random, binary, binary but for one weight. */
function withFilters(): [ConvShape, string, Init | undefined][] {
  return [
    ...CONV_SHAPES.map((s): [ConvShape, string, Init | undefined] => [s, "", undefined]),
    ...BINARY_CONV_SHAPES.map((s): [ConvShape, string, Init | undefined] => [s, " binary w", binaryWeights]),
    ...BINARY_CONV_SHAPES.slice(2, 4).map((s): [ConvShape, string, Init | undefined] => [
      s,
      " w binary but one",
      almostBinary,
    ]),
    ...WINOGRAD_PRODUCT_SHAPES.map((s): [ConvShape, string, Init | undefined] => [s, "", undefined]),
    ...WINOGRAD_PRODUCT_SHAPES.slice(0, 3).map((s): [ConvShape, string, Init | undefined] => [
      s,
      " binary w",
      binaryWeights,
    ]),
  ];
}

/**
 * conv2d's and conv2dBackwardInput's product by Winograd's F(4x4, 3x3) (the wasm backend: 3x3,
 * stride 1, channels multiples of 4 from 16): odd sizes, padding 0, 2 and per axis (the input
 * gradient's padding 2 - p: 2, 0, and per axis), tiles past the output's edge and inside the
 * image, a call of two blocks of tiles, and more than 256 channels on either side (the pre-packed
 * filters' blocks of k, matmulPack.ts).
 */
export const WINOGRAD_PRODUCT_SHAPES: ConvShape[] = [
  [1, 6, 7, 16, 20, 3, 3, [1, 1], [1, 1]],
  [2, 9, 5, 20, 16, 3, 3, [1, 1], [0, 0]],
  [1, 5, 6, 24, 28, 3, 3, [1, 1], [2, 2]],
  [2, 4, 5, 16, 16, 3, 3, [1, 1], [0, 1]],
  [1, 17, 18, 16, 24, 3, 3, [1, 1], [1, 1]], // tiles inside the image (read straight from it)
  [8, 16, 16, 16, 16, 3, 3, [1, 1], [1, 1]], // 128 tiles: two blocks
  [1, 5, 6, 260, 20, 3, 3, [1, 1], [1, 1]], // over 256 channels: two blocks of k in the pre-packed filters (either side)
];

/** The filter gradient's shapes with their inputs' values: random, x half zeros (its sparse path), and Winograd's. */
function filterGradientShapes(): [ConvShape, string, Init | undefined][] {
  return [
    ...CONV_SHAPES.map((s): [ConvShape, string, Init | undefined] => [s, "", undefined]),
    ...SPARSE_FILTER_SHAPES.map((s): [ConvShape, string, Init | undefined] => [s, " x half zeros", reluOutput]),
    ...WINOGRAD_FILTER_SHAPES.map((s): [ConvShape, string, Init | undefined] => [s, "", undefined]),
  ];
}

type ConvKernel = "conv2d" | "conv2dBackwardInput" | "conv2dBackwardFilter";

/**
 * A convolution kernel's cases, one per shape: `make` gives the length of each sum (`terms`: the
 * tolerance, as matmul's with K = terms), the tensors and the call, from the shape's geometry and
 * the shape's init of its filters (or, for the filter gradient, of its input).
 */
function convCases<K extends ConvKernel>(
  shapes: [ConvShape, string, Init | undefined][],
  make: (
    g: ReturnType<typeof convGeometry>,
    init: Init | undefined,
  ) => { terms: number; tensors: Case<K>["tensors"]; args: Case<K>["args"] },
): Case<K>[] {
  return shapes.map(([s, what, init]) => {
    const g = convGeometry(s);
    const { terms, tensors, args } = make(g, init);
    return { label: `${label(s)}${what}`, tol: sumTolerance(terms), tensors, args };
  });
}

/** Every case per kernel. (dx of maxPoolBackward starts as garbage: the kernel must zero it.) */
export function convPoolCases(): { [K in ConvPoolKernel]: Case<K>[] } {
  const garbage: Init = (rng) => rng.uniform(-9, 9);
  return {
    conv2d: convCases(withFilters(), (g, init) => ({
      terms: g.kh * g.kw * g.C,
      tensors: { x: { shape: g.x }, w: { shape: g.w, init }, out: { shape: g.y, init: garbage } },
      args: ({ x, w, out }) => ({ x, w, out, stride: g.stride, pad: g.pad }),
    })),
    conv2dBackwardInput: convCases(withFilters(), (g, init) => ({
      terms: g.kh * g.kw * g.Co,
      tensors: { dy: { shape: g.y }, w: { shape: g.w, init }, dx: { shape: g.x, init: garbage } },
      args: ({ dy, w, dx }) => ({ dy, w, dx, stride: g.stride, pad: g.pad }),
    })),
    conv2dBackwardFilter: convCases(filterGradientShapes(), (g, xInit) => ({
      terms: g.N * g.Ho * g.Wo,
      tensors: { x: { shape: g.x, init: xInit }, dy: { shape: g.y }, dw: { shape: g.w, init: garbage } },
      args: ({ x, dy, dw }) => ({ x, dy, dw, stride: g.stride, pad: g.pad }),
    })),
    maxPool: poolShapes().map((p) => ({
      label: p.label,
      tensors: { x: p.x, out: { shape: p.y, init: garbage } },
      args: ({ x, out }) => ({ x, out, window: p.window, stride: p.stride }),
    })),
    maxPoolBackward: poolShapes().map((p) => ({
      label: p.label,
      tensors: { x: p.x, dy: { shape: p.y, init: p.x.init }, dx: { shape: p.x.shape, init: garbage } },
      args: ({ x, dy, dx }) => ({ x, dy, dx, window: p.window, stride: p.stride }),
    })),
  };
}
