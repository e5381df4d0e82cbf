/** Helpers shared by the batch-norm kernels (as src/backends/reference/kernels/batchNormShared.ts). */

// The phases of batchNormTrain and batchNormBackward (the host, src/backends/wasm/kernels/batchNorm.ts, chooses).

/** Statistics and output for channels [start, end): each thread streams every row, reading its channels. */
export const BN_CHANNELS = 0;
/** The statistics only (mean, variance, the running averages; batchNormBackward: dbeta, dgamma), channels [start, end). */
export const BN_STATS = 1;
/** The output only, rows [start, end) of every channel, from the statistics BN_STATS wrote: each thread writes whole rows. */
export const BN_ROWS = 2;

/**
 * The scratch layout of the per-channel kernels: `count` float64 arrays, each holding the
 * channels [c0, c1). Returns the base of array `k`, offset so that base + 8c is channel c.
 */
@inline export function channelArray(scratch: usize, k: i32, c0: i32, c1: i32): usize {
  return scratch + <usize>k * (<usize>(c1 - c0) << 3) - (<usize>c0 << 3);
}

/** r = 1/(sqrt(var) + eps) (authors) or 1/sqrt(var + eps) (standard), each operation in float32 (as the reference). */
@inline export function invStd32(authors: bool, variance: f32, eps: f32): f32 {
  return authors ? <f32>1 / (Mathf.sqrt(variance) + eps) : <f32>1 / Mathf.sqrt(variance + eps);
}

/** As channelArray for float32 arrays: base + 4c is channel c. */
@inline export function channelArray32(scratch: usize, k: i32, c0: i32, c1: i32): usize {
  return scratch + <usize>k * (<usize>(c1 - c0) << 2) - (<usize>c0 << 2);
}
