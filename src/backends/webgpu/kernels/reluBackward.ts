import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { groups1d, program } from "../program.js";
import { reluBackwardWgsl } from "../wgsl/reluBackward.js";

const PROGRAM = program(
  "reluBackward",
  [["n", "u32"]],
  [
    { name: "x", write: false, elem: "u32" },
    { name: "dy", write: false, elem: "u32" },
    { name: "dx", write: true, elem: "u32" },
  ],
  reluBackwardWgsl,
);

/** dx = dy where x > 0, else 0. */
export const reluBackward: KernelImpl<WebGpuBackend, "reluBackward"> = (be, { x, dy, dx }) => {
  if (x.size) be.dispatch(PROGRAM, [x, dy, dx], [x.size], groups1d(x.size, 256));
};
