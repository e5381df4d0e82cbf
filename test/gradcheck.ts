/**
 * Finite-difference gradient checking on the reference backend (used by
 * test/reference-gradcheck.test.ts and test/reference-conv-gradcheck.test.ts; the method and
 * its precision are explained at the top of the former).
 */
import { expect } from "vitest";
import { tensorFrom } from "../src/backends/backend.js";
import { ReferenceBackend } from "../src/backends/reference/index.js";
import type { Xoshiro128 } from "../src/core/rng.js";
import type { Shape, Tensor } from "../src/core/tensor.js";
import type { BatchNormVariant, KernelArgs } from "../src/kernels/contract.js";

export const H_STEP = 1e-2;
export const ATOL = 5e-4;
export const RTOL = 5e-4;

/**
 * Central differences of f at x, in float64: g[i] = (f(x + h e_i) - f(x - h e_i)) / (x+ - x-),
 * where x+ and x- are the perturbed values as stored in float32. x is restored afterwards.
 */
export function numericGradient(x: Float32Array, f: (x: Float32Array) => number, h = H_STEP): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const orig = x[i];
    x[i] = orig + h;
    const xPlus = x[i];
    const fPlus = f(x);
    x[i] = orig - h;
    const xMinus = x[i];
    const fMinus = f(x);
    x[i] = orig;
    g[i] = (fPlus - fMinus) / (xPlus - xMinus);
  }
  return g;
}

/**
 * Asserts analytic ~ numeric elementwise (ATOL + RTOL |numeric|), listing every offending
 * index. Also asserts the numeric gradient is not negligible, so that the check cannot pass
 * because both sides are zero.
 */
export function expectGradientsClose(what: string, analytic: ArrayLike<number>, numeric: Float64Array): void {
  expect(analytic.length, `${what}: length`).toBe(numeric.length);
  const bad: string[] = [];
  for (let i = 0; i < numeric.length; i++) {
    const err = Math.abs(analytic[i] - numeric[i]);
    if (!(err <= ATOL + RTOL * Math.abs(numeric[i]))) bad.push(`[${i}] analytic ${analytic[i]} numeric ${numeric[i]}`);
  }
  expect(bad, `${what}: entries outside ${ATOL} + ${RTOL}|numeric|`).toEqual([]);
  expect(Math.max(...Array.from(numeric, Math.abs)), `${what}: numeric gradient is all ~0`).toBeGreaterThan(0.05);
}

/** sum(g * y) in float64. */
export function dot(g: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i] * y[i];
  return s;
}

export function randomArray(rng: Xoshiro128, n: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
}

/** Random values with |v| in [minAbs, maxAbs] (away from a kink at 0). */
export function randomAwayFromZero(rng: Xoshiro128, n: number, minAbs: number, maxAbs: number): Float32Array {
  return Float32Array.from({ length: n }, () => (rng.next() < 0.5 ? -1 : 1) * rng.uniform(minAbs, maxAbs));
}

/** A fresh backend and helpers to make tensors and to read one synchronously. */
export function setup() {
  const be = new ReferenceBackend();
  return {
    be,
    make: (shape: Shape, data: ArrayLike<number>): Tensor => tensorFrom(be, shape, data),
    zeros: (shape: Shape): Tensor => be.alloc(shape),
    /** A copy of the tensor's values. */
    get: (t: Tensor): Float32Array => be.data(t).slice(),
    /**
     * The objective sum(g * out) of a forward call, for numericGradient: uploads each input's
     * values (numericGradient perturbs them in place), runs `forward`, and dots `g` with `out`.
     */
    weightedSum:
      (g: ArrayLike<number>, out: Tensor, forward: () => void, ...inputs: [Tensor, Float32Array][]) =>
      (): number => {
        for (const [t, values] of inputs) be.upload(t, values);
        forward();
        return dot(g, be.data(out));
      },
  };
}

/**
 * Checks batchNormBackward against finite differences of sum(dy * batchNormTrain(x)) on x,
 * gamma and beta (per channel: the last axis of `shape`); with `relu`, of the kernels' fused
 * ReLU (batchNormTrain's out = max(., 0) and its gradient). Returns the mean the forward saved.
 */
export function checkBatchNormGradients(opts: {
  shape: Shape;
  x: Float32Array;
  gamma: Float32Array;
  beta: Float32Array;
  dy: Float32Array;
  variant: BatchNormVariant;
  eps: number;
  relu?: boolean;
}): Float32Array {
  const { be, make, zeros, get, weightedSum } = setup();
  const relu = opts.relu ?? false;
  const C = opts.shape[opts.shape.length - 1];
  const x = make(opts.shape, opts.x),
    gamma = make([C], opts.gamma),
    beta = make([C], opts.beta),
    dy = make(opts.shape, opts.dy);
  const dx = zeros(opts.shape);
  const [dgamma, dbeta] = [zeros([C]), zeros([C])];
  const { variant, eps } = opts;
  const train = batchNormTrainArgs(zeros, { x, gamma, beta }, variant, eps, relu);
  const { out, mean, variance } = train;
  const objective = weightedSum(
    opts.dy,
    out,
    () => be.run("batchNormTrain", train),
    [x, opts.x],
    [gamma, opts.gamma],
    [beta, opts.beta],
  );
  objective(); // saves mean and variance at the unperturbed point
  const savedMean = get(mean);
  be.run("batchNormBackward", { x, dy, gamma, mean, variance, dx, dgamma, dbeta, variant, eps, relu, beta });
  const [dxData, dgammaData, dbetaData] = [get(dx), get(dgamma), get(dbeta)];
  expectGradientsClose("dx", dxData, numericGradient(opts.x, objective));
  expectGradientsClose("dgamma", dgammaData, numericGradient(opts.gamma, objective));
  expectGradientsClose("dbeta", dbetaData, numericGradient(opts.beta, objective));
  return savedMean;
}

/** batchNormTrain's out (no ReLU) on the reference backend: where a fused ReLU's kink falls. */
export function batchNormOut(
  shape: Shape,
  x: Float32Array,
  gammaData: Float32Array,
  betaData: Float32Array,
  variant: BatchNormVariant,
  eps: number,
): Float32Array {
  const { be, make, zeros, get } = setup();
  const C = shape[shape.length - 1];
  const train = batchNormTrainArgs(
    zeros,
    { x: make(shape, x), gamma: make([C], gammaData), beta: make([C], betaData) },
    variant,
    eps,
    false,
  );
  be.run("batchNormTrain", train);
  const { out } = train;
  return get(out);
}

/** batchNormTrain's arguments for x, gamma and beta: new zero tensors for the rest, momentum 0.1. */
function batchNormTrainArgs(
  zeros: (shape: Shape) => Tensor,
  t: { x: Tensor; gamma: Tensor; beta: Tensor },
  variant: BatchNormVariant,
  eps: number,
  relu: boolean,
): KernelArgs["batchNormTrain"] {
  const C = t.gamma.size;
  const [mean, variance, runningMean, runningScale] = Array.from({ length: 4 }, () => zeros([C]));
  return { ...t, out: zeros(t.x.shape), mean, variance, runningMean, runningScale, variant, eps, momentum: 0.1, relu };
}
