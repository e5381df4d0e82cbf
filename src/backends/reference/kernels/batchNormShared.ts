import type { BatchNormVariant } from "../../../kernels/contract.js";

const f = Math.fround;

/**
 * r = 1/(sqrt(var) + eps) (authors) or 1/sqrt(var + eps) (standard), in float32: every
 * operation rounded to float32 (batchNormTrain, batchNormBackward).
 */
export function invStd32(variant: BatchNormVariant, variance: number, eps: number): number {
  const e = f(eps);
  return variant === "authors" ? f(1 / f(f(Math.sqrt(variance)) + e)) : f(1 / f(Math.sqrt(f(variance + e))));
}
