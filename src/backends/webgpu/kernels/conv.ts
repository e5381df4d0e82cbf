import type { Pair } from "../../../kernels/contract.js";
import type { Tensor } from "../../../core/tensor.js";
import { CONV_GEOMETRY } from "../wgsl/conv2d.js";
import type { GemmOperands } from "./gemm.js";

/** Parameters of the three convolution programs: the product's M, N, K, then the geometry. */
export const CONV_PARAMS: GemmOperands["params"] = [["M", "u32"], ["N", "u32"], ["K", "u32"], ...CONV_GEOMETRY];

/** The geometry values in CONV_GEOMETRY's order: x [N,H,W,C] (or dx), w [kh,kw,C,Co], y [N,Ho,Wo,Co] (out or dy). */
export function convGeometry(
  x: Tensor,
  w: Tensor,
  y: Tensor,
  stride: Pair,
  pad: Pair,
): { N: number; values: number[] } {
  const [N, H, W, C] = x.shape;
  const [kh, kw, , Co] = w.shape;
  const [, Ho, Wo] = y.shape;
  return { N, values: [H, W, C, kh, kw, Co, Ho, Wo, stride[0], stride[1], pad[0], pad[1]] };
}
