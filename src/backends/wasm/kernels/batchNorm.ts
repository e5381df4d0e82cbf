import type { Tensor } from "../../../core/tensor.js";
import type { BatchNormVariant } from "../../../kernels/contract.js";
import type { WasmBackend } from "../index.js";
import { MIN_ELEMENTS, partsFor, split, splitRange } from "../split.js";

/**
 * The sizes of a batch-norm call (batchNormTrain.ts, batchNormInfer.ts, batchNormBackward.ts):
 * C channels (gamma's size) of M rows (x's size / C), and the exports' `authors` flag (the
 * variant).
 */
export function batchNormSizes(args: { x: Tensor; gamma: Tensor; variant: BatchNormVariant }): {
  M: number;
  C: number;
  authors: 0 | 1;
} {
  const C = args.gamma.size;
  return { M: args.x.size / C, C, authors: args.variant === "authors" ? 1 : 0 };
}

/** The byte offsets of the tensors, in the order given: the buffers an export takes first. */
export function pointers<T extends readonly Tensor[]>(be: WasmBackend, ...tensors: T): { [I in keyof T]: number } {
  return tensors.map(be.ptr) as { [I in keyof T]: number };
}

/**
 * Rows per block of the statistics' sums (wasm/kernels/batchNormShared.ts, the same constant):
 * row order within a block, then block by block, so blocks summed on different threads give the
 * same bits. The reference sums in plain row order: the same bits up to 256 rows (the MLP's
 * batches of 200), beyond that within float32 rounding.
 */
export const BN_BLOCK_ROWS = 256;

/** The phases of the per-channel exports (wasm/kernels/batchNormShared.ts). */
export const BN_CHANNELS = 0,
  BN_ROWS = 1,
  BN_BLOCK_SUMS = 2,
  BN_BLOCK_DEVIATIONS = 3,
  BN_COMBINE = 4;

/** One dispatch of a per-channel export: its phase and each thread's [start, end) (channels or rows). */
export interface BatchNormPass {
  phase: number;
  parts: Array<[number, number]>;
}

/**
 * How a per-channel kernel (train, backward) runs on the threads. From 512 channels (at least
 * MIN_SPLIT_CHANNELS per thread): one pass split by channels (BN_CHANNELS), each thread streaming
 * every row and reading its part of it. Narrower rows, on more than one thread and with rows to
 * split (then at least 2 blocks): the sums by blocks of BN_BLOCK_ROWS rows, the blocks split
 * between the threads (BN_BLOCK_SUMS, and for training BN_BLOCK_DEVIATIONS), their sums added in
 * block order on one thread (BN_COMBINE: C floats a block), then the output split by rows
 * (BN_ROWS: each thread writes whole rows). The same bits every way and on any number of
 * threads: each channel's sums run in row order within each block of BN_BLOCK_ROWS rows, then
 * block by block (also in BN_CHANNELS), and BN_ROWS recomputes r (and the backward's factors)
 * from the stored statistics by the same float32 operations.
 *
 * The batch norms' time per step on 2 threads (bench/profile-step.ts, 3-6 steps, 2 runs each,
 * dev-2c-xeon, 2026-12-05): cifar10-small 9.1-9.2 ms with the statistics on one thread (the
 * previous form for fewer than 128 channels) and by channels from 128; 6.8-7.4 ms by blocks
 * below 128 channels, 6.6-6.7 below 256. The paper network: 35.5-36.7 ms before, 28.6-29.7 by
 * blocks below 256 channels, 26.2-27.8 below 512; below 1024, 26.5-27.3, but its 4x4x512 layer's
 * backward 1.5 ms against 0.45 by channels. Splitting narrow rows by channels ran slower on 2
 * threads than on 1 inside the step (batchNormBackward 50x32x32x32 1.2 / 3.2 ms, 50x16x16x64
 * 0.65 / 1.7 ms), though alone such calls ran 1.2x faster: the split pays only where each
 * thread's part of a row is wide.
 */
export function batchNormPasses(be: WasmBackend, M: number, C: number, kind: "train" | "backward"): BatchNormPass[] {
  const wide = Math.floor(C / MIN_SPLIT_CHANNELS);
  const rowParts = partsFor(M * C, MIN_ELEMENTS, be.threads);
  if (wide >= 2 || rowParts === 1)
    return [{ phase: BN_CHANNELS, parts: split(C, M * C, 4, Math.min(be.threads, Math.max(1, wide))) }];
  const blockParts = splitRange(Math.ceil(M / BN_BLOCK_ROWS), rowParts, 1);
  return [
    { phase: BN_BLOCK_SUMS, parts: blockParts },
    ...(kind === "train" ? [{ phase: BN_BLOCK_DEVIATIONS, parts: blockParts }] : []),
    { phase: BN_COMBINE, parts: [[0, C]] },
    { phase: BN_ROWS, parts: splitRange(M, rowParts, LINE_ROWS) },
  ];
}

/** Bytes of the blocks' partial sums that the block passes share: two [blocks, C] float32 arrays (0 without block passes). */
export function batchNormPartialBytes(passes: BatchNormPass[], M: number, C: number): number {
  return passes.some((p) => p.phase === BN_BLOCK_SUMS) ? 2 * 4 * Math.ceil(M / BN_BLOCK_ROWS) * C : 0;
}

/** Rows per quantum of BN_ROWS' split: 16 rows of any width end on a 64-byte line. */
const LINE_ROWS = 16;

/** Channels per thread below which a pass does not split by channels (see batchNormPasses). */
const MIN_SPLIT_CHANNELS = 256;
