import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { bindings } from "../program.js";
import { multiplyWgsl } from "../wgsl/multiply.js";
import { dispatchElementwise, elementwiseProgram } from "./launch.js";

const PROGRAM = elementwiseProgram("multiply", [], bindings(["a", "b"], ["out"]), multiplyWgsl);

/** out = a * b elementwise. */
export const multiply: KernelImpl<WebGpuBackend, "multiply"> = (be, { a, b, out }) =>
  dispatchElementwise(be, PROGRAM, [a, b, out], a.size);
