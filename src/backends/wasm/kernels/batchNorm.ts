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

/** The per-channel kernels' (train, backward) split: ranges of the C channels, multiples of 4, by the M x C elements. */
export function channelRanges(be: WasmBackend, M: number, C: number): Array<[number, number]> {
  return split(C, M * C, 4, be.threads);
}
