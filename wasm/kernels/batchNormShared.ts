/** Helpers shared by the batch-norm kernels (as src/backends/reference/kernels/batchNormShared.ts). */

/** r = 1/(sqrt(var) + eps) (authors) or 1/sqrt(var + eps) (standard). */
@inline export function invStd(authors: bool, variance: f64, eps: f64): f64 {
  return authors ? 1 / (Math.sqrt(variance) + eps) : 1 / Math.sqrt(variance + eps);
}

/**
 * The scratch layout of the per-channel kernels: `count` float64 arrays, each holding the
 * channels [c0, c1). Returns the base of array `k`, offset so that base + 8c is channel c.
 */
@inline export function channelArray(scratch: usize, k: i32, c0: i32, c1: i32): usize {
  return scratch + <usize>k * (<usize>(c1 - c0) << 3) - (<usize>c0 << 3);
}
