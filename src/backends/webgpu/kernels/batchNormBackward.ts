import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { bindings } from "../program.js";
import { batchNormBackwardWgsl } from "../wgsl/batchNormBackward.js";
import { BATCH_NORM_PARAMS, dispatchBatchNormColumns } from "./batchNorm.js";
import { columnProgram } from "./launch.js";

const PROGRAM = columnProgram(
  "batchNormBackward",
  [...BATCH_NORM_PARAMS, ["relu", "u32"]],
  bindings(["x", "dy", "gamma", "beta", "mean", "variance"], ["dx", "dgamma", "dbeta"]),
  batchNormBackwardWgsl,
);

/** Gradient of batchNormTrain (with `relu`: of it and the ReLU after it) with respect to x, gamma and beta; beta is read only with `relu`. */
export const batchNormBackward: KernelImpl<WebGpuBackend, "batchNormBackward"> = (be, a) =>
  dispatchBatchNormColumns(
    be,
    PROGRAM,
    [a.x, a.dy, a.gamma, a.relu && a.beta ? a.beta : a.gamma, a.mean, a.variance, a.dx, a.dgamma, a.dbeta],
    a,
    [a.relu ? 1 : 0],
  );
