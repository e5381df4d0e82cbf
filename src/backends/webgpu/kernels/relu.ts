import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { groups1d, program } from "../program.js";
import { reluWgsl } from "../wgsl/relu.js";

const PROGRAM = program(
  "relu",
  [["n", "u32"]],
  [
    { name: "x", write: false, elem: "u32" },
    { name: "out", write: true, elem: "u32" },
  ],
  reluWgsl,
);

/** out = max(x, 0), NaN propagating. */
export const relu: KernelImpl<WebGpuBackend, "relu"> = (be, { x, out }) => {
  if (x.size) be.dispatch(PROGRAM, [x, out], [x.size], groups1d(x.size, 256));
};
