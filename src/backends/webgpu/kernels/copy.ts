import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { groups1d, program } from "../program.js";
import { copyWgsl } from "../wgsl/copy.js";

/** Also makes the snapshot copies of aliased inputs (index.ts). */
export const COPY_PROGRAM = program(
  "copy",
  [["n", "u32"]],
  [
    { name: "x", write: false, elem: "u32" },
    { name: "out", write: true, elem: "u32" },
  ],
  copyWgsl,
);

/** out = x. */
export const copy: KernelImpl<WebGpuBackend, "copy"> = (be, { x, out }) => {
  if (x.size) be.dispatch(COPY_PROGRAM, [x, out], [x.size], groups1d(x.size, 256));
};
