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
 * Rows per block of the batch-norm statistics' sums (channelSum32): the sums run in row order
 * within each block of BN_BLOCK_ROWS rows, and the blocks' sums are added in block order, so a
 * backend can sum the blocks on several threads and get the same bits. Batches of at most this
 * many rows (the MLP's 200) sum in plain row order.
 */
export const BN_BLOCK_ROWS = 256;

/**
 * sum_m term(m C + c): a sum over the M rows of channel c of an [M, C] array (given the flat
 * index of each row's element), each addition rounded to float32 (batchNormTrain,
 * batchNormBackward): in row order within each block of BN_BLOCK_ROWS rows (from 0), then the
 * blocks' sums in block order (from the first block's):
 *   s = p_0 + p_1 + ... + p_{B-1},  p_b = 0 + term(b R) + term(b R + 1) + ...  (R = BN_BLOCK_ROWS)
 */
export function channelSum32(M: number, C: number, c: number, term: (i: number) => number): number {
  let s = 0;
  for (let m0 = 0; m0 < M; m0 += BN_BLOCK_ROWS) {
    let p = 0;
    for (let m = m0; m < Math.min(M, m0 + BN_BLOCK_ROWS); m++) p = f(p + term(m * C + c));
    s = m0 === 0 ? p : f(s + p);
  }
  return s;
}
