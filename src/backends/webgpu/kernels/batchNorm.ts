import type { BatchNormVariant } from "../../../kernels/contract.js";
import type { Tensor } from "../../../core/tensor.js";
import type { WebGpuBackend } from "../index.js";
import type { Program } from "../program.js";
import { dispatchColumns } from "./launch.js";

/** The parameters of every batch-normalization program after its shape: the variant (authors = 1), then eps. */
export const BATCH_NORM_PARAMS: Program["params"] = [
  ["authors", "u32"],
  ["eps", "f32"],
];

/** The arguments every batch-normalization kernel has: x [M, C], gamma [C], the variant and eps. */
interface BatchNormArgs {
  readonly x: Tensor;
  readonly gamma: Tensor;
  readonly variant: BatchNormVariant;
  readonly eps: number;
}

/** The values of BATCH_NORM_PARAMS. */
export function batchNormParams(a: BatchNormArgs): number[] {
  return [+(a.variant === "authors"), a.eps];
}

/** Dispatches a batch-normalization column reduction over x [M, C]: BATCH_NORM_PARAMS' values, then `params`. */
export function dispatchBatchNormColumns(
  be: WebGpuBackend,
  prog: Program,
  tensors: readonly Tensor[],
  a: BatchNormArgs,
  params: readonly number[] = [],
): void {
  dispatchColumns(be, prog, tensors, a.x.size, a.gamma.size, [...batchNormParams(a), ...params]);
}
