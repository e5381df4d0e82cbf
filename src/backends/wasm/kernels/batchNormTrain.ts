import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { batchNormSizes, channelRanges, pointers } from "./batchNorm.js";

/** Batch normalization in training, float32: wasm/kernels/batchNormTrain.ts, split by channels (multiples of 4). */
export const batchNormTrain: KernelImpl<WasmBackend, "batchNormTrain"> = (be, args) => {
  const { M, C, authors } = batchNormSizes(args);
  be.dispatch(
    "batchNormTrain",
    [
      ...pointers(
        be,
        args.x,
        args.gamma,
        args.beta,
        args.out,
        args.mean,
        args.variance,
        args.runningMean,
        args.runningScale,
      ),
      M,
      C,
      authors,
      Math.fround(args.eps),
      Math.fround(args.momentum),
    ],
    channelRanges(be, M, C),
    12 * C,
  );
};
