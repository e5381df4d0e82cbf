import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { bindings } from "../program.js";
import { batchNormTrainWgsl } from "../wgsl/batchNormTrain.js";
import { BATCH_NORM_PARAMS, dispatchBatchNormColumns } from "./batchNorm.js";
import { columnProgram } from "./launch.js";

const PROGRAM = columnProgram(
  "batchNormTrain",
  [...BATCH_NORM_PARAMS, ["momentum", "f32"], ["relu", "u32"]],
  bindings(["x", "gamma", "beta"], ["out", "mean", "variance", "runningMean", "runningScale"]),
  batchNormTrainWgsl,
);

/** Batch normalization, training mode (batch statistics; running statistics updated), and the ReLU after it with `relu`. */
export const batchNormTrain: KernelImpl<WebGpuBackend, "batchNormTrain"> = (be, a) =>
  dispatchBatchNormColumns(
    be,
    PROGRAM,
    [a.x, a.gamma, a.beta, a.out, a.mean, a.variance, a.runningMean, a.runningScale],
    a,
    [a.momentum, a.relu ? 1 : 0],
  );
