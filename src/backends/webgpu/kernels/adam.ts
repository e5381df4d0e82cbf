import { adamConstants } from "../../../kernels/adamConstants.js";
import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { bindings } from "../program.js";
import { adamWgsl } from "../wgsl/adam.js";
import { dispatchElementwise, elementwiseProgram } from "./launch.js";

const PROGRAM = elementwiseProgram(
  "adam",
  [
    ["b1", "f32"],
    ["oneMinusB1", "f32"],
    ["b2", "f32"],
    ["oneMinusB2", "f32"],
    ["eps", "f32"],
    ["step", "f32"],
    ["clip", "f32"],
  ],
  bindings(["grad"], ["param", "m", "v"]),
  adamWgsl,
);

/** Adam with the BinaryConnect learning-rate scale and clip. */
export const adam: KernelImpl<WebGpuBackend, "adam"> = (
  be,
  { param, grad, m, v, lr, beta1, beta2, eps, t, lrScale, clip },
) => {
  const c = adamConstants(lr, beta1, beta2, eps, t, lrScale, clip); // as the reference computes them
  dispatchElementwise(be, PROGRAM, [grad, param, m, v], param.size, [
    c.b1,
    c.oneMinusB1,
    c.b2,
    c.oneMinusB2,
    c.eps,
    c.step,
    c.clip,
  ]);
};
