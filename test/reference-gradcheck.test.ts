/**
 * Finite-difference gradient checks of the reference backend (the specification).
 *
 * Every backward kernel is checked against central differences of a scalar objective built
 * from the forward kernel: for a forward y = f(x) and a random upstream gradient G, the
 * objective is L(x) = sum(G * f(x)) (accumulated in float64), and the backward kernel's output
 * must equal dL/dx. For the loss, the objective is the loss itself.
 *
 * Precision: the reference stores float32, so
 *  - the step is h = 1e-2 and the divisor is the step actually taken in float32,
 *    fround(x + h) - fround(x - h), not 2h (so rounding the perturbed input costs nothing);
 *  - the remaining error is the float32 rounding of the forward outputs, about
 *    2^-24 * sqrt(#outputs) * |G| |y| / 2h ~ 1e-5 here, plus the O(h^2) truncation error of
 *    the nonlinear kernels (batch norm).
 * Measured worst error at these seeds: 6e-6 (matmul), 5e-5 (batch norm dx), 5e-6 (hinge).
 * Tolerance: |analytic - numeric| <= ATOL + RTOL |numeric| with ATOL = RTOL = 5e-4: about 10x
 * above the measured error, and far below what a wrong formula produces (a wrong sign, a
 * missing term, or the other batch-norm variant's formula at eps = 0.5 give errors of 1e-2..1).
 */
import { describe, expect, it } from "vitest";
import { Xoshiro128 } from "../src/core/rng.js";
import type { Tensor } from "../src/core/tensor.js";
import type { BatchNormVariant } from "../src/kernels/contract.js";
import {
  batchNormOut,
  checkBatchNormGradients,
  expectGradientsClose,
  numericGradient,
  randomArray,
  randomAwayFromZero,
  setup,
} from "./gradcheck.js";

describe("matmul: gradients of sum(G * op(A).op(B)) are products of the other forms", () => {
  const M = 3,
    K = 4,
    N = 5;
  // For each form, the shapes of a and b, and how the kernel computes dA and dB from G [M,N]:
  //   A.B:      dA = G.B^T           dB = A^T.G
  //   A.B^T:    dA = G.B             dB = G^T.A
  //   A^T.B:    dA = B.G^T           dB = A.G
  //   A^T.B^T:  dA = B^T.G^T         dB = G^T.A^T
  type Operand = "G" | "A" | "B";
  /** op(a).op(b) of two of G, A and B. */
  type Product = { a: Operand; b: Operand; transA: boolean; transB: boolean };
  type Form = {
    transA: boolean;
    transB: boolean;
    aShape: [number, number];
    bShape: [number, number];
    dA: Product;
    dB: Product;
  };
  const product = (a: Operand, transA: boolean, b: Operand, transB: boolean): Product => ({ a, b, transA, transB });
  /** The form op(A).op(B) (A is [M, K], or [K, M] transposed; B is [K, N], or [N, K]) and its gradients' products. */
  const formOf = (transA: boolean, transB: boolean, dA: Product, dB: Product): Form => ({
    transA,
    transB,
    aShape: transA ? [K, M] : [M, K],
    bShape: transB ? [N, K] : [K, N],
    dA,
    dB,
  });
  const forms: Record<string, Form> = {
    "A.B": formOf(false, false, product("G", false, "B", true), product("A", true, "G", false)),
    "A.B^T": formOf(false, true, product("G", false, "B", false), product("G", true, "A", false)),
    "A^T.B": formOf(true, false, product("B", false, "G", true), product("A", false, "G", false)),
    "A^T.B^T": formOf(true, true, product("B", true, "G", true), product("G", true, "A", true)),
  };

  it.each(Object.keys(forms))("%s", (formName) => {
    const form = forms[formName];
    const rng = new Xoshiro128(101);
    const { be, make, zeros, get, weightedSum } = setup();
    const aData = randomArray(rng, M * K),
      bData = randomArray(rng, K * N),
      gData = randomArray(rng, M * N);
    const a = make(form.aShape, aData),
      b = make(form.bShape, bData),
      g = make([M, N], gData);
    const out = zeros([M, N]);
    const objective = weightedSum(
      gData,
      out,
      () => be.run("matmul", { a, b, out, transA: form.transA, transB: form.transB, accumulate: false }),
      [a, aData],
      [b, bData],
    );
    const byName = { G: g, A: a, B: b };
    const dA = zeros(form.aShape),
      dB = zeros(form.bShape);
    const run = (p: Product, out: Tensor) =>
      be.run("matmul", { a: byName[p.a], b: byName[p.b], out, transA: p.transA, transB: p.transB, accumulate: false });
    objective();
    run(form.dA, dA);
    run(form.dB, dB);
    const dAData = get(dA),
      dBData = get(dB);
    expectGradientsClose(`${formName}: dA`, dAData, numericGradient(aData, objective));
    expectGradientsClose(`${formName}: dB`, dBData, numericGradient(bData, objective));
  });
});

