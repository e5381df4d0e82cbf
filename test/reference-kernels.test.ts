/**
 * Hand-checked values of the reference backend's kernels (the specification): Adam, the two
 * binarizations, dropout, the square hinge loss, batch norm's inference and running statistics,
 * and the shape checks. Expected values are literals worked out by hand (derivations in the
 * comments) or, for Adam, by a separate float64 calculation that stores m, v and the parameter
 * as float32 between steps, as the kernel does.
 * Statistical checks (stochastic binarization, dropout) use n = 100,000 samples and accept
 * 5 binomial standard deviations, sqrt(p(1-p)/n) (a false alarm about once in 3.5 million runs;
 * the stream is seeded, so a run is reproducible anyway).
 */
import { describe, expect, it } from "vitest";
import { tensorFrom } from "../src/backends/backend.js";
import { ReferenceBackend } from "../src/backends/reference/index.js";
import { BinaryConnectError, ShapeError } from "../src/core/errors.js";
import { Xoshiro128 } from "../src/core/rng.js";
import type { Shape, Tensor } from "../src/core/tensor.js";
import type { KernelArgs } from "../src/kernels/contract.js";
import { adamArgs } from "./kernel-args.js";

function setup() {
  const be = new ReferenceBackend();
  return {
    be,
    make: (shape: Shape, data: ArrayLike<number>): Tensor => tensorFrom(be, shape, data),
    zeros: (shape: Shape): Tensor => be.alloc(shape),
  };
}

/** Asserts |actual - expected| <= atol elementwise, listing every offending index. */
function expectClose(what: string, actual: ArrayLike<number>, expected: readonly number[], atol: number): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= atol)) bad.push(`[${i}] found ${actual[i]}, expected ${expected[i]}`);
  }
  expect(bad, `${what}: entries off by more than ${atol}`).toEqual([]);
}

/** Asserts a sample frequency is within 5 binomial standard deviations of p. */
function expectFrequency(what: string, hits: number, n: number, p: number): void {
  const sd = Math.sqrt((p * (1 - p)) / n);
  expect(
    Math.abs(hits / n - p),
    `${what}: frequency ${hits / n}, expected ${p} +- 5 * ${sd.toExponential(2)}`,
  ).toBeLessThanOrEqual(5 * sd);
}

const hardSigmoid = (x: number): number => Math.min(1, Math.max(0, (x + 1) / 2));

