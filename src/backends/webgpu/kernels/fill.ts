import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { f32Bits, groups1d, program } from "../program.js";
import { fillWgsl } from "../wgsl/fill.js";

/** Also zero-fills reused buffers (index.ts). */
export const FILL_PROGRAM = program(
  "fill",
  [
    ["n", "u32"],
    ["value", "u32"],
  ],
  [{ name: "out", write: true, elem: "u32" }],
  fillWgsl,
);

/** out = value. */
export const fill: KernelImpl<WebGpuBackend, "fill"> = (be, { out, value }) => {
  if (out.size) be.dispatch(FILL_PROGRAM, [out], [out.size, f32Bits(value)], groups1d(out.size, 256));
};
