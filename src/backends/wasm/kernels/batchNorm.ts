import type { Tensor } from "../../../core/tensor.js";
import type { BatchNormVariant } from "../../../kernels/contract.js";
import type { WasmBackend } from "../index.js";
import { split } from "../split.js";

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
 * The per-channel kernels' (train, backward) split: ranges of the C channels, multiples of 4, by
 * the M x C elements, each at least MIN_SPLIT_CHANNELS wide. Each thread streams every row and
 * reads its part of it. With narrow parts, 2 threads ran slower than one inside cifar10-small's
 * step (2026-12-05, per call, 1 / 2 threads: batchNormBackward 50x32x32x32 1.2 / 3.2 ms,
 * 50x16x16x64 0.65 / 1.7 ms; batchNormTrain alike), though alone they ran 1.2x faster; from 128
 * channels the split paid in the CIFAR-10 paper network's step and on the MLP's rows. Tried and
 * not kept: the statistics split by channels, then the output by rows (each thread writing whole
 * rows; the same bits). Alone, an element-wise pass writing the input before each call, it ran
 * 1.3-1.6x faster on 2 threads than one thread on cifar10-small's layers; inside the step
 * (bench/profile-step.ts, 3 runs interleaved, 2026-12-05) its batch norms took 5.8-6.6 ms per
 * step against 5.5, and the step 74.7-79.1 ms against 69.4-73.2.
 */
export function channelRanges(be: WasmBackend, M: number, C: number): Array<[number, number]> {
  const threads = Math.min(be.threads, Math.max(1, Math.floor(C / MIN_SPLIT_CHANNELS)));
  return split(C, M * C, 4, threads);
}

/** Channels per thread below which the per-channel kernels do not split (see channelRanges). */
const MIN_SPLIT_CHANNELS = 64;
