import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { batchNormPasses, batchNormSizes, pointers } from "./batchNorm.js";

/** The gradients of batch normalization in training, float32: wasm/kernels/batchNormBackward.ts, in the passes batchNormPasses chooses. */
export const batchNormBackward: KernelImpl<WasmBackend, "batchNormBackward"> = (be, args) => {
  const { M, C, authors } = batchNormSizes(args);
  const { x, dy, gamma, mean, variance, dx, dgamma, dbeta } = args;
  const buffers = pointers(be, x, dy, gamma, mean, variance, dx, dgamma, dbeta);
  for (const pass of batchNormPasses(be, M, C))
    be.dispatch(
      "batchNormBackward",
      [...buffers, M, C, authors, Math.fround(args.eps), pass.phase],
      pass.parts,
      20 * C,
    );
};
