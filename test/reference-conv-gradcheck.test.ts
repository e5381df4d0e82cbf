/**
 * The convolution and pooling kernels of the reference backend (the specification): their
 * backward kernels against central differences of L = sum(G * forward(...)) (method and
 * tolerances: test/reference-gradcheck.test.ts), and the pooling rules (ties, NaN, +-0,
 * overlapping windows) on hand-computed examples.
 */
import { describe, expect, it } from "vitest";
import { Xoshiro128 } from "../src/core/rng.js";
import { convOutputSize, type Pair } from "../src/kernels/contract.js";
import {
  H_STEP,
  checkBatchNormGradients,
  expectGradientsClose,
  numericGradient,
  randomArray,
  setup,
} from "./gradcheck.js";

/** [label, N, H, W, Cin, Cout, kh, kw, stride, pad] */
const CONV_CASES: [string, number, number, number, number, number, number, number, Pair, Pair][] = [
  ["3x3 pad 1 (the paper's)", 2, 5, 4, 3, 2, 3, 3, [1, 1], [1, 1]],
  ["3x3 stride 2 pad 1", 1, 6, 5, 2, 3, 3, 3, [2, 2], [1, 1]],
  ["2x3 stride [2,1] pad [1,0]", 2, 5, 6, 2, 2, 2, 3, [2, 1], [1, 0]],
  ["1x1", 2, 3, 3, 4, 3, 1, 1, [1, 1], [0, 0]],
  ["3x3 no padding, stride 3 (uncovered border)", 1, 7, 8, 2, 2, 3, 3, [3, 3], [0, 0]],
];

