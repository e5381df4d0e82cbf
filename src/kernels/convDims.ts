import type { Tensor } from "../core/tensor.js";
import type { Pair } from "./contract.js";

/** The sizes of a convolution: x [N,H,W,C], w [kh,kw,C,Co], y [N,Ho,Wo,Co]. */
export interface ConvDims {
  N: number;
  H: number;
  W: number;
  C: number;
  kh: number;
  kw: number;
  Co: number;
  Ho: number;
  Wo: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
}

/** Reads the sizes of a convolution call from its (validated) tensors: `x` shaped like the input, `w` the filters, `y` the output. */
export function convDims(x: Tensor, w: Tensor, y: Tensor, stride: Pair, pad: Pair): ConvDims {
  const [N, H, W, C] = x.shape;
  const [kh, kw, , Co] = w.shape;
  const [, Ho, Wo] = y.shape;
  return { N, H, W, C, kh, kw, Co, Ho, Wo, sh: stride[0], sw: stride[1], ph: pad[0], pw: pad[1] };
}
