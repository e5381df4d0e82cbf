import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { groups1d, program } from "../program.js";
import { dropoutWgsl } from "../wgsl/dropout.js";

const PROGRAM = program(
  "dropout",
  [
    ["n", "u32"],
    ["threshold", "u32"],
    ["keep", "f32"],
    ["key", "u32"],
  ],
  [
    { name: "x", write: false },
    { name: "out", write: true },
    { name: "mask", write: true },
  ],
  dropoutWgsl,
);

/** Inverted dropout with the counter-based stream (core/rng.ts). */
export const dropout: KernelImpl<WebGpuBackend, "dropout"> = (be, { x, out, mask, p, key }) => {
  // u >= p <=> bits >= ceil(p 2^24) (u = bits / 2^24 exactly); keep is rounded as the reference rounds it
  const threshold = Math.ceil(p * 2 ** 24),
    keep = Math.fround(1 / (1 - p));
  if (x.size) be.dispatch(PROGRAM, [x, out, mask], [x.size, threshold, keep, key >>> 0], groups1d(x.size, 256));
};