describe("adam (Lasagne's form: a_t = lr sqrt(1-b2^t)/(1-b1^t), step = a_t m/(sqrt(v)+eps))", () => {
  // Adam keeps 1e-6: the expected values carry float32 rounding (~6e-8); a formula error is
  // far larger (eps added to sqrt(v_hat) instead of sqrt(v) moves step 1 of element 0 by 1.3e-3;
  // multiplying by the bias correction instead of dividing moves it by ~1e-2).
  const TOL = 1e-6;

  type Hyperparameters = Omit<KernelArgs["adam"], "param" | "grad" | "m" | "v" | "t">;
  /** A parameter of 3 values with zero moments m and v; `step(t, grad)` runs Adam's step t on it with these settings. */
  function adamOn(values: number[], hp: Hyperparameters) {
    const { be, make } = setup();
    const param = make([3], values),
      m = make([3], [0, 0, 0]),
      v = make([3], [0, 0, 0]);
    const step = (t: number, grad: number[]) => be.run("adam", { param, grad: make([3], grad), m, v, t, ...hp });
    return { be, param, m, v, step };
  }

  it("plain (lrScale 1, clip 0): two steps, no clipping beyond 1", async () => {
    // eps = 1e-3 (not 1e-8) so that where eps is added matters at this gradient scale.
    const hp = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-3, lrScale: 1, clip: 0 };
    const { be, param, m, v, step } = adamOn([0.5, -0.25, 1.0], hp);

    // t = 1, g = [0.2, -0.1, -0.5]: m = 0.1 g = [0.02, -0.01, -0.05]; v = 0.001 g^2 = [4e-5, 1e-5, 2.5e-4]
    // a_1 = 0.01 sqrt(0.001) / 0.1 = 0.0031622777
    // step0 = a_1 * 0.02 / (sqrt(4e-5) + 1e-3) = 6.3245553e-5 / 0.0073245553 = 0.0086347  -> 0.4913653
    // step1 = a_1 * -0.01 / (0.0031622777 + 1e-3) = -0.0075975                          -> -0.2424025
    // step2 = a_1 * -0.05 / (0.0158113883 + 1e-3) = -0.0094051                          -> 1.0094051 (clip 0: not clipped)
    step(1, [0.2, -0.1, -0.5]);
    expectClose("m after step 1", await be.read(m), [0.02, -0.01, -0.05], TOL);
    expectClose("v after step 1", await be.read(v), [4e-5, 1e-5, 2.5e-4], 1e-10);
    expectClose("param after step 1", await be.read(param), [0.4913653, -0.2424025, 1.0094051], TOL);

    // t = 2, g = [-0.1, -0.1, 0.3]: m = 0.9 m + 0.1 g = [0.008, -0.019, -0.015]
    // v = 0.999 v + 0.001 g^2 = [4.996e-5, 1.999e-5, 3.3975e-4]
    // a_2 = 0.01 sqrt(1 - 0.999^2) / (1 - 0.9^2) = 0.01 * 0.04471018 / 0.19 = 0.0023531673
    // step0 = a_2 * 0.008 / (0.0070682388 + 1e-3) = 0.0023333 -> 0.4890320
    // step1 = a_2 * -0.019 / (0.0044710178 + 1e-3) = -0.0081722 -> -0.2342303
    // step2 = a_2 * -0.015 / (0.0184323 + 1e-3) = -0.0018164 -> 1.0112215
    step(2, [-0.1, -0.1, 0.3]);
    expectClose("m after step 2", await be.read(m), [0.008, -0.019, -0.015], TOL);
    expectClose("v after step 2", await be.read(v), [4.996e-5, 1.999e-5, 3.3975e-4], 1e-10);
    expectClose("param after step 2", await be.read(param), [0.48903203, -0.23423034, 1.01122153], TOL);
  });

  it("BinaryConnect: lrScale 20 and clip to [-H, H] = [-1, 1]", async () => {
    const hp = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, lrScale: 20, clip: 1 };
    const { be, param, step } = adamOn([0.95, -0.9, 0.1], hp);

    // t = 1: step_i = a_1 0.1 g / (sqrt(0.001)|g| + eps) = 0.01 sign(g) (1 - eps/(sqrt(0.001)|g|))
    // g = [-0.3, 0.4, 0.02]: lrScale * step = [-0.2, +0.2, +0.19999684]
    // param = [0.95 + 0.2, -0.9 - 0.2, 0.1 - 0.19999684] = [1.15 -> clipped 1, -1.1 -> clipped -1, -0.09999684]
    step(1, [-0.3, 0.4, 0.02]);
    expectClose("param after step 1", await be.read(param), [1, -1, -0.09999684], TOL);

    // t = 2, g = [1.0, 0.1, 0.02]: m = [-0.027 + 0.1, 0.036 + 0.01, 0.0018 + 0.002] = [0.073, 0.046, 0.0038]
    // v = [8.991e-5 + 1e-3, 1.5984e-4 + 1e-5, 3.996e-7 + 4e-7] = [1.08991e-3, 1.6984e-4, 7.996e-7]
    // lrScale * step = 20 a_2 m / (sqrt(v) + eps) = [0.1040663, 0.1661, 0.2000]
    // param = [1 - 0.1040663, -1 - 0.1661 -> clipped -1, -0.09999684 - 0.19999775] = [0.8959337, -1, -0.2999946]
    step(2, [1.0, 0.1, 0.02]);
    expectClose("param after step 2", await be.read(param), [0.8959337, -1, -0.2999946], TOL);
  });
});

