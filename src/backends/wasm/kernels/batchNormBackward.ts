import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { batchNormPartialBytes, batchNormPasses, batchNormSizes, pointers } from "./batchNorm.js";

/** The gradients of batch normalization in training, float32: wasm/kernels/batchNormBackward.ts, in the passes batchNormPasses chooses. */
export const batchNormBackward: KernelImpl<WasmBackend, "batchNormBackward"> = (be, args) => {
  const { M, C, authors } = batchNormSizes(args);
  const { x, dy, gamma, mean, variance, dx, dgamma, dbeta } = args;
  const buffers = pointers(be, x, dy, gamma, mean, variance, dx, dgamma, dbeta);
  const passes = batchNormPasses(be, M, C, "backward");
  const bytes = batchNormPartialBytes(passes, M, C);
  const partials = bytes > 0 ? be.sharedScratch(bytes) : 0;
  for (const pass of passes)
    be.dispatch(
      "batchNormBackward",
      [...buffers, M, C, authors, Math.fround(args.eps), partials, pass.phase],
      pass.parts,
      28 * C,
    );
};
