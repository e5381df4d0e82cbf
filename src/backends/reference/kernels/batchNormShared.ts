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

/**
 * sum_m term(m C + c): a sum over the M rows of channel c of an [M, C] array (given the flat
 * index of each row's element), in row order, each addition rounded to float32
 * (batchNormTrain, batchNormBackward).
 */
export function channelSum32(M: number, C: number, c: number, term: (i: number) => number): number {
  let s = 0;
  for (let m = 0; m < M; m++) s = f(s + term(m * C + c));
  return s;
}

/** batchNormTrain's out before any ReLU: (x - mean) r gamma + beta, each operation rounded to float32 (train, and backward's mask with relu). */
export function normalized(x: number, mean: number, r: number, gamma: number, beta: number): number {
  return f(f(f(f(x - mean) * r) * gamma) + beta);
}
