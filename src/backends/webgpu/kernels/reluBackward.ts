import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { bindings } from "../program.js";
import { reluBackwardWgsl } from "../wgsl/reluBackward.js";
import { dispatchElementwise, elementwiseProgram } from "./launch.js";

const PROGRAM = elementwiseProgram("reluBackward", [], bindings(["x", "dy"], ["dx"], "u32"), reluBackwardWgsl);

/** dx = dy where x > 0, else 0. */
export const reluBackward: KernelImpl<WebGpuBackend, "reluBackward"> = (be, { x, dy, dx }) =>
  dispatchElementwise(be, PROGRAM, [x, dy, dx], x.size);
