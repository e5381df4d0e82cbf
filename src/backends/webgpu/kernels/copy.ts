import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { bindings } from "../program.js";
import { copyWgsl } from "../wgsl/copy.js";
import { dispatchElementwise, elementwiseProgram } from "./launch.js";

/** Also makes the snapshot copies of aliased inputs (index.ts). */
export const COPY_PROGRAM = elementwiseProgram("copy", [], bindings(["x"], ["out"], "u32"), copyWgsl);

/** out = x. */
export const copy: KernelImpl<WebGpuBackend, "copy"> = (be, { x, out }) =>
  dispatchElementwise(be, COPY_PROGRAM, [x, out], x.size);
