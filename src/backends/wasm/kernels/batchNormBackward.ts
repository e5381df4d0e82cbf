import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { batchNormSizes, channelRanges, pointers } from "./batchNorm.js";

/** The gradients of batch normalization in training, float32: wasm/kernels/batchNormBackward.ts, split by channels (multiples of 4). */
export const batchNormBackward: KernelImpl<WasmBackend, "batchNormBackward"> = (be, args) => {
  const { M, C, authors } = batchNormSizes(args);
  be.dispatch(
    "batchNormBackward",
    [
      ...pointers(be, args.x, args.dy, args.gamma, args.mean, args.variance, args.dx, args.dgamma, args.dbeta),
      M,
      C,
      authors,
      Math.fround(args.eps),
    ],
    channelRanges(be, M, C),
    20 * C,
  );
};
