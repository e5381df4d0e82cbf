import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { bindings } from "../program.js";
import { batchNormBackwardWgsl, batchNormReluMaskWgsl } from "../wgsl/batchNormBackward.js";
import { BATCH_NORM_PARAMS, batchNormParams, dispatchBatchNormColumns } from "./batchNorm.js";
import { columnProgram, dispatchElementwise, elementwiseProgram } from "./launch.js";

const PROGRAM = columnProgram(
  "batchNormBackward",
  BATCH_NORM_PARAMS,
  bindings(["x", "dy", "gamma", "mean", "variance"], ["dx", "dgamma", "dbeta"]),
  batchNormBackwardWgsl,
);

const RELU_MASK = elementwiseProgram(
  "batchNormReluMask",
  [["C", "u32"], ...BATCH_NORM_PARAMS],
  bindings(["x", "dy", "gamma", "beta", "mean", "variance"], ["masked"]),
  batchNormReluMaskWgsl,
);

/**
 * Gradient of batchNormTrain with respect to x, gamma and beta. With `relu` (the gradient of
 * batchNormTrain with relu), dy is first masked into a scratch tensor by the ReLU's rule on
 * the recomputed pre-ReLU value (RELU_MASK), and the gradient runs on that.
 */
export const batchNormBackward: KernelImpl<WebGpuBackend, "batchNormBackward"> = (be, a) => {
  if (!(a.relu && a.beta)) {
    dispatchBatchNormColumns(be, PROGRAM, [a.x, a.dy, a.gamma, a.mean, a.variance, a.dx, a.dgamma, a.dbeta], a);
    return;
  }
  const masked = be.scratch(a.x.shape);
  const tensors = [a.x, a.dy, a.gamma, a.beta, a.mean, a.variance, masked];
  dispatchElementwise(be, RELU_MASK, tensors, a.x.size, [a.gamma.size, ...batchNormParams(a)]);
  dispatchBatchNormColumns(be, PROGRAM, [a.x, masked, a.gamma, a.mean, a.variance, a.dx, a.dgamma, a.dbeta], a);
  be.dispose(masked);
};
