import { elementwiseMain } from "./common.js";

/**
 * batchNormInfer: out = (x - runningMean) r gamma + beta, per channel c = i mod C, with
 * r = 1 / (runningScale + eps) (authors: runningScale is a std) or 1 / sqrt(runningScale + eps)
 * (standard: a variance). Float32 (the reference: float64).
 */
export const batchNormInferWgsl = (): string =>
  elementwiseMain(`  let c = i % P.C;
  let s = runningScale[c];
  let r = select(1.0 / sqrt(s + P.eps), 1.0 / (s + P.eps), P.authors != 0u);
  out[i] = (x[i] - runningMean[c]) * r * gamma[c] + beta[c];`);
