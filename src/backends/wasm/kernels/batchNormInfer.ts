import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { split } from "../split.js";

/** Batch normalization at inference, float64 as the reference: wasm/kernels/batchNormInfer.ts, split by rows. */
export const batchNormInfer: KernelImpl<WasmBackend, "batchNormInfer"> = (be, args) => {
  const { x, variant, eps } = args;
  const C = args.gamma.size,
    M = x.size / C;
  be.dispatch(
    "batchNormInfer",
    [
      be.ptr(x),
      be.ptr(args.gamma),
      be.ptr(args.beta),
      be.ptr(args.out),
      be.ptr(args.runningMean),
      be.ptr(args.runningScale),
      C,
      variant === "authors" ? 1 : 0,
      eps,
    ],
    split(M, M * C, 1, be.threads),
    8 * C,
  );
};
