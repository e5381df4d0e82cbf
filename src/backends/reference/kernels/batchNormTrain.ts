import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";
import { invStd32 } from "./batchNormShared.js";

const f = Math.fround;

/**
 * Batch norm, training mode: batch statistics, normalize, update the running statistics
 * (formulas in the contract). In float32 like the authors' Theano code (floatX = float32): every
 * operation is one float32 operation (a float64 operation on float32 values rounded with
 * Math.fround: the same result), sums in row order, no fused multiply-adds. Fast backends match
 * it bit for bit.
 */
export function batchNormTrain(be: ReferenceBackend, args: KernelArgs["batchNormTrain"]): void {
  const { variant } = args;
  const momentum = f(args.momentum);
  const X = be.data(args.x),
    Y = be.data(args.out);
  const gamma = be.data(args.gamma),
    beta = be.data(args.beta);
  const mean = be.data(args.mean),
    variance = be.data(args.variance);
  const rMean = be.data(args.runningMean),
    rScale = be.data(args.runningScale);
  const C = gamma.length,
    M = X.length / C;
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let m = 0; m < M; m++) s = f(s + X[m * C + c]);
    const mu = f(s / M);
    let q = 0;
    for (let m = 0; m < M; m++) {
      const d = f(X[m * C + c] - mu);
      q = f(q + f(d * d));
    }
    const v = f(q / M);
    const r = invStd32(variant, v, args.eps);
    for (let m = 0; m < M; m++) Y[m * C + c] = f(f(f(f(X[m * C + c] - mu) * r) * gamma[c]) + beta[c]);
    mean[c] = mu;
    variance[c] = v;
    rMean[c] = f(rMean[c] + f(momentum * f(mu - rMean[c])));
    const scale = variant === "authors" ? f(Math.sqrt(v)) : M > 1 ? f(f(v * M) / (M - 1)) : v;
    rScale[c] = f(rScale[c] + f(momentum * f(scale - rScale[c])));
  }
}
