/** Helpers shared by the batch-norm kernels (as src/backends/reference/kernels/batchNormShared.ts). */

// The phases of batchNormTrain and batchNormBackward (the host, src/backends/wasm/kernels/batchNorm.ts, chooses).

/** Statistics and output for channels [start, end): each thread streams every row, reading its channels. */
export const BN_CHANNELS = 0;
/** The output only, rows [start, end) of every channel, from the statistics BN_COMBINE wrote: each thread writes whole rows. */
export const BN_ROWS = 1;
/** Each block [start, end) of BN_BLOCK_ROWS rows: its sums of every channel (batchNormBackward: both sums) into the shared partials. */
export const BN_BLOCK_SUMS = 2;
/** batchNormTrain: the mean from the partials (every thread), then each block [start, end)'s sums of squared deviations. */
export const BN_BLOCK_DEVIATIONS = 3;
/** The statistics of channels [start, end) from the blocks' partials, added in block order (one thread; BN_ROWS follows). */
export const BN_COMBINE = 4;

/**
 * Rows per block of the statistics' sums: row order within a block, then block by block, so
 * blocks summed on different threads give the same bits (the host's BN_BLOCK_ROWS,
 * src/backends/wasm/kernels/batchNorm.ts, is the same constant). The reference sums in plain row
 * order: the same bits up to BN_BLOCK_ROWS rows (the MLP's batches), within float32 rounding
 * beyond (a CNN's batch times its positions).
 */
export const BN_BLOCK_ROWS = 256;

/** Blocks of BN_BLOCK_ROWS rows in M rows. */
@inline export function blockCount(M: i32): i32 {
  return (M + BN_BLOCK_ROWS - 1) / BN_BLOCK_ROWS;
}

/** Rows of block b (the last may be short). */
@inline export function blockRows(M: i32, b: i32): i32 {
  return min(BN_BLOCK_ROWS, M - b * BN_BLOCK_ROWS);
}

/** acc[c] = part_0[c] + part_1[c] + ... in block order, channels [c0, c1); part b at parts + 4 b C. */
export function combineBlocks(parts: usize, blocks: i32, C: i32, c0: i32, c1: i32, acc: usize): void {
  const lo = <usize>c0 << 2, hi = <usize>c1 << 2, row = <usize>C << 2;
  memory.copy(acc + lo, parts + lo, hi - lo);
  for (let b = 1; b < blocks; b++) addChannels(acc, parts + <usize>b * row, c0, c1);
}

/** acc[c] = acc[c] + p[c] for channels [c0, c1) (lane by lane: the scalar sums' bits). */
export function addChannels(acc: usize, p: usize, c0: i32, c1: i32): void {
  const c4 = c0 + ((c1 - c0) & ~3);
  for (let c = c0; c < c4; c += 4) {
    const q = <usize>c << 2;
    v128.store(acc + q, f32x4.add(v128.load(acc + q), v128.load(p + q)));
  }
  for (let c = c4; c < c1; c++) {
    const q = <usize>c << 2;
    store<f32>(acc + q, load<f32>(acc + q) + load<f32>(p + q));
  }
}

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
