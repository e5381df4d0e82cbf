import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { bindings } from "../program.js";
import { columnSumWgsl } from "../wgsl/columnSum.js";
import { columnProgram, dispatchColumns } from "./launch.js";

const PROGRAM = columnProgram("columnSum", [], bindings(["x"], ["out"]), columnSumWgsl);

/** out[n] = sum_m x[m,n] (the bias gradient). */
export const columnSum: KernelImpl<WebGpuBackend, "columnSum"> = (be, { x, out }) =>
  dispatchColumns(be, PROGRAM, [x, out], x.size, out.size);
