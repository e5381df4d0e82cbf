import type { KernelImpl } from "../../backend.js";
import type { WasmBackend } from "../index.js";
import { split } from "../split.js";

/** Batch normalization in training, float32: wasm/kernels/batchNormTrain.ts, split by channels (multiples of 4). */
export const batchNormTrain: KernelImpl<WasmBackend, "batchNormTrain"> = (be, args) => {
  const { x, variant, eps, momentum } = args;
  const C = args.gamma.size,
    M = x.size / C;
  be.dispatch(
    "batchNormTrain",
    [
      be.ptr(x),
      be.ptr(args.gamma),
      be.ptr(args.beta),
      be.ptr(args.out),
      be.ptr(args.mean),
      be.ptr(args.variance),
      be.ptr(args.runningMean),
      be.ptr(args.runningScale),
      M,
      C,
      variant === "authors" ? 1 : 0,
      Math.fround(eps),
      Math.fround(momentum),
    ],
    split(C, M * C, 4, be.threads),
    12 * C,
  );
};