describe("biasAdd / columnSum", () => {
  it("d sum(G * (x + bias)) / dbias = columnSum(G), / dx = G", () => {
    const M = 4,
      N = 3;
    const rng = new Xoshiro128(202);
    const { be, make, zeros, get, weightedSum } = setup();
    const xData = randomArray(rng, M * N),
      biasData = randomArray(rng, N),
      gData = randomArray(rng, M * N);
    const x = make([M, N], xData),
      bias = make([N], biasData),
      out = zeros([M, N]),
      g = make([M, N], gData);
    const objective = weightedSum(gData, out, () => be.run("biasAdd", { x, bias, out }), [x, xData], [bias, biasData]);
    const dBias = zeros([N]);
    be.run("columnSum", { x: g, out: dBias });
    expectGradientsClose("dbias", get(dBias), numericGradient(biasData, objective));
    expectGradientsClose("dx", gData, numericGradient(xData, objective));
  });
});

describe("batchNormTrain / batchNormBackward", () => {
  const M = 6,
    C = 3;
  // eps = 0.5 makes the variants' formulas differ by O(1), so using one variant's derivative
  // for the other, or misplacing eps, fails; the small eps values are those of the presets.
  const cases: [BatchNormVariant, number][] = [
    ["authors", 1e-4],
    ["authors", 0.5],
    ["standard", 1e-5],
    ["standard", 0.5],
  ];

  it.each(cases)("%s, eps %s: dx, dgamma, dbeta of sum(dy * out)", (variant, eps) => {
    const rng = new Xoshiro128(303);
    // per-channel offsets and spreads so that the channels differ
    const xData = Float32Array.from({ length: M * C }, (_, i) => (i % C) - 1 + (1 + (i % C)) * rng.uniform(-1, 1));
    const gammaData = randomAwayFromZero(rng, C, 0.5, 1.5),
      betaData = randomArray(rng, C);
    const dyData = randomArray(rng, M * C);
    checkBatchNormGradients({ shape: [M, C], x: xData, gamma: gammaData, beta: betaData, dy: dyData, variant, eps });
  });

  it.each(cases)("%s, eps %s, with the fused ReLU: dx, dgamma, dbeta of sum(dy * max(out, 0))", (variant, eps) => {
    const rng = new Xoshiro128(305);
    const xData = Float32Array.from({ length: M * C }, (_, i) => (i % C) - 1 + (1 + (i % C)) * rng.uniform(-1, 1));
    const gammaData = randomAwayFromZero(rng, C, 0.5, 1.5),
      betaData = Float32Array.from({ length: C }, () => rng.uniform(-0.5, 0.5));
    const dyData = randomArray(rng, M * C);
    const shape = [M, C];
    // the normalized values away from the ReLU's kink (finite differences across it would mislead), both signs present
    const y = batchNormOut(shape, xData, gammaData, betaData, variant, eps);
    expect(Math.min(...y.map(Math.abs))).toBeGreaterThan(0.05);
    expect(y.some((v) => v < 0) && y.some((v) => v > 0)).toBe(true);
    checkBatchNormGradients({
      shape,
      x: xData,
      gamma: gammaData,
      beta: betaData,
      dy: dyData,
      variant,
      eps,
      relu: true,
    });
  });
});

