import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";
import { invStd } from "./batchNormShared.js";

/** Batch norm, training mode: batch statistics, normalize, update the running statistics. */
export function batchNormTrain(be: ReferenceBackend, args: KernelArgs["batchNormTrain"]): void {
  const { variant, eps, momentum } = args;
  const X = be.data(args.x), Y = be.data(args.out);
  const gamma = be.data(args.gamma), beta = be.data(args.beta);
  const mean = be.data(args.mean), variance = be.data(args.variance);
  const rMean = be.data(args.runningMean), rScale = be.data(args.runningScale);
  const C = gamma.length, M = X.length / C;
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let m = 0; m < M; m++) s += X[m * C + c];
    const mu = s / M;
    let q = 0;
    for (let m = 0; m < M; m++) q += (X[m * C + c] - mu) ** 2;
    const v = q / M;
    const r = invStd(variant, v, eps);
    for (let m = 0; m < M; m++) Y[m * C + c] = (X[m * C + c] - mu) * r * gamma[c] + beta[c];
    mean[c] = mu;
    variance[c] = v;
    rMean[c] += momentum * (mu - rMean[c]);
    const scale = variant === "authors" ? Math.sqrt(v) : M > 1 ? (v * M) / (M - 1) : v;
    rScale[c] += momentum * (scale - rScale[c]);
  }
}