describe("binarize", () => {
  it("det: Wb = +H where W >= 0 (zero -> +H), -H where W < 0, for H = 1 and H = 0.5", async () => {
    const { be, make, zeros } = setup();
    // -0 >= 0 holds in IEEE arithmetic, so -0 also maps to +H.
    const w = [-2, -0.5, -1e-30, -0, 0, 1e-30, 0.3, 5];
    for (const H of [1, 0.5]) {
      const out = zeros([w.length]);
      be.run("binarize", { w: make([w.length], w), out, mode: "det", H, key: 0 });
      expect(Array.from(await be.read(out)), `H = ${H}`).toEqual([-H, -H, -H, H, H, H, H, H]);
    }
  });

  it("stoch: P(+H) = hard_sigmoid(W/H) within 5 binomial sd; exactly 0 / 1 at the ends", async () => {
    const { be, make, zeros } = setup();
    const H = 0.5,
      n = 100_000;
    const ratios = [-1, -0.5, 0, 0.3, 0.9, 1.5]; // W/H; p = 0, 0.25, 0.5, 0.65, 0.95, 1
    const wData = new Float32Array(ratios.length * n);
    ratios.forEach((r, j) => {
      wData.fill(r * H, j * n, (j + 1) * n);
    });
    const out = zeros([wData.length]);
    be.run("binarize", { w: make([wData.length], wData), out, mode: "stoch", H, key: 0x5eed });
    const wb = await be.read(out);
    expect(
      wb.every((x) => x === H || x === -H),
      "every value is +-H",
    ).toBe(true);
    ratios.forEach((r, j) => {
      let hits = 0;
      for (let i = j * n; i < (j + 1) * n; i++) if (wb[i] === H) hits++;
      const p = hardSigmoid(r);
      if (p === 0 || p === 1) expect(hits / n, `W/H = ${r}`).toBe(p);
      else expectFrequency(`W/H = ${r}`, hits, n, p);
    });
  });

  it("stoch: the same key gives the same samples, another key different ones", async () => {
    const { be, make, zeros } = setup();
    const n = 100_000;
    const w = make([n], new Float32Array(n)); // W = 0: p = 0.5
    const sample = async (key: number): Promise<Float32Array> => {
      const out = zeros([n]);
      be.run("binarize", { w, out, mode: "stoch", H: 1, key });
      return be.read(out);
    };
    const a = await sample(1),
      again = await sample(1),
      b = await sample(2);
    expect(Array.from(again)).toEqual(Array.from(a));
    let differ = 0;
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) differ++;
    // two independent fair coins differ with probability 0.5
    expectFrequency("samples that differ between keys 1 and 2", differ, n, 0.5);
  });
});

describe("dropout", () => {
  it("keeps a fraction 1 - p (5 binomial sd), scales kept values by 1/(1 - p), out = x * mask", async () => {
    const { be, make, zeros } = setup();
    const n = 100_000,
      p = 0.3;
    const rng = new Xoshiro128(11);
    const xData = Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
    const out = zeros([n]),
      mask = zeros([n]);
    be.run("dropout", { x: make([n], xData), out, mask, p, key: 77 });
    const maskData = await be.read(mask),
      outData = await be.read(out);
    const keep = Math.fround(1 / (1 - p));
    let kept = 0;
    const bad: number[] = [];
    for (let i = 0; i < n; i++) {
      if (maskData[i] === keep) kept++;
      else if (maskData[i] !== 0) bad.push(i);
      if (outData[i] !== Math.fround(xData[i] * maskData[i])) bad.push(i);
    }
    expect(bad, "mask in {0, 1/(1-p)} and out = x * mask").toEqual([]);
    expectFrequency("kept fraction", kept, n, 1 - p);
  });

  it("p = 0 keeps everything with mask 1", async () => {
    const { be, make, zeros } = setup();
    const out = zeros([4]),
      mask = zeros([4]);
    be.run("dropout", { x: make([4], [1, -2, 3, -4]), out, mask, p: 0, key: 1 });
    expect(Array.from(await be.read(mask))).toEqual([1, 1, 1, 1]);
    expect(Array.from(await be.read(out))).toEqual([1, -2, 3, -4]);
  });
});

