import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { batchNormPartialBytes, batchNormPasses, batchNormSizes, pointers } from "./batchNorm.js";

/** Batch normalization in training, float32, and the ReLU after it with `relu`: wasm/kernels/batchNormTrain.ts, in the passes batchNormPasses chooses. */
export const batchNormTrain: KernelImpl<WasmBackend, "batchNormTrain"> = (be, args) => {
  const { M, C, authors } = batchNormSizes(args);
  const { x, gamma, beta, out, mean, variance, runningMean, runningScale } = args;
  const buffers = pointers(be, x, gamma, beta, out, mean, variance, runningMean, runningScale);
  const passes = batchNormPasses(be, M, C, "train");
  const bytes = batchNormPartialBytes(passes, M, C);
  const partials = bytes > 0 ? be.sharedScratch(bytes) : 0;
  const common = [
    ...buffers,
    M,
    C,
    authors,
    Math.fround(args.eps),
    Math.fround(args.momentum),
    args.relu ? 1 : 0,
    partials,
  ] as const;
  for (const pass of passes) be.dispatch("batchNormTrain", [...common, pass.phase], pass.parts, 16 * C);
};
