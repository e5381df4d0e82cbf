import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { groups1d, program } from "../program.js";
import { maxPoolWgsl } from "../wgsl/maxPool.js";

/** Parameters of both pooling programs: element count, then the geometry (wgsl/maxPool.ts). */
export const POOL_PARAMS = [
  ["n", "u32"],
  ["H", "u32"],
  ["W", "u32"],
  ["C", "u32"],
  ["Ho", "u32"],
  ["Wo", "u32"],
  ["wh", "u32"],
  ["ww", "u32"],
  ["sh", "u32"],
  ["sw", "u32"],
] as const;

const PROGRAM = program(
  "maxPool",
  POOL_PARAMS,
  [
    { name: "x", write: false, elem: "u32" },
    { name: "out", write: true, elem: "u32" },
  ],
  maxPoolWgsl,
);

/** The geometry values of POOL_PARAMS after n: x [N,H,W,C], y [N,Ho,Wo,C]. */
export function poolGeometry(
  x: { shape: readonly number[] },
  y: { shape: readonly number[] },
  window: readonly number[],
  stride: readonly number[],
): number[] {
  const [, H, W, C] = x.shape;
  const [, Ho, Wo] = y.shape;
  return [H, W, C, Ho, Wo, window[0], window[1], stride[0], stride[1]];
}

/** out = the maximum of each window (NaN propagating), one invocation per output. */
export const maxPool: KernelImpl<WebGpuBackend, "maxPool"> = (be, { x, out, window, stride }) => {
  if (out.size)
    be.dispatch(PROGRAM, [x, out], [out.size, ...poolGeometry(x, out, window, stride)], groups1d(out.size, 256));
};
