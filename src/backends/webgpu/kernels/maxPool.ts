import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { bindings } from "../program.js";
import { maxPoolWgsl } from "../wgsl/maxPool.js";
import { dispatchElementwise, elementwiseProgram } from "./launch.js";

/** Parameters of both pooling programs after the element count: the geometry (wgsl/maxPool.ts). */
export const POOL_GEOMETRY = [
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

const PROGRAM = elementwiseProgram("maxPool", POOL_GEOMETRY, bindings(["x"], ["out"], "u32"), maxPoolWgsl);

/** The values of POOL_GEOMETRY: x [N,H,W,C], y [N,Ho,Wo,C]. */
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
export const maxPool: KernelImpl<WebGpuBackend, "maxPool"> = (be, { x, out, window, stride }) =>
  dispatchElementwise(be, PROGRAM, [x, out], out.size, poolGeometry(x, out, window, stride));