describe("squareHingeLoss on a hand-computed 2x3 example", () => {
  // logits y = [[0.5, -0.2, 0.5], [2, -1.5, 0.3]], labels [2, 0], so t = [[-1, -1, 1], [1, -1, -1]].
  // h = max(0, 1 - t y) = [[1.5, 0.8, 0.5], [0, 0, 1.3]];  sum h^2 = 2.25 + 0.64 + 0.25 + 1.69 = 4.83
  // loss = 4.83 / (M K) = 4.83 / 6 = 0.805;  metrics[0] += loss * M = 1.61
  // grad = -2 t h / 6 = [[0.5, 0.2666667, -0.1666667], [0, 0, 0.4333333]]
  // errors: row 0 ties at 0.5 between k = 0 and k = 2; the first maximum (k = 0) wins, so it is
  // wrong (label 2); row 1's argmax is 0 = label. errors = 1.
  const logits = [0.5, -0.2, 0.5, 2, -1.5, 0.3];
  const labels = [2, 0];

  it("loss, gradient, error count (tie: first max wins)", async () => {
    const { be, make, zeros } = setup();
    const grad = zeros([2, 3]),
      metrics = zeros([2]);
    be.run("squareHingeLoss", { logits: make([2, 3], logits), labels: make([2], labels), grad, metrics });
    expectClose("grad", await be.read(grad), [0.5, 0.2666667, -0.1666667, 0, 0, 0.4333333], 1e-6);
    const [lossTimesM, errors] = await be.read(metrics);
    expect(lossTimesM / 2).toBeCloseTo(0.805, 6);
    expect(errors).toBe(1);
  });

  it("metrics accumulate across calls; grad null writes no gradient", async () => {
    const { be, make, zeros } = setup();
    const y = make([2, 3], logits),
      l = make([2], labels),
      metrics = zeros([2]);
    be.run("squareHingeLoss", { logits: y, labels: l, grad: null, metrics });
    be.run("squareHingeLoss", { logits: y, labels: l, grad: null, metrics });
    expectClose("metrics after two calls", await be.read(metrics), [2 * 1.61, 2], 1e-5);
  });
});

