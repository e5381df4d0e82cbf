import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { bindings } from "../program.js";
import { batchNormInferWgsl } from "../wgsl/batchNormInfer.js";
import { BATCH_NORM_PARAMS, batchNormParams } from "./batchNorm.js";
import { dispatchElementwise, elementwiseProgram } from "./launch.js";

const PROGRAM = elementwiseProgram(
  "batchNormInfer",
  [["C", "u32"], ...BATCH_NORM_PARAMS],
  bindings(["x", "gamma", "beta", "runningMean", "runningScale"], ["out"]),
  batchNormInferWgsl,
);

/** Batch normalization with the running statistics. */
export const batchNormInfer: KernelImpl<WebGpuBackend, "batchNormInfer"> = (be, a) =>
  dispatchElementwise(be, PROGRAM, [a.x, a.gamma, a.beta, a.runningMean, a.runningScale, a.out], a.x.size, [
    a.gamma.size,
    ...batchNormParams(a),
  ]);
