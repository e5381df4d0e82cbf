import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { batchNormPasses, batchNormSizes, pointers } from "./batchNorm.js";

/** Batch normalization in training, float32: wasm/kernels/batchNormTrain.ts, in the passes batchNormPasses chooses. */
export const batchNormTrain: KernelImpl<WasmBackend, "batchNormTrain"> = (be, args) => {
  const { M, C, authors } = batchNormSizes(args);
  const { x, gamma, beta, out, mean, variance, runningMean, runningScale } = args;
  const buffers = pointers(be, x, gamma, beta, out, mean, variance, runningMean, runningScale);
  const common = [...buffers, M, C, authors, Math.fround(args.eps), Math.fround(args.momentum)] as const;
  for (const pass of batchNormPasses(be, M, C))
    be.dispatch("batchNormTrain", [...common, pass.phase], pass.parts, 12 * C);
};