describe("conv2d / conv2dBackwardInput / conv2dBackwardFilter", () => {
  it.each(CONV_CASES)("%s: dx and dw of sum(G * conv2d(x, w))", (_label, N, H, W, C, Co, kh, kw, stride, pad) => {
    const rng = new Xoshiro128(909);
    const { be, make, zeros, get, weightedSum } = setup();
    const Ho = convOutputSize(H, kh, stride[0], pad[0]),
      Wo = convOutputSize(W, kw, stride[1], pad[1]);
    const xShape = [N, H, W, C],
      wShape = [kh, kw, C, Co],
      yShape = [N, Ho, Wo, Co];
    const xData = randomArray(rng, N * H * W * C),
      wData = randomArray(rng, kh * kw * C * Co),
      gData = randomArray(rng, N * Ho * Wo * Co);
    const x = make(xShape, xData),
      w = make(wShape, wData),
      g = make(yShape, gData),
      out = zeros(yShape);
    const objective = weightedSum(
      gData,
      out,
      () => be.run("conv2d", { x, w, out, stride, pad }),
      [x, xData],
      [w, wData],
    );
    const dx = zeros(xShape),
      dw = zeros(wShape);
    be.run("conv2dBackwardInput", { dy: g, w, dx, stride, pad });
    be.run("conv2dBackwardFilter", { x, dy: g, dw, stride, pad });
    expectGradientsClose("dx", get(dx), numericGradient(xData, objective));
    expectGradientsClose("dw", get(dw), numericGradient(wData, objective));
  });

  it("a hand-computed 1-channel example (3x3 input, 2x2 kernel, pad 0)", () => {
    const { be, make, zeros, get } = setup();
    const x = make([1, 3, 3, 1], [1, 2, 3, 4, 5, 6, 7, 8, 9]),
      w = make([2, 2, 1, 1], [1, 0, 0, -1]);
    const out = zeros([1, 2, 2, 1]);
    be.run("conv2d", { x, w, out, stride: [1, 1], pad: [0, 0] });
    // out[i,j] = x[i,j] - x[i+1,j+1] (cross-correlation: the kernel is not flipped)
    expect(Array.from(get(out))).toEqual([1 - 5, 2 - 6, 4 - 8, 5 - 9]);
  });

  it("positions that no window covers get a zero input gradient", () => {
    const { be, make, get } = setup();
    // 4x4 input, 2x2 kernel, stride 3: windows at rows/cols {0,1} only; rows/cols 2 and 3 are never read
    const dy = make([1, 1, 1, 1], [1]),
      w = make([2, 2, 1, 1], [1, 2, 3, 4]),
      dx = make([1, 4, 4, 1], new Array(16).fill(7));
    be.run("conv2dBackwardInput", { dy, w, dx, stride: [3, 3], pad: [0, 0] });
    expect(Array.from(get(dx))).toEqual([1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  });
});

/** Distinct values spaced 0.05 apart, shuffled: no two within 2h, so the argmax never changes under +-h. */
function distinctValues(rng: Xoshiro128, n: number): Float32Array {
  const v = Float32Array.from({ length: n }, (_, i) => (i - n / 2) * 0.05);
  rng.shuffle(v);
  return v;
}

describe("maxPool / maxPoolBackward", () => {
  /** [label, N, H, W, C, window, stride] */
  const cases: [string, number, number, number, number, Pair, Pair][] = [
    ["2x2 stride 2 (the paper's), odd sizes", 2, 5, 4, 3, [2, 2], [2, 2]],
    ["3x3 stride 1 (overlapping windows)", 1, 5, 5, 2, [3, 3], [1, 1]],
    ["3x2 stride [2,1] (overlapping rows)", 1, 7, 5, 2, [3, 2], [2, 1]],
  ];
  it.each(cases)("%s: dx of sum(G * maxPool(x))", (_label, N, H, W, C, window, stride) => {
    expect(2 * H_STEP).toBeLessThan(0.05);
    const rng = new Xoshiro128(1010);
    const { be, make, zeros, get, weightedSum } = setup();
    const Ho = convOutputSize(H, window[0], stride[0], 0),
      Wo = convOutputSize(W, window[1], stride[1], 0);
    const xData = distinctValues(rng, N * H * W * C),
      gData = randomArray(rng, N * Ho * Wo * C);
    const x = make([N, H, W, C], xData),
      g = make([N, Ho, Wo, C], gData),
      out = zeros([N, Ho, Wo, C]);
    const objective = weightedSum(gData, out, () => be.run("maxPool", { x, out, window, stride }), [x, xData]);
    const dx = zeros([N, H, W, C]);
    be.run("maxPoolBackward", { x, dy: g, dx, window, stride });
    expectGradientsClose("dx", get(dx), numericGradient(xData, objective));
  });

  it("ties: the first maximum in row-major window order takes the whole gradient", () => {
    const { be, make, zeros, get } = setup();
    // one 2x2 window, values [[1, 3], [3, 2]]: the 3 at (0,1) comes first
    const x = make([1, 2, 2, 1], [1, 3, 3, 2]),
      dy = make([1, 1, 1, 1], [5]),
      dx = zeros([1, 2, 2, 1]),
      out = zeros([1, 1, 1, 1]);
    be.run("maxPool", { x, out, window: [2, 2], stride: [2, 2] });
    be.run("maxPoolBackward", { x, dy, dx, window: [2, 2], stride: [2, 2] });
    expect(Array.from(get(out))).toEqual([3]);
    expect(Array.from(get(dx))).toEqual([0, 5, 0, 0]);
  });

  it("NaN propagates (the first NaN is the argmax); -0 and +0 tie, so the first one is the value", () => {
    const { be, make, zeros, get } = setup();
    // channels: c0 = [1, NaN, 2, NaN], c1 = [-0, +0, -1, -2], c2 = [+0, -0, -1, -2]
    const x = make([1, 2, 2, 3], [1, -0, 0, NaN, 0, -0, 2, -1, -1, NaN, -2, -2]);
    const out = zeros([1, 1, 1, 3]),
      dx = zeros([1, 2, 2, 3]),
      dy = make([1, 1, 1, 3], [1, 1, 1]);
    be.run("maxPool", { x, out, window: [2, 2], stride: [2, 2] });
    be.run("maxPoolBackward", { x, dy, dx, window: [2, 2], stride: [2, 2] });
    const [c0, c1, c2] = get(out);
    expect(c0).toBeNaN();
    expect(Object.is(c1, -0)).toBe(true);
    expect(Object.is(c2, 0)).toBe(true);
    expect(Array.from(get(dx))).toEqual([0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("overlapping windows add their gradients into a shared maximum", () => {
    const { be, make, zeros, get } = setup();
    // 1x3 input [0, 9, 0], window 1x2 stride 1: both windows pick the 9
    const x = make([1, 1, 3, 1], [0, 9, 0]),
      dy = make([1, 1, 2, 1], [2, 3]),
      dx = zeros([1, 1, 3, 1]);
    be.run("maxPoolBackward", { x, dy, dx, window: [1, 2], stride: [1, 1] });
    expect(Array.from(get(dx))).toEqual([0, 5, 0]);
  });
});

describe("batch norm over the channels of NHWC images", () => {
  it.each(["authors", "standard"] as const)(
    "%s: dx, dgamma, dbeta of sum(dy * bn(x)) for x [2, 3, 3, 5] (statistics over N, H, W)",
    (variant) => {
      const rng = new Xoshiro128(1111);
      const shape = [2, 3, 3, 5],
        C = 5,
        n = 2 * 3 * 3 * C;
      const xData = Float32Array.from({ length: n }, (_, i) => (i % C) - 2 + (1 + (i % C)) * rng.uniform(-1, 1));
      const gammaData = Float32Array.from({ length: C }, () => rng.uniform(0.5, 1.5)),
        betaData = randomArray(rng, C),
        dyData = randomArray(rng, n);
      const mean = checkBatchNormGradients({
        shape,
        x: xData,
        gamma: gammaData,
        beta: betaData,
        dy: dyData,
        variant,
        eps: 1e-4,
      });
      // the statistics are per channel over all 18 positions of the batch
      const c2 = Array.from({ length: 18 }, (_, k) => xData[k * C + 2]);
      expect(mean[2]).toBeCloseTo(c2.reduce((a, b) => a + b, 0) / 18, 5);
    },
  );
});

describe("shape validation", () => {
  it("names the argument, the expected and the found shapes", () => {
    const { be, zeros } = setup();
    const x = zeros([2, 5, 5, 3]),
      w = zeros([3, 3, 3, 4]);
    expect(() => be.run("conv2d", { x, w, out: zeros([2, 5, 5, 4]), stride: [1, 1], pad: [0, 0] })).toThrow(
      /conv2d: out must have shape \[2, 3, 3, 4\] \(stride \[1,1\], pad \[0,0\]\), found \[2, 5, 5, 4\]/,
    );
    expect(() =>
      be.run("conv2d", { x, w: zeros([3, 3, 2, 4]), out: zeros([2, 5, 5, 4]), stride: [1, 1], pad: [1, 1] }),
    ).toThrow(/w must have shape \[kh, kw, 3, Cout\]/);
    expect(() =>
      be.run("conv2d", { x: zeros([2, 75]), w, out: zeros([2, 5, 5, 4]), stride: [1, 1], pad: [1, 1] }),
    ).toThrow(/x must have shape \[N, H, W, C\] \(NHWC\), found \[2, 75\]/);
    expect(() => be.run("conv2d", { x, w, out: zeros([2, 5, 5, 4]), stride: [0, 1], pad: [1, 1] })).toThrow(
      /stride must be a pair/,
    );
    expect(() => be.run("maxPool", { x, out: zeros([2, 2, 2, 3]), window: [2, 2], stride: [1, 1] })).toThrow(
      /maxPool: out must have shape \[2, 4, 4, 3\]/,
    );
    expect(() =>
      be.run("conv2d", {
        x: zeros([1, 2, 2, 3]),
        w: zeros([5, 5, 3, 1]),
        out: zeros([1, 1, 1, 1]),
        stride: [1, 1],
        pad: [0, 0],
      }),
    ).toThrow(/the 5x5 kernel is larger than the padded 2x2 input/);
  });
});
