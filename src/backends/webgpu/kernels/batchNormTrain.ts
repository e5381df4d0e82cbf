import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { program } from "../program.js";
import { REDUCE_COLS } from "../wgsl/common.js";
import { batchNormTrainWgsl } from "../wgsl/batchNormTrain.js";

const PROGRAM = program(
  "batchNormTrain",
  [
    ["M", "u32"],
    ["C", "u32"],
    ["authors", "u32"],
    ["eps", "f32"],
    ["momentum", "f32"],
  ],
  [
    { name: "x", write: false },
    { name: "gamma", write: false },
    { name: "beta", write: false },
    { name: "out", write: true },
    { name: "mean", write: true },
    { name: "variance", write: true },
    { name: "runningMean", write: true },
    { name: "runningScale", write: true },
  ],
  batchNormTrainWgsl,
);

/** Batch normalization, training mode (batch statistics; running statistics updated). */
export const batchNormTrain: KernelImpl<WebGpuBackend, "batchNormTrain"> = (be, a) => {
  const C = a.gamma.size,
    M = C ? a.x.size / C : 0;
  if (C) {
    be.dispatch(
      PROGRAM,
      [a.x, a.gamma, a.beta, a.out, a.mean, a.variance, a.runningMean, a.runningScale],
      [M, C, +(a.variant === "authors"), a.eps, a.momentum],
      [Math.ceil(C / REDUCE_COLS)],
    );
  }
};
