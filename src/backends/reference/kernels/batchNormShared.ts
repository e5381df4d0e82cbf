import type { BatchNormVariant } from "../../../kernels/contract.js";

/** r = 1/(sqrt(var) + eps) (authors) or 1/sqrt(var + eps) (standard). */
export function invStd(variant: BatchNormVariant, variance: number, eps: number): number {
  return variant === "authors" ? 1 / (Math.sqrt(variance) + eps) : 1 / Math.sqrt(variance + eps);
}
