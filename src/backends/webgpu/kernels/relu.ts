import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { bindings } from "../program.js";
import { reluWgsl } from "../wgsl/relu.js";
import { dispatchElementwise, elementwiseProgram } from "./launch.js";

const PROGRAM = elementwiseProgram("relu", [], bindings(["x"], ["out"], "u32"), reluWgsl);

/** out = max(x, 0), NaN propagating. */
export const relu: KernelImpl<WebGpuBackend, "relu"> = (be, { x, out }) =>
  dispatchElementwise(be, PROGRAM, [x, out], x.size);
