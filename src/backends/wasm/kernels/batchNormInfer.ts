import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { split } from "../split.js";
import { batchNormSizes, pointers } from "./batchNorm.js";

/** Batch normalization at inference, float64 as the reference: wasm/kernels/batchNormInfer.ts, split by rows. */
export const batchNormInfer: KernelImpl<WasmBackend, "batchNormInfer"> = (be, args) => {
  const { M, C, authors } = batchNormSizes(args);
  be.dispatch(
    "batchNormInfer",
    [
      ...pointers(be, args.x, args.gamma, args.beta, args.out, args.runningMean, args.runningScale),
      C,
      authors,
      args.eps,
    ],
    split(M, M * C, 1, be.threads),
    8 * C,
  );
};
