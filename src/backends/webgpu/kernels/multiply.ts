import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { groups1d, program } from "../program.js";
import { multiplyWgsl } from "../wgsl/multiply.js";

const PROGRAM = program(
  "multiply",
  [["n", "u32"]],
  [
    { name: "a", write: false },
    { name: "b", write: false },
    { name: "out", write: true },
  ],
  multiplyWgsl,
);

/** out = a * b elementwise. */
export const multiply: KernelImpl<WebGpuBackend, "multiply"> = (be, { a, b, out }) => {
  if (a.size) be.dispatch(PROGRAM, [a, b, out], [a.size], groups1d(a.size, 256));
};