describe("relu / reluBackward", () => {
  it("d sum(dy * relu(x)) / dx = reluBackward(x, dy), inputs away from 0", () => {
    const n = 24;
    const rng = new Xoshiro128(404);
    const { be, make, zeros, get, weightedSum } = setup();
    const xData = randomAwayFromZero(rng, n, 0.1, 1),
      dyData = randomArray(rng, n);
    const x = make([n], xData),
      dy = make([n], dyData),
      out = zeros([n]),
      dx = zeros([n]);
    const objective = weightedSum(dyData, out, () => be.run("relu", { x, out }), [x, xData]);
    be.run("reluBackward", { x, dy, dx });
    const numeric = numericGradient(xData, objective);
    expectGradientsClose("dx", get(dx), numeric);
    // both branches are exercised
    expect(xData.some((v) => v < 0) && xData.some((v) => v > 0)).toBe(true);
  });
});

describe("dropout / multiply", () => {
  it("d sum(dy * dropout(x)) / dx = multiply(dy, mask)", () => {
    const n = 32;
    const rng = new Xoshiro128(505);
    const { be, make, zeros, get, weightedSum } = setup();
    const xData = randomArray(rng, n),
      dyData = randomArray(rng, n);
    const x = make([n], xData),
      dy = make([n], dyData),
      out = zeros([n]),
      mask = zeros([n]),
      dx = zeros([n]);
    const forward = () => be.run("dropout", { x, out, mask, p: 0.5, key: 12345 }); // same key: same mask every call
    const objective = weightedSum(dyData, out, forward, [x, xData]);
    objective();
    const maskData = get(mask);
    be.run("multiply", { a: dy, b: mask, out: dx });
    expectGradientsClose("dx", get(dx), numericGradient(xData, objective));
    // both kept and dropped elements are exercised
    expect(maskData.some((v) => v === 0) && maskData.some((v) => v > 0)).toBe(true);
  });

  it("d sum(g * a * b) / da = multiply(g, b), / db = multiply(g, a)", () => {
    const n = 16;
    const rng = new Xoshiro128(606);
    const { be, make, zeros, get, weightedSum } = setup();
    const aData = randomArray(rng, n),
      bData = randomArray(rng, n),
      gData = randomArray(rng, n);
    const a = make([n], aData),
      b = make([n], bData),
      g = make([n], gData),
      out = zeros([n]);
    const objective = weightedSum(gData, out, () => be.run("multiply", { a, b, out }), [a, aData], [b, bData]);
    const da = zeros([n]),
      db = zeros([n]);
    be.run("multiply", { a: g, b, out: da });
    be.run("multiply", { a: g, b: a, out: db });
    expectGradientsClose("da", get(da), numericGradient(aData, objective));
    expectGradientsClose("db", get(db), numericGradient(bData, objective));
  });
});

describe("squareHingeLoss", () => {
  it("grad = d loss / d logits, loss = metrics[0] / M after one call on zeroed metrics", () => {
    const M = 4,
      K = 5;
    const rng = new Xoshiro128(707);
    const { be, make, zeros, get } = setup();
    // logits in [-2, 2], at least 0.05 away from the hinge's kink at t*y = 1, i.e. |y| = 1
    const yData = Float32Array.from({ length: M * K }, () => {
      for (;;) {
        const y = rng.uniform(-2, 2);
        if (Math.abs(Math.abs(y) - 1) > 0.05) return y;
      }
    });
    const labelData = Float32Array.from({ length: M }, () => Math.floor(rng.next() * K));
    const logits = make([M, K], yData),
      labels = make([M], labelData),
      metrics = zeros([2]),
      grad = zeros([M, K]);
    const objective = (): number => {
      be.upload(logits, yData);
      be.run("fill", { out: metrics, value: 0 });
      be.run("squareHingeLoss", { logits, labels, grad: null, metrics });
      return be.data(metrics)[0] / M;
    };
    be.run("squareHingeLoss", { logits, labels, grad, metrics });
    expectGradientsClose("dlogits", get(grad), numericGradient(yData, objective));
  });
});
