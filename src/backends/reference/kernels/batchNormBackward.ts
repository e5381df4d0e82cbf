import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";
import { invStd } from "./batchNormShared.js";

/** Gradient of batchNormTrain with respect to x, gamma and beta (formulas in the contract). */
export function batchNormBackward(be: ReferenceBackend, args: KernelArgs["batchNormBackward"]): void {
  const X = be.data(args.x), dY = be.data(args.dy), dX = be.data(args.dx);
  const gamma = be.data(args.gamma), mean = be.data(args.mean), variance = be.data(args.variance);
  const dgamma = be.data(args.dgamma), dbeta = be.data(args.dbeta);
  const C = gamma.length, M = X.length / C;
  for (let c = 0; c < C; c++) {
    const r = invStd(args.variant, variance[c], args.eps);
    let sumDy = 0, sumDyXhat = 0;
    for (let m = 0; m < M; m++) {
      const i = m * C + c;
      sumDy += dY[i];
      sumDyXhat += dY[i] * (X[i] - mean[c]) * r;
    }
    dbeta[c] = sumDy;
    dgamma[c] = sumDyXhat;
    const meanG = (gamma[c] * sumDy) / M, meanGXhat = (gamma[c] * sumDyXhat) / M;
    const s = Math.sqrt(variance[c]);
    // coefficient of xhat: r (standard) or 1/s (authors; 0 when s = 0, where xhat = 0 anyway)
    const k = args.variant === "standard" ? r * meanGXhat : s > 0 ? meanGXhat / s : 0;
    for (let m = 0; m < M; m++) {
      const i = m * C + c;
      const xhat = (X[i] - mean[c]) * r;
      dX[i] = r * (gamma[c] * dY[i] - meanG) - xhat * k;
    }
  }
}