describe("batch norm", () => {
  // x [2, 2] = [[1, 2], [3, -4]]; gamma [2, 0.5]; beta [0.1, -1]; runningMean [1, -1]; eps 0.25
  // runningScale [3.75, 8.75] chosen so both variants give round numbers:
  //   authors  r = 1/(scale + eps) = [1/4, 1/9];  standard r = 1/sqrt(scale + eps) = [1/2, 1/3]
  it("batchNormInfer, both variants", async () => {
    const { be, make, zeros } = setup();
    const args = {
      x: make([2, 2], [1, 2, 3, -4]),
      gamma: make([2], [2, 0.5]),
      beta: make([2], [0.1, -1]),
      runningMean: make([2], [1, -1]),
      runningScale: make([2], [3.75, 8.75]),
      eps: 0.25,
    };
    // authors:  c0: (x - 1)/4 * 2 + 0.1 -> [0.1, 1.1];  c1: (x + 1)/9 * 0.5 - 1 -> [-5/6, -7/6]
    const outA = zeros([2, 2]);
    be.run("batchNormInfer", { ...args, out: outA, variant: "authors" });
    expectClose("authors", await be.read(outA), [0.1, -0.8333333, 1.1, -1.1666667], 1e-6);
    // standard: c0: (x - 1)/2 * 2 + 0.1 -> [0.1, 2.1];  c1: (x + 1)/3 * 0.5 - 1 -> [-0.5, -1.5]
    const outS = zeros([2, 2]);
    be.run("batchNormInfer", { ...args, out: outS, variant: "standard" });
    expectClose("standard", await be.read(outS), [0.1, -0.5, 2.1, -1.5], 1e-6);
  });

  // x [4, 2]: channel 0 = [0, 0, 4, 4] (mean 2, biased var 4, std 2, unbiased var 16/3),
  //           channel 1 = [4, 2, 4, 2] (mean 3, biased var 1, std 1, unbiased var 4/3).
  // gamma [2, 0.5], beta [0.1, -1], eps 0.5, momentum 0.25, runningMean [0, 0], runningScale [1, 2].
  const trainX = [0, 4, 0, 2, 4, 4, 4, 2];
  const cases = [
    {
      variant: "authors" as const,
      // r = 1/(std + eps) = [1/2.5, 1/1.5]: c0 = +-2 * 0.4 * 2 + 0.1 = [-1.5, 1.7]; c1 = +-1 * (2/3) * 0.5 - 1 = [-2/3, -4/3]
      out: [-1.5, -0.6666667, -1.5, -1.3333333, 1.7, -0.6666667, 1.7, -1.3333333],
      // EMA of the std: scale = 1 + 0.25 (2 - 1) = 1.25, then 1.25 + 0.25 (2 - 1.25) = 1.4375
      //                         2 + 0.25 (1 - 2) = 1.75, then 1.75 + 0.25 (1 - 1.75) = 1.5625
      scale1: [1.25, 1.75],
      scale2: [1.4375, 1.5625],
    },
    {
      variant: "standard" as const,
      // r = 1/sqrt(var + eps) = [1/sqrt(4.5), 1/sqrt(1.5)]: c0 = +-4/sqrt(4.5) + 0.1 = [-1.7856181, 1.9856181];
      // c1 = +-0.5/sqrt(1.5) - 1 = [-0.5917517, -1.4082483]
      out: [-1.7856181, -0.5917517, -1.7856181, -1.4082483, 1.9856181, -0.5917517, 1.9856181, -1.4082483],
      // EMA of the unbiased variance: 1 + 0.25 (16/3 - 1) = 2.0833333, then 2.0833333 + 0.25 (16/3 - 2.0833333) = 2.8958333
      //                               2 + 0.25 (4/3 - 2) = 1.8333333,  then 1.8333333 + 0.25 (4/3 - 1.8333333) = 1.7083333
      scale1: [2.0833333, 1.8333333],
      scale2: [2.8958333, 1.7083333],
    },
  ];

  it.each(cases)(
    "batchNormTrain ($variant): output, saved statistics, running statistics over two calls",
    async (c) => {
      const { be, make, zeros } = setup();
      const out = zeros([4, 2]),
        mean = zeros([2]),
        variance = zeros([2]);
      const runningMean = make([2], [0, 0]),
        runningScale = make([2], [1, 2]);
      const args = {
        x: make([4, 2], trainX),
        gamma: make([2], [2, 0.5]),
        beta: make([2], [0.1, -1]),
        out,
        mean,
        variance,
        runningMean,
        runningScale,
        variant: c.variant,
        eps: 0.5,
        momentum: 0.25,
      };
      be.run("batchNormTrain", args);
      expectClose("out", await be.read(out), c.out, 1e-6);
      expectClose("saved mean", await be.read(mean), [2, 3], 1e-6);
      expectClose("saved (biased) variance", await be.read(variance), [4, 1], 1e-6);
      // runningMean: 0 + 0.25 (2 - 0) = 0.5, 0 + 0.25 (3 - 0) = 0.75
      expectClose("runningMean after 1 call", await be.read(runningMean), [0.5, 0.75], 1e-6);
      expectClose("runningScale after 1 call", await be.read(runningScale), c.scale1, 1e-6);
      be.run("batchNormTrain", args);
      // runningMean: 0.5 + 0.25 (2 - 0.5) = 0.875, 0.75 + 0.25 (3 - 0.75) = 1.3125
      expectClose("runningMean after 2 calls", await be.read(runningMean), [0.875, 1.3125], 1e-6);
      expectClose("runningScale after 2 calls", await be.read(runningScale), c.scale2, 1e-6);
    },
  );
});

describe("matmul accumulate", () => {
  it("[[1,2],[3,4]] . [[5,6],[7,8]] = [[19,22],[43,50]]; accumulate adds to out, otherwise overwrites", async () => {
    const { be, make } = setup();
    const a = make([2, 2], [1, 2, 3, 4]),
      b = make([2, 2], [5, 6, 7, 8]),
      out = make([2, 2], [1, 1, 1, 1]);
    be.run("matmul", { a, b, out, transA: false, transB: false, accumulate: true });
    expect(Array.from(await be.read(out))).toEqual([20, 23, 44, 51]);
    be.run("matmul", { a, b, out, transA: false, transB: false, accumulate: false });
    expect(Array.from(await be.read(out))).toEqual([19, 22, 43, 50]);
  });
});

