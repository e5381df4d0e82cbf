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

/** The phases of the per-channel exports (wasm/kernels/batchNormShared.ts). */
export const BN_CHANNELS = 0,
  BN_STATS = 1,
  BN_ROWS = 2;

/** One dispatch of a per-channel export: its phase and each thread's [start, end) (channels or rows). */
export interface BatchNormPass {
  phase: number;
  parts: Array<[number, number]>;
}

/**
 * How a per-channel kernel (train, backward) runs on the threads. From 128 channels (at least
 * MIN_SPLIT_CHANNELS per thread): one pass split by channels (BN_CHANNELS), each thread streaming
 * every row and reading its part of it. Narrower rows, on more than one thread and with rows to
 * split: the statistics on one thread (BN_STATS), then the output split by rows (BN_ROWS: each
 * thread writes whole rows). The same bits every way: each channel's sums run in row order in one
 * thread, and BN_ROWS recomputes r (and the backward's factors) from the stored statistics by the
 * same float32 operations.
 *
 * Measured inside cifar10-small's step on 2 threads (bench/profile-step.ts --network small, 6
 * steps, 3 runs interleaved, 2026-12-05), its batch norms' time per step: one thread for
 * everything 5.2-5.4 ms; statistics on one thread, output by rows 4.4-4.6 ms; statistics split
 * by channels too 5.1-5.4 ms. Splitting narrow rows by channels ran slower on 2 threads than on
 * 1 inside the step (batchNormBackward 50x32x32x32 1.2 / 3.2 ms, 50x16x16x64 0.65 / 1.7 ms; a
 * 64-channel row split into two 128-byte halves, the tensors 128-byte aligned: 1.4 -> 2.2 ms for
 * the 64-channel batch norms), though alone such calls ran 1.2x faster: the split pays only
 * where each thread's part of a row is wide.
 */
export function batchNormPasses(be: WasmBackend, M: number, C: number): BatchNormPass[] {
  const wide = Math.floor(C / MIN_SPLIT_CHANNELS);
  const rowParts = partsFor(M * C, MIN_ELEMENTS, be.threads);
  if (wide >= 2 || rowParts === 1)
    return [{ phase: BN_CHANNELS, parts: split(C, M * C, 4, Math.min(be.threads, Math.max(1, wide))) }];
  return [
    { phase: BN_STATS, parts: [[0, C]] },
    { phase: BN_ROWS, parts: splitRange(M, rowParts, LINE_ROWS) },
  ];
}

/** Rows per quantum of BN_ROWS' split: 16 rows of any width end on a 64-byte line. */
const LINE_ROWS = 16;

/** Channels per thread below which a pass does not split by channels (see batchNormPasses). */
const MIN_SPLIT_CHANNELS = 64;
