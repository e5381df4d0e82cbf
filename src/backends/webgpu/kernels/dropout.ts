import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { bindings } from "../program.js";
import { dropoutWgsl } from "../wgsl/dropout.js";
import { dispatchElementwise, elementwiseProgram } from "./launch.js";

const PROGRAM = elementwiseProgram(
  "dropout",
  [
    ["threshold", "u32"],
    ["keep", "f32"],
    ["key", "u32"],
  ],
  bindings(["x"], ["out", "mask"]),
  dropoutWgsl,
);

/** Inverted dropout with the counter-based stream (core/rng.ts). */
export const dropout: KernelImpl<WebGpuBackend, "dropout"> = (be, { x, out, mask, p, key }) => {
  // u >= p <=> bits >= ceil(p 2^24) (u = bits / 2^24 exactly); keep is rounded as the reference rounds it
  const threshold = Math.ceil(p * 2 ** 24),
    keep = Math.fround(1 / (1 - p));
  dispatchElementwise(be, PROGRAM, [x, out, mask], x.size, [threshold, keep, key >>> 0]);
};
