import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";
import { channelSum32, invStd32, normalized } from "./batchNormShared.js";

const f = Math.fround;

/**
 * Batch norm, training mode: batch statistics, normalize, update the running statistics
 * (formulas in the contract). In float32 like the authors' Theano code (floatX = float32): every
 * operation is one float32 operation (a float64 operation on float32 values rounded with
 * Math.fround: the same result), sums in row order, no fused multiply-adds. Fast backends match
 * it bit for bit. With `relu`, out = max(out, 0) as the relu kernel: NaN stays NaN, -0 becomes +0.
 */
export function batchNormTrain(be: ReferenceBackend, args: KernelArgs["batchNormTrain"]): void {
  const { variant } = args;
  const momentum = f(args.momentum);
  const { x: X, out: Y, gamma, beta, mean, variance, runningMean: rMean, runningScale: rScale } = be.buffersOf(args);
  const C = gamma.length,
    M = X.length / C;
  for (let c = 0; c < C; c++) {
    const mu = f(channelSum32(M, C, c, (i) => X[i]) / M);
    const v = f(channelSum32(M, C, c, (i) => f(f(X[i] - mu) * f(X[i] - mu))) / M);
    const r = invStd32(variant, v, args.eps);
    for (let m = 0; m < M; m++) {
      const y = normalized(X[m * C + c], mu, r, gamma[c], beta[c]);
      Y[m * C + c] = args.relu && y <= 0 ? 0 : y;
    }
    mean[c] = mu;
    variance[c] = v;
    rMean[c] = f(rMean[c] + f(momentum * f(mu - rMean[c])));
    const scale = variant === "authors" ? f(Math.sqrt(v)) : M > 1 ? f(f(v * M) / (M - 1)) : v;
    rScale[c] = f(rScale[c] + f(momentum * f(scale - rScale[c])));
  }
}