describe("binaryMatmul", () => {
  it("[[1,2],[3,4]] . [[H,-H],[-H,H]] with H = 0.5, and wb^T; a wb that is not +-H is refused", async () => {
    const { be, make, zeros } = setup();
    const a = make([2, 2], [1, 2, 3, 4]),
      out = zeros([2, 2]);
    be.run("binaryMatmul", { a, wb: make([2, 2], [0.5, -0.5, -0.5, 0.5]), out, transB: false });
    expect(Array.from(await be.read(out))).toEqual([-0.5, 0.5, -0.5, 0.5]);
    // wb^T: b = [[H, H], [-H, H]] given as its transpose [[H, -H], [H, H]]
    be.run("binaryMatmul", { a, wb: make([2, 2], [0.5, -0.5, 0.5, 0.5]), out, transB: true });
    expect(Array.from(await be.read(out))).toEqual([-0.5, 1.5, -0.5, 3.5]);
    expect(() => be.run("binaryMatmul", { a, wb: make([2, 2], [0.5, -0.5, 0.25, 0.5]), out, transB: false })).toThrow(
      /wb must hold \+H and -H only \(one H > 0\), found 0.25 at 2 besides 0.5/,
    );
    expect(() => be.run("binaryMatmul", { a, wb: make([2, 2], [0, 0, 0, 0]), out, transB: false })).toThrow(
      BinaryConnectError,
    );
  });
});

