import type { KernelImpl } from "../../backend.js";
import type { WebGpuBackend } from "../index.js";
import { conv2dLoaders } from "../wgsl/conv2d.js";
import { CONV_PARAMS, convGeometry } from "./conv.js";
import { dispatchGemm, type GemmOperands } from "./gemm.js";

const OPERANDS: GemmOperands = {
  key: "conv2d",
  params: CONV_PARAMS,
  accumulate: false,
  aAlongM: false,
  bAlongN: true,
  loaders: conv2dLoaders,
  tensors: [
    { name: "x", write: false },
    { name: "w", write: false },
    { name: "out", write: true },
  ],
};

/** out[N Ho Wo, Cout] = im2col(x) . w, im2col read on the fly (implicit GEMM). */
export const conv2d: KernelImpl<WebGpuBackend, "conv2d"> = (be, { x, w, out, stride, pad }) => {
  const g = convGeometry(x, w, out, stride, pad);
  const [C, kh, kw, Co, Ho, Wo] = g.values.slice(2, 8);
  dispatchGemm(be, OPERANDS, [x, w, out], [g.N * Ho * Wo, Co, kh * kw * C, ...g.values]);
};
