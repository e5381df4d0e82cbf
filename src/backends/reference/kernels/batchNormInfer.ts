import type { KernelArgs } from "../../../kernels/contract.js";
import type { ReferenceBackend } from "../index.js";

/** Batch norm, inference mode, with the running statistics. */
export function batchNormInfer(be: ReferenceBackend, args: KernelArgs["batchNormInfer"]): void {
  const { x: X, out: Y, gamma, beta, runningMean: rMean, runningScale: rScale } = be.buffersOf(args);
  const C = gamma.length;
  for (let i = 0; i < X.length; i++) {
    const c = i % C;
    const r = args.variant === "authors" ? 1 / (rScale[c] + args.eps) : 1 / Math.sqrt(rScale[c] + args.eps);
    Y[i] = (X[i] - rMean[c]) * r * gamma[c] + beta[c];
  }
}
