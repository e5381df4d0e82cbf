import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { groups1d, program } from "../program.js";
import { batchNormInferWgsl } from "../wgsl/batchNormInfer.js";

const PROGRAM = program(
  "batchNormInfer",
  [
    ["n", "u32"],
    ["C", "u32"],
    ["authors", "u32"],
    ["eps", "f32"],
  ],
  [
    { name: "x", write: false },
    { name: "gamma", write: false },
    { name: "beta", write: false },
    { name: "runningMean", write: false },
    { name: "runningScale", write: false },
    { name: "out", write: true },
  ],
  batchNormInferWgsl,
);

/** Batch normalization with the running statistics. */
export const batchNormInfer: KernelImpl<WebGpuBackend, "batchNormInfer"> = (be, a) => {
  const n = a.x.size;
  if (n) {
    be.dispatch(
      PROGRAM,
      [a.x, a.gamma, a.beta, a.runningMean, a.runningScale, a.out],
      [n, a.gamma.size, +(a.variant === "authors"), a.eps],
      groups1d(n, 256),
    );
  }
};
