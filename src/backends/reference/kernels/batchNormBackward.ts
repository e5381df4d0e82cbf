import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";
import { channelSum32, invStd32, normalized } from "./batchNormShared.js";

const f = Math.fround;

/**
 * Gradient of batchNormTrain with respect to x, gamma and beta (formulas in the contract), in
 * float32 as batchNormTrain: one float32 operation at a time, sums in row order. With `relu`,
 * dy masked first as reluBackward would after batchNormTrain's ReLU (the normalized value
 * recomputed by batchNormTrain's operations).
 */
export function batchNormBackward(be: ReferenceBackend, args: KernelArgs["batchNormBackward"]): void {
  const { x: X, dy: rawDy, dx: dX, gamma, mean, variance, dgamma, dbeta } = be.buffersOf(args);
  const beta = args.relu && args.beta ? be.data(args.beta) : null;
  const C = gamma.length,
    M = X.length / C;
  const dY = beta ? new Float32Array(rawDy.length) : rawDy;
  for (let c = 0; c < C; c++) {
    const r = invStd32(args.variant, variance[c], args.eps);
    if (beta)
      for (let m = 0; m < M; m++) {
        const i = m * C + c;
        dY[i] = normalized(X[i], mean[c], r, gamma[c], beta[c]) > 0 ? rawDy[i] : 0;
      }
    const sumDy = channelSum32(M, C, c, (i) => dY[i]);
    const sumDyXhat = channelSum32(M, C, c, (i) => f(f(dY[i] * f(X[i] - mean[c])) * r));
    dbeta[c] = sumDy;
    dgamma[c] = sumDyXhat;
    const meanG = f(f(gamma[c] * sumDy) / M),
      meanGXhat = f(f(gamma[c] * sumDyXhat) / M);
    const s = f(Math.sqrt(variance[c]));
    // coefficient of xhat: r (standard) or 1/s (authors; 0 when s = 0, where xhat = 0 anyway)
    const k = args.variant === "standard" ? f(r * meanGXhat) : s > 0 ? f(meanGXhat / s) : 0;
    for (let m = 0; m < M; m++) {
      const i = m * C + c;
      const xhat = f(f(X[i] - mean[c]) * r);
      dX[i] = f(f(r * f(f(gamma[c] * dY[i]) - meanG)) - f(xhat * k));
    }
  }
}
