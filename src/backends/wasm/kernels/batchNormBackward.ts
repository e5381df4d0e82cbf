import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { split } from "../split.js";

/** The gradients of batch normalization in training, float32: wasm/kernels/batchNormBackward.ts, split by channels (multiples of 4). */
export const batchNormBackward: KernelImpl<WasmBackend, "batchNormBackward"> = (be, args) => {
  const { x, variant, eps } = args;
  const C = args.gamma.size,
    M = x.size / C;
  be.dispatch(
    "batchNormBackward",
    [
      be.ptr(x),
      be.ptr(args.dy),
      be.ptr(args.gamma),
      be.ptr(args.mean),
      be.ptr(args.variance),
      be.ptr(args.dx),
      be.ptr(args.dgamma),
      be.ptr(args.dbeta),
      M,
      C,
      variant === "authors" ? 1 : 0,
      Math.fround(eps),
    ],
    split(C, M * C, 4, be.threads),
    20 * C,
  );
};
