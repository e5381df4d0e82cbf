import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { bindings, f32Bits } from "../program.js";
import { fillWgsl } from "../wgsl/fill.js";
import { dispatchElementwise, elementwiseProgram } from "./launch.js";

/** Also zero-fills reused buffers (index.ts). */
export const FILL_PROGRAM = elementwiseProgram("fill", [["value", "u32"]], bindings([], ["out"], "u32"), fillWgsl);

/** out = value. */
export const fill: KernelImpl<WebGpuBackend, "fill"> = (be, { out, value }) =>
  dispatchElementwise(be, FILL_PROGRAM, [out], out.size, [f32Bits(value)]);
