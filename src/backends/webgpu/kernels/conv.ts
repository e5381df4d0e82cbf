import type { Pair } from "../../../kernels/contract.js";
import type { Tensor } from "../../../core/tensor.js";
import type { WebGpuBackend } from "../index.js";
import type { TensorBinding } from "../program.js";
import { CONV_GEOMETRY } from "../wgsl/conv2d.js";
import { dispatchGemm, type GemmOperands } from "./gemm.js";

/** Parameters of the three convolution programs: the product's M, N, K, then the geometry. */
export const CONV_PARAMS: GemmOperands["params"] = [["M", "u32"], ["N", "u32"], ["K", "u32"], ...CONV_GEOMETRY];

/** The operands of a convolution program (no accumulation): its loaders and the order of their global reads. */
export function convOperands(
  key: string,
  loaders: () => string,
  tensors: readonly TensorBinding[],
  along: Pick<GemmOperands, "aAlongM" | "bAlongN">,
): GemmOperands {
  return { key, params: CONV_PARAMS, tensors, loaders, accumulate: false, ...along };
}

/** The sizes of a convolution, and `values` in CONV_GEOMETRY's order. */
export interface ConvGeometry {
  readonly N: number;
  readonly H: number;
  readonly W: number;
  readonly C: number;
  readonly kh: number;
  readonly kw: number;
  readonly Co: number;
  readonly Ho: number;
  readonly Wo: number;
  readonly values: readonly number[];
}

/** The geometry of x [N,H,W,C] (or dx), w [kh,kw,C,Co], y [N,Ho,Wo,Co] (out or dy). */
export function convGeometry(x: Tensor, w: Tensor, y: Tensor, stride: Pair, pad: Pair): ConvGeometry {
  const [N, H, W, C] = x.shape;
  const [kh, kw, , Co] = w.shape;
  const [, Ho, Wo] = y.shape;
  return {
    N,
    H,
    W,
    C,
    kh,
    kw,
    Co,
    Ho,
    Wo,
    values: [H, W, C, kh, kw, Co, Ho, Wo, stride[0], stride[1], pad[0], pad[1]],
  };
}

/** Dispatches a convolution program as the product [M, N] = A[M, K] . B[K, N]. */
export function dispatchConv(
  be: WebGpuBackend,
  ops: GemmOperands,
  tensors: readonly Tensor[],
  g: ConvGeometry,
  [M, N, K]: readonly [number, number, number],
): void {
  dispatchGemm(be, ops, tensors, [M, N, K, ...g.values]);
}