describe("shape checks: a ShapeError naming the kernel and the shapes, before anything is written", () => {
  it("matmul: inner dimensions differ", async () => {
    const { be, zeros } = setup();
    const out = zeros([2, 5]);
    const run = () =>
      be.run("matmul", { a: zeros([2, 3]), b: zeros([4, 5]), out, transA: false, transB: false, accumulate: false });
    expect(run).toThrow(ShapeError);
    expect(run).toThrow(/^matmul: inner dimensions differ.*\[2, 3\].*\[4, 5\]/);
  });

  it("matmul: transposes are taken into account", () => {
    const { be, zeros } = setup();
    // a [3, 2] with transA is [2, 3]; b [5, 3] with transB is [3, 5]: valid, out [2, 5]
    const product = (transA: boolean) => () =>
      be.run("matmul", {
        a: zeros([3, 2]),
        b: zeros([5, 3]),
        out: zeros([2, 5]),
        transA,
        transB: true,
        accumulate: false,
      });
    expect(product(true)).not.toThrow();
    // the same tensors without transA: [3, 2] . [3, 5] is invalid
    expect(product(false)).toThrow(ShapeError);
  });

  const cases: [string, (be: ReferenceBackend, zeros: (s: Shape) => Tensor) => void, RegExp][] = [
    [
      "matmul out",
      (be, z) =>
        be.run("matmul", {
          a: z([2, 3]),
          b: z([3, 4]),
          out: z([4, 2]),
          transA: false,
          transB: false,
          accumulate: false,
        }),
      /^matmul: out must have shape \[2, 4\], found \[4, 2\]/,
    ],
    [
      "biasAdd bias",
      (be, z) => be.run("biasAdd", { x: z([2, 3]), bias: z([4]), out: z([2, 3]) }),
      /^biasAdd: bias must have shape \[3\], found \[4\]/,
    ],
    [
      "columnSum out",
      (be, z) => be.run("columnSum", { x: z([2, 3]), out: z([2]) }),
      /^columnSum: out must have shape \[3\], found \[2\]/,
    ],
    [
      "batchNormTrain gamma",
      (be, z) =>
        be.run("batchNormTrain", {
          x: z([4, 2]),
          gamma: z([3]),
          beta: z([2]),
          out: z([4, 2]),
          mean: z([2]),
          variance: z([2]),
          runningMean: z([2]),
          runningScale: z([2]),
          variant: "authors",
          eps: 1e-4,
          momentum: 0.1,
        }),
      /^batchNormTrain: gamma must have shape \[2\], found \[3\]/,
    ],
    [
      "batchNormBackward dx",
      (be, z) =>
        be.run("batchNormBackward", {
          x: z([4, 2]),
          dy: z([4, 2]),
          gamma: z([2]),
          mean: z([2]),
          variance: z([2]),
          dx: z([3, 2]),
          dgamma: z([2]),
          dbeta: z([2]),
          variant: "standard",
          eps: 1e-5,
        }),
      /^batchNormBackward: dx must have shape \[4, 2\] \(8 elements\), found \[3, 2\]/,
    ],
    ...(["missing", "wrong"] as const).map(
      (beta): [string, (be: ReferenceBackend, zeros: (s: Shape) => Tensor) => void, RegExp] => [
        `batchNormBackward with relu, beta ${beta}`,
        (be, z) =>
          be.run("batchNormBackward", {
            x: z([4, 2]),
            dy: z([4, 2]),
            gamma: z([2]),
            mean: z([2]),
            variance: z([2]),
            dx: z([4, 2]),
            dgamma: z([2]),
            dbeta: z([2]),
            variant: "standard",
            eps: 1e-5,
            relu: true,
            ...(beta === "wrong" ? { beta: z([3]) } : {}),
          }),
        beta === "wrong"
          ? /^batchNormBackward: beta must have shape \[2\], found \[3\]/
          : /^batchNormBackward: beta \(with relu\) must be given, found none/,
      ],
    ),
    [
      "squareHingeLoss labels",
      (be, z) => be.run("squareHingeLoss", { logits: z([2, 3]), labels: z([3]), grad: null, metrics: z([2]) }),
      /^squareHingeLoss: labels must have shape \[2\], found \[3\]/,
    ],
    [
      "adam m",
      (be, z) =>
        be.run(
          "adam",
          adamArgs({ param: z([3]), grad: z([3]), m: z([4]), v: z([3]) }, { lr: 1e-3, t: 1, lrScale: 1, clip: 0 }),
        ),
      /^adam: m must have shape \[3\] \(3 elements\), found \[4\]/,
    ],
    [
      "multiply b",
      (be, z) => be.run("multiply", { a: z([2, 2]), b: z([5]), out: z([2, 2]) }),
      /^multiply: b must have shape \[2, 2\] \(4 elements\), found \[5\]/,
    ],
  ];

  it.each(cases)("%s", (_name, run, message) => {
    const { be, zeros } = setup();
    const call = () => run(be, zeros);
    expect(call).toThrow(ShapeError);
    expect(call).toThrow(message);
  });

  it("rejects bad attributes too: binarize H <= 0, dropout p = 1, adam t = 0", () => {
    const { be, zeros } = setup();
    const w = zeros([4]),
      out = zeros([4]);
    expect(() => be.run("binarize", { w, out, mode: "det", H: 0, key: 0 })).toThrow(BinaryConnectError);
    expect(() => be.run("binarize", { w, out, mode: "det", H: 0, key: 0 })).toThrow(
      /^binarize: H must be > 0, found 0/,
    );
    expect(() => be.run("dropout", { x: w, out, mask: zeros([4]), p: 1, key: 0 })).toThrow(
      /^dropout: p must be in \[0, 1\), found 1/,
    );
    const p = zeros([2]);
    expect(() =>
      be.run(
        "adam",
        adamArgs({ param: p, grad: zeros([2]), m: zeros([2]), v: zeros([2]) }, { lr: 1e-3, t: 0, lrScale: 1, clip: 0 }),
      ),
    ).toThrow(/^adam: step t must be an integer >= 1, found 0/);
  });

  it("a rejected call writes nothing", async () => {
    const { be, make, zeros } = setup();
    const out = make([2, 5], new Float32Array(10).fill(7));
    expect(() =>
      be.run("matmul", {
        a: make([2, 3], [1, 1, 1, 1, 1, 1]),
        b: zeros([4, 5]),
        out,
        transA: false,
        transB: false,
        accumulate: false,
      }),
    ).toThrow(ShapeError);
    expect(Array.from(await be.read(out))).toEqual(new Array(10).fill(7));
  });
});
