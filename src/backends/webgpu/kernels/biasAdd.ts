import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { groups1d, program } from "../program.js";
import { biasAddWgsl } from "../wgsl/biasAdd.js";

const PROGRAM = program(
  "biasAdd",
  [
    ["n", "u32"],
    ["N", "u32"],
  ],
  [
    { name: "x", write: false },
    { name: "bias", write: false },
    { name: "out", write: true },
  ],
  biasAddWgsl,
);

/** out[m,n] = x[m,n] + bias[n]; out may be x (the dispatch then reads a snapshot of x). */
export const biasAdd: KernelImpl<WebGpuBackend, "biasAdd"> = (be, { x, bias, out }) => {
  if (x.size) be.dispatch(PROGRAM, [x, bias, out], [x.size, bias.size], groups1d(x.size, 256));
};
