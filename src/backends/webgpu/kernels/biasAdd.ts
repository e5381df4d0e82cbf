import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { bindings } from "../program.js";
import { biasAddWgsl } from "../wgsl/biasAdd.js";
import { dispatchElementwise, elementwiseProgram } from "./launch.js";

const PROGRAM = elementwiseProgram("biasAdd", [["N", "u32"]], bindings(["x", "bias"], ["out"]), biasAddWgsl);

/** out[m,n] = x[m,n] + bias[n]; out may be x (the dispatch then reads a snapshot of x). */
export const biasAdd: KernelImpl<WebGpuBackend, "biasAdd"> = (be, { x, bias, out }) =>
  dispatchElementwise(be, PROGRAM, [x, bias, out], x.size, [bias.size]);
