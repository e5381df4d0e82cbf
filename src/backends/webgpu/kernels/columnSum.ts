import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { program } from "../program.js";
import { REDUCE_COLS } from "../wgsl/common.js";
import { columnSumWgsl } from "../wgsl/columnSum.js";

const PROGRAM = program(
  "columnSum",
  [
    ["M", "u32"],
    ["C", "u32"],
  ],
  [
    { name: "x", write: false },
    { name: "out", write: true },
  ],
  columnSumWgsl,
);

/** out[n] = sum_m x[m,n] (the bias gradient). */
export const columnSum: KernelImpl<WebGpuBackend, "columnSum"> = (be, { x, out }) => {
  const C = out.size,
    M = C ? x.size / C : 0;
  if (C) be.dispatch(PROGRAM, [x, out], [M, C], [Math.ceil(C / REDUCE_COLS)]);
};
