import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { program } from "../program.js";
import { REDUCE_COLS } from "../wgsl/common.js";
import { batchNormBackwardWgsl } from "../wgsl/batchNormBackward.js";

const PROGRAM = program(
  "batchNormBackward",
  [
    ["M", "u32"],
    ["C", "u32"],
    ["authors", "u32"],
    ["eps", "f32"],
  ],
  [
    { name: "x", write: false },
    { name: "dy", write: false },
    { name: "gamma", write: false },
    { name: "mean", write: false },
    { name: "variance", write: false },
    { name: "dx", write: true },
    { name: "dgamma", write: true },
    { name: "dbeta", write: true },
  ],
  batchNormBackwardWgsl,
);

/** Gradient of batchNormTrain with respect to x, gamma and beta. */
export const batchNormBackward: KernelImpl<WebGpuBackend, "batchNormBackward"> = (be, a) => {
  const C = a.gamma.size,
    M = C ? a.x.size / C : 0;
  if (C) {
    be.dispatch(
      PROGRAM,
      [a.x, a.dy, a.gamma, a.mean, a.variance, a.dx, a.dgamma, a.dbeta],
      [M, C, +(a.variant === "authors"), a.eps],
      [Math.ceil(C / REDUCE_COLS)],
    );
  }
};
