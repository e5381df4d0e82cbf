import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { batchNormPartialBytes, batchNormPasses, batchNormSizes, pointers } from "./batchNorm.js";

/** The gradients of batch normalization in training (and of the ReLU after it, with `relu`), float32: wasm/kernels/batchNormBackward.ts, in the passes batchNormPasses chooses. */
export const batchNormBackward: KernelImpl<WasmBackend, "batchNormBackward"> = (be, args) => {
  const { M, C, authors } = batchNormSizes(args);
  const { x, dy, gamma, mean, variance, dx, dgamma, dbeta } = args;
  const beta = args.relu && args.beta ? args.beta : gamma; // read only with relu
  const buffers = pointers(be, x, dy, gamma, mean, variance, dx, dgamma, dbeta, beta);
  const passes = batchNormPasses(be, M, C, "backward");
  const bytes = batchNormPartialBytes(passes, M, C);
  const partials = bytes > 0 ? be.sharedScratch(bytes) : 0;
  for (const pass of passes)
    be.dispatch(
      "batchNormBackward",
      [...buffers, M, C, authors, Math.fround(args.eps), args.relu ? 1 : 0, partials, pass.phase],
      pass.parts,
      28 * C,
    );
};
